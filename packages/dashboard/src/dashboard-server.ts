import { createServer, type Server } from 'node:http';
import { admitted, listenAdmin, sendError, sendJson } from '@kmslab/core';
import { DashboardPage, type DashboardPageOptions } from './dashboard-page.js';

/** The page's sources and rules, where it listens, and its token. */
export interface DashboardOptions extends DashboardPageOptions {
  /** Where the page is served, `HOST:PORT`; default `127.0.0.1:9690`. */
  listen?: string;
  /** The token the page and its API need (beyond loopback there must be one). */
  token?: string | null | undefined;
}

/** `kmslab dashboard`: the page on a listener of its own, for hosts and a DNS server in other processes. */
export class DashboardServer {
  readonly #server: Server;
  readonly #page: DashboardPage;
  #url = '';

  private constructor(o: DashboardOptions) {
    this.#page = new DashboardPage(o);
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://dashboard');
      if (!admitted(req, res, url, o.token ?? null)) return;
      if (url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
      this.#page
        .handle(req, res, url)
        .then((done) => done || sendError(res, 404, 'Try /, /api/state or /api/events'))
        .catch((err) => (res.headersSent ? res.destroy() : sendError(res, 500, (err as Error).message)));
    });
  }

  static async start(options: DashboardOptions): Promise<DashboardServer> {
    const d = new DashboardServer(options);
    await d.#page.start();
    try {
      d.#url = await listenAdmin(d.#server, options.listen ?? '127.0.0.1:9690', 'dashboard listener');
    } catch (err) {
      d.#page.close();
      throw err;
    }
    return d;
  }

  get url(): string {
    return this.#url;
  }

  async close(): Promise<void> {
    this.#page.close();
    this.#server.closeAllConnections();
    await new Promise((r) => this.#server.close(() => r(undefined)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
