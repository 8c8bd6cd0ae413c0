import { canonicalName } from '@kmslab/dns-wire';
import type { Zone } from './zone.js';

/** The zones a server is authoritative for; a name belongs to the closest enclosing one. */
export class ZoneSet {
  readonly #zones = new Map<string, Zone>();
  #generation = 0;

  /** Changes when a zone is added or replaced; with each zone's own version it tells caches what is stale. */
  get generation(): number {
    return this.#generation;
  }

  add(zone: Zone): void {
    this.#zones.set(zone.origin, zone);
    this.#generation++;
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
