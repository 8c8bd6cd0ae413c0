import { CLASS, TYPE, canonicalName, ipv6Bytes, isSubdomain, type RData, type ResourceRecord } from '@kmslab/dns-wire';
import { diffZones, withDiff, type ZoneContents, type ZoneDiff } from './zone-history.js';

type SoaData = Extract<RData, { type: 'SOA' }>;

/** The records of one name and type, with their TTL. */
export interface RRset {
  ttl: number;
  records: RData[];
}

/** What a zone holds for a name and type: an answer, NODATA or NXDOMAIN. */
export type Lookup =
  | { kind: 'answer'; answers: ResourceRecord[]; additionals: ResourceRecord[] }
  | { kind: 'nodata'; soa: ResourceRecord }
  | { kind: 'nxdomain'; soa: ResourceRecord; answers: ResourceRecord[] };

/** Longest CNAME chain followed inside one zone. */
const MAX_CHAIN = 8;

/**
 * One authoritative zone in memory: nodes by canonical name, RRsets by type.
 * Every change bumps the SOA serial (RFC 1982 arithmetic) and is reported to
 * `onChange`, so caches can drop what they pre-encoded and journals can write.
 */
export class Zone {
  readonly origin: string;
  #nodes = new Map<string, Map<number, RRset>>();
  /** How many names at or below each name exist: empty non-terminals answer NODATA, not NXDOMAIN (RFC 8020). */
  #below = new Map<string, number>();
  /** The key that created each name of a secure zone (AD's owner of a DNS node), kept while the name has records. */
  #owners = new Map<string, string>();
  /** When each dynamic record was last refreshed (ms), by name, then type and data (zone/aging.ts); static records have none. */
  #stamps = new Map<string, Map<string, number>>();
  /** The latest changes, for IXFR (zone-history.ts). */
  #history: ZoneDiff[] = [];
  #version = 0;
  /** Names whose RRsets and timestamps this zone may change in place; null: every name (no clone shares them). */
  #private: Set<string> | null = null;
  /** Name tables a clone shares with this zone until either writes to one, which copies it first. */
  #shared = { below: false, owners: false, stamps: false };

  constructor(origin: string) {
    this.origin = canonicalName(origin);
  }

  /** A zone holding `records` as they are — read from a file, transferred, or saved — with no serial step. */
  static of(origin: string, records: Iterable<ResourceRecord>): Zone {
    const zone = new Zone(origin);
    for (const rr of records) zone.add(rr, { bumpSerial: false });
    return zone;
  }

  /**
   * A copy to change while this one is served: an update is applied to a
   * copy, which replaces this zone only once it is saved. Record data is
   * never changed in place, so the copy shares it; the two also share each
   * name's RRsets and timestamps until one of them changes that name (copy
   * on write, `#own`), and the other name tables until one of them writes
   * to one: a copy costs the zone's table of names, not its records.
   */
  clone(): Zone {
    const copy = new Zone(this.origin);
    copy.#nodes = new Map(this.#nodes);
    copy.#below = this.#below;
    copy.#owners = this.#owners;
    copy.#stamps = this.#stamps;
    copy.#history = this.#history;
    copy.#version = this.#version;
    this.#private = new Set();
    copy.#private = new Set();
    this.#shared = { below: true, owners: true, stamps: true };
    copy.#shared = { below: true, owners: true, stamps: true };
    return copy;
  }

  #belowToWrite(): Map<string, number> {
    if (this.#shared.below) [this.#below, this.#shared.below] = [new Map(this.#below), false];
    return this.#below;
  }

  #ownersToWrite(): Map<string, string> {
    if (this.#shared.owners) [this.#owners, this.#shared.owners] = [new Map(this.#owners), false];
    return this.#owners;
  }

  #stampsToWrite(): Map<string, Map<string, number>> {
    if (this.#shared.stamps) [this.#stamps, this.#shared.stamps] = [new Map(this.#stamps), false];
    return this.#stamps;
  }

  /** `name`'s RRsets (and timestamps), this zone's own from now on, to change in place: a clone shares them until then. */
  #own(name: string): Map<number, RRset> | undefined {
    const node = this.#nodes.get(name);
    if (this.#private === null || this.#private.has(name)) return node;
    this.#private.add(name);
    const stamps = this.#stamps.get(name);
    if (stamps) this.#stampsToWrite().set(name, new Map(stamps));
    if (!node) return undefined;
    const mine = new Map<number, RRset>();
    for (const [type, set] of node) mine.set(type, { ttl: set.ttl, records: [...set.records] });
    this.#nodes.set(name, mine);
    return mine;
  }

