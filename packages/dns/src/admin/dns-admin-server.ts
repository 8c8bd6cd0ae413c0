import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { KMS_SRV_LABELS, KmsLabError, admitted, changeRefused, listenAdmin, readBody, send, sendError, sendJson } from '@kmslab/core';
import { TYPE, type RData } from '@kmslab/dns-wire';
import type { DnsServer } from '../dns-server.js';
import { actionText, parseFaultRule, toFaultRule, type FaultRuleInput } from '../harness/fault-rule.js';
import type { ActiveFault } from '../harness/fault-set.js';
import { withIsoTime, type QueryFilter, type QueryLogEntry } from '../harness/query-log.js';

/** A fault as the API and `kmslab dns fault list` show it. */
export interface FaultView {
  id: string;
  rule: string;
  name: string;
  type: number | null;
  action: string;
  probability: number | null;
  every: number | null;
  count: number | null;
  from: string | null;
  transport: 'udp' | 'tcp' | null;
  until: string | null;
  matched: number;
  applied: number;
}

/** A fault as the admin API shows it. */
export function faultView(f: ActiveFault): FaultView {
  const r = f.rule;
  return {
    id: f.id, rule: f.text, name: r.name, type: r.type, action: actionText(r.action), probability: r.probability, every: r.every, count: r.count,
    from: r.from, transport: r.transport, until: r.until === null ? null : new Date(r.until).toISOString(), matched: f.matched, applied: f.applied,
  };
}

/** A zone as `/zones` shows it: its serial and the KMS SRV records at `_vlmcs._tcp.<origin>`. */
export interface ZoneView {
  origin: string;
  serial: number;
  srv: { name: string; ttl: number; priority: number; weight: number; port: number; target: string }[];
}

function zoneViews(dns: DnsServer): ZoneView[] {
  return dns.zones.list().map((zone) => {
    const name = `${KMS_SRV_LABELS}.${zone.origin}`;
    const set = zone.rrset(name, TYPE.SRV);
    const srv = (set?.records ?? []).map((d) => {
      const r = d as Extract<RData, { type: 'SRV' }>;
      return { name, ttl: set!.ttl, priority: r.priority, weight: r.weight, port: r.port, target: r.target };
    });
    return { origin: zone.origin, serial: zone.serial, srv: srv.sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.target.localeCompare(b.target)) };
  });
}

/** `?name=&type=&since=&limit=`: since is ms or an ISO time. */
function filterOf(url: URL): QueryFilter {
  const p = url.searchParams;
  const since = p.get('since');
  const sinceMs = since === null ? undefined : /^\d+$/.test(since) ? Number(since) : Date.parse(since);
  if (sinceMs !== undefined && Number.isNaN(sinceMs)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `since "${since}" must be ms since the epoch or an ISO time`);
  const limit = p.get('limit');
  if (limit !== null && !/^\d{1,7}$/.test(limit)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `limit "${limit}" must be a whole number`);
  return { ...(p.get('name') && { name: p.get('name')! }), ...(p.get('type') && { type: p.get('type')! }), ...(sinceMs !== undefined && { since: sinceMs }), ...(limit !== null && { limit: Number(limit) }) };
}

function matches(e: QueryLogEntry, f: QueryFilter): boolean {
  const q = e.qname ?? '';
  if (f.name) {
    if (f.name.startsWith('*.') ? !q.endsWith(f.name.slice(1).toLowerCase()) : q !== f.name.toLowerCase().replace(/\.$/, '')) return false;
  }
  return !f.type || e.qtype === f.type.toUpperCase();
}

/**
 * The DNS server's admin listener (docs/dns-faults.md): `/queries` (JSON),
 * `/queries/stream` (server-sent events), `/faults` (GET, POST, DELETE), `/zones`,
 * `/metrics`, `/healthz`. Same rules as the host's: a token, when set, on every route.
 */
export class DnsAdminServer {
  readonly #server: Server;
  readonly #dns: DnsServer;
  readonly #token: string | null;
  readonly #readOnly: boolean;
  readonly #streams = new Set<ServerResponse>();

