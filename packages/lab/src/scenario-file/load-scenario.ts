import { KmsLabError, parseDurationMs, readUserFile } from '@kmslab/core';
import { checkLabel, parseAging, parseFaultRule, parseScavengePeriod } from '@kmslab/dns';
import { canonicalName, isSubdomain } from '@kmslab/dns-wire';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';

/**
 * The YAML parser, loaded when a scenario file is first read: importing the
 * lab (`kmslab up`, the simulation, the CLI's lab commands) does not pay its
 * ~25 ms of loading (pnpm bench:cli, `kmslab up` to its first SRV answer).
 */
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml');

/** A scenario file (YAML), validated; times are virtual minutes from the start. */
export interface ScenarioFile {
  name: string;
  description: string;
  /**
   * The lab's DNS: a secure-only zone (hosts own what they publish), aging
   * (`NOREFRESH/REFRESH`, scavenging on, every `scavengePeriod`), secondaries
   * that refresh hourly; all three in process only (docs/lab.md).
   */
  dns: { zone: string; secure?: boolean; aging?: { intervals: string; scavengePeriod?: string }; secondaries?: number } | null;
  /** Where in-process hosts keep counts; Redis events need redis (`--live` always uses Redis). */
  store: 'memory' | 'redis';
  hosts: Array<{ name: string; keyGroup?: string; licensePacks?: string[]; priority: number; weight: number; makKeys: Array<{ key: string; activations: number }> }>;
  /** `server`: the DNS server the group asks, 0 the lab DNS (default), 1… its secondaries. */
  clients: Array<{ name: string; count: number; product: string; join: number; every: number; leave: number | null; discovery: 'dns' | 'manual'; server?: number }>;
  /** A `dns-grant`: `group` of `hosts` granted on the name `name` of the secure zone. */
  events: Array<{ at: number; do: EventKind; host?: string; clients?: string; key?: string; by?: number; rule?: string; end?: number; group?: string; hosts?: string[]; name?: string }>;
  expect: Array<{ at: number; host?: string; family: string; count?: number; clients?: string; licensed?: number }>;
}

/** docs/errors.md "File limits". */
export const SCENARIO_LIMITS = { fileBytes: 1024 * 1024, aliases: 100 } as const;

/** What a scenario file event does (`do:`): one of the kinds docs/lab.md lists. */
export type EventKind = 'host-down' | 'host-up' | 'set-mak' | 'srv-remove' | 'srv-restore' | 'redis-down' | 'redis-up' | 'clock-jump' | 'dns-fault' | 'dns-grant';
const EVENT_KINDS: readonly EventKind[] = ['host-down', 'host-up', 'set-mak', 'srv-remove', 'srv-restore', 'redis-down', 'redis-up', 'clock-jump', 'dns-fault', 'dns-grant'];

/** A duration in minutes: the forms of core's parseDurationMs ("2d3h"…), or a number of minutes; `signed` also takes "-5h" (clock jumps). */
export function parseDuration(value: unknown, signed = false): number | null {
  if (typeof value === 'number' && Number.isFinite(value) && (signed || value >= 0)) return value;
  const ms = typeof value === 'string' ? parseDurationMs(value, { signed }) : null;
  return ms === null ? null : ms / 60_000;
}

/** Reads and validates a scenario file; every error names the file and line. */
export function loadScenarioFile(path: string): ScenarioFile {
  return parseScenario(readUserFile(path, 'scenario', { maxBytes: SCENARIO_LIMITS.fileBytes }), path);
}

