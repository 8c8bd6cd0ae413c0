import { isIPv4 } from 'node:net';
import { ruleText, type FaultAction, type FaultRule } from './fault-rule.js';

/** What a query (or an update) looks like to the fault rules. */
export interface FaultQuery {
  name: string;
  type: number;
  /** The client's address as the socket reports it. */
  address: string;
  transport: 'udp' | 'tcp';
  /** An RFC 2136 update (only `update-*` actions apply to those, and only those to them). */
  update: boolean;
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

const UPDATE_ACTIONS = new Set(['update-refused', 'update-notauth']);

/**
 * The faults switched on at run time, checked in the order they were added;
 * the first that matches and fires is applied. Randomness is passed in, so a
 * seeded run fails the same queries every time.
 */
export class FaultSet {
  readonly #faults = new Map<string, ActiveFault>();
  /** Exact names and `*.suffix` tails of the rules, so most queries are let through without building anything. */
  #exact = new Set<string>();
  #suffixes: string[] = [];
  /** The same in wire form (`\x03lab\x04test\x00`), for the fast path that has the name only so. */
  #exactWire = new Set<string>();
  #suffixesWire: string[] = [];
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
    const fault: ActiveFault = { id: String(this.#nextId++), rule, text: ruleText(rule), matched: 0, applied: 0 };
    this.#faults.set(fault.id, fault);
    this.#reindex();
    return fault;
  }

  remove(id: string): boolean {
    const removed = this.#faults.delete(id);
    this.#reindex();
    return removed;
  }

  clear(): void {
    this.#faults.clear();
    this.#reindex();
  }

  /** Could a rule match this (canonical) name? Cheap, allocation-free: the hot path asks before `match`. */
  mayMatch(name: string): boolean {
    if (this.#exact.has(name)) return true;
    for (const s of this.#suffixes) if (name.endsWith(s)) return true;
    return false;
  }

  /** `mayMatch` for a name in wire form (lower case), without making it dotted. */
  mayMatchWire(wire: string): boolean {
    if (this.#exactWire.has(wire)) return true;
    for (const s of this.#suffixesWire) if (wire.length > s.length && wire.endsWith(s)) return true;
    return false;
  }

  #reindex(): void {
    const rules = [...this.#faults.values()].map((f) => f.rule.name);
    this.#exact = new Set(rules.filter((n) => !n.startsWith('*.')));
    this.#suffixes = [...new Set(rules.filter((n) => n.startsWith('*.')).map((n) => n.slice(1)))];
    this.#exactWire = new Set([...this.#exact].map(toWire));
    this.#suffixesWire = this.#suffixes.map((s) => toWire(s.slice(1)));
  }

  list(): ActiveFault[] {
    return [...this.#faults.values()];
  }

  /** The fault to apply to this query, if any (and counts it). */
  match(q: FaultQuery): AppliedFault | null {
    if (this.#faults.size === 0) return null;
    const name = q.name.endsWith('.') ? q.name.slice(0, -1).toLowerCase() : q.name.toLowerCase();
    let now: number | undefined;
    for (const f of this.#faults.values()) {
      const r = f.rule;
      // The name first: for most queries most rules fail there, and it is the cheapest test.
      if (!nameMatches(r.name, name)) continue;
      if (UPDATE_ACTIONS.has(r.action.kind) !== q.update) continue;
      if (r.until !== null && (now ??= this.#now()) > r.until) continue;
      if (r.count !== null && f.applied >= r.count) continue;
      if (r.type !== null && r.type !== q.type) continue;
      if (r.transport !== null && r.transport !== q.transport) continue;
      if (r.fromMatcher && !addressIn(r.fromMatcher, q.address)) continue;
      f.matched++;
      if (r.every !== null && f.matched % r.every !== 0) continue;
      if (r.probability !== null && !(this.#random() < r.probability)) continue;
      f.applied++;
      return { id: f.id, action: r.action };
    }
    return null;
  }
}

/** `lab.test` → `\x03lab\x04test\x00`, the labels as the wire has them. */
function toWire(name: string): string {
  return `${name === '' ? '' : name.split('.').map((l) => String.fromCharCode(l.length) + l).join('')}\x00`;
}

/** `name` is canonical (lower case, no trailing dot). */
function nameMatches(rule: string, name: string): boolean {
  return rule.charCodeAt(0) === 42 /* * */ && rule.charCodeAt(1) === 46 /* . */ ? name.endsWith(rule.slice(1)) : name === rule;
}

/** A client on an IPv4 address reaches a dual-stack socket as `::ffff:a.b.c.d`. */
function addressIn(list: import('node:net').BlockList, address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const v4 = mapped ?? (isIPv4(address) ? address : null);
  return v4 ? list.check(v4, 'ipv4') : list.check(address, 'ipv6');
}
