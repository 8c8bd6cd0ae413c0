import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import { KmsLabError } from '@kmslab/core';
import { formatHostPort, parseHostPort } from '@kmslab/core';
import { listenFailed } from '@kmslab/core';
import { UNAUTHORIZED, admission, allowedHostName, changeRefusal, hostAllowed, misdirected } from './admin-access.js';
import { AdminSessions } from './admin-sessions.js';

export type { FastifyInstance as AdminApp, FastifyReply as AdminReply, FastifyRequest as AdminRequest } from 'fastify';

let ajv: AjvClass | null = null;

/**
 * A route's schema is compiled on its first request, by one Ajv made then:
 * fastify's default loads and builds Ajv (about 40 ms) as a listener starts,
 * which put it on every server's start path (`kmslab up` to its first SRV
 * answer, pnpm bench:cli). The options are the ones the listeners always had:
 * "5" is not a number, and unknown fields are not dropped silently.
 */
function compileOnFirstUse({ schema }: { schema: unknown }): ((data: unknown) => boolean) & { errors?: ValidateFunction['errors'] } {
  let check: ValidateFunction | undefined;
  const validate = (data: unknown): boolean => {
    if (!check) {
      const Ajv = (createRequire(import.meta.url)('ajv') as { default: typeof AjvClass }).default;
      ajv ??= new Ajv({ coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false });
      check = ajv.compile(schema as object);
    }
    const ok = check(data) as boolean;
    validate.errors = check.errors;
    return ok;
  };
  validate.errors = null as ValidateFunction['errors'];
  return validate;
}

type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
/** Fastify's hook for building route validators; its declared type is Ajv's own compiler's, which this stands in for. */
const buildValidator = (() => compileOnFirstUse) as unknown as ValidatorFactory;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The one line a request to this route gets when its body is not JSON, too large, or not what the route's schema says: what to send. */
    usage?: string;
  }
}

/** What makes one admin listener differ from another: its token, whether it refuses changes, its 404 line. */
export interface AdminAppOptions {
  /** When set, every route needs it (401 otherwise, and nothing is done). */
  token?: string | null | undefined;
  /** Refuse every request that is not GET or HEAD with 403. */
  readOnly?: boolean | undefined;
  /** The one line a GET for a path nobody serves gets: the paths to try. */
  notFound: string;
  /** Names besides IP addresses and `localhost` that requests may address the listener by (`--admin-allowed-host`). */
  allowedHosts?: readonly string[] | undefined;
  /** The clock browser sessions end by (default the real one). */
  now?: (() => number) | undefined;
  /** A request must arrive whole (headers and body) within this time (default 10 s). */
  requestTimeoutMs?: number | undefined;
}

