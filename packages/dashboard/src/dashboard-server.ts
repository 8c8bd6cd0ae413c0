import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenAdmin, readBody, send, sendError, sendJson } from '@kmslab/core';
import { authHeaders, LabSources, type AdminSource } from './lab-sources.js';
import { admitted, sameOrigin } from './page-access.js';
import { QueryRelay } from './query-relay.js';
import { pageDirectory, pageFile } from './static-files.js';

/** What the dashboard reads, where it listens, and who may change things. */
export interface DashboardOptions {
  /** The hosts' admin listeners (their `/status`). */
  hosts: readonly AdminSource[];
  /** The DNS server's admin listener: its zones, query log and faults. */
  dns?: AdminSource | null | undefined;
  /** Where the page is served, `HOST:PORT`; default `127.0.0.1:9690`. */
  listen?: string;
  /** The token the page and its API need (beyond loopback there must be one). */
  token?: string | null | undefined;
  /** Refuse every request that would change something (faults). */
  readOnly?: boolean;
  /** How often the sources are read and the pages told; default 1000 ms. */
  intervalMs?: number;
}

/** Nothing the page sends may be larger. */
const MAX_BODY = 16 * 1024;

/**
 * The dashboard's listener (docs/admin-api.md "Dashboard"): the page at `/`,
 * `GET /api/state`, `GET /api/events` (server-sent events: `state` each
 * reading, `queries` in batches), and the DNS faults behind
 * `POST /api/dns/faults` and `DELETE /api/dns/faults/ID`.
 */
export class DashboardServer {
  readonly #server: Server;
  readonly #o: DashboardOptions;
  readonly #sources: LabSources;
  readonly #relay: QueryRelay | null;
  readonly #pages = new Set<ServerResponse>();
  readonly #pageDir = pageDirectory();
  #timer: NodeJS.Timeout | null = null;
  #url = '';

  private constructor(o: DashboardOptions) {
    this.#o = o;
    this.#sources = new LabSources(o.hosts, o.dns ?? null);
    this.#relay = o.dns ? new QueryRelay(o.dns) : null;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err) => {
        if (!res.headersSent) sendError(res, 500, (err as Error).message);
        else res.destroy();
      });
    });
  }

  static async start(options: DashboardOptions): Promise<DashboardServer> {
    const d = new DashboardServer(options);
    await d.#sources.refresh();
    d.#url = await listenAdmin(d.#server, options.listen ?? '127.0.0.1:9690', 'dashboard listener');
    d.#tick();
    return d;
  }

  get url(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#relay?.close();
    for (const p of this.#pages) p.end();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(() => r(undefined)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** One reading of the sources after another (never two at once, however slow they are), each pushed to every page. */
  #tick(): void {
    this.#timer = setTimeout(async () => {
      const state = await this.#sources.refresh();
      const point = this.#sources.history.at(-1);
      for (const p of this.#pages) this.#event(p, 'state', { ...state, point });
      if (this.#timer) this.#tick();
    }, this.#o.intervalMs ?? 1000).unref();
  }

  #event(res: ServerResponse, event: string, data: unknown): void {
    // A page that does not keep up misses readings rather than growing our memory.
    if (res.writableLength < 1024 * 1024) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  #fullState(): unknown {
    return { ...this.#sources.state, history: this.#sources.history, queries: this.#relay?.recent ?? [], readOnly: this.#o.readOnly === true };
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (!admitted(req, res, url, this.#o.token ?? null)) return;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return this.#change(req, res, url, method);
    switch (url.pathname) {
      case '/api/state':
        return sendJson(res, 200, this.#fullState());
      case '/api/events':
        return this.#events(res);
      case '/healthz':
        return sendJson(res, 200, { ok: true });
      default:
        return this.#page(req, res, url.pathname);
    }
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

  /** Changes go to the DNS admin listener with its token; refused when read-only or sent from another site. */
  async #change(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    if (!sameOrigin(req)) return sendError(res, 403, 'A change must come from the dashboard page itself (this request came from another site)');
    if (this.#o.readOnly) return sendError(res, 403, 'This dashboard is read-only (--admin-read-only)');
    const dns = this.#o.dns;
    const faultId = /^\/api\/dns\/faults\/([^/]+)$/.exec(url.pathname)?.[1];
    const path = url.pathname === '/api/dns/faults' && method === 'POST' ? '/faults' : faultId !== undefined && method === 'DELETE' ? `/faults/${faultId}` : null;
    if (path === null) return sendError(res, 405, 'POST /api/dns/faults or DELETE /api/dns/faults/ID');
    if (!dns) return sendError(res, 404, 'This dashboard has no DNS server (start it with --dns-admin URL)');
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
    if (upstream.ok) void this.#sources.refresh().then((state) => { for (const p of this.#pages) this.#event(p, 'state', state); });
    return send(res, upstream.status, upstream.headers.get('content-type') ?? 'text/plain', text);
  }
}
