import { dirname, resolve } from 'node:path';
import { KmsLabError, parseUserJson, readUserFile } from '@kmslab/core';
import { parseKeyPolicy, type KeyPolicy } from './update/policy.js';
import { Ownership, type OwnershipState } from './update/ownership.js';
import { parseAging, parseScavengePeriod, type AgingRule } from './zone/aging.js';
import { toFaultRule, type FaultRule, type FaultRuleInput } from './harness/fault-rule.js';
import { defaultZone } from './zone/default-zone.js';
import { parseSecondary } from './secondary.js';
import { parseZoneFile, readZoneFile } from './zone/zone-file.js';
import { Zone } from './zone/zone.js';

/**
 * The structured configuration of `kmslab dns start --config FILE` (JSON):
 *
 *   { "listen": ["::"], "port": 53, "dataDir": ".kmslab/dns",
 *     "zones": [ { "name": "lab.test", "file": "lab.test.db" },
 *                { "name": "corp.test", "records": ["kms1 600 A 10.0.0.5", "_vlmcs._tcp 600 SRV 0 0 1688 kms1"] } ],
 *     "keys":  [ { "name": "kms1", "algorithm": "hmac-sha256", "secret": "BASE64", "grants": ["host=kms1.corp.test"] } ],
 *     "secureZones": ["corp.test"], "groups": { "kms-hosts": ["kms1", "kms2"] },
 *     "grants": { "_vlmcs._tcp.corp.test": ["kms-hosts"] },
 *     "aging": { "corp.test": "7d/7d" }, "scavengePeriod": "7d",
 *     "notify": ["192.0.2.53:53"], "notifyKey": "xfr", "allowTransfer": ["192.0.2.0/24"],
 *     "secondary": ["corp.example@192.0.2.10:53"], "secondaryKey": "xfr" }
 *
 * Zone files are relative to the config file. A zone given by records gets a
 * default SOA and NS unless its records hold them.
 */
export interface DnsConfig {
  listen?: string[];
  port?: number;
  dataDir?: string;
  zones: Zone[];
  /** Zones read from a zone file (whose serial says whether saved updates are older). */
  fromFile: Set<string>;
  keys: KeyPolicy[];
  /** Faults on from the start (the test harness; docs/dns-faults.md). */
  faults: FaultRule[];
  /** Secure zones, groups of keys and grants (`secureZones`, `groups`, `grants`; update/ownership.ts). */
  ownership: OwnershipState;
  /** Aging zones (`"aging": {"lab.test": "7d/7d"}`) and the scavenging period (`"scavengePeriod": "7d"`; zone/aging.ts). */
  aging: { rules: Record<string, AgingRule>; periodMs?: number };
  /**
   * Secondaries of this server: `"notify": ["HOST:PORT"]`, `"notifyKey": "NAME"`, `"allowTransfer": ["CIDR"]`;
   * zones it follows as a secondary: `"secondary": ["ZONE@HOST[:PORT]"]`, `"secondaryKey": "NAME"` (as `--secondary`).
   */
  replication: { notify: string[]; notifyKey?: string; allowTransfer: string[]; secondary: string[]; secondaryKey?: string };
}

