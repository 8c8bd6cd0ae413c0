import { DEFAULT_KMS_PORT, formatHostPort } from '@kmslab/core';
import { canonicalName, type ResourceRecord } from '@kmslab/dns-wire';
import { WINDOWS_GIVE_UP_MS, WINDOWS_SYN_TIMES_MS } from '../host-connect.js';
import { FINDINGS, type Finding, type FindingId } from './findings.js';

/** One `_VLMCS._TCP` SRV record as a check saw it. */
export interface SrvSeen {
  target: string;
  port: number;
  priority: number;
  weight: number;
  ttl: number;
}

/** An SRV resource record as the checks read it (its target canonical). */
export function srvSeen(rr: ResourceRecord): SrvSeen {
  const d = rr.data as { target: string; port: number; priority: number; weight: number };
  return { target: canonicalName(d.target), port: d.port, priority: d.priority, weight: d.weight, ttl: rr.ttl };
}

/** What a target name is: an alias (CNAME) or not, and its addresses. */
export interface TargetInfo {
  /** The name it is an alias of, when the target is a CNAME. */
  cname: string | null;
  addresses: string[];
}

/** How a check learns about targets: by DNS and TCP online, from the zone's own records offline. */
export interface TargetLookup {
  /** null: cannot be known here (a target outside the zone file). */
  resolve(target: string): Promise<TargetInfo | null>;
  /** Does `address:port` accept a TCP connection? Absent: not checked (offline). */
  accepts?: (address: string, port: number) => Promise<boolean>;
}

/** A TTL from which a removed host stays in resolvers' caches for a day or more. */
export const LONG_TTL_S = 86_400;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
/** What one dead target costs a Windows client before the next (host-connect.ts: five SYNs, then on). */
const DEAD_COST = `about ${seconds(WINDOWS_GIVE_UP_MS)} (${WINDOWS_SYN_TIMES_MS.length} SYNs from 0 to ${seconds(WINDOWS_SYN_TIMES_MS.at(-1)!)})`;

const finding = (id: FindingId, severity: Finding['severity'], domain: string, subject: string, detail: string, client: string): Finding => ({
  id, severity, domain, subject, detail, client, fix: FINDINGS[id].fix,
});

const show = (r: SrvSeen) => `${r.priority} ${r.weight} ${r.port} ${r.target}`;

/**
 * The checks on one domain's SRV set: no preference expressed, ports, TTLs,
 * and each target — an alias, no address, or no connection on its port,
 * with what the dead one costs a Windows client given where it sorts.
 */
export async function checkRecords(domain: string, records: readonly SrvSeen[], lookup: TargetLookup): Promise<Finding[]> {
  const out: Finding[] = [];
  if (records.length > 1 && records.every((r) => r.weight === 0 && r.priority === records[0]!.priority)) {
    out.push(finding('no-preference', 'warning', domain, records.map(show).join('; '), `${records.length} records, all priority ${records[0]!.priority} weight 0`,
      'each lookup picks among them with no preference, so load is not steered and a dead one is as likely first as a live one'));
  }
  for (const r of records) {
    if (r.port !== DEFAULT_KMS_PORT) {
      out.push(finding('port-not-1688', 'warning', domain, show(r), `port ${r.port}`, `the client connects to ${r.port}, not 1688: it works only where the host listens there and every firewall between allows it`));
    }
    if (r.ttl >= LONG_TTL_S) {
      out.push(finding('ttl-long', 'warning', domain, show(r), `TTL ${r.ttl} s (${(r.ttl / 86_400).toFixed(1)} days)`, `after the host is retired, resolvers keep handing it out for up to ${(r.ttl / 86_400).toFixed(1)} days, and clients lose time on it`));
    }
  }
  const live: SrvSeen[] = [];
  // Each unreachable target's finding, told what it costs once the live ones are known.
  const dead: Array<{ f: Finding; r: SrvSeen }> = [];
  for (const r of records) {
    const info = await lookup.resolve(r.target);
    if (info === null) continue;
    if (info.cname !== null) {
      out.push(finding('target-cname', 'error', domain, show(r), `${r.target} is an alias of ${info.cname}`, 'RFC 2782 forbids it: a client or resolver may drop the record or fail to find the address; what works today may not after a change'));
    }
    if (info.addresses.length === 0 && info.cname === null) {
      out.push(finding('target-no-address', 'error', domain, show(r), `${r.target} has no A or AAAA record`, `the client cannot connect to this host and tries the next; with no other host it reports 0xC004F074`));
      continue;
    }
    if (!lookup.accepts || info.addresses.length === 0) continue;
    let accepted = false;
    for (const a of info.addresses) if (await lookup.accepts(a, r.port)) accepted = true;
    if (accepted) live.push(r);
    else {
      const f = finding('target-unreachable', 'error', domain, show(r), `${info.addresses.map((a) => formatHostPort(a, r.port)).join(', ')}: no connection`, '');
      out.push(f);
      dead.push({ f, r });
    }
  }
  // What each unreachable target costs depends on where it sorts against the live ones.
  const best = live.length ? Math.min(...live.map((r) => r.priority)) : null;
  for (const { f, r } of dead) {
    if (best === null) {
      f.client = `no host in ${domain} answers: the client loses ${DEAD_COST} on each of ${dead.length} and reports 0xC004F074 (${seconds(dead.length * WINDOWS_GIVE_UP_MS)} in all)`;
    } else if (r.priority < best) {
      f.severity = 'error';
      f.client = `every client without a cached host tries it first (priority ${r.priority} before ${best}) and loses ${DEAD_COST} before the next`;
    } else if (r.priority === best) {
      f.severity = 'warning';
      const group = records.filter((x) => x.priority === r.priority);
      const total = group.reduce((s, x) => s + x.weight, 0);
      const share = total === 0 ? 1 / group.length : r.weight / total;
      f.client = `a client tries it first in about ${Math.round(share * 100)} % of lookups (weight ${r.weight} of ${total}) and then loses ${DEAD_COST} before the next`;
    } else {
      f.severity = 'warning';
      f.client = `tried only when the hosts before it fail (priority ${r.priority} after ${best}); then it costs ${DEAD_COST}`;
    }
  }
  return out;
}
