import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { bearerMatches } from '../admin-token.js';
import { formatHostPort, parseHostPort } from '../host-port.js';
import { listenFailed } from '../listen-error.js';

/** The pieces every kmslab admin listener (host, DNS) shares: listening, the token check, bodies, answers. */

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** Answers with pretty-printed JSON and no caching. */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(value, null, 2)}\n`);
}

/** One line for the user, as every kmslab error is. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  send(res, status, 'text/plain', `${message.replace(/\s*\n\s*/g, ' ')}\n`);
}

/**
 * With a token, a request without `Authorization: Bearer TOKEN` gets 401 and
 * goes no further: true when it may proceed.
 */
export function authorized(req: IncomingMessage, res: ServerResponse, token: string | null | undefined): boolean {
  if (!token || bearerMatches(req.headers.authorization, token)) return true;
  res.setHeader('www-authenticate', 'Bearer realm="kmslab admin"');
  sendError(res, 401, 'Send Authorization: Bearer TOKEN (the token kmslab printed at start, or --admin-token / KMSLAB_ADMIN_TOKEN)');
  return false;
}

/** The request body as text, or null when it is longer than `limit` bytes (the caller answers 413). */
export async function readBody(req: IncomingMessage, limit: number): Promise<string | null> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > limit) return null;
  }
  return body;
}

/** Listens on `HOST:PORT` (port 0 picks one) and returns the listener's URL. */
export async function listenAdmin(server: Server, hostPort: string, what: string): Promise<string> {
  const { host, port } = parseHostPort(hostPort, { allowPortZero: true, what: 'The admin address' });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenFailed(what, host, port, err)));
    server.listen({ host, port }, () => resolve());
  });
  const a = server.address() as { address: string; port: number };
  return `http://${formatHostPort(a.address, a.port)}`;
}
