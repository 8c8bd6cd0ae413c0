import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearerMatches } from '../admin-token.js';
import { sendError } from './admin-http.js';

/** The cookie's name carries the listener's port: browsers keep cookies per host, not per port, and each listener has its own token. */
const cookieName = (req: IncomingMessage) => `kmslab_admin_${req.socket.localPort ?? 0}`;

/** The session cookie a browser gets for `?token=`: never readable by scripts, never sent from another site. */
export function sessionCookie(req: IncomingMessage, token: string): string {
  return `${cookieName(req)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

function cookieToken(req: IncomingMessage): string | undefined {
  const wanted = cookieName(req);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === wanted) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

/**
 * With a token, a request proceeds with `Authorization: Bearer TOKEN` (a
 * script) or the session cookie (a browser); `?token=` on a page's URL sets
 * the cookie and sends the browser on without it, so the token is neither
 * left in the address bar nor in the page. Else 401, and nothing more is done.
 */
export function admitted(req: IncomingMessage, res: ServerResponse, url: URL, token: string | null): boolean {
  if (!token) return true;
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null && req.method === 'GET' && bearerMatches(`Bearer ${fromUrl}`, token)) {
    url.searchParams.delete('token');
    res.writeHead(303, { location: `${url.pathname}${url.search}`, 'set-cookie': sessionCookie(req, token), 'cache-control': 'no-store' });
    res.end();
    return false;
  }
  if (bearerMatches(req.headers.authorization, token)) return true;
  const cookie = cookieToken(req);
  if (cookie !== undefined && bearerMatches(`Bearer ${cookie}`, token)) return true;
  res.setHeader('www-authenticate', 'Bearer realm="kmslab admin"');
  sendError(res, 401, 'Send Authorization: Bearer TOKEN (the token kmslab printed at start, or --admin-token / KMSLAB_ADMIN_TOKEN); in a browser, open the page once with ?token=TOKEN');
  return false;
}

/**
 * A request that changes something must come from the page itself: a
 * browser names the page that sent it (`Origin`, `Sec-Fetch-Site`), and one
 * from another site is refused, so a page elsewhere cannot use the cookie or
 * a loopback listener without a token. Scripts send neither header.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `http://${req.headers.host}`;
}

/**
 * The rules for a request that changes something (a fault, the lab clock):
 * refused with 403 when it comes from another site or the listener is
 * read-only. True when it was refused (the answer is sent).
 */
export function changeRefused(req: IncomingMessage, res: ServerResponse, readOnly: boolean): boolean {
  if (!sameOrigin(req)) {
    sendError(res, 403, 'A change must come from the page itself or a script (this request came from another site)');
    return true;
  }
  if (readOnly) {
    sendError(res, 403, 'This admin listener is read-only (--admin-read-only)');
    return true;
  }
  return false;
}