  /**
   * Takes a changed copy's records as this zone's own, at once (the copy is
   * not to be used after): whoever holds this zone sees the change, and
   * caches see a new version.
   */
  takeOver(copy: Zone): void {
    if (copy.origin !== this.origin) throw new Error(`zone ${copy.origin} cannot replace ${this.origin}`);
    this.#nodes = copy.#nodes;
    this.#below = copy.#below;
    this.#owners = copy.#owners;
    this.#stamps = copy.#stamps;
    this.#history = copy.#history;
    this.#private = copy.#private;
    this.#shared = copy.#shared;
    this.#version = Math.max(this.#version, copy.#version) + 1;
  }

  /** Changes on every edit; caches compare it. */
  get version(): number {
    return this.#version;
  }

  get soa(): ResourceRecord {
    const set = this.#nodes.get(this.origin)?.get(TYPE.SOA);
    if (!set?.records[0]) throw new Error(`zone ${this.origin} has no SOA record`);
    return { name: this.origin, type: TYPE.SOA, class: CLASS.IN, ttl: set.ttl, data: set.records[0] };
  }

  get serial(): number {
    return (this.soa.data as SoaData).serial;
  }

  contains(name: string): boolean {
    return isSubdomain(canonicalName(name), this.origin);
  }

  rrset(name: string, type: number): RRset | undefined {
    return this.#nodes.get(canonicalName(name))?.get(type);
  }

  /** Does `name` itself hold records (not only names below it)? */
  hasRecords(name: string): boolean {
    return this.#nodes.has(canonicalName(name));
  }

