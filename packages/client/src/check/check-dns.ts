import { formatHostPort } from '@kmslab/core';
import { RCODE, TYPE, canonicalName, query, rcodeName, type DnsTarget, type Message } from '@kmslab/dns-wire';
import { srvQueryName } from '../client-profile.js';
import { dnsErrorCode } from '../discovery.js';
import { WINDOWS_GIVE_UP_MS, connectOnce } from '../host-connect.js';
import { FINDINGS, exitCodeOf, type Finding } from './findings.js';
import { checkRecords, srvSeen, type SrvSeen, type TargetInfo, type TargetLookup } from './record-checks.js';

/** Where a check looks: the client's DNS servers and domains, as a Windows client would use them. */
export interface DnsCheckOptions {
  /** Every DNS server the client has; each is asked (they may disagree). */
  servers: readonly DnsTarget[];
  /** The machine's DNS suffixes: primary suffix, then the search list. */
  suffixes: readonly string[];
  /** A pinned lookup domain (KeyManagementServiceLookupDomain, `set-domain`): asked alone, no fallback to the suffixes. */
  lookupDomain?: string | null | undefined;
  /** Try a TCP connection to each target (default true). */
  connect?: boolean | undefined;
  /** Per DNS query and per connection attempt (default 2,000 ms). */
  timeoutMs?: number | undefined;
}

/** What one server said to one SRV query. */
export interface SrvAnswer {
  server: string;
  /** NOERROR, NXDOMAIN…, or `no answer: …` */
  rcode: string;
  records: SrvSeen[];
  /** Over UDP the answer came truncated (TC), and what TCP then gave. */
  truncated: boolean;
  /** With no records: the code a Windows client reports for this answer (0x8007232B NXDOMAIN, 0x8007251D no records, 0x800705B4 no answer…). */
  errorCode: string | null;
}

/** What `kmslab discover --check` reports. */
export interface CheckReport {
  /** `ok` (no findings), `warnings`, `errors`. */
  verdict: 'ok' | 'warnings' | 'errors';
  /** 0 no findings, 1 warnings only, 2 errors. */
  exitCode: 0 | 1 | 2;
  /** The DNS servers asked (HOST:PORT); none for a zone file. */
  servers: string[];
  /** The domains a Windows client asks, in order. */
  asked: string[];
  /** Each asked domain's SRV answer from each server. */
  answers: Array<{ domain: string; name: string; answers: SrvAnswer[] }>;
  /** What was found, in the order it was found (docs/discover-check.md). */
  findings: Finding[];
}

/** The report of a list of findings. */
export function checkReport(base: Omit<CheckReport, 'verdict' | 'exitCode' | 'findings'>, findings: Finding[]): CheckReport {
  const exitCode = exitCodeOf(findings);
  return { verdict: exitCode === 2 ? 'errors' : exitCode === 1 ? 'warnings' : 'ok', exitCode, ...base, findings };
}

/**
 * A verdict on the client's own DNS, domain by domain, as the measured
 * Windows client would look (kms-reference.md "What a Windows client sends"):
 * the lookup domain alone when pinned, else each suffix; `_VLMCS._TCP` asked
 * of every server, the lower-case name too, over UDP and — when truncated —
 * TCP; each target resolved and connected to. docs/discover-check.md.
 */
export async function checkDns(o: DnsCheckOptions): Promise<CheckReport> {
  const timeoutMs = o.timeoutMs ?? 2000;
  const servers = o.servers.map((s) => ({ ...s, timeoutMs: s.timeoutMs ?? timeoutMs }));
  const asked = (o.lookupDomain ? [o.lookupDomain] : [...o.suffixes]).map((d) => canonicalName(d));
  const base = { servers: servers.map((s) => formatHostPort(s.host, s.port)), asked, answers: [] as CheckReport['answers'] };
  const findings: Finding[] = [];
  if (asked.length === 0) {
    findings.push({
      id: 'no-domain', severity: 'error', domain: null, subject: 'the client', detail: 'no lookup domain, no primary suffix, no search list',
      client: 'sends no DNS query at all and reports 0x8007007B', fix: FINDINGS['no-domain'].fix,
    });
    return checkReport(base, findings);
  }
  const lookup = targetLookup(servers[0]!, timeoutMs, o.connect ?? true);
  let found = 0;
  for (const domain of asked) {
    const name = srvQueryName(domain, 'windows');
    const answers: SrvAnswer[] = [];
    for (const s of servers) answers.push(await askSrv(s, name, findings, domain));
    base.answers.push({ domain, name, answers });
    const views = new Map<string, string[]>();
    for (const a of answers) views.set(signature(a), [...(views.get(signature(a)) ?? []), a.server]);
    if (views.size > 1) {
      findings.push({
        id: 'servers-disagree', severity: 'warning', domain, subject: name,
        detail: answers.map((a) => `${a.server}: ${describe(a)}`).join(' | '),
        client: 'what it finds depends on which server it asks (replication lag, split horizon): some clients see hosts the others do not',
        fix: FINDINGS['servers-disagree'].fix,
      });
    }
    const first = answers.find((a) => !a.rcode.startsWith('no answer')) ?? answers[0]!;
    const lower = await askSrv(servers[answers.indexOf(first)]!, name.toLowerCase(), [], domain);
    if (signature(lower) !== signature(first)) {
      findings.push({
        id: 'case-differs', severity: 'error', domain, subject: `${name} / ${name.toLowerCase()}`,
        detail: `${first.server}: ${name} → ${describe(first)}; ${name.toLowerCase()} → ${describe(lower)}`,
        client: `Windows sends ${name} and gets ${describe(first)}; tools and scripts that send lower case see something else`,
        fix: FINDINGS['case-differs'].fix,
      });
    }
    if (first.records.length === 0) continue;
    found += first.records.length;
    findings.push(...(await checkRecords(domain, first.records, lookup)));
  }
  if (found === 0) {
    // Where else records are: the suffixes a pinned lookup domain hides, and the parents of what is asked.
    const elsewhere = [...new Set([...(o.lookupDomain ? o.suffixes.map((d) => canonicalName(d)) : []), ...asked.flatMap(parents)])].filter((d) => !asked.includes(d));
    for (const d of elsewhere) {
      const a = await askSrv(servers[0]!, srvQueryName(d, 'windows'), [], d);
      if (a.records.length === 0) continue;
      findings.push({
        id: 'srv-in-unasked-domain', severity: 'error', domain: d, subject: srvQueryName(d, 'windows'), detail: `${a.records.length} record(s) in ${d}: ${a.records.map((r) => r.target).join(', ')}`,
        client: o.lookupDomain
          ? `with the lookup domain ${o.lookupDomain} pinned, it asks only there and never falls back to ${d}`
          : `it asks ${asked.join(', ')} only (its own suffixes, not their parent domains) and never ${d}`,
        fix: FINDINGS['srv-in-unasked-domain'].fix,
      });
    }
    if (!findings.some((f) => f.id === 'srv-in-unasked-domain')) {
      const last = base.answers.at(-1)!.answers[0]!;
      findings.push({
        id: 'no-srv', severity: 'error', domain: asked.join(', '), subject: base.answers.map((a) => a.name).join(', '),
        detail: base.answers.map((a) => `${a.name}: ${describe(a.answers[0]!)}`).join('; '),
        client: `finds no KMS host and reports ${last.errorCode} (${last.rcode}${last.rcode === 'NOERROR' ? ', no records' : ''})`,
        fix: FINDINGS['no-srv'].fix,
      });
    }
  }
  return checkReport(base, findings);
}

