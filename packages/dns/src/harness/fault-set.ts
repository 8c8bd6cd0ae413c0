import { KmsLabError } from '@kmslab/core';
import { wireName } from '../wire-name.js';
import { addressBytes, maskBytes, ruleText, type FaultAction, type FaultRule } from './fault-rule.js';

/** What a query (or an update) looks like to the fault rules. */
export interface FaultQuery {
  name: string;
  type: number;
  /** The client's address as the socket reports it. */
  address: string;
  transport: 'udp' | 'tcp';
  /** An RFC 2136 update (only `update-*` actions apply to those, and only those to them). */
  update: boolean;
  /** A zone transfer asked of this server, or a NOTIFY it sends (only `transfer-*` and `notify-drop` apply, and only to those). */
  replication?: boolean;
  /** The name as the client spelled it (case kept, no trailing dot), asked only by a `case=exact` rule. */
  spelled?: () => string;
}

/** A fault rule switched on, with its id and how often it matched and fired. */
export interface ActiveFault {
  id: string;
  rule: FaultRule;
  /** The rule as `--fault` writes it. */
  text: string;
  /** Queries the rule matched so far, and how many of them it was applied to. */
  matched: number;
  applied: number;
}

/** A fault applied to one query: which rule, and what to do. */
export interface AppliedFault {
  id: string;
  action: FaultAction;
}

/** Rules switched on at once, at most (docs/dns-faults.md "Limits"). */
export const MAX_FAULTS = 10_000;

const UPDATE_ACTIONS = new Set(['update-refused', 'update-notauth']);
const REPLICATION_ACTIONS = new Set(['notify-drop', 'transfer-refused', 'transfer-delay']);
/** Which messages a rule's action applies to: queries, updates, or replication (transfers and NOTIFY). */
const kindOf = (action: string): 'q' | 'u' | 't' => (UPDATE_ACTIONS.has(action) ? 'u' : REPLICATION_ACTIONS.has(action) ? 't' : 'q');

/** Where a fault sits in the index: its order, and the rule. */
interface Indexed {
  /** Added order (ids are given in that order): the first that matches and fires wins. */
  order: number;
  fault: ActiveFault;
}

/**
 * The rules for one name (an exact name, or a `*.suffix`) and one kind
 * (queries or updates): those without `from`, and those with one, by their
 * network, so a query looks only at rules whose prefix holds its client.
 */
class Bucket {
  readonly any = new Map<number, Indexed>();
  /** `4/8/7f000000` → the rules with that network. */
  readonly byNet = new Map<string, Map<number, Indexed>>();
  /** Prefix lengths in use per address family, with how many rules use each. */
  readonly prefixes = { 4: new Map<number, number>(), 6: new Map<number, number>() };

  /** Empty when it holds no rule (each network set holds at least one). */
  get empty(): boolean {
    return this.any.size === 0 && this.byNet.size === 0;
  }

  add(i: Indexed): void {
    const net = i.fault.rule.fromNet;
    if (!net) return void this.any.set(i.order, i);
    const key = netKey(net.family, net.prefix, net.bytes);
    let set = this.byNet.get(key);
    if (!set) this.byNet.set(key, (set = new Map()));
    set.set(i.order, i);
    const lengths = this.prefixes[net.family];
    lengths.set(net.prefix, (lengths.get(net.prefix) ?? 0) + 1);
  }

  /** False when it was not here (it left the index earlier). */
  delete(i: Indexed): boolean {
    const net = i.fault.rule.fromNet;
    if (!net) return this.any.delete(i.order);
    const key = netKey(net.family, net.prefix, net.bytes);
    const set = this.byNet.get(key);
    if (!set?.delete(i.order)) return false;
    if (set.size === 0) this.byNet.delete(key);
    const lengths = this.prefixes[net.family];
    const left = (lengths.get(net.prefix) ?? 1) - 1;
    if (left === 0) lengths.delete(net.prefix);
    else lengths.set(net.prefix, left);
    return true;
  }

