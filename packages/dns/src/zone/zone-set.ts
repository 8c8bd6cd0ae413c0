import { canonicalName } from '@kmslab/dns-wire';
import type { Zone } from './zone.js';

/** The zones a server is authoritative for; a name belongs to the closest enclosing one. */
export class ZoneSet {
  readonly #zones = new Map<string, Zone>();
  /** Zones this server should serve but cannot yet or any more (a secondary not loaded, or expired): SERVFAIL, RFC 1035 §3.3.13. */
  readonly #unavailable = new Set<string>();
  #generation = 0;

  /** Changes when a zone is added or replaced; with each zone's own version it tells caches what is stale. */
  get generation(): number {
    return this.#generation;
  }

  add(zone: Zone): void {
    this.#zones.set(zone.origin, zone);
    this.#unavailable.delete(zone.origin);
    this.#generation++;
  }

  /** The zone is not served until it is added again: queries in it are SERVFAIL (a secondary before its first transfer, or past its SOA expire). */
  markUnavailable(origin: string): void {
    const o = canonicalName(origin);
    this.#zones.delete(o);
    this.#unavailable.add(o);
    this.#generation++;
  }

  /** Is `name` inside a zone this server should serve but cannot (and no served zone is closer)? */
  unavailableFor(name: string): boolean {
    if (this.#unavailable.size === 0) return false;
    let n = canonicalName(name);
    for (;;) {
      if (this.#zones.has(n)) return false;
      if (this.#unavailable.has(n)) return true;
      if (n === '') return false;
      const dot = n.indexOf('.');
      n = dot < 0 ? '' : n.slice(dot + 1);
    }
  }

  get(origin: string): Zone | undefined {
    return this.#zones.get(canonicalName(origin));
  }

  list(): Zone[] {
    return [...this.#zones.values()];
  }

  /** Closest enclosing zone of `name`, or undefined (the server then refuses). */
  find(name: string): Zone | undefined {
    let n = canonicalName(name);
    for (;;) {
      const z = this.#zones.get(n);
      if (z) return z;
      if (n === '') return undefined;
      const dot = n.indexOf('.');
      n = dot < 0 ? '' : n.slice(dot + 1);
    }
  }
}