/** A request must arrive whole (headers and body) within this time; a sender that stalls loses the connection. Bodies are at most 16 KiB. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Checks `--admin-allowed-host` names; a bad one is the caller's one-line error. */
export function allowedHosts(names: readonly string[] | undefined): string[] {
  return (names ?? []).map((name) => {
    const n = allowedHostName(name);
    if (n === null) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--admin-allowed-host "${name}" must be a DNS name such as kms1 or lab.example.com (IP addresses and localhost are always allowed)`);
    return n;
  });
}

/**
 * Every kmslab admin listener (host, DNS, dashboard) is one of these: a
 * fastify app whose hooks apply the Host, token and change rules before any
 * route runs, whose bodies are JSON of at most 16 KiB unless a route says less,
 * and whose every error is one line of text with its status. Routes are the
 * listener's own (docs/admin-api.md).
 */
export function createAdminApp(o: AdminAppOptions): FastifyInstance {
  const allowed = new Set(allowedHosts(o.allowedHosts));
  const sessions = new AdminSessions(o.now);
  const app = Fastify({
    logger: false,
    // A request must arrive whole in time, checked every second (Node checks every 30 s by default): a body that stalls does not hold its connection.
    serverFactory: (handler) => {
      const timeout = o.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
      return createServer({ requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: Math.min(1000, timeout) }, handler);
    },
    // Closing (Ctrl-C, a test's dispose) does not wait for keep-alive connections or open event streams.
    forceCloseConnections: true,
    return503OnClosing: false,
    bodyLimit: 16 * 1024,
    schemaController: { compilersFactory: { buildValidator } },
  });

  // Any content type (scripts send none, browsers text/plain): the body is JSON or nothing.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('The body is not JSON'), { statusCode: 400 }), undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    // First: a request addressed by a name the listener does not know (DNS rebinding) gets nothing, not even a 401.
    if (!hostAllowed(req.headers.host, allowed)) return sendLine(reply, 421, misdirected(req.headers.host));
    const url = new URL(req.url, 'http://admin');
    const a = admission({ method: req.method, url, port: req.socket.localPort ?? 0, authorization: req.headers.authorization, cookie: req.headers.cookie }, o.token ?? null, sessions);
    if (a.kind === 'redirect') return reply.code(303).headers({ location: a.location, 'set-cookie': a.cookie, 'cache-control': 'no-store' }).send();
    if (a.kind === 'out') return sendLine(reply.header('www-authenticate', 'Bearer realm="kmslab admin"'), 401, UNAUTHORIZED);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = changeRefusal(req.headers, o.readOnly === true, allowed);
      if (refused) return sendLine(reply, 403, refused);
    }
    return undefined;
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (reply.sent || reply.raw.headersSent) return reply.raw.destroy();
    const usage = req.routeOptions.config.usage;
    if (err instanceof KmsLabError) return sendLine(reply, err.httpStatus, err.message);
    const status = err.statusCode ?? 500;
    if (status === 413) return sendLine(reply, 413, `${usage ?? 'Too large'} (at most ${req.routeOptions.bodyLimit ?? 16 * 1024} bytes)`);
    if (status === 400 && usage) return sendLine(reply, 400, usage);
    return sendLine(reply, status, err.message);
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'GET' || req.method === 'HEAD') return sendLine(reply, 404, o.notFound);
    return sendLine(reply.header('allow', 'GET, HEAD'), 405, `${req.method} is not served here. ${o.notFound}`);
  });
  return app;
}

/** One line for the user, as every kmslab error is. */
export function sendLine(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(`${message.replace(/\s*\n\s*/g, ' ')}\n`);
}

/** Pretty-printed JSON, never cached. */
export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).type('application/json').header('cache-control', 'no-store').send(`${JSON.stringify(value, null, 2)}\n`);
}

/** A route that answers `405` for the methods a path does not take: `Allow` lists the ones it does (RFC 9110 §15.5.6), the line says where. */
export function methodNotAllowed(allow: readonly string[], line: string): (req: unknown, reply: FastifyReply) => FastifyReply {
  return (_req: unknown, reply: FastifyReply) => sendLine(reply.header('allow', allow.join(', ')), 405, line);
}

/**
 * Takes the response over for server-sent events: fastify hands the socket
 * to the caller, who writes `event:`/`data:` lines until the client goes. A
 * comment every 15 s keeps proxies from closing a quiet stream. A HEAD gets
 * the headers and the end (null: nothing to write).
 */
export function openEventStream(reply: FastifyReply, onClose: () => void): ServerResponse | null {
  const head = { 'content-type': 'text/event-stream', 'cache-control': 'no-store' };
  if (reply.request.method === 'HEAD') {
    reply.code(200).headers(head).send();
    return null;
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...head, connection: 'keep-alive' });
  const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000).unref();
  res.on('close', () => {
    clearInterval(beat);
    onClose();
  });
  return res;
}

/** Listens on `HOST:PORT` (port 0 picks one) and returns the listener's URL. */
export async function listenAdmin(app: FastifyInstance, hostPort: string, what: string): Promise<string> {
  const { host, port } = parseHostPort(hostPort, { allowPortZero: true, what: 'The admin address' });
  try {
    await app.listen({ host, port });
  } catch (err) {
    throw listenFailed(what, host, port, err as NodeJS.ErrnoException);
  }
  const a = app.server.address() as AddressInfo;
  return `http://${formatHostPort(a.address, a.port)}`;
}
