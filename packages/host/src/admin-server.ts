import type { Registry } from 'prom-client';
import type { EventLog, SettableClock } from '@kmslab/core';
import { createAdminApp, eventRoutes, listenAdmin, sendJson, sendLine, type AdminApp } from '@kmslab/server-kit';
import type { AdminPage } from './host-options.js';

export interface AdminHandlers {
  status(): Promise<unknown>;
  /** `GET /clients` and `GET /requests`: what this replica saw lately. */
  clients?: (() => unknown) | undefined;
  requests?: (() => unknown) | undefined;
  /** `GET /events`: the host's Windows-style events (12290, 12293, 12294). */
  events?: EventLog | undefined;
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
  /** Names besides IP addresses and `localhost` requests may address it by. */
  allowedHosts?: readonly string[] | undefined;
  /** More routes: the dashboard page at `/`. */
  page?: AdminPage | null | undefined;
}

/** A lab clock may be set this far from the real time, no further. */
const MAX_CLOCK_OFFSET_MS = 100 * 365.25 * 24 * 3_600_000;

const CLOCK_USAGE = 'Send {"now": <ms since the epoch>}, a finite number, in at most 1 KiB';

/**
 * The admin listener: `/status` (JSON), `/metrics` (Prometheus), `/healthz`,
 * `PUT /lab/clock` in lab runs, and the dashboard page when given one
 * (docs/admin-api.md). With a token every route needs it.
 */
export class AdminServer {
  readonly #app: AdminApp;

  constructor(h: AdminHandlers) {
    const app = createAdminApp({ token: h.token, readOnly: h.readOnly, allowedHosts: h.allowedHosts, notFound: 'Try /status, /clients, /requests, /events, /metrics or /healthz' });
    app.get('/status', async (_req, reply) => sendJson(reply, 200, await h.status()));
    if (h.clients) app.get('/clients', async (_req, reply) => sendJson(reply, 200, h.clients!()));
    if (h.requests) app.get('/requests', async (_req, reply) => sendJson(reply, 200, h.requests!()));
    if (h.events) eventRoutes(app, h.events);
    app.get('/metrics', async (_req, reply) => reply.type(h.registry.contentType).header('cache-control', 'no-store').send(await h.registry.metrics()));
    app.get('/healthz', async (_req, reply) => {
      const ok = await h.healthy();
      return sendJson(reply, ok ? 200 : 503, { ok });
    });
    if (h.clockControl) this.#clockRoutes(app, h.clockControl, h.realNow ?? Date.now);
    h.page?.routes(app);
    this.#app = app;
  }

  listen(hostPort: string): Promise<string> {
    return listenAdmin(this.#app, hostPort, 'admin listener');
  }

  close(): Promise<void> {
    return this.#app.close();
  }

  /** `GET /lab/clock` reads the host's lab time, `PUT` sets it. */
  #clockRoutes(app: AdminApp, clock: SettableClock, realNow: () => number): void {
    app.get('/lab/clock', async (_req, reply) => sendJson(reply, 200, { now: clock.now() }));
    app.put<{ Body: { now: number } }>(
      '/lab/clock',
      {
        bodyLimit: 1024,
        config: { usage: CLOCK_USAGE },
        schema: { body: { type: 'object', required: ['now'], properties: { now: { type: 'number' } } } },
      },
      async (req, reply) => {
        const { now } = req.body;
        if (!Number.isFinite(now)) return sendLine(reply, 400, CLOCK_USAGE);
        if (Math.abs(now - realNow()) > MAX_CLOCK_OFFSET_MS) return sendLine(reply, 400, 'The lab clock must stay within 100 years of the real time');
        clock.set(now);
        return sendJson(reply, 200, { now: clock.now() });
      },
    );
  }
}
