import { KmsLabError } from '@kmslab/core';
import type { CheckReport } from '@kmslab/client';
import { dnsResolver } from '../dns-servers.js';

/** `kmslab discover --check`: the client's own DNS (or a zone file, offline) judged as a Windows client meets it. */
export async function runCheck(o: { domain?: string[]; dns?: string[]; lookupDomain?: string; zoneFile?: string; connect: boolean }): Promise<CheckReport> {
  const { checkDns, checkZone, systemSearchList } = await import('@kmslab/client');
  if (o.zoneFile) {
    if ((o.domain?.length ?? 0) > 1) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', '--zone-file takes one --domain at most (the zone\'s origin when the file has no $ORIGIN)');
    const { readZoneFile } = await import('@kmslab/dns');
    return checkZone(readZoneFile(o.zoneFile, o.domain?.[0]));
  }
  const resolver = await dnsResolver(o.dns);
  if (!resolver) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'No DNS server: give --dns HOST[:PORT] or a nameserver in /etc/resolv.conf');
  return checkDns({ servers: resolver.servers, suffixes: o.domain ?? systemSearchList(), lookupDomain: o.lookupDomain ?? null, connect: o.connect });
}

/** The verdict, what was asked, then each finding: id, severity, what was seen, what a Windows client experiences, the fix. */
export function printCheck(r: CheckReport): void {
  const errors = r.findings.filter((f) => f.severity === 'error').length;
  const warnings = r.findings.length - errors;
  const lines: string[] = [];
  if (r.servers.length) lines.push(`Asked as a Windows client would: ${r.asked.map((d) => `_VLMCS._TCP.${d}`).join(', ') || '(nothing)'} at ${r.servers.join(', ')}`);
  else lines.push(`Zone file, offline: ${r.asked.join(', ')}`);
  for (const d of r.answers) for (const a of d.answers) lines.push(`  ${a.server.padEnd(21)} ${d.name}: ${a.records.length ? a.records.map((x) => `${x.priority} ${x.weight} ${x.port} ${x.target} (TTL ${x.ttl})`).join(', ') : a.rcode}${a.truncated ? ' [truncated over UDP]' : ''}`);
  lines.push(`Verdict: ${r.verdict === 'ok' ? 'OK, no findings' : `${r.verdict.toUpperCase()}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`}`);
  for (const f of r.findings) {
    lines.push(`  ${f.severity.padEnd(7)} ${f.id}  ${f.subject}`);
    lines.push(`          seen:   ${f.detail}`);
    lines.push(`          client: ${f.client}`);
    lines.push(`          fix:    ${f.fix}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
