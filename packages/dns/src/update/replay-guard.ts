/**
 * Refuses a signed request seen before. TSIG's time window (RFC 8945 §5.2.3:
 * "fudge", 300 s) lets a captured update be sent again byte for byte and be
 * applied twice; BIND relies on the window alone. kmslab keeps the MAC of
 * every accepted signed update until its window closes, so a repeat within
 * it is refused. Memory is bounded by what arrives in one window.
 */
export class ReplayGuard {
  /** MAC → second its window closes; a Map iterates in insertion order, oldest first. */
  readonly #seen = new Map<string, number>();
  readonly #max: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#max = options.maxEntries ?? 100_000;
  }

  /** True the first time a MAC is seen in its window (and remembers it); false for a replay. */
  admit(mac: Buffer, timeSigned: number, fudge: number, nowSec: number): boolean {
    this.#expire(nowSec);
    const id = mac.toString('base64');
    if (this.#seen.has(id)) return false;
    // Past the cap the oldest is forgotten: a replay of it then falls back to TSIG's own window.
    if (this.#seen.size >= this.#max) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(id, timeSigned + fudge);
    return true;
  }

  #expire(nowSec: number): void {
    for (const [id, until] of this.#seen) {
      // Entries arrive in near time order: stop at the first one still open.
      if (until >= nowSec) break;
      this.#seen.delete(id);
    }
  }
}
