import { randomBytes } from 'node:crypto';

/** A browser session lasts this long; then the page asks for `?token=` again (docs/admin-api.md "Tokens"). */
export const SESSION_MS = 12 * 3_600_000;

/** Sessions one listener keeps at most: each needs the token to make, but a loop of `?token=` visits must not grow memory. */
const MAX_SESSIONS = 1000;

/**
 * The sessions a listener's cookie names. The cookie holds a random value of
 * the listener's own, never the token: browsers send a cookie for 127.0.0.1
 * to every port of 127.0.0.1 (RFC 6265 §8.5, cookies do not isolate ports),
 * so another local service sees it, and must learn nothing it could use
 * beyond this session's 12 hours.
 */
export class AdminSessions {
  /** Session value → when it ends (ms); a Map keeps insertion order, so the first is the oldest. */
  readonly #sessions = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new session; the value goes into the cookie. */
  open(): string {
    const id = randomBytes(32).toString('base64url');
    if (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    this.#sessions.set(id, this.#now() + SESSION_MS);
    return id;
  }

  /** Is this a session this listener opened and that has not ended? */
  valid(id: string): boolean {
    const ends = this.#sessions.get(id);
    if (ends === undefined) return false;
    if (this.#now() < ends) return true;
    this.#sessions.delete(id);
    return false;
  }
}
