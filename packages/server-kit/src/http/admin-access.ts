import { isIP } from 'node:net';
import { bearerMatches } from '../admin-token.js';
import { isHostName } from '@kmslab/core';
import { SESSION_MS, type AdminSessions } from './admin-sessions.js';

/**
 * The rules every kmslab admin listener applies before a route runs
 * (docs/admin-api.md "Who may ask"), as decisions over a request's parts, so
 * the listener (admin-app.ts) only sends what they say.
 */

/** The cookie's name carries the listener's port: browsers keep cookies per host, not per port, and each listener has its own sessions. */
const cookieName = (port: number) => `kmslab_admin_${port}`;

/** The session cookie a browser gets for `?token=`: never readable by scripts, never sent from another site, gone after 12 h. */
export function sessionCookie(port: number, session: string): string {
  return `${cookieName(port)}=${session}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}`;
}

/** The value of this listener's cookie, or undefined; a malformed header is simply no cookie. */
function cookieValue(header: string | undefined, port: number): string | undefined {
  const wanted = cookieName(port);
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === wanted) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** `host[:port]` of a `Host` header or an origin, lower case, without the port; null when it is not one. */
function hostName(authority: string): string | null {
  const a = authority.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(a) ?? /^([^:[\]/\s@]+)(?::(\d{1,5}))?$/.exec(a);
  return m ? m[1]! : null;
}

/**
 * Does a request's `Host` name this listener? An IP address, `localhost`, or
 * a name the listener was given (`--admin-allowed-host`). Anything else is a
 * name the request's sender chose: a page whose name was made to resolve to
 * 127.0.0.1 (DNS rebinding) reaches a loopback listener with its own name in
 * `Host`, and must get nothing. The port is not compared: Docker and NAT map
 * it on the way, and an IP address or localhost cannot be rebound.
 */
export function hostAllowed(host: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (host === undefined) return false;
  const name = hostName(host);
  if (name === null) return false;
  return isIP(name) !== 0 || name === 'localhost' || allowed.has(name);
}

/** Why a request is misdirected (421), the one line it gets. */
export function misdirected(host: string | undefined): string {
  const shown = (host ?? '').slice(0, 80).replace(/[^\x21-\x7e]/g, '?');
  return `This admin listener answers requests addressed to an IP address, localhost or a name given with --admin-allowed-host (Host was "${shown}")`;
}

/** What the token rules need to know of a request. */
export interface AdmissionRequest {
  method: string;
  url: URL;
  /** The listener's own port: it names the session cookie. */
  port: number;
  authorization?: string | undefined;
  cookie?: string | undefined;
}

/** In; or in once the browser has the cookie (`redirect`); or out (401, nothing more done). */
export type Admission = { kind: 'in' } | { kind: 'redirect'; location: string; cookie: string } | { kind: 'out' };

export const UNAUTHORIZED =
  'Send Authorization: Bearer TOKEN (the token kmslab printed at start, or --admin-token / KMSLAB_ADMIN_TOKEN); in a browser, open the page once with ?token=TOKEN';

/**
 * With a token, a request proceeds with `Authorization: Bearer TOKEN` (a
 * script) or a session cookie (a browser); `?token=` on a page's URL opens a
 * session and sends the browser on without it, so the token is neither left
 * in the address bar, nor in the page, nor in the cookie.
 */
export function admission(r: AdmissionRequest, token: string | null, sessions: AdminSessions): Admission {
  if (!token) return { kind: 'in' };
  const fromUrl = r.url.searchParams.get('token');
  if (fromUrl !== null && r.method === 'GET' && bearerMatches(`Bearer ${fromUrl}`, token)) {
    const rest = new URL(r.url);
    rest.searchParams.delete('token');
    // One leading slash: `//evil.example/x` would be a redirect to another site.
    return { kind: 'redirect', location: `/${rest.pathname.replace(/^\/+/, '')}${rest.search}`, cookie: sessionCookie(r.port, sessions.open()) };
  }
  if (bearerMatches(r.authorization, token)) return { kind: 'in' };
  const session = cookieValue(r.cookie, r.port);
  return session !== undefined && sessions.valid(session) ? { kind: 'in' } : { kind: 'out' };
}

/**
 * A request that changes something must come from the page itself: a
 * browser names the page that sent it (`Origin`, `Sec-Fetch-Site`), and the
 * origin must be this listener's own — the name the request was addressed to,
 * which `hostAllowed` already found to be one of the listener's. A page
 * elsewhere can use neither the cookie nor a loopback listener without a
 * token. Scripts send neither header.
 */
export function sameOrigin(headers: { origin?: string | undefined; host?: string | undefined; 'sec-fetch-site'?: string | string[] | undefined }, allowed: ReadonlySet<string>): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  const m = /^https?:\/\/([^/]+)$/i.exec(origin.trim());
  if (!m || !hostAllowed(m[1], allowed)) return false;
  return m[1]!.toLowerCase() === (headers.host ?? '').trim().toLowerCase();
}

/** Why a change is refused (403), or null when it may proceed: from another site, or a read-only listener. */
export function changeRefusal(headers: Parameters<typeof sameOrigin>[0], readOnly: boolean, allowed: ReadonlySet<string>): string | null {
  if (!sameOrigin(headers, allowed)) return 'A change must come from the page itself or a script (this request came from another site)';
  if (readOnly) return 'This admin listener is read-only (--admin-read-only)';
  return null;
}

/** `--admin-allowed-host NAME`: a DNS name, checked when given (one line otherwise). */
export function allowedHostName(name: string): string | null {
  const n = name.trim().toLowerCase().replace(/\.$/, '');
  return isHostName(n) ? n : null;
}
