import { KmsLabError, parseHostPort } from '@kmslab/core';
import { allowedHosts } from '@kmslab/server-kit';
import type { Logger } from 'pino';
import { DnsAdminServer } from './admin/dns-admin-server.js';
import type { DnsConfig } from './dns-config.js';
import { DnsServer } from './dns-server.js';
import type { FaultRule } from './harness/fault-rule.js';
import { QueryLog } from './harness/query-log.js';
import type { KeyPolicy } from './update/policy.js';
import { Ownership, parseGrant, parseGroup, type OwnershipState } from './update/ownership.js';
import { parseNotifyTarget } from './notify.js';
import { parseSecondary } from './secondary.js';
import { parseTransferPrefix } from './update/transfer-acl.js';
import type { FaultNet } from './harness/fault-rule.js';
import { canonicalName, type DnsTarget, type TsigKey } from '@kmslab/dns-wire';
import { Aging, DEFAULT_SCAVENGE_PERIOD_MS, parseAging, parseScavengePeriod, type AgingRule } from './zone/aging.js';
import { defaultZone } from './zone/default-zone.js';
import { serialGreater } from './zone/serial.js';
import { readZoneFile } from './zone/zone-file.js';
import { ZoneJournal } from './zone/zone-journal.js';
import type { ZoneChange } from './zone/journal-entry.js';
import { ZoneSet } from './zone/zone-set.js';
import { Zone } from './zone/zone.js';

/** Everything `kmslab dns start` is made of, checked before anything listens. */
export interface DnsServiceOptions {
  /** A structured config (`--config`): its zones, keys, faults, listen, port and data dir; the options below add to it. */
  config?: DnsConfig | undefined;
  /** Master files to serve (`--zone-file`). */
  zoneFiles?: readonly string[] | undefined;
  /** New zones with only SOA, NS and the name server (`--zone`); default `lab.test` when nothing else names a zone. */
  zones?: readonly string[] | undefined;
  keys?: readonly KeyPolicy[] | undefined;
  /** Where dynamically updated zones are kept (taken for this process); null keeps nothing. */
  dataDir: string | null;
  listen?: readonly string[] | undefined;
  port?: number | undefined;
  faults?: readonly FaultRule[] | undefined;
  seed?: number | undefined;
  /** Secure zones (`--secure-zone`), groups (`--group NAME=KEY[,KEY…]`) and grants (`--grant DNSNAME=GROUP`): update/ownership.ts. */
  secure?: { zones?: readonly string[] | undefined; groups?: readonly string[] | undefined; grants?: readonly string[] | undefined } | undefined;
  /** Aging zones (`--aging ZONE=NOREFRESH/REFRESH`) and the scavenging period (`--scavenge-period`): zone/aging.ts. */
  aging?: {
    zones?: readonly string[] | undefined;
    scavengePeriod?: string | undefined;
    /** No pass by itself: only `server.scavenge()` runs one (a test on a virtual clock decides when days pass). */
    manualPasses?: boolean | undefined;
  } | undefined;
  /**
   * Secondaries: NOTIFY targets (`--notify HOST[:PORT]`), the key that signs
   * NOTIFY (`--notify-key NAME`, one of the keys), and client prefixes that
   * transfer without a key (`--allow-transfer CIDR`).
   */
  replication?: { notify?: readonly string[] | undefined; notifyKey?: string | undefined; allowTransfer?: readonly string[] | undefined } | undefined;
  /** Zones followed from a primary (`--secondary ZONE@HOST[:PORT]`), transfers signed with `key` (`--secondary-key NAME`): secondary.ts. */
  secondary?: {
    zones?: readonly string[] | undefined;
    key?: string | undefined;
    /** SOA refresh and retry on `now`'s clock, run by each SecondaryZone's `refreshIfDue()` (a lab on a virtual clock). */
    clockTimers?: boolean | undefined;
  } | undefined;
  /** The server's clock (a lab's virtual one); default the wall clock. */
  now?: (() => number) | undefined;
  /** The query log: entries kept (0: none), a JSON-lines file, followers at once. */
  queryLog?: { size: number; file?: string | undefined; followers?: number | undefined } | undefined;
  /** The admin listener, or none. */
  admin?: { listen: string; token?: string | null | undefined; readOnly?: boolean | undefined; allowedHosts?: readonly string[] | undefined } | null | undefined;
  logger?: Logger | undefined;
}

/** A zone brought back from the data dir at start (`up` and `dns start` say so). */
export interface RestoredZone {
  zone: string;
  serial: number;
  file: string;
}

/** A running DNS service: the server, its admin listener, what it restored. */
export interface DnsService extends AsyncDisposable {
  server: DnsServer;
  adminUrl: string | null;
  /** The zones it serves. */
  zones: string[];
  restored: RestoredZone[];
  close(): Promise<void>;
}

