import { TYPE, canonicalName, type ResourceRecord } from '@kmslab/dns-wire';
import { kmsSrvName } from '@kmslab/core';
import { FINDINGS, type Finding } from './findings.js';
import { checkReport, type CheckReport } from './check-dns.js';
import { checkRecords, srvSeen, type SrvSeen, type TargetLookup } from './record-checks.js';

/**
 * `kmslab discover --check --zone-file FILE`: the same verdict from a zone
 * file alone, no network (a pull request that changes a zone): the SRV set at
 * `_vlmcs._tcp.<origin>`, its preference, ports and TTLs, and each target
 * inside the zone — an alias, or no address. Targets outside the zone and
 * connections cannot be known offline and are not judged.
 */
export async function checkZone(zone: { origin: string; records: readonly ResourceRecord[] }): Promise<CheckReport> {
  const origin = canonicalName(zone.origin);
  const name = kmsSrvName(origin);
  const owned = (n: string, type: number) => zone.records.filter((rr) => rr.type === type && canonicalName(rr.name) === n);
  const records: SrvSeen[] = owned(name, TYPE.SRV).map(srvSeen);
  const inZone = (n: string) => n === origin || n.endsWith(`.${origin}`);
  const lookup: TargetLookup = {
    async resolve(target) {
      if (!inZone(target)) return null;
      const alias = owned(target, TYPE.CNAME)[0];
      const cname = alias ? canonicalName((alias.data as { target: string }).target) : null;
      const addresses = [...owned(cname ?? target, TYPE.A), ...owned(cname ?? target, TYPE.AAAA)].map((rr) => (rr.data as { address: string }).address);
      return { cname, addresses };
    },
  };
  const findings: Finding[] = [];
  if (records.length === 0) {
    findings.push({
      id: 'no-srv', severity: 'error', domain: origin, subject: name, detail: `the zone has no SRV record at ${name}`,
      client: 'a client whose suffix or lookup domain is this zone finds no KMS host (0x8007232B or 0x8007251D)', fix: FINDINGS['no-srv'].fix,
    });
  } else findings.push(...(await checkRecords(origin, records, lookup)));
  return checkReport({ servers: [], asked: [origin], answers: [] }, findings);
}
