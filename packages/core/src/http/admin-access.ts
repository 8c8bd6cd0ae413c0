import { bearerMatches } from '../admin-token.js';

/**
 * The rules every kmslab admin listener applies before a route runs
 * (docs/admin-api.md "Tokens"), as decisions over a request's parts, so the
 * listener (admin-app.ts) only sends what they say.
 */

/** The cookie's name carries the listener's port: browsers keep cookies per host, not per port, and each listener has its own token. */
const cookieName = (port: number) => `kmslab_admin_${port}`;

/** The session cookie a browser gets for `?token=`: never readable by scripts, never sent from another site. */
export function sessionCookie(port: number, token: string): string {
  return `${cookieName(port)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

function cookieToken(header: string | undefined, port: number): string | undefined {
  const wanted = cookieName(port);
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === wanted) return decodeURIComponent(value.join('='));
  }
  return undefined;
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
 * script) or the session cookie (a browser); `?token=` on a page's URL sets
 * the cookie and sends the browser on without it, so the token is neither
 * left in the address bar nor in the page.
 */
export function admission(r: AdmissionRequest, token: string | null): Admission {
  if (!token) return { kind: 'in' };
  const fromUrl = r.url.searchParams.get('token');
  if (fromUrl !== null && r.method === 'GET' && bearerMatches(`Bearer ${fromUrl}`, token)) {
    const rest = new URL(r.url);
    rest.searchParams.delete('token');
    return { kind: 'redirect', location: `${rest.pathname}${rest.search}`, cookie: sessionCookie(r.port, token) };
  }
  if (bearerMatches(r.authorization, token)) return { kind: 'in' };
  const cookie = cookieToken(r.cookie, r.port);
  return cookie !== undefined && bearerMatches(`Bearer ${cookie}`, token) ? { kind: 'in' } : { kind: 'out' };
}

/**
 * A request that changes something must come from the page itself: a
 * browser names the page that sent it (`Origin`, `Sec-Fetch-Site`), and one
 * from another site is refused, so a page elsewhere cannot use the cookie or
 * a loopback listener without a token. Scripts send neither header.
 */
export function sameOrigin(headers: { origin?: string | undefined; host?: string | undefined; 'sec-fetch-site'?: string | string[] | undefined }): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  return origin === `http://${headers.host}`;
}

/** Why a change is refused (403), or null when it may proceed: from another site, or a read-only listener. */
export function changeRefusal(headers: Parameters<typeof sameOrigin>[0], readOnly: boolean): string | null {
  if (!sameOrigin(headers)) return 'A change must come from the page itself or a script (this request came from another site)';
  if (readOnly) return 'This admin listener is read-only (--admin-read-only)';
  return null;
}
