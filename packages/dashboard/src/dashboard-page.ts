import type { IncomingMessage, ServerResponse } from 'node:http';
import { changeRefused, readBody, send, sendError, sendJson } from '@kmslab/core';
import { authHeaders, LabSources, type AdminSource, type HostSource, type LabSource } from './lab-sources.js';
import { QueryRelay } from './query-relay.js';
import { pageDirectory, pageFile } from './static-files.js';

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

/** Nothing the page sends may be larger. */
const MAX_BODY = 16 * 1024;

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

  /** Answers a request for the page or its API; false when the path is none of them (the listener answers it). */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/api/dns/faults')) {
      await this.#change(req, res, url, method);
      return true;
    }
    if (url.pathname === '/api/lab/clock') {
      await this.#labClock(req, res, method);
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (url.pathname === '/api/state') sendJson(res, 200, this.#fullState());
    else if (url.pathname === '/api/events') this.#events(res);
    else if (url.pathname === '/' || url.pathname.startsWith('/assets/')) await this.#page(req, res, url.pathname);
    else return false;
    return true;
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

  #fullState(): unknown {
    return { ...this.#sources.state, history: this.#sources.history, queries: this.#relay?.recent ?? [], readOnly: this.#o.readOnly === true };
  }

  async #page(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!this.#pageDir) return sendError(res, 503, 'The page is not built: run pnpm build (it bundles packages/dashboard/src/page)');
    const file = await pageFile(this.#pageDir, path);
    if (!file) return sendError(res, 404, 'Try /, /api/state or /api/events');
    const gzip = file.gzipped !== null && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, {
      'content-type': file.type,
      vary: 'accept-encoding',
      ...(gzip && { 'content-encoding': 'gzip' }),
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-store',
      // Everything the page needs comes from here: no CDN, fonts or scripts from elsewhere.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
      'x-content-type-options': 'nosniff',
    });
    res.end(gzip ? file.gzipped : file.body);
  }

  #events(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    this.#event(res, 'state', this.#fullState());
    this.#pages.add(res);
    const off = this.#relay?.subscribe((batch) => this.#event(res, 'queries', batch));
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000).unref();
    res.on('close', () => {
      off?.();
      clearInterval(beat);
      this.#pages.delete(res);
    });
  }

  /**
   * `POST /api/lab/clock` with `{"action": "pause" | "resume"}`, `{"action": "speed", "speed": N}` or
   * `{"action": "jump", "days": N}`: answers with the lab as the page shows it.
   */
  async #labClock(req: IncomingMessage, res: ServerResponse, method: string): Promise<void> {
    const lab = this.#o.lab;
    if (!lab) return sendError(res, 404, 'This page has no lab clock (kmslab up has one)');
    if (method === 'GET') return sendJson(res, 200, this.#sources.labView());
    if (method !== 'POST') return sendError(res, 405, 'GET or POST /api/lab/clock');
    if (changeRefused(req, res, this.#o.readOnly === true)) return;
    const body = await readBody(req, 1024);
    const input = (() => { try { return JSON.parse(body ?? '') as { action?: unknown; speed?: unknown; days?: unknown }; } catch { return null; } })();
    const usage = 'Send {"action": "pause"}, {"action": "resume"}, {"action": "speed", "speed": 720} or {"action": "jump", "days": 7}';
    if (!input || typeof input !== 'object') return sendError(res, 400, usage);
    const number = (v: unknown, max: number) => (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max ? v : null);
    if (input.action === 'pause') lab.clock.pause();
    else if (input.action === 'resume') lab.clock.resume();
    else if (input.action === 'speed' && number(input.speed, 1_000_000) !== null) lab.clock.setSpeed(input.speed as number);
    else if (input.action === 'jump' && number(input.days, 3650) !== null) lab.clock.jump((input.days as number) * 86_400_000);
    else return sendError(res, 400, `${usage} (speed 0 < N ≤ 1,000,000; days 0 < N ≤ 3650)`);
    const view = this.#sources.labView();
    for (const p of this.#pages) this.#event(p, 'lab', view);
    return sendJson(res, 200, view);
  }

  /** Changes go to the DNS admin listener with its token; refused when read-only or sent from another site. */
  async #change(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const faultId = /^\/api\/dns\/faults\/([^/]+)$/.exec(url.pathname)?.[1];
    const path = url.pathname === '/api/dns/faults' && method === 'POST' ? '/faults' : faultId !== undefined && method === 'DELETE' ? `/faults/${faultId}` : null;
    if (path === null) return sendError(res, 405, 'POST /api/dns/faults or DELETE /api/dns/faults/ID');
    if (changeRefused(req, res, this.#o.readOnly === true)) return;
    const dns = this.#o.dns;
    if (!dns) return sendError(res, 404, 'This page has no DNS server (kmslab dashboard --dns-admin URL gives it one)');
    const body = method === 'POST' ? await readBody(req, MAX_BODY) : undefined;
    if (body === null) return sendError(res, 413, 'A fault rule is at most 16 KiB');
    const upstream = await fetch(`${dns.url}${path}`, {
      method,
      headers: { ...authHeaders(dns), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body,
      signal: AbortSignal.timeout(5000),
    }).catch((err: Error) => err);
    if (upstream instanceof Error) return sendError(res, 502, `The DNS admin listener ${dns.url} does not answer (${upstream.message})`);
    const text = await upstream.text();
    if (upstream.ok) void this.#sources.refresh().then(() => { for (const p of this.#pages) this.#event(p, 'state', this.#sources.changes); });
    return send(res, upstream.status, upstream.headers.get('content-type') ?? 'text/plain', text);
  }
}