  /** The rules that may apply to a client (its address as bytes, parsed once per query; null when not an IP), into `out`. */
  collect(client: ClientAddress, out: Indexed[]): void {
    for (const i of this.any.values()) out.push(i);
    const address = this.byNet.size === 0 ? null : client();
    if (!address) return;
    const { family, bytes } = address;
    for (const prefix of this.prefixes[family].keys()) {
      const set = this.byNet.get(netKey(family, prefix, maskBytes(bytes, prefix)));
      if (set) for (const i of set.values()) out.push(i);
    }
  }
}

/** The client's address as bytes, parsed on first use: only a bucket with `from=` rules asks, once per query however many do. */
type ClientAddress = () => ReturnType<typeof addressBytes>;

const netKey = (family: number, prefix: number, bytes: Buffer) => `${family}/${prefix}/${bytes.toString('hex')}`;

/** A suffix count up to which the fast path's test scans them; beyond it, it walks the name's labels. */
const SCAN_SUFFIXES = 16;

/**
 * The faults switched on at run time, checked in the order they were added;
 * the first that matches and fires is applied. Rules are indexed by name
 * (exact, or `*.suffix`), kind and client network, so matching looks only at
 * rules that could apply, and adding or removing one costs O(1); a rule
 * that can fire no more (its count spent, its `until` past) leaves the index
 * the first time it is met. Randomness is passed in, so a seeded run fails
 * the same queries every time.
 */
export class FaultSet {
  readonly #faults = new Map<string, Indexed>();
  /** `exact:NAME` or `suffix:.SUFFIX`, then `q` or `u` (query or update): the rules for it. */
  readonly #buckets = new Map<string, Bucket>();
  /** Rules per exact name and per suffix, in wire form too, for the fast path's test without a dotted name. */
  readonly #exact = new Map<string, number>();
  readonly #exactWire = new Map<string, number>();
  readonly #suffixes = new Map<string, number>();
  readonly #suffixesWire = new Map<string, number>();
  readonly #random: () => number;
  readonly #now: () => number;
  #nextId = 1;

  constructor(options: { random: () => number; now: () => number }) {
    this.#random = options.random;
    this.#now = options.now;
  }

  get size(): number {
    return this.#faults.size;
  }

