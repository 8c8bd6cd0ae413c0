import { createSocket } from 'node:dgram';
import { hostname, networkInterfaces } from 'node:os';
import type { PublishDomain } from '@kmslab/core';

/**
 * What a host publishes when not told (kms-reference.md "Discovery"): its
 * FQDN is the machine's name (in the first publish domain, or `lab.test`,
 * when the name has no domain), and it publishes in its own domain at
 * priority 0, weight 0 — a KMS host's defaults before DnsDomainPublishList.
 */
export function defaultFqdn(domains: readonly PublishDomain[]): string {
  const name = hostname();
  return name.includes('.') ? name : `${name.split('.')[0]!.toLowerCase()}.${domains[0]?.domain ?? 'lab.test'}`;
}

/** The FQDN's own domain, priority 0, weight 0. */
export function defaultDomains(fqdn: string): PublishDomain[] {
  return [{ domain: fqdn.split('.').slice(1).join('.'), priority: 0, weight: 0 }];
}

/**
 * The address clients should connect to: the listen address if specific;
 * else the address this machine uses to reach the DNS server (the interface
 * clients that share that DNS most likely share too: a container on several
 * networks picks the right one); else the first non-loopback IPv4.
 */
export async function defaultAdvertiseAddresses(listen: readonly string[] | undefined, dns: { host: string; port: number }): Promise<string[]> {
  const specific = (listen ?? []).filter((a) => a !== '::' && a !== '0.0.0.0');
  if (specific.length) return specific;
  const towardsDns = await new Promise<string | null>((resolve) => {
    const socket = createSocket(dns.host.includes(':') ? 'udp6' : 'udp4');
    socket.on('error', () => {
      socket.close();
      resolve(null);
    });
    // connect() on UDP only picks the route and source address; nothing is sent.
    socket.connect(dns.port, dns.host, () => {
      resolve(socket.address().address);
      socket.close();
    });
  });
  if (towardsDns && !isLoopback(towardsDns)) return [towardsDns];
  const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
  return [external?.address ?? '127.0.0.1'];
}

const isLoopback = (address: string) => address.startsWith('127.') || address === '::1';