/** Reads and checks `kmslab dns start --config FILE`. */
export function loadDnsConfig(path: string): DnsConfig {
  const raw = parseUserJson(readUserFile(path, 'DNS config', { maxBytes: 1024 * 1024 }), path);
  const fail = (where: string, what: string): never => {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${path}: ${where}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('top level', 'must be an object');
  const c = raw as Record<string, unknown>;
  const out: DnsConfig = { zones: [], fromFile: new Set(), keys: [], faults: [], ownership: { secureZones: [], groups: {}, grants: {} }, aging: { rules: {} }, replication: { notify: [], allowTransfer: [], secondary: [] } };
  if (c.listen !== undefined) {
    if (!Array.isArray(c.listen) || c.listen.some((a) => typeof a !== 'string')) fail('listen', 'must be a list of addresses');
    out.listen = c.listen as string[];
  }
  if (c.port !== undefined) {
    if (!Number.isInteger(c.port) || (c.port as number) < 0 || (c.port as number) > 65535) fail('port', 'must be 0 to 65535');
    out.port = c.port as number;
  }
  if (c.dataDir !== undefined) {
    if (typeof c.dataDir !== 'string') fail('dataDir', 'must be a path');
    out.dataDir = resolve(dirname(path), c.dataDir as string);
  }
  for (const [i, z] of ((c.zones as unknown[] | undefined) ?? []).entries()) {
    const at = `zones[${i}]`;
    if (typeof z !== 'object' || z === null) fail(at, 'must be an object');
    const { name, file, records } = z as { name?: unknown; file?: unknown; records?: unknown };
    if (typeof name !== 'string') fail(`${at}.name`, 'must be a zone name');
    let zone: Zone;
    if (typeof file === 'string') {
      const loaded = readZoneFile(resolve(dirname(path), file), name as string);
      zone = Zone.of(loaded.origin, loaded.records);
      out.fromFile.add(zone.origin);
    } else {
      zone = defaultZone(name as string);
      if (records !== undefined) {
        if (!Array.isArray(records) || records.some((r) => typeof r !== 'string')) fail(`${at}.records`, 'must be a list of master-file lines');
        const text = `$ORIGIN ${zone.origin}.\n$TTL 3600\n${(records as string[]).join('\n')}\n`;
        for (const rr of parseZoneFile(text, { source: `${path} ${at}.records`, requireSoa: false }).records) zone.add(rr, { bumpSerial: false });
      }
    }
    if (out.zones.some((x) => x.origin === zone.origin)) fail(at, `zone ${zone.origin} appears twice`);
    out.zones.push(zone);
  }
  for (const [i, f] of ((c.faults as unknown[] | undefined) ?? []).entries()) {
    if (typeof f !== 'object' || f === null) fail(`faults[${i}]`, 'must be an object with name and action');
    try {
      out.faults.push(toFaultRule(f as FaultRuleInput, Date.now()));
    } catch (err) {
      fail(`faults[${i}]`, (err as Error).message);
    }
  }
  if (c.secureZones !== undefined) {
    if (!Array.isArray(c.secureZones) || c.secureZones.some((z) => typeof z !== 'string')) fail('secureZones', 'must be a list of zone names');
    out.ownership.secureZones = c.secureZones as string[];
  }
  for (const field of ['groups', 'grants'] as const) {
    const v = c[field];
    if (v === undefined) continue;
    const ok = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => Array.isArray(x) && x.every((y) => typeof y === 'string'));
    if (!ok) fail(field, field === 'groups' ? 'must map each group to its keys: { "kms-hosts": ["kms1", "kms2"] }' : 'must map each DNS name to its groups: { "_vlmcs._tcp.lab.test": ["kms-hosts"] }');
    out.ownership[field] = v as Record<string, string[]>;
  }
  try {
    new Ownership(out.ownership);
  } catch (err) {
    fail('secureZones/groups/grants', (err as Error).message);
  }
  if (c.aging !== undefined) {
    if (typeof c.aging !== 'object' || c.aging === null || Array.isArray(c.aging)) fail('aging', 'must map each zone to NOREFRESH/REFRESH: { "lab.test": "7d/7d" }');
    for (const [zone, text] of Object.entries(c.aging as object)) {
      try {
        const parsed = parseAging(`${zone}=${String(text)}`);
        out.aging.rules[parsed.zone] = parsed.rule;
      } catch (err) {
        fail(`aging.${zone}`, (err as Error).message);
      }
    }
  }
  for (const field of ['notify', 'allowTransfer'] as const) {
    const v = c[field];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(field, field === 'notify' ? 'must be a list of HOST:PORT' : 'must be a list of prefixes such as 127.0.0.0/8');
    out.replication[field] = v as string[];
  }
  for (const field of ['notifyKey', 'secondaryKey'] as const) {
    if (c[field] === undefined) continue;
    if (typeof c[field] !== 'string') fail(field, 'must be the name of one of the keys');
    out.replication[field] = c[field] as string;
  }
  if (c.secondary !== undefined) {
    if (!Array.isArray(c.secondary) || c.secondary.some((x) => typeof x !== 'string')) fail('secondary', 'must be a list of ZONE@HOST[:PORT]');
    for (const text of c.secondary as string[]) {
      try {
        parseSecondary(text);
      } catch (err) {
        fail('secondary', (err as Error).message);
      }
    }
    out.replication.secondary = c.secondary as string[];
  }
  if (c.scavengePeriod !== undefined) {
    try {
      out.aging.periodMs = parseScavengePeriod(String(c.scavengePeriod));
    } catch (err) {
      fail('scavengePeriod', (err as Error).message);
    }
  }
  for (const [i, k] of ((c.keys as unknown[] | undefined) ?? []).entries()) {
    const at = `keys[${i}]`;
    const { name, algorithm, secret, grants } = (k ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string' || typeof secret !== 'string') fail(at, 'needs name and secret');
    const grantText = grants === undefined ? 'zone' : Array.isArray(grants) ? grants.join(',') : fail(`${at}.grants`, 'must be a list');
    try {
      out.keys.push(parseKeyPolicy(`${name}:${typeof algorithm === 'string' ? algorithm : 'hmac-sha256'}:${secret}:${grantText}`));
    } catch (err) {
      fail(at, (err as Error).message);
    }
  }
  return out;
}
