import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { admitted, changeRefused, listenAdmin, readBody, send, sendError, sendJson, type SettableClock } from '@kmslab/core';
import type { AdminPage } from './host-options.js';

export interface AdminHandlers {
  status(): Promise<unknown>;
  /** `GET /clients` and `GET /requests`: what this replica saw lately. */
  clients?: (() => unknown) | undefined;
  requests?: (() => unknown) | undefined;
  healthy(): Promise<boolean>;
  registry: Registry;
  /** Set when a lab runner drives the host's time (`host start --lab-clock`). */
  clockControl?: SettableClock | undefined;
  /** When set, every request needs `Authorization: Bearer TOKEN` (401 otherwise, nothing changes). */
  token?: string | null | undefined;
  /** Wall-clock time, for the sanity bound on a lab clock (not the lab's own time). */
  realNow?: (() => number) | undefined;
  /** Refuse every change (`PUT /lab/clock`) with 403. */
  readOnly?: boolean | undefined;
  /** Routes after these (the dashboard page at `/`). */
  page?: AdminPage | null | undefined;
}

/** A lab clock may be set this far from the real time, no further. */
const MAX_CLOCK_OFFSET_MS = 100 * 365.25 * 24 * 3_600_000;

/**
 * The admin listener: `/status` (JSON), `/metrics` (Prometheus), `/healthz`,
 * `PUT /lab/clock` in lab runs, and the dashboard page when given one
 * (docs/admin-api.md). With a token every route needs it.
 */
export class AdminServer {
  readonly #server: Server;
  readonly #h: AdminHandlers;

  constructor(handlers: AdminHandlers) {
    this.#h = handlers;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err) => sendError(res, 500, (err as Error).message));
    });
  }

  listen(hostPort: string): Promise<string> {
    return listenAdmin(this.#server, hostPort, 'admin listener');
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    if (!admitted(req, res, url, this.#h.token ?? null)) return;
    if (path === '/lab/clock' && this.#h.clockControl) return this.#setClock(req, res, this.#h.clockControl);
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (get) {
      switch (path) {
        case '/status':
          return sendJson(res, 200, await this.#h.status());
        case '/clients':
          if (this.#h.clients) return sendJson(res, 200, this.#h.clients());
          break;
        case '/requests':
          if (this.#h.requests) return sendJson(res, 200, this.#h.requests());
          break;
        case '/metrics':
          return send(res, 200, this.#h.registry.contentType, await this.#h.registry.metrics());
        case '/healthz': {
          const ok = await this.#h.healthy();
          return send(res, ok ? 200 : 503, 'application/json', `${JSON.stringify({ ok })}\n`);
        }
      }
    }
    // Then the page's routes (it answers only its own paths), then what nobody serves.
    if (this.#h.page && (await this.#h.page.handle(req, res, url))) return;
    if (!get) return send(res, 405, 'text/plain', 'GET only\n');
    return send(res, 404, 'text/plain', 'Try /status, /clients, /requests, /metrics or /healthz\n');
  }

  async #setClock(req: IncomingMessage, res: ServerResponse, clock: SettableClock): Promise<void> {
    if (req.method === 'PUT') {
      if (changeRefused(req, res, this.#h.readOnly === true)) return;
      const body = await readBody(req, 1024);
      if (body === null) return sendError(res, 413, 'Send {"now": <ms since the epoch>}: at most 1 KiB');
      const now = (() => { try { return (JSON.parse(body) as { now?: unknown }).now; } catch { return undefined; } })();
      if (typeof now !== 'number' || !Number.isFinite(now)) return send(res, 400, 'text/plain', 'Send {"now": <ms since the epoch>}: a finite number\n');
      const real = (this.#h.realNow ?? Date.now)();
      if (Math.abs(now - real) > MAX_CLOCK_OFFSET_MS) return send(res, 400, 'text/plain', 'The lab clock must stay within 100 years of the real time\n');
      clock.set(now);
    }
    return send(res, 200, 'application/json', `${JSON.stringify({ now: clock.now() })}\n`);
  }
}