/** Reads a scenario (YAML text); every error names the source and line. */
export function parseScenario(text: string, source: string): ScenarioFile {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${source} line ${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`);
  }
  const fail = (path: Array<string | number>, what: string): never => {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${source} line ${lineOf(doc, lineCounter, path)}: ${path.join('.') || 'top level'}: ${what}`);
  };
  let root: Record<string, unknown> | null;
  try {
    root = doc.toJS({ maxAliasCount: SCENARIO_LIMITS.aliases }) as Record<string, unknown> | null;
  } catch (err) {
    // yaml refuses an alias bomb ("billion laughs") with a ReferenceError once expansion passes the limit.
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${source}: aliases expand past the limit of ${SCENARIO_LIMITS.aliases} (docs/errors.md "File limits")`, { cause: err });
  }
  if (!root || typeof root !== 'object' || Array.isArray(root)) fail([], 'must be a mapping');
  const r = root!;
  const str = (path: Array<string | number>, v: unknown, optional = false): string | undefined => {
    if (v === undefined && optional) return undefined;
    if (typeof v !== 'string' || v === '') fail(path, 'must be a non-empty string');
    return v as string;
  };
  const time = (path: Array<string | number>, v: unknown, fallback?: number): number => {
    if (v === undefined && fallback !== undefined) return fallback;
    const t = parseDuration(v);
    if (t === null) fail(path, `"${v}" is not a time like 90m, 2h, 3d, 1w or 2d3h`);
    return t!;
  };
  const int = (path: Array<string | number>, v: unknown, fallback: number, max = 1_000_000): number => {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) fail(path, `must be a whole number from 0 to ${max}`);
    return v as number;
  };
  const list = (key: string): Array<Record<string, unknown>> => {
    const v = r[key];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) fail([key], 'must be a list of mappings');
    return v as Array<Record<string, unknown>>;
  };

  const labDns = (v: unknown): NonNullable<ScenarioFile['dns']> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(['dns'], 'must be a mapping with zone');
    const d = v as Record<string, unknown>;
    const zone = str(['dns', 'zone'], d.zone)!;
    const out: NonNullable<ScenarioFile['dns']> = { zone };
    if (d.secure !== undefined) out.secure = typeof d.secure === 'boolean' ? d.secure : fail(['dns', 'secure'], 'must be true or false');
    if (d.aging !== undefined) {
      const intervals = str(['dns', 'aging'], d.aging)!;
      try {
        parseAging(`${zone}=${intervals}`);
      } catch {
        fail(['dns', 'aging'], `"${intervals.slice(0, 40)}" is not NOREFRESH/REFRESH such as 7d/7d`);
      }
      out.aging = { intervals };
    }
    if (d.scavengePeriod !== undefined) {
      if (!out.aging) fail(['dns', 'scavengePeriod'], 'needs aging (scavenging runs in an aging zone)');
      const period = str(['dns', 'scavengePeriod'], d.scavengePeriod)!;
      try {
        parseScavengePeriod(period);
      } catch {
        fail(['dns', 'scavengePeriod'], `"${period.slice(0, 40)}" is not a duration from 1m to 3650d such as 7d`);
      }
      out.aging!.scavengePeriod = period;
    }
    if (d.secondaries !== undefined) out.secondaries = int(['dns', 'secondaries'], d.secondaries, 0, 8);
    return out;
  };

  const name = str(['name'], r.name)!;
  const description = str(['description'], r.description, true) ?? '';
  const dns = r.dns === undefined ? null : labDns(r.dns);
  const out: ScenarioFile = {
    name,
    description,
    dns,
    store: r.store === undefined || r.store === 'memory' ? 'memory' : r.store === 'redis' ? 'redis' : fail(['store'], 'must be memory or redis'),
    hosts: list('hosts').map((h, i) => ({
      name: str(['hosts', i, 'name'], h.name)!,
      ...(h.keyGroup !== undefined && { keyGroup: str(['hosts', i, 'keyGroup'], h.keyGroup)! }),
      ...(h.licensePacks !== undefined && { licensePacks: (Array.isArray(h.licensePacks) ? h.licensePacks : fail(['hosts', i, 'licensePacks'], 'must be a list')).map((p: unknown, j: number) => str(['hosts', i, 'licensePacks', j], p)!) }),
      priority: int(['hosts', i, 'priority'], h.priority, 0, 65535),
      weight: int(['hosts', i, 'weight'], h.weight, 0, 65535),
      makKeys: (h.makKeys === undefined ? [] : Array.isArray(h.makKeys) ? h.makKeys : fail(['hosts', i, 'makKeys'], 'must be a list')).map((k: Record<string, unknown>, j: number) => ({
        key: str(['hosts', i, 'makKeys', j, 'key'], k?.key)!,
        activations: int(['hosts', i, 'makKeys', j, 'activations'], k?.activations, 1),
      })),
    })),
    clients: list('clients').map((c, i) => {
      const discovery = c.discovery ?? (r.dns ? 'dns' : 'manual');
      if (discovery !== 'dns' && discovery !== 'manual') fail(['clients', i, 'discovery'], 'must be dns or manual');
      if (discovery === 'dns' && !r.dns) fail(['clients', i, 'discovery'], 'dns discovery needs a dns: section');
      const secondaries = dns?.secondaries ?? 0;
      const server = c.server === undefined ? undefined : int(['clients', i, 'server'], c.server, 0, 8);
      if (server && (discovery !== 'dns' || server > secondaries)) fail(['clients', i, 'server'], `must be 0 (the lab DNS) or a secondary from 1 to dns.secondaries (${secondaries}), with dns discovery`);
      return {
        name: str(['clients', i, 'name'], c.name)!, count: int(['clients', i, 'count'], c.count, 1, 100_000), product: str(['clients', i, 'product'], c.product)!,
        join: time(['clients', i, 'join'], c.join, 0), every: time(['clients', i, 'every'], c.every, 1), leave: c.leave === undefined ? null : time(['clients', i, 'leave'], c.leave),
        discovery: discovery as 'dns' | 'manual', ...(server && { server }),
      };
    }),
    events: list('events').map((e, i) => {
      if (!EVENT_KINDS.includes(e.do as EventKind)) fail(['events', i, 'do'], `must be one of ${EVENT_KINDS.join(', ')}`);
      if ((e.do === 'srv-remove' || e.do === 'srv-restore' || e.do === 'dns-fault') && !r.dns) fail(['events', i, 'do'], `${e.do} needs a dns: section`);
      let fault: { rule: string; end?: number } | undefined;
      if (e.do === 'dns-fault') {
        const rule = str(['events', i, 'rule'], e.rule)!;
        try {
          parseFaultRule(rule, 0);
        } catch (err) {
          fail(['events', i, 'rule'], (err as Error).message);
        }
        const start = time(['events', i, 'at'], e.at);
        if (e.end !== undefined && e.for !== undefined) fail(['events', i], 'give end (a time) or for (a duration), not both');
        const end = e.end !== undefined ? time(['events', i, 'end'], e.end) : e.for !== undefined ? start + time(['events', i, 'for'], e.for, 1) : undefined;
        if (end !== undefined && end <= start) fail(['events', i, 'end'], 'must come after at');
        fault = { rule, ...(end !== undefined && { end }) };
      }
      if ((e.do === 'redis-down' || e.do === 'redis-up') && r.store !== 'redis') fail(['events', i, 'do'], `${e.do} needs store: redis`);
      let grant: { group: string; hosts: string[]; name: string } | undefined;
      if (e.do === 'dns-grant') {
        if (dns?.secure !== true) fail(['events', i, 'do'], 'dns-grant needs a secure zone (dns: { secure: true })');
        const group = str(['events', i, 'group'], e.group)!;
        try {
          checkLabel(group, 'group');
        } catch (err) {
          fail(['events', i, 'group'], (err as Error).message);
        }
        const hosts = (Array.isArray(e.hosts) && e.hosts.length > 0 ? e.hosts : fail(['events', i, 'hosts'], 'must be a list of host names')).map((h: unknown, j: number) => str(['events', i, 'hosts', j], h)!);
        const granted = str(['events', i, 'name'], e.name)!;
        if (!isSubdomain(canonicalName(granted), canonicalName(dns!.zone))) fail(['events', i, 'name'], `${granted} is not in the zone ${dns!.zone}`);
        grant = { group, hosts, name: granted };
      }
      let by: number | undefined;
      if (e.do === 'clock-jump') {
        by = parseDuration(e.by, true) ?? fail(['events', i, 'by'], `"${e.by}" is not a jump like 5h, -5h or 2d`);
        if ((e.host === undefined) === (e.clients === undefined)) fail(['events', i], 'clock-jump needs host (a host name) or clients (a client group), one of them');
      }
      return { at: time(['events', i, 'at'], e.at), do: e.do as EventKind, host: str(['events', i, 'host'], e.host, true), clients: str(['events', i, 'clients'], e.clients, true), key: str(['events', i, 'key'], e.key, true), ...(by !== undefined && { by }), ...fault, ...grant };
    }),
    expect: list('expect').map((x, i) => ({
      at: time(['expect', i, 'at'], x.at), host: str(['expect', i, 'host'], x.host, true), family: str(['expect', i, 'family'], x.family, true) ?? 'windows',
      ...(x.count !== undefined && { count: int(['expect', i, 'count'], x.count, 0, 50) }),
      clients: str(['expect', i, 'clients'], x.clients, true),
      ...(x.licensed !== undefined && { licensed: int(['expect', i, 'licensed'], x.licensed, 0) }),
    })),
  };
  if (out.hosts.length === 0) fail(['hosts'], 'a scenario needs at least one host');
  const names = new Set(out.hosts.map((h) => h.name));
  const groups = new Set(out.clients.map((c) => c.name));
  out.events.forEach((e, i) => {
    if ((e.do === 'host-down' || e.do === 'host-up' || (e.do === 'clock-jump' && e.host)) && (!e.host || !names.has(e.host))) fail(['events', i, 'host'], `must name a host (${[...names].join(', ')})`);
    if ((e.do === 'set-mak' || e.do === 'clock-jump') && e.clients && !groups.has(e.clients)) fail(['events', i, 'clients'], `must name a client group (${[...groups].join(', ')})`);
    if (e.do === 'set-mak' && (!e.clients || !e.key)) fail(['events', i], 'set-mak needs clients (a client group name) and key');
    e.hosts?.forEach((h, j) => names.has(h) || fail(['events', i, 'hosts', j], `must name a host (${[...names].join(', ')})`));
  });
  out.expect.forEach((x, i) => {
    if (x.count === undefined && x.licensed === undefined) fail(['expect', i], 'needs count (on a host) or licensed (of a client group)');
    if (x.host && !names.has(x.host)) fail(['expect', i, 'host'], `no host ${x.host}`);
  });
  return out;
}

function lineOf(doc: Document, lc: LineCounter, path: Array<string | number>): number | string {
  for (let p = path; p.length >= 0; p = p.slice(0, -1)) {
    const node = p.length ? doc.getIn(p, true) : doc.contents;
    if (yaml().isNode(node) && node.range) return lc.linePos(node.range[0]).line;
    if (p.length === 0) break;
  }
  return '?';
}
