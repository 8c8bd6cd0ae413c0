import { createAdminApp, listenAdmin, sendJson, type AdminApp } from '@kmslab/server-kit';
import { DashboardPage, type DashboardPageOptions } from './dashboard-page.js';

/** The page's sources and rules, where it listens, and its token. */
export interface DashboardOptions extends DashboardPageOptions {
  /** Where the page is served, `HOST:PORT`; default `127.0.0.1:9690`. */
  listen?: string;
  /** The token the page and its API need (beyond loopback there must be one). */
  token?: string | null | undefined;
  /** Names besides IP addresses and `localhost` requests may address the page by. */
  allowedHosts?: readonly string[] | undefined;
}

/** `kmslab dashboard`: the page on a listener of its own, for hosts and a DNS server in other processes. */
export class DashboardServer {
  readonly #app: AdminApp;
  readonly #page: DashboardPage;
  #url = '';

  private constructor(o: DashboardOptions) {
    this.#page = new DashboardPage(o);
    this.#app = createAdminApp({ token: o.token, readOnly: o.readOnly, allowedHosts: o.allowedHosts, notFound: 'Try /, /api/state or /api/events' });
    this.#app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { ok: true }));
    this.#page.routes(this.#app);
  }

  static async start(options: DashboardOptions): Promise<DashboardServer> {
    const d = new DashboardServer(options);
    await d.#page.start();
    try {
      d.#url = await listenAdmin(d.#app, options.listen ?? '127.0.0.1:9690', 'dashboard listener');
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
    await this.#app.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
