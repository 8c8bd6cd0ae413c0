import type { ServerResponse } from 'node:http';
import { methodNotAllowed, openEventStream, sendJson, sendLine, type AdminApp, type AdminReply, type AdminRequest } from '@kmslab/server-kit';
import type { LoggedQuery } from '@kmslab/core';
import { authHeaders, LabSources, type AdminSource, type CountPoint, type HostSource, type LabSource, type LabState } from './lab-sources.js';
import { QueryRelay } from './query-relay.js';
import { pageDirectory, pageFile } from './static-files.js';

/**
 * What `GET /api/state` sends: the latest reading, the counts over time, the
 * latest DNS queries; each `state` event after carries a reading's changes
 * and its chart `point` instead (docs/admin-api.md "Dashboard").
 */
export interface DashboardState extends LabState {
  history?: CountPoint[];
  point?: CountPoint;
  queries?: LoggedQuery[];
  readOnly?: boolean;
}

/** What the page shows and who may change things. */
export interface DashboardPageOptions {
  /** The hosts: admin listeners (their `/status`) or, in the same process, functions giving the same; a function for a list that changes. */
  hosts: readonly HostSource[] | (() => readonly HostSource[]);
  /** The DNS server's admin listener: its zones, query log and faults. */
  dns?: AdminSource | null | undefined;
  /** A lab in this process (`kmslab up`): its clock (pause, speed, jumps) and its simulated clients. */
  lab?: LabSource | null | undefined;
  /** Refuse every request that would change something (faults, the lab clock). */
  readOnly?: boolean | undefined;
  /** How often the sources are read and the pages told; default 1000 ms. */
  intervalMs?: number | undefined;
}

const CLOCK_USAGE = 'Send {"action": "pause"}, {"action": "resume"}, {"action": "speed", "speed": 720} or {"action": "jump", "days": 7} (speed 0 < N ≤ 1,000,000; days 0 < N ≤ 3650)';

/** What `POST /api/lab/clock` takes, checked before the route runs. */
const CLOCK_BODY = {
  type: 'object',
  required: ['action'],
  properties: {
    action: { enum: ['pause', 'resume', 'speed', 'jump'] },
    speed: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
    days: { type: 'number', exclusiveMinimum: 0, maximum: 3650 },
  },
  allOf: [
    { if: { properties: { action: { const: 'speed' } } }, then: { required: ['speed'] } },
    { if: { properties: { action: { const: 'jump' } } }, then: { required: ['days'] } },
  ],
} as const;

const FAULT_USAGE = 'Send one rule as a JSON object of at most 16 KiB: {"name": "_vlmcs._tcp.lab.test", "type": "SRV", "action": "servfail"}';

interface ClockChange {
  action: 'pause' | 'resume' | 'speed' | 'jump';
  speed?: number;
  days?: number;
}

/**
 * The page and its API, for any listener to serve (docs/admin-api.md
 * "Dashboard"): `/`, `GET /api/state`, `GET /api/events` (server-sent
 * events: `state` each reading, `queries` in batches), and the DNS faults
 * behind `POST /api/dns/faults` and `DELETE /api/dns/faults/ID`. The
 * listener checks the token first; this checks where changes come from.
 */
export class DashboardPage {
  readonly #o: DashboardPageOptions;
  readonly #sources: LabSources;
  readonly #relay: QueryRelay | null;
  readonly #pages = new Set<ServerResponse>();
  readonly #pageDir = pageDirectory();
  #timer: NodeJS.Timeout | null = null;

  constructor(o: DashboardPageOptions) {
    this.#o = o;
    this.#sources = new LabSources(o.hosts, o.dns ?? null, o.lab ?? null);
    this.#relay = o.dns ? new QueryRelay(o.dns) : null;
  }