/**
 * One way to start kmslab's DNS server with its data dir, query log, faults
 * and admin listener (the CLI, `kmslab up` and tests call it). Everything a
 * user gave is checked first — zone names and files, the admin address and
 * names, the query log file, the data dir's lock — so a mistake is one line
 * and nothing listens; then zones saved by dynamic updates are restored, and
 * the server and its admin listener start. A failure after that stops what
 * started.
 */
export async function startDnsService(o: DnsServiceOptions): Promise<DnsService> {
  if (o.admin) {
    parseHostPort(o.admin.listen, { allowPortZero: true, what: 'The admin address' });
    allowedHosts(o.admin.allowedHosts);
  }
  const secondaries = [...(o.config?.replication.secondary ?? []), ...(o.secondary?.zones ?? [])].map(parseSecondary);
  const zones = assembleZones(o, secondaries.map((x) => x.zone));
  const ownership = ownershipOf(o, zones.set);
  const aging = agingOf(o, zones.set);
  const keys = [...(o.config?.keys ?? []), ...(o.keys ?? [])];
  const replication = replicationOf(o, keys);
  const secondaryKeyName = o.secondary?.key ?? o.config?.replication.secondaryKey;
  const secondaryKey = secondaryKeyName === undefined ? null : keys.find((k) => k.key.name === canonicalName(secondaryKeyName))?.key;
  if (secondaryKey === undefined) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--secondary-key ${secondaryKeyName}: no such TSIG key (give it with --tsig-key)`);
  let scavenging: NodeJS.Timeout | null = null;
  const queryLog = o.queryLog?.size === 0 ? null : new QueryLog({
    capacity: o.queryLog?.size ?? 10_000, file: o.queryLog?.file, followers: { max: o.queryLog?.followers },
    onFileProblem: (message) => o.logger?.warn({ event: 'query-log-file' }, message),
  });
  let journal: ZoneJournal | null = null;
  let server: DnsServer | null = null;
  let admin: DnsAdminServer | null = null;
  const close = async () => {
    if (scavenging) clearInterval(scavenging);
    await admin?.close();
    await server?.close();
    queryLog?.close();
    journal?.close(zones.set.list());
  };
  try {
    const dataDir = o.dataDir ?? o.config?.dataDir ?? null;
    journal = dataDir === null ? null : new ZoneJournal(dataDir, {
      onWarning: (message) => o.logger?.warn({ event: 'data-dir-lock' }, message),
      onRepaired: (message) => o.logger?.warn({ event: 'journal-repaired' }, message),
    });
    const restored = journal ? restoreZones(zones.set, zones.fromFile, journal, o.logger) : [];
    if (journal) {
      // Groups and grants added at run time come back; from here on each change is kept before it counts.
      const saved = journal.loadGrants();
      if (saved) ownership.update(saved);
      const jj = journal;
      ownership.persist = (state) => jj.saveGrants(state);
    }
    const j = journal;
    server = await DnsServer.start({
      zones: zones.set, keys, ...replication, listen: o.listen ?? o.config?.listen, port: o.port ?? o.config?.port ?? 53,
      logger: o.logger, queryLog, seed: o.seed, ownership, aging, now: o.now, ...(j && { saveZone: (zone: Zone, change?: ZoneChange) => j.save(zone, change) }),
    });
    if (aging.active && !o.aging?.manualPasses) {
      const s = server;
      // A pass when due on the server's clock; a pass that cannot save is logged (as an update's save is) and tried again.
      scavenging = setInterval(() => {
        try {
          s.scavengeIfDue();
        } catch {
          /* logged by the server */
        }
      }, Math.min(aging.periodMs, 60_000)).unref();
    }
    // The zones it follows: SERVFAIL until their first transfer, tried here (a primary that is not up yet is retried).
    for (const x of secondaries) await server.follow(x.zone, x.primary, secondaryKey, { clockTimers: o.secondary?.clockTimers }).start();
    for (const rule of [...(o.config?.faults ?? []), ...(o.faults ?? [])]) {
      const fault = server.faults.add(rule);
      o.logger?.info({ event: 'fault-added', id: fault.id, rule: fault.text }, `fault ${fault.id}: ${fault.text}`);
    }
    let adminUrl: string | null = null;
    if (o.admin) {
      admin = new DnsAdminServer(server, { token: o.admin.token, readOnly: o.admin.readOnly, allowedHosts: o.admin.allowedHosts });
      adminUrl = await admin.listen(o.admin.listen);
    }
    return { server, adminUrl, zones: zones.set.list().map((z) => z.origin), restored, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** NOTIFY targets and key, and the prefixes that may transfer without a key, from the config and the flags. */
function replicationOf(o: DnsServiceOptions, keys: readonly KeyPolicy[]): { notify?: { targets: DnsTarget[]; key: TsigKey | null }; allowTransfer?: FaultNet[] } {
  const targets = [...(o.config?.replication.notify ?? []), ...(o.replication?.notify ?? [])].map(parseNotifyTarget);
  const keyName = o.replication?.notifyKey ?? o.config?.replication.notifyKey;
  const key = keyName === undefined ? null : keys.find((k) => k.key.name === canonicalName(keyName))?.key;
  if (key === undefined) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--notify-key ${keyName}: no such TSIG key (give it with --tsig-key)`);
  const allowTransfer = [...(o.config?.replication.allowTransfer ?? []), ...(o.replication?.allowTransfer ?? [])].map(parseTransferPrefix);
  return { ...(targets.length && { notify: { targets, key } }), ...(allowTransfer.length && { allowTransfer }) };
}