  nameExists(name: string): boolean {
    return (this.#below.get(canonicalName(name)) ?? 0) > 0;
  }

  /** The key that owns `name` in a secure zone (update/ownership.ts), or null: nobody's (static, or not secure). */
  owner(name: string): string | null {
    return this.#owners.get(canonicalName(name)) ?? null;
  }

  /** Makes `key` the owner of `name` (null: nobody's); only a name with records keeps one. */
  setOwner(name: string, key: string | null): void {
    const n = canonicalName(name);
    if (key === null) this.#ownersToWrite().delete(n);
    else if (this.#nodes.has(n)) this.#ownersToWrite().set(n, key);
  }

  /** Every owned name and its owner, sorted by name. */
  owners(): Array<[name: string, key: string]> {
    return [...this.#owners].sort(([a], [b]) => a.localeCompare(b));
  }

  /** The changes IXFR can answer from, oldest first. */
  history(): readonly ZoneDiff[] {
    return this.#history;
  }

  /**
   * Keeps what changed from `before` (the zone being replaced) to this copy,
   * within the history's bounds; `names` (those an update or a pass touched)
   * keeps the comparison to them, not the whole zone.
   */
  recordChangeFrom(before: ZoneContents, names?: Iterable<string>): void {
    if (before.serial === this.serial) return;
    this.#history = withDiff(this.#history, diffZones(before, this, names));
  }

  /** Sets the history (from the zone journal at start). */
  restoreHistory(history: readonly ZoneDiff[]): void {
    this.#history = [...history];
  }

  /** When a dynamic record was last refreshed (ms since the epoch), or null for a static record (zone file, admin API). */
  stamp(name: string, type: number, data: RData): number | null {
    return this.#stamps.get(canonicalName(name))?.get(`${type}|${rdataKey(data)}`) ?? null;
  }

  /** Sets (or with null, clears) a record's timestamp; only a record the zone holds keeps one. */
  setStamp(name: string, type: number, data: RData, at: number | null): void {
    const n = canonicalName(name);
    const key = `${type}|${rdataKey(data)}`;
    const node = this.#own(n);
    if (at === null) {
      this.#stamps.get(n)?.delete(key);
      return;
    }
    if (!node?.get(type)?.records.some((d) => rdataKey(d) === rdataKey(data))) return;
    let m = this.#stamps.get(n);
    if (!m) this.#stampsToWrite().set(n, (m = new Map()));
    m.set(key, at);
  }

  /** Every dynamic record with its timestamp. */
  stamped(): Array<{ record: ResourceRecord; at: number }> {
    const out: Array<{ record: ResourceRecord; at: number }> = [];
    for (const [name, node] of this.#nodes) {
      const stamps = this.#stamps.get(name);
      if (!stamps) continue;
      for (const [type, set] of node) {
        for (const d of set.records) {
          const at = stamps.get(`${type}|${rdataKey(d)}`);
          if (at !== undefined) out.push({ record: toRecord(name, type, set, d), at });
        }
      }
    }
    return out;
  }

  /** Adds a record to its RRset (no duplicates; a new TTL applies to the whole set, RFC 2181 §5.2). Returns false if it was there. */
  add(rr: ResourceRecord, options: { bumpSerial?: boolean } = {}): boolean {
    if (!rr.data) throw new Error('a record to add needs data');
    const name = canonicalName(rr.name);
    if (!isSubdomain(name, this.origin)) throw new Error(`${rr.name} is not in zone ${this.origin}`);
    let node = this.#own(name);
    if (!node) {
      node = new Map();
      this.#nodes.set(name, node);
      this.#count(name, +1);
    }
    let set = node.get(rr.type);
    if (!set) node.set(rr.type, (set = { ttl: rr.ttl, records: [] }));
    set.ttl = rr.ttl;
    const key = rdataKey(rr.data);
    if (rr.type === TYPE.SOA || rr.type === TYPE.CNAME) set.records = [];
    else if (set.records.some((d) => rdataKey(d) === key)) return false;
    set.records.push(rr.data);
    this.#changed(options.bumpSerial ?? true);
    return true;
  }

  /** Deletes one record, a whole RRset (no data), or every RRset at a name (type ANY); SOA and apex NS are kept. */
  delete(name: string, type: number, data?: RData | null, options: { bumpSerial?: boolean } = {}): number {
    const n = canonicalName(name);
    if (!this.#nodes.has(n)) return 0;
    const node = this.#own(n)!;
    let removed = 0;
    const types = type === TYPE.ANY ? [...node.keys()] : [type];
    for (const t of types) {
      if (n === this.origin && (t === TYPE.SOA || t === TYPE.NS)) continue; // RFC 2136 §3.4.2.4
      const set = node.get(t);
      if (!set) continue;
      const before = set.records.length;
      const stamps = this.#stamps.get(n);
      if (data) {
        const key = rdataKey(data);
        set.records = set.records.filter((d) => rdataKey(d) !== key);
        stamps?.delete(`${t}|${key}`);
      } else {
        for (const d of set.records) stamps?.delete(`${t}|${rdataKey(d)}`);
        set.records = [];
      }
      removed += before - set.records.length;
      if (set.records.length === 0) node.delete(t);
    }
    if (node.size === 0) {
      this.#nodes.delete(n);
      if (this.#owners.has(n)) this.#ownersToWrite().delete(n);
      if (this.#stamps.has(n)) this.#stampsToWrite().delete(n);
      this.#count(n, -1);
    }
    if (removed > 0) this.#changed(options.bumpSerial ?? true);
    return removed;
  }

  /** The records at one name, but the SOA (what an update or a scavenging pass may have changed there). */
  recordsAt(name: string): ResourceRecord[] {
    const n = canonicalName(name);
    const out: ResourceRecord[] = [];
    for (const [type, set] of this.#nodes.get(n) ?? []) {
      if (type !== TYPE.SOA) for (const data of set.records) out.push({ name: n, type, class: CLASS.IN, ttl: set.ttl, data });
    }
    return out;
  }

  /** Every record, SOA first (the order of a zone transfer, RFC 5936). */
  records(): ResourceRecord[] {
    const out: ResourceRecord[] = [this.soa];
    for (const [name, node] of [...this.#nodes].sort(([a], [b]) => a.localeCompare(b))) {
      for (const [type, set] of node) {
        if (type === TYPE.SOA) continue;
        for (const data of set.records) out.push({ name, type, class: CLASS.IN, ttl: set.ttl, data });
      }
    }
    return out;
  }

  /** Answers a question for a name in this zone (RFC 1034 §4.3.2, without delegation or wildcards). */
  lookup(qname: string, qtype: number): Lookup {
    const answers: ResourceRecord[] = [];
    let name = canonicalName(qname);
    let spelled = qname.endsWith('.') ? qname.slice(0, -1) : qname;
    for (let hops = 0; hops <= MAX_CHAIN; hops++) {
      const node = this.#nodes.get(name);
      if (!node) {
        if (answers.length > 0 && !isSubdomain(name, this.origin)) break; // CNAME leaves the zone: the resolver goes on
        if (this.nameExists(name)) return answers.length ? { kind: 'answer', answers, additionals: [] } : { kind: 'nodata', soa: this.#negativeSoa() };
        return { kind: 'nxdomain', soa: this.#negativeSoa(), answers };
      }
      const cname = node.get(TYPE.CNAME);
      if (cname && qtype !== TYPE.CNAME && qtype !== TYPE.ANY) {
        answers.push(toRecord(spelled, TYPE.CNAME, cname, cname.records[0]!));
        const target = (cname.records[0] as { target: string }).target;
        name = canonicalName(target);
        spelled = target;
        continue;
      }
      const sets = qtype === TYPE.ANY ? [...node] : node.has(qtype) ? [[qtype, node.get(qtype)!] as const] : [];
      for (const [type, set] of sets) for (const d of set.records) answers.push(toRecord(spelled, type, set, d));
      if (answers.length === 0) return { kind: 'nodata', soa: this.#negativeSoa() };
      return { kind: 'answer', answers, additionals: this.#additionalsFor(answers) };
    }
    return { kind: 'answer', answers, additionals: [] };
  }

  /** A/AAAA of SRV and NS targets in this zone, so clients need no second query. */
  #additionalsFor(answers: ResourceRecord[]): ResourceRecord[] {
    const out: ResourceRecord[] = [];
    const seen = new Set<string>();
    for (const rr of answers) {
      const target = rr.data && (rr.data.type === 'SRV' || rr.data.type === 'NS') ? canonicalName(rr.data.target) : null;
      if (!target || seen.has(target)) continue;
      seen.add(target);
      const node = this.#nodes.get(target);
      for (const type of [TYPE.A, TYPE.AAAA]) {
        const set = node?.get(type);
        if (set) for (const d of set.records) out.push(toRecord(target, type, set, d));
      }
    }
    return out;
  }

  /** SOA for negative answers: TTL is the lesser of the SOA TTL and MINIMUM (RFC 2308 §3). */
  #negativeSoa(): ResourceRecord {
    const soa = this.soa;
    return { ...soa, ttl: Math.min(soa.ttl, (soa.data as SoaData).minimum) };
  }

  #count(name: string, delta: number): void {
    let n = name;
    for (;;) {
      const below = this.#belowToWrite();
      const v = (below.get(n) ?? 0) + delta;
      if (v === 0) below.delete(n);
      else below.set(n, v);
      if (n === this.origin || n === '') break;
      const dot = n.indexOf('.');
      n = dot < 0 ? '' : n.slice(dot + 1);
    }
  }

  /** One serial step for a whole dynamic update (RFC 2136 §3.6), however many records it changed. */
  bumpSerial(): void {
    this.#changed(true);
  }

  #changed(bumpSerial: boolean): void {
    this.#version++;
    if (!bumpSerial) return;
    const set = this.#own(this.origin)?.get(TYPE.SOA);
    const soa = set?.records[0] as SoaData | undefined;
    // RFC 1982 serial arithmetic: add 1 modulo 2^32, never 0 for readability.
    if (soa) set!.records[0] = { ...soa, serial: (soa.serial + 1) % 2 ** 32 || 1 };
  }
}

function toRecord(name: string, type: number, set: RRset, data: RData): ResourceRecord {
  return { name, type, class: CLASS.IN, ttl: set.ttl, data };
}

/** Identity of a record's data for duplicate checks (names compare case-insensitively). */
export function rdataKey(d: RData): string {
  switch (d.type) {
    case 'A':
      return `A ${d.address}`;
    case 'AAAA':
      return `AAAA ${ipv6Bytes(d.address).toString('hex')}`;
    case 'NS':
    case 'CNAME':
    case 'PTR':
      return `${d.type} ${canonicalName(d.target)}`;
    case 'SRV':
      return `SRV ${d.priority} ${d.weight} ${d.port} ${canonicalName(d.target)}`;
    case 'TXT':
      return `TXT ${JSON.stringify(d.texts)}`;
    case 'SOA':
      return 'SOA';
    default:
      return `${d.type} ${JSON.stringify(d)}`;
  }
}