/** `a.b.c` → `b.c` (never a top-level domain alone). */
function parents(domain: string): string[] {
  const labels = domain.split('.');
  const out: string[] = [];
  for (let i = 1; i < labels.length - 1; i++) out.push(labels.slice(i).join('.'));
  return out;
}

const describe = (a: SrvAnswer) => (a.records.length ? a.records.map((r) => `${r.priority} ${r.weight} ${r.port} ${r.target}`).join(', ') : a.rcode);
const signature = (a: SrvAnswer) => `${a.rcode}|${a.records.map((r) => `${r.priority} ${r.weight} ${r.port} ${r.target}`).sort().join(',')}`;

/** One SRV question to one server: over UDP and, when truncated, over TCP — a TCP failure then is a finding. */
async function askSrv(server: DnsTarget, name: string, findings: Finding[], domain: string): Promise<SrvAnswer> {
  const where = formatHostPort(server.host, server.port);
  let answer: Message;
  try {
    answer = (await query(server, name, TYPE.SRV, { transport: 'udp' })).answer;
  } catch (err) {
    return { server: where, rcode: `no answer: ${(err as Error).message}`, records: [], truncated: false, errorCode: '0x800705B4' };
  }
  const truncated = answer.tc;
  if (truncated) {
    try {
      answer = (await query(server, name, TYPE.SRV, { transport: 'tcp' })).answer;
    } catch (err) {
      findings.push({
        id: 'truncated-tcp-fails', severity: 'error', domain, subject: `${name} at ${where}`,
        detail: `UDP answer truncated (TC); over TCP: ${(err as Error).message}`,
        client: 'its resolver must ask again over TCP and gets nothing: the lookup fails (0x800705B4 or 0x8007232A) though the records exist',
        fix: FINDINGS['truncated-tcp-fails'].fix,
      });
      return { server: where, rcode: 'no answer: truncated, TCP failed', records: [], truncated, errorCode: '0x800705B4' };
    }
  }
  const records = answer.answers
    .filter((rr) => rr.type === TYPE.SRV && rr.data?.type === 'SRV' && canonicalName(rr.name) === canonicalName(name))
    .map(srvSeen);
  return { server: where, rcode: answer.rcode === RCODE.NOERROR ? 'NOERROR' : rcodeName(answer.rcode), records, truncated, errorCode: records.length ? null : dnsErrorCode(answer.rcode) };
}

/** Targets by DNS (A and AAAA at the first server, a CNAME seen in the answer) and TCP connects. */
function targetLookup(server: DnsTarget, timeoutMs: number, tcp: boolean): TargetLookup {
  return {
    async resolve(target): Promise<TargetInfo> {
      let cname: string | null = null;
      const addresses: string[] = [];
      for (const type of [TYPE.A, TYPE.AAAA]) {
        const res = await query(server, target, type).catch(() => null);
        for (const rr of res?.answer.answers ?? []) {
          if (rr.type === TYPE.CNAME && canonicalName(rr.name) === target) cname = canonicalName((rr.data as { target: string }).target);
          if (rr.data?.type === 'A' || rr.data?.type === 'AAAA') addresses.push((rr.data as { address: string }).address);
        }
      }
      return { cname, addresses };
    },
    // A TCP connection is all it asks (the host may be a real KMS host, not kmslab): the client's own one-try connect.
    accepts: tcp
      ? (address, port) => {
          const wait = Math.min(timeoutMs, WINDOWS_GIVE_UP_MS);
          return connectOnce(address, port, { connectTimeoutMs: wait, requestTimeoutMs: wait }).then((conn) => (conn.close(), true), () => false);
        }
      : undefined,
  };
}
