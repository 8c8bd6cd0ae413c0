import { KmsConnection, toKmsLabError } from '@kmslab/core';
import { discoverHosts, type DiscoverOptions, type DiscoveryStep, type DomainOutcome } from './discovery.js';

/** One host found in DNS, connected to and greeted: what answered. */
export interface HostCheck {
  target: string;
  port: number;
  address: string;
  /** TCP connect result. */
  tcp: 'connected' | 'failed';
  /** The kmslab hello answer, or null when the host does not speak kmslab's protocol. */
  kmslab: { hostId: string; software: string; protocolVersion: number } | null;
  verdict: string;
}

/** What `kmslab discover` reports: the steps, each domain's lookup, each host's connect and handshake. */
export interface DiscoveryReport {
  steps: DiscoveryStep[];
  /** Each domain of the search list: what its lookup returned, and the code a Windows client would report for it. */
  lookups: DomainOutcome[];
  hosts: HostCheck[];
  usable: boolean;
  errorCode: string | null;
  message: string | null;
}

/**
 * What `kmslab discover` does: the client's discovery, step by step, then a
 * TCP connect and a protocol handshake (hello) to every host found. A host
 * that accepts TCP but does not answer the handshake is reported as not a
 * kmslab host (a real KMS host, for instance).
 */
export async function diagnoseDiscovery(o: Omit<DiscoverOptions, 'onStep' | 'onOutcome'> & { timeoutMs?: number }): Promise<DiscoveryReport> {
  const steps: DiscoveryStep[] = [];
  const lookups: DomainOutcome[] = [];
  const found = await discoverHosts({ ...o, onStep: (s) => steps.push(s), onOutcome: (d) => lookups.push(d) });
  if (!found.ok) return { steps, lookups, hosts: [], usable: false, errorCode: found.errorCode, message: found.message };
  const hosts: HostCheck[] = [];
  for (const c of found.candidates) {
    for (const address of c.addresses.length ? c.addresses : [c.target]) {
      const check: HostCheck = { target: c.target, port: c.port, address, tcp: 'failed', kmslab: null, verdict: '' };
      let conn: KmsConnection | null = null;
      try {
        conn = await KmsConnection.connect({ host: address, port: c.port, connectTimeoutMs: o.timeoutMs ?? 2000, requestTimeoutMs: o.timeoutMs ?? 2000 });
        check.tcp = 'connected';
        check.kmslab = await conn.hello();
        check.verdict = `kmslab host ${check.kmslab.hostId} (${check.kmslab.software}, protocol ${check.kmslab.protocolVersion})`;
      } catch (err) {
        const e = toKmsLabError(err);
        check.verdict =
          check.tcp === 'connected'
            ? `accepts TCP on ${c.port} but does not speak kmslab's protocol (${e.code}): a real KMS host or another service`
            : `cannot connect (${e.message}): host down, wrong address, or a firewall`;
      } finally {
        conn?.close();
      }
      hosts.push(check);
    }
  }
  const usable = hosts.some((h) => h.kmslab);
  return {
    steps, lookups, hosts, usable,
    errorCode: usable ? null : '0xC004F074',
    message: usable ? null : 'No KMS host could be contacted: every host found in DNS failed the connect or the handshake',
  };
}