/** Aging zones and the scavenging period from the config and the flags; an aging zone must be one served here. */
function agingOf(o: DnsServiceOptions, zones: ZoneSet): Aging {
  const rules: Record<string, AgingRule> = { ...o.config?.aging.rules };
  for (const text of o.aging?.zones ?? []) {
    const { zone, rule } = parseAging(text);
    rules[zone] = rule;
  }
  for (const z of Object.keys(rules)) {
    if (!zones.get(z)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--aging ${z}: this server does not serve that zone (give it with --zone or --zone-file)`);
  }
  const period = o.aging?.scavengePeriod !== undefined ? parseScavengePeriod(o.aging.scavengePeriod) : (o.config?.aging.periodMs ?? DEFAULT_SCAVENGE_PERIOD_MS);
  return new Aging(rules, period);
}

/** Secure zones, groups and grants from the config and the flags; a secure zone must be one served here. */
function ownershipOf(o: DnsServiceOptions, zones: ZoneSet): Ownership {
  const ownership = new Ownership(o.config?.ownership);
  const change: Required<OwnershipState> = { secureZones: [...(o.secure?.zones ?? [])], groups: {}, grants: {} };
  for (const text of o.secure?.groups ?? []) {
    const { group, keys } = parseGroup(text);
    change.groups[group] = [...(change.groups[group] ?? []), ...keys];
  }
  for (const text of o.secure?.grants ?? []) {
    const { name, group } = parseGrant(text);
    change.grants[name] = [...(change.grants[name] ?? []), group];
  }
  ownership.update(change);
  for (const z of ownership.state().secureZones) {
    if (!zones.get(z)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--secure-zone ${z}: this server does not serve that zone (give it with --zone or --zone-file)`);
  }
  return ownership;
}

/** The zones to serve: the config's, the zone files, then `--zone` names (default lab.test). */
function assembleZones(o: DnsServiceOptions, followed: readonly string[] = []): { set: ZoneSet; fromFile: Set<string> } {
  const set = new ZoneSet();
  const fromFile = new Set<string>(o.config?.fromFile);
  for (const zone of o.config?.zones ?? []) set.add(zone);
  for (const file of o.zoneFiles ?? []) {
    const { origin, records } = readZoneFile(file);
    const zone = Zone.of(origin, records);
    set.add(zone);
    fromFile.add(zone.origin);
  }
  const names = o.zones ?? (o.zoneFiles?.length || o.config?.zones.length || followed.length ? [] : ['lab.test']);
  for (const name of names) {
    const zone = defaultZone(name);
    const existing = set.get(zone.origin);
    // --zone NAME beside a file for NAME: the file serves it (the two flags name one zone).
    if (existing && fromFile.has(existing.origin)) continue;
    if (existing) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Zone ${name} is given twice: drop one --zone ${name} (or its entry in --config)`);
    set.add(zone);
  }
  for (const z of followed) {
    if (set.get(z)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Zone ${z} is both served here and followed with --secondary: drop one`);
  }
  return { set, fromFile };
}

/**
 * A zone changed by dynamic updates before the restart comes back as it was
 * left, unless its zone file was edited since (a higher serial, RFC 1982).
 */
function restoreZones(zones: ZoneSet, fromFile: Set<string>, journal: ZoneJournal, logger: Logger | undefined): RestoredZone[] {
  const restored: RestoredZone[] = [];
  for (const zone of zones.list()) {
    const copy = journal.load(zone.origin);
    if (!copy) continue;
    if (fromFile.has(zone.origin) && serialGreater(zone.serial, copy.serial)) {
      logger?.info({ event: 'zone-file-newer', zone: zone.origin, serial: zone.serial }, 'the zone file is newer than the saved zone; serving the file');
      journal.forget(zone.origin);
      continue;
    }
    zones.add(copy);
    const file = journal.path(zone.origin);
    restored.push({ zone: zone.origin, serial: copy.serial, file });
    logger?.info({ event: 'zone-restored', zone: zone.origin, serial: copy.serial, file }, `zone ${zone.origin} restored from ${file} (serial ${copy.serial})`);
  }
  return restored;
}
