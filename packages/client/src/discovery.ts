import { ERROR_CODES, formatHostPort, type ErrorCode } from '@kmslab/core';
import { DEFAULT_WORKGROUP, locatorQueryName, srvQueryName, type ClientProfile } from './client-profile.js';
import { RCODE, TYPE, canonicalName, rcodeName, type DnsTarget, type ResourceRecord } from '@kmslab/dns-wire';
import { Resolver } from './resolver.js';
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
  step: 'locator' | 'query' | 'answer' | 'order' | 'resolve';
  text: string;
}

/** How the lookup in one domain ended, and the code a Windows client would report for it. */
export interface DomainOutcome {
  domain: string;
  name: string;
  /** `NXDOMAIN`, `NOERROR, no SRV records`, `SERVFAIL`, `no answer: …`, or `found N` */
  outcome: string;
  errorCode: DnsErrorCode | null;
}

/** The codes discovery ends with when no domain gives a host (docs/errors.md). */
export type DnsErrorCode = Extract<ErrorCode, '0x8007232B' | '0x8007251D' | '0x8007232A' | '0x8007232D' | '0x80072329' | '0x8007232C' | '0x800705B4' | '0x8007007B'>;

/** The codes discovery ends with when DNS gives no host (the HRESULTs a Windows client reports). */
export const DNS_ERROR_CODES: ReadonlySet<string> = new Set<DnsErrorCode>(['0x8007232B', '0x8007251D', '0x8007232A', '0x8007232D', '0x80072329', '0x8007232C', '0x800705B4', '0x8007007B']);

/** The HRESULT of the Win32 DNS error a Windows client's lookup returns for this answer (kms-reference.md "DNS failures as a Windows client reports them"). */
export function dnsErrorCode(rcode: number): DnsErrorCode {
  switch (rcode) {
    case RCODE.NOERROR:
      return '0x8007251D';
    case RCODE.NXDOMAIN:
      return '0x8007232B';
    case RCODE.REFUSED:
      return '0x8007232D';
    case RCODE.FORMERR:
      return '0x80072329';
    case RCODE.NOTIMP:
      return '0x8007232C';
    default:
      return '0x8007232A';
  }
}

/** What discovery came to: hosts to try in order, or the code a Windows client reports — and how each domain's lookup ended. */
export type Discovery =
  | { ok: true; candidates: Candidate[]; domains: DomainOutcome[] }
  | { ok: false; errorCode: DnsErrorCode; message: string; domains: DomainOutcome[] };

/** Where and how to look KMS hosts up by SRV. */
export interface DiscoverOptions {
  /** One DNS server, several (tried in turn), or a Resolver with resolv.conf's timeout, attempts and rotate. */
  dns: DnsTarget | readonly DnsTarget[] | Resolver;
  /** Primary domain first, then the search list (kms-reference.md "Discovery"). */
  domains: readonly string[];
  /**
   * The domains are a configured lookup domain (`set-domain`, KeyManagementServiceLookupDomain),
   * not the machine's DNS suffixes: a Windows client then sends no locator query.
   */
  lookupDomain?: boolean | undefined;
  /** What goes on the wire (client-profile.ts); default `windows`. */
  profile?: ClientProfile | undefined;
  /** The workgroup the locator query names; default `WORKGROUP`. */
  workgroup?: string | undefined;
  random: () => number;
  mode?: SelectionMode;
  onStep?: (step: DiscoveryStep) => void;
  /** Told how each domain's lookup ended. */
  onOutcome?: (outcome: DomainOutcome) => void;
}

/**
 * Finds KMS hosts the way a KMS client does: `_vlmcs._tcp.<domain>` SRV in
 * each domain in turn, records ordered by RFC 2782 (or uniformly), each target
 * resolved. DNS giving no host is an outcome, not an exception: the code a
 * Windows client would report for the last domain tried (NXDOMAIN 0x8007232B,
 * no records 0x8007251D, SERVFAIL 0x8007232A, REFUSED 0x8007232D, no answer
 * 0x800705B4; no domain at all 0x8007007B), with every domain's outcome.
 */
