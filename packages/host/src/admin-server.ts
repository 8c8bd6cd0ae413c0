import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { listenFailed, parseHostPort, type SettableClock } from '@kmslab/core';

export interface AdminHandlers {
  status(): Promise<unknown>;
  healthy(): Promise<boolean>;
  registry: Registry;
  /** Set when a lab runner drives the host's time (`host start --lab-clock`). */
  clockControl?: SettableClock;
}

/** The admin listener: `/status` (JSON), `/metrics` (Prometheus), `/healthz`. */
export class AdminServer {
  readonly #server: Server;
  readonly #h: AdminHandlers;

  constructor(handlers: AdminHandlers) {
    this.#h = handlers;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err) => send(res, 500, 'text/plain', `${(err as Error).message}\n`));
    });
  }

  async listen(hostPort: string): Promise<string> {
    const { host, port } = parseHostPort(hostPort, { allowPortZero: true, what: 'The admin address' });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', (err: NodeJS.ErrnoException) => reject(listenFailed('admin listener', host, port, err)));
      this.#server.listen({ host, port }, () => resolve());
    });
    const a = this.#server.address() as { address: string; port: number };
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/lab/clock' && this.#h.clockControl) return this.#setClock(req, res, this.#h.clockControl);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
    switch (path) {
      case '/status':
        return send(res, 200, 'application/json', `${JSON.stringify(await this.#h.status(), null, 2)}\n`);
      case '/metrics':
        return send(res, 200, this.#h.registry.contentType, await this.#h.registry.metrics());
      case '/healthz': {
        const ok = await this.#h.healthy();
        return send(res, ok ? 200 : 503, 'application/json', `${JSON.stringify({ ok })}\n`);
      }
      default:
        return send(res, 404, 'text/plain', 'Try /status, /metrics or /healthz\n');
    }
  }

  async #setClock(req: IncomingMessage, res: ServerResponse, clock: SettableClock): Promise<void> {
    if (req.method === 'PUT') {
      let body = '';
      for await (const chunk of req) if ((body += chunk).length > 1024) return send(res, 413, 'text/plain', 'too long\n');
      const now = (() => { try { return (JSON.parse(body) as { now?: unknown }).now; } catch { return undefined; } })();
      if (typeof now !== 'number' || !Number.isFinite(now)) return send(res, 400, 'text/plain', 'Send {"now": <ms since the epoch>}\n');
      clock.set(now);
    }
    return send(res, 200, 'application/json', `${JSON.stringify({ now: clock.now() })}\n`);
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