  add(rule: FaultRule): ActiveFault {
    if (this.#faults.size >= MAX_FAULTS) {
      throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `At most ${MAX_FAULTS} fault rules at once (docs/dns-faults.md "Limits"): remove some first (DELETE /faults/ID, or DELETE /faults for all)`);
    }
    const order = this.#nextId++;
    const fault: ActiveFault = { id: String(order), rule, text: ruleText(rule), matched: 0, applied: 0 };
    const i = { order, fault };
    this.#faults.set(fault.id, i);
    this.#index(i, +1);
    return fault;
  }

  remove(id: string): boolean {
    const i = this.#faults.get(id);
    if (!i) return false;
    this.#faults.delete(id);
    this.#index(i, -1);
    return true;
  }

  clear(): void {
    this.#faults.clear();
    this.#buckets.clear();
    for (const m of [this.#exact, this.#exactWire, this.#suffixes, this.#suffixesWire]) m.clear();
  }

  list(): ActiveFault[] {
    return [...this.#faults.values()].map((i) => i.fault);
  }

  /** Could a rule match this (canonical) name? Cheap, allocation-free while few suffixes are in use: the hot path asks before `match`. */
  mayMatch(name: string): boolean {
    return this.#exact.has(name) || hasSuffix(this.#suffixes, name, '.');
  }

  /** `mayMatch` for a name in wire form (lower case), without making it dotted. */
  mayMatchWire(wire: string): boolean {
    return this.#exactWire.has(wire) || hasSuffix(this.#suffixesWire, wire, null);
  }

  /** The fault to apply to this query, if any (and counts it). */
  match(q: FaultQuery): AppliedFault | null {
    if (this.#faults.size === 0) return null;
    const name = q.name.endsWith('.') ? q.name.slice(0, -1).toLowerCase() : q.name.toLowerCase();
    const kind = q.replication ? 't' : q.update ? 'u' : 'q';
    const candidates: Indexed[] = [];
    let parsed: ReturnType<typeof addressBytes> | undefined;
    const client: ClientAddress = () => (parsed === undefined ? (parsed = addressBytes(q.address)) : parsed);
    this.#buckets.get(`exact:${name}|${kind}`)?.collect(client, candidates);
    if (this.#suffixes.size > 0) {
      for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
        this.#buckets.get(`suffix:${name.slice(dot)}|${kind}`)?.collect(client, candidates);
      }
    }
    if (candidates.length === 0) return null;
    // Several buckets (a name and its suffixes): back in the order the rules were added.
    if (candidates.length > 1) candidates.sort((a, b) => a.order - b.order);
    let now: number | undefined;
    for (const i of candidates) {
      const f = i.fault;
      const r = f.rule;
      if ((r.until !== null && (now ??= this.#now()) > r.until) || (r.count !== null && f.applied >= r.count)) {
        // It can fire no more: it stays in the list (GET /faults) but leaves the index.
        this.#index(i, -1);
        continue;
      }
      if (r.type !== null && r.type !== q.type) continue;
      if (r.transport !== null && r.transport !== q.transport) continue;
      if (r.spelling !== null && !spelledAs(q, r)) continue;
      f.matched++;
      if (r.every !== null && f.matched % r.every !== 0) continue;
      if (r.probability !== null && !(this.#random() < r.probability)) continue;
      f.applied++;
      return { id: f.id, action: r.action };
    }
    return null;
  }

  /** Puts a rule into (+1) or takes it out of (-1) its bucket and the name counts. */
  #index(i: Indexed, delta: 1 | -1): void {
    const r = i.fault.rule;
    const wildcard = r.name.startsWith('*.');
    const name = wildcard ? r.name.slice(1) : r.name;
    const key = `${wildcard ? 'suffix' : 'exact'}:${name}|${kindOf(r.action.kind)}`;
    let bucket = this.#buckets.get(key);
    if (delta > 0) {
      if (!bucket) this.#buckets.set(key, (bucket = new Bucket()));
      bucket.add(i);
    } else {
      // Not there: it left the index earlier (spent or past its until).
      if (!bucket?.delete(i)) return;
      if (bucket.empty) this.#buckets.delete(key);
    }
    // The wire form of `.lab.test` is that of `lab.test`: a longer name in wire form ends with it.
    const [names, wires] = wildcard ? [this.#suffixes, this.#suffixesWire] : [this.#exact, this.#exactWire];
    count(names, name, delta);
    count(wires, wireName(wildcard ? name.slice(1) : name), delta);
  }
}

function count(m: Map<string, number>, key: string, delta: number): void {
  const n = (m.get(key) ?? 0) + delta;
  if (n <= 0) m.delete(key);
  else m.set(key, n);
}

/**
 * Does `name` end with one of `suffixes` (and is longer)? Few suffixes: a
 * scan with endsWith, no allocation. Many: each of the name's own suffixes
 * looked up, at its label boundaries (`sep` '.' for dotted names, the label
 * lengths for wire form).
 */
function hasSuffix(suffixes: Map<string, number>, name: string, sep: '.' | null): boolean {
  if (suffixes.size === 0) return false;
  if (suffixes.size <= SCAN_SUFFIXES) {
    for (const s of suffixes.keys()) if (name.length > s.length && name.endsWith(s)) return true;
    return false;
  }
  if (sep === '.') {
    for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) if (suffixes.has(name.slice(dot))) return true;
    return false;
  }
  for (let o = name.charCodeAt(0) + 1; o < name.length; o += name.charCodeAt(o) + 1) if (suffixes.has(name.slice(o))) return true;
  return false;
}

/** A `case=exact` rule's spelling against the query's: the whole name, or for `*.suffix` its end (the name itself is lower-cased for the index). */
function spelledAs(q: FaultQuery, r: FaultRule): boolean {
  const spelled = q.spelled?.() ?? q.name;
  return r.name.startsWith('*.') ? spelled.endsWith(r.spelling!) : spelled === r.spelling;
}