  constructor(dns: DnsServer, options: { token?: string | null | undefined; readOnly?: boolean | undefined } = {}) {
    this.#dns = dns;
    this.#token = options.token ?? null;
    this.#readOnly = options.readOnly === true;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err) => {
        const e = err instanceof KmsLabError ? err : null;
        if (!res.headersSent) sendError(res, e?.code === 'KMSLAB_INVALID_ARGUMENT' ? 400 : 500, (err as Error).message);
      });
    });
  }

  listen(hostPort: string): Promise<string> {
    return listenAdmin(this.#server, hostPort, 'DNS admin listener');
  }

  close(): Promise<void> {
    for (const s of this.#streams) s.end();
    this.#server.closeAllConnections();
    return new Promise((r) => this.#server.close(() => r()));
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (!admitted(req, res, url, this.#token)) return;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && changeRefused(req, res, this.#readOnly)) return;
    const faultId = /^\/faults\/([^/]+)$/.exec(url.pathname)?.[1];
    if (url.pathname === '/faults') {
      if (method === 'GET') return sendJson(res, 200, this.#dns.faults.list().map(faultView));
      if (method === 'POST') return this.#addFault(req, res);
      if (method === 'DELETE') {
        this.#dns.faults.clear();
        res.writeHead(204).end();
        return;
      }
      return sendError(res, 405, 'GET, POST or DELETE /faults');
    }
    if (faultId !== undefined) {
      if (method !== 'DELETE') return sendError(res, 405, 'DELETE /faults/ID');
      if (!this.#dns.faults.remove(decodeURIComponent(faultId))) return sendError(res, 404, `No fault ${faultId}; GET /faults lists them`);
      res.writeHead(204).end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'GET only');
    switch (url.pathname) {
      case '/queries': {
        const log = this.#dns.queryLog;
        if (!log) return sendError(res, 404, 'The query log is off');
        return sendJson(res, 200, log.find(filterOf(url)).map(withIsoTime));
      }
      case '/zones':
        return sendJson(res, 200, zoneViews(this.#dns));
      case '/queries/stream':
        return this.#stream(url, res);
      case '/metrics':
        return send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', this.#dns.stats.prometheus());
      case '/healthz':
        return sendJson(res, 200, { ok: true });
      default:
        return sendError(res, 404, 'Try /queries, /queries/stream, /faults, /zones, /metrics or /healthz');
    }
  }

  /** POST /faults: the rule's fields as JSON (`{"name", "type", "action", …}`), or `{"rule": "NAME[/TYPE]=ACTION,…"}`. */
  async #addFault(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, 16 * 1024);
    if (body === null) return sendError(res, 413, 'A fault rule is at most 16 KiB');
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return sendError(res, 400, 'Send the rule as JSON: {"name": "_vlmcs._tcp.lab.test", "type": "SRV", "action": "servfail"} or {"rule": "NAME[/TYPE]=ACTION"}');
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return sendError(res, 400, 'Send one rule as a JSON object');
    const text = (input as { rule?: unknown }).rule;
    const rule = typeof text === 'string' ? parseFaultRule(text, Date.now()) : toFaultRule(input as FaultRuleInput, Date.now());
    return sendJson(res, 201, faultView(this.#dns.faults.add(rule)));
  }

  /** Server-sent events: one `data:` line of JSON per query from now on (filtered like /queries), a comment every 15 s to keep proxies open. */
  #stream(url: URL, res: ServerResponse): void {
    const log = this.#dns.queryLog;
    if (!log) return sendError(res, 404, 'The query log is off');
    const filter = filterOf(url);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': kmslab DNS query stream\n\n');
    this.#streams.add(res);
    const off = log.subscribe((e) => {
      // A reader that does not keep up loses entries rather than growing our memory.
      if (matches(e, filter) && res.writableLength < 1024 * 1024) res.write(`data: ${JSON.stringify(withIsoTime(e))}\n\n`);
    });
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15_000).unref();
    res.on('close', () => {
      off();
      clearInterval(beat);
      this.#streams.delete(res);
    });
  }
}