export async function discoverHosts(o: DiscoverOptions): Promise<Discovery> {
  const step = (s: DiscoveryStep) => o.onStep?.(s);
  const found: Candidate[] = [];
  const outcomes: DomainOutcome[] = [];
  const noted = (d: DomainOutcome) => {
    outcomes.push(d);
    o.onOutcome?.(d);
  };
  if (o.domains.length === 0) return { ok: false, errorCode: '0x8007007B', message: `${ERROR_CODES['0x8007007B'].message} (set one with --domain)`, domains: outcomes };
  const resolver = o.dns instanceof Resolver ? o.dns : new Resolver({ servers: Array.isArray(o.dns) ? o.dns : [o.dns as DnsTarget], attempts: 1 });
  const tried = (t: { server: string; result: string }) => step({ step: 'answer', text: `${t.server}: ${t.result}` });
  const profile = o.profile ?? 'windows';
  const at = resolver.servers.map((s) => formatHostPort(s.host, s.port)).join(', ');
  for (const domain of o.domains) {
    // A Windows workgroup client asks the domain-controller locator first (kms-reference.md, the captures); its answer changes nothing.
    const locator = locatorQueryName(canonicalName(domain), { profile, lookupDomain: o.lookupDomain ?? false, workgroup: o.workgroup ?? DEFAULT_WORKGROUP });
    if (locator) {
      const got = await resolver.lookup(locator, TYPE.SRV).then(({ answer }) => rcodeName(answer.rcode), (err: Error) => `no answer: ${err.message}`);
      step({ step: 'locator', text: `SRV ${locator} at ${at}: ${got} (a workgroup client looks for a domain controller first, then goes on)` });
    }
    const name = srvQueryName(canonicalName(domain), profile);
    step({ step: 'query', text: `SRV ${name} at ${at}` });
    let answer;
    try {
      ({ answer } = await resolver.lookup(name, TYPE.SRV, resolver.servers.length > 1 ? tried : undefined));
    } catch (err) {
      noted({ domain, name, outcome: `no answer: ${(err as Error).message}`, errorCode: '0x800705B4' });
      step({ step: 'answer', text: `no answer: ${(err as Error).message}` });
      continue;
    }
    const srv = answer.answers.filter((rr) => rr.type === TYPE.SRV && rr.data?.type === 'SRV');
    if (answer.rcode !== RCODE.NOERROR || srv.length === 0) {
      noted({ domain, name, outcome: `${rcodeName(answer.rcode)}${answer.rcode === RCODE.NOERROR ? ', no SRV records' : ''}`, errorCode: dnsErrorCode(answer.rcode) });
      step({ step: 'answer', text: `${rcodeName(answer.rcode)}, ${srv.length} SRV records` });
      continue;
    }
    noted({ domain, name, outcome: `found ${srv.length}`, errorCode: null });
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
          const res = await resolver.lookup(r.target, type).catch(() => null);
          if (res) addresses.push(...addressesFrom(res.answer.answers, r.target));
        }
      }
      step({ step: 'resolve', text: `${r.target} → ${addresses.join(', ') || 'no address'} (${how})` });
      found.push({ ...r, domain, addresses });
    }
  }
  if (found.length === 0) {
    // A Windows client reports what its last domain's lookup returned.
    const code = outcomes.findLast((x) => x.errorCode !== null)?.errorCode ?? '0x8007232B';
    const problems = outcomes.map((x) => `${x.name}: ${x.outcome}`);
    return { ok: false, errorCode: code, message: `${ERROR_CODES[code].message} (${problems.join('; ')})`, domains: outcomes };
  }
  return { ok: true, candidates: found, domains: outcomes };
}

function addressesFrom(records: readonly ResourceRecord[], name: string): string[] {
  return records
    .filter((rr) => canonicalName(rr.name) === name && (rr.data?.type === 'A' || rr.data?.type === 'AAAA'))
    .map((rr) => (rr.data as { address: string }).address);
}