  /** Reads the sources once and then once per interval, (never two readings at once, however slow they are). */
  async start(): Promise<void> {
    await this.#sources.refresh();
    this.#tick();
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#relay?.close();
    for (const p of this.#pages) p.end();
  }

  /** Adds the page and its API to a listener, behind the listener's token and change rules. */
  routes(app: AdminApp): void {
    DashboardPage.routes(app, () => this);
  }

  /**
   * The same routes for a page made after its listener (`kmslab up` makes it
   * once the lab runs, and the lab's first host serves it): 503 until then.
   */
  static routes(app: AdminApp, current: () => DashboardPage | null): void {
    type Handler<T> = (page: DashboardPage, req: AdminRequest & T, reply: AdminReply) => unknown;
    const on = <T = object>(handler: Handler<T>) => async (req: AdminRequest, reply: AdminReply) => {
      const page = current();
      return page ? handler(page, req as AdminRequest & T, reply) : sendLine(reply, 503, 'The lab is starting: try again in a moment');
    };
    app.get('/api/state', on((p, _req, reply) => sendJson(reply, 200, p.#fullState())));
    app.get('/api/events', on((p, _req, reply) => p.#events(reply)));
    app.get('/', on((p, req, reply) => p.#page(req, reply, '/')));
    app.get('/assets/*', on<{ params: { '*': string } }>((p, req, reply) => p.#page(req, reply, `/assets/${req.params['*']}`)));
    app.get('/api/lab/clock', on((p, _req, reply) => (p.#o.lab ? sendJson(reply, 200, p.#sources.labView()) : p.#noLab(reply))));
    app.post('/api/lab/clock', { bodyLimit: 1024, config: { usage: CLOCK_USAGE }, schema: { body: CLOCK_BODY } }, on<{ body: ClockChange }>((p, req, reply) => p.#labClock(req.body, reply)));
    app.route({ method: ['PUT', 'PATCH', 'DELETE'], url: '/api/lab/clock', handler: methodNotAllowed(['GET', 'HEAD', 'POST'], 'GET or POST /api/lab/clock') });
    app.post('/api/dns/faults', { config: { usage: FAULT_USAGE }, schema: { body: { type: 'object' } } }, on((p, req, reply) => p.#change(reply, 'POST', '/faults', req.body)));
    app.delete('/api/dns/faults/:id', on<{ params: { id: string } }>((p, req, reply) => p.#change(reply, 'DELETE', `/faults/${encodeURIComponent(req.params.id)}`, undefined)));
    const faultLine = 'POST /api/dns/faults or DELETE /api/dns/faults/ID';
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/api/dns/faults', handler: methodNotAllowed(['POST'], faultLine) });
    app.route({ method: ['GET', 'POST', 'PUT', 'PATCH'], url: '/api/dns/faults/:id', handler: methodNotAllowed(['DELETE'], faultLine) });
  }

  #tick(): void {
    this.#timer = setTimeout(async () => {
      await this.#sources.refresh();
      const point = this.#sources.history.at(-1);
      const changes = JSON.stringify({ ...this.#sources.changes, point });
      for (const p of this.#pages) this.#send(p, 'state', changes);
      if (this.#timer) this.#tick();
    }, this.#o.intervalMs ?? 1000).unref();
  }

  #event(res: ServerResponse, event: string, data: unknown): void {
    this.#send(res, event, JSON.stringify(data));
  }

  /** One event, its JSON made once for every page. A page that does not keep up misses readings rather than growing our memory. */
  #send(res: ServerResponse, event: string, json: string): void {
    if (res.writableLength < 1024 * 1024) res.write(`event: ${event}\ndata: ${json}\n\n`);
  }

  #fullState(): DashboardState {
    return { ...this.#sources.state, history: this.#sources.history, queries: this.#relay?.recent ?? [], readOnly: this.#o.readOnly === true };
  }

  /** The built page's files, each read and gzipped once (static-files.ts): the first load is what the page's size means. */
  async #page(req: AdminRequest, reply: AdminReply, path: string): Promise<AdminReply> {
    if (!this.#pageDir) return sendLine(reply, 503, 'The page is not built: run pnpm build (it bundles packages/dashboard/src/page)');
    const file = await pageFile(this.#pageDir, path);
    if (!file) return sendLine(reply, 404, 'Try /, /api/state or /api/events');
    const gzip = file.gzipped !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    return reply.code(200).headers({
      'content-type': file.type,
      vary: 'accept-encoding',
      ...(gzip && { 'content-encoding': 'gzip' }),
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-store',
      // Everything the page needs comes from here: no CDN, fonts or scripts from elsewhere.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
      'x-content-type-options': 'nosniff',
    }).send(gzip ? file.gzipped : file.body);
  }

  #events(reply: AdminReply): void {
    let off: (() => void) | undefined;
    const res = openEventStream(reply, () => {
      off?.();
      this.#pages.delete(res!);
    });
    if (!res) return;
    this.#event(res, 'state', this.#fullState());
    this.#pages.add(res);
    off = this.#relay?.subscribe((batch) => this.#event(res, 'queries', batch));
  }

  #noLab(reply: AdminReply): AdminReply {
    return sendLine(reply, 404, 'This page has no lab clock (kmslab up has one)');
  }

  /**
   * `POST /api/lab/clock` with `{"action": "pause" | "resume"}`, `{"action": "speed", "speed": N}` or
   * `{"action": "jump", "days": N}` (CLOCK_BODY): answers with the lab as the page shows it.
   */
  #labClock(change: ClockChange, reply: AdminReply): AdminReply {
    const lab = this.#o.lab;
    if (!lab) return this.#noLab(reply);
    if (change.action === 'pause') lab.clock.pause();
    else if (change.action === 'resume') lab.clock.resume();
    else if (change.action === 'speed') lab.clock.setSpeed(change.speed!);
    else lab.clock.jump(change.days! * 86_400_000);
    const view = this.#sources.labView();
    for (const p of this.#pages) this.#event(p, 'lab', view);
    return sendJson(reply, 200, view);
  }

  /** Changes go to the DNS admin listener with its token (the listener already refused them when read-only or sent from another site). */
  async #change(reply: AdminReply, method: 'POST' | 'DELETE', path: string, body: unknown): Promise<AdminReply> {
    const dns = this.#o.dns;
    if (!dns) return sendLine(reply, 404, 'This page has no DNS server (kmslab dashboard --dns-admin URL gives it one)');
    const upstream = await fetch(`${dns.url}${path}`, {
      method,
      headers: { ...authHeaders(dns), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    }).catch((err: Error) => err);
    if (upstream instanceof Error) return sendLine(reply, 502, `The DNS admin listener ${dns.url} does not answer (${upstream.message})`);
    const text = await upstream.text();
    if (upstream.ok) void this.#sources.refresh().then(() => { for (const p of this.#pages) this.#event(p, 'state', this.#sources.changes); });
    return reply.code(upstream.status).type(upstream.headers.get('content-type') ?? 'text/plain').header('cache-control', 'no-store').send(text);
  }
}
