import { parseHostPort } from '@kmslab/core';
import type { Resolver } from '@kmslab/client';

/**
 * The DNS servers a client command asks: each `--dns` once, in the order
 * given; without any, every nameserver of /etc/resolv.conf with its
 * `options timeout: attempts: rotate`, as the system resolver would.
 */
export async function dnsResolver(flags: readonly string[] | undefined): Promise<Resolver | undefined> {
  const { Resolver: ResolverClass, systemResolver } = await import('@kmslab/client');
  if (flags?.length) return new ResolverClass({ servers: flags.map((d) => parseHostPort(d, { defaultPort: 53, what: '--dns' })), attempts: 1 });
  const system = systemResolver();
  return system.servers.length ? new ResolverClass(system) : undefined;
}
