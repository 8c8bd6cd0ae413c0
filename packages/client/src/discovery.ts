import { ERROR_CODES, KmsLabError, kmsSrvName } from '@kmslab/core';
import { RCODE, TYPE, canonicalName, query, rcodeName, type DnsTarget, type ResourceRecord } from '@kmslab/dns-wire';
import { orderSrv, type SelectionMode } from './srv-order.js';

/** A host found in DNS, in the order to try it. */
export interface Candidate {
  target: string;
  port: number;
  priority: number;
  weight: number;
  domain: string;
  /** Addresses to connect to (from the additional section, else A/AAAA lookups). */
  addresses: string[];
}

/** What discovery did, step by step (what `kmslab discover` prints). */
export interface DiscoveryStep {
  step: 'query' | 'answer' | 'order' | 'resolve';
  text: string;
}

export interface DiscoverOptions {
  dns: DnsTarget;
  /** Primary domain first, then the search list (kms-reference.md "Discovery"). */
  domains: readonly string[];
  random: () => number;
  mode?: SelectionMode;
  onStep?: (step: DiscoveryStep) => void;
}

/**
 * Finds KMS hosts the way a KMS client does: `_vlmcs._tcp.<domain>` SRV in
 * each domain in turn, records ordered by RFC 2782 (or uniformly), each target
 * resolved. Throws 0x8007232B when no domain has a record.
 */
export async function discoverHosts(o: DiscoverOptions): Promise<Candidate[]> {
  const step = (s: DiscoveryStep) => o.onStep?.(s);
  const found: Candidate[] = [];
  const problems: string[] = [];
  if (o.domains.length === 0) throw new KmsLabError('0x8007232B', `${ERROR_CODES['0x8007232B'].message}: no domain to search (set one with --domain)`);
  for (const domain of o.domains) {
    const name = kmsSrvName(canonicalName(domain));
    step({ step: 'query', text: `SRV ${name} at ${o.dns.host}:${o.dns.port}` });
    let answer;
    try {
      ({ answer } = await query(o.dns, name, TYPE.SRV));
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      step({ step: 'answer', text: `no answer: ${(err as Error).message}` });
      continue;
    }
    const srv = answer.answers.filter((rr) => rr.type === TYPE.SRV && rr.data?.type === 'SRV');
    if (answer.rcode !== RCODE.NOERROR || srv.length === 0) {
      problems.push(`${name}: ${rcodeName(answer.rcode)}${answer.rcode === RCODE.NOERROR ? ', no SRV records' : ''}`);
      step({ step: 'answer', text: `${rcodeName(answer.rcode)}, ${srv.length} SRV records` });
      continue;
    }
    const records = srv.map((rr) => {
      const d = rr.data as { target: string; port: number; priority: number; weight: number };
      return { target: canonicalName(d.target), port: d.port, priority: d.priority, weight: d.weight };
    });
    step({ step: 'answer', text: records.map((r) => `${r.priority} ${r.weight} ${r.port} ${r.target}`).join('; ') });
    const ordered = orderSrv(records, o.random, o.mode);
    step({ step: 'order', text: `${o.mode ?? 'rfc2782'}: ${ordered.map((r) => `${r.target}:${r.port}`).join(' → ')}` });
    for (const r of ordered) {
      const addresses = addressesFrom(answer.additionals, r.target);
      let how = 'additional section';
      if (addresses.length === 0) {
        how = 'A/AAAA lookup';
        for (const type of [TYPE.A, TYPE.AAAA]) {
          const res = await query(o.dns, r.target, type).catch(() => null);
          if (res) addresses.push(...addressesFrom(res.answer.answers, r.target));
        }
      }
      step({ step: 'resolve', text: `${r.target} → ${addresses.join(', ') || 'no address'} (${how})` });
      found.push({ ...r, domain, addresses });
    }
  }
  if (found.length === 0) {
    throw new KmsLabError('0x8007232B', `${ERROR_CODES['0x8007232B'].message} (${problems.join('; ')})`, { detail: { domains: o.domains, problems } });
  }
  return found;
}

function addressesFrom(records: readonly ResourceRecord[], name: string): string[] {
  return records
    .filter((rr) => canonicalName(rr.name) === name && (rr.data?.type === 'A' || rr.data?.type === 'AAAA'))
    .map((rr) => (rr.data as { address: string }).address);
}
