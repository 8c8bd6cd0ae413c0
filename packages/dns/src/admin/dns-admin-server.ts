import { KMS_SRV_LABELS, KmsLabError, formatHostPort, type FaultView, type ZoneView } from '@kmslab/core';
import { createAdminApp, listenAdmin, methodNotAllowed, openEventStream, sendJson, sendLine, type AdminApp, type AdminReply } from '@kmslab/server-kit';
import { TYPE, query, typeName, type RData } from '@kmslab/dns-wire';
import { presentRData } from '../zone/presentation.js';
import type { DnsServer } from '../dns-server.js';
import { actionText, parseFaultRule, toFaultRule, type FaultRuleInput } from '../harness/fault-rule.js';
import type { ActiveFault } from '../harness/fault-set.js';
import { MAX_PAGE, withIsoTime, type QueryFilter } from '../harness/query-log.js';

export type { FaultView, ZoneView } from '@kmslab/core';

/** A fault as the admin API shows it. */
export function faultView(f: ActiveFault): FaultView {
  const r = f.rule;
  return {
    id: f.id, rule: f.text, name: r.name, type: r.type, action: actionText(r.action), probability: r.probability, every: r.every, count: r.count,
    from: r.from, transport: r.transport, until: r.until === null ? null : new Date(r.until).toISOString(), matched: f.matched, applied: f.applied,
  };
}

function zoneViews(dns: DnsServer): ZoneView[] {
  const followed = new Map(dns.secondaries.map((s) => [s.zone, s.state()]));
  const served = dns.zones.list().map((zone): ZoneView => {
    const name = `${KMS_SRV_LABELS}.${zone.origin}`;
    const set = zone.rrset(name, TYPE.SRV);
    const srv = (set?.records ?? []).map((d) => {
      const r = d as Extract<RData, { type: 'SRV' }>;
      const at = zone.stamp(name, TYPE.SRV, d);
      return { name, ttl: set!.ttl, priority: r.priority, weight: r.weight, port: r.port, target: r.target, refreshedAt: at === null ? null : new Date(at).toISOString(), owner: zone.owner(name) };
    });
    return {
      origin: zone.origin, serial: zone.serial, srv: srv.sort((a, b) => a.priority - b.priority || b.weight - a.weight || a.target.localeCompare(b.target)),
      aging: dns.aging.rule(zone.origin), ...(followed.has(zone.origin) && { secondary: followed.get(zone.origin)! }),
    };
  });
  // A followed zone not loaded yet, or expired: listed, with no records.
  const missing = [...followed.values()].filter((s) => !served.some((z) => z.origin === s.zone)).map((s): ZoneView => ({ origin: s.zone, serial: s.serial ?? 0, srv: [], aging: null, secondary: s }));
  return [...served, ...missing];
}

/**
 * Each zone's secondaries (the `--notify` targets) with the serial each
 * answers now (an SOA query, 500 ms at most; null when it does not answer):
 * a record one server has and another has not yet shows as a lower serial.
 */
async function withReplicas(dns: DnsServer, views: ZoneView[]): Promise<ZoneView[]> {
  const targets = dns.notifier?.targets ?? [];
  if (targets.length === 0) return views;
  return Promise.all(views.map(async (v) => ({
    ...v,
    replicas: await Promise.all(targets.map(async (t) => {
      const soa = await query({ ...t, timeoutMs: 500 }, v.origin, TYPE.SOA).then(({ answer }) => answer.answers.find((rr) => rr.type === TYPE.SOA)?.data as { serial: number } | undefined, () => undefined);
      return { server: formatHostPort(t.host, t.port), serial: soa?.serial ?? null };
    })),
  })));
}

/** `?name=&type=&since=&before=&after=&limit=`: since is ms or an ISO time; before and after are entries' `seq`. */
function filterOf(query: string): QueryFilter {
  const p = new URLSearchParams(query);
  const since = p.get('since');
  const sinceMs = since === null ? undefined : /^\d+$/.test(since) ? Number(since) : Date.parse(since);
  if (sinceMs !== undefined && Number.isNaN(sinceMs)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `since "${since}" must be ms since the epoch or an ISO time`);
  const whole = (key: 'limit' | 'before' | 'after') => {
    const v = p.get(key);
    if (v === null) return {};
    if (!/^\d{1,15}$/.test(v)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${key} "${v.slice(0, 20)}" must be a whole number${key === 'limit' ? ` from 1 to ${MAX_PAGE}` : ' (an entry\'s seq)'}`);
    return { [key]: Number(v) };
  };
  return { ...(p.get('name') && { name: p.get('name')! }), ...(p.get('type') && { type: p.get('type')! }), ...(sinceMs !== undefined && { since: sinceMs }), ...whole('limit'), ...whole('before'), ...whole('after') };
}

/** `?name=&type=&since=&limit=` as the request gave it. */
const queryString = (url: string) => url.slice(url.indexOf('?') + 1 || url.length);

const GRANTS_USAGE = 'Send a JSON object: {"groups": {"kms-hosts": ["kms1", "kms2"]}, "grants": {"_vlmcs._tcp.lab.test": ["kms-hosts"]}, "secureZones": ["lab.test"]} (each part optional; keys are added to a group, groups to a name)';

/** Who owns each name of the secure zones, with the groups granted on it (GET /grants, `kmslab dns records --owners`). */
function ownerViews(dns: DnsServer): Array<{ zone: string; name: string; owner: string; grantedTo: string[] }> {
  return dns.zones.list().flatMap((zone) => zone.owners().map(([name, owner]) => ({ zone: zone.origin, name, owner, grantedTo: dns.ownership.grantsOn(name) })));
}

const FAULT_USAGE = 'Send one rule as a JSON object of at most 16 KiB: {"name": "_vlmcs._tcp.lab.test", "type": "SRV", "action": "servfail"} or {"rule": "NAME[/TYPE]=ACTION"}';

/**
 * The DNS server's admin listener (docs/dns-faults.md): `/queries` (JSON),
 * `/queries/stream` (server-sent events), `/faults` (GET, POST, DELETE), `/zones`, `/grants` (GET, POST),
 * `/metrics`, `/healthz`. Same rules as the host's: a token, when set, on every route.
 */
export class DnsAdminServer {
  readonly #app: AdminApp;
  readonly #dns: DnsServer;

  constructor(dns: DnsServer, options: { token?: string | null | undefined; readOnly?: boolean | undefined; allowedHosts?: readonly string[] | undefined } = {}) {
    this.#dns = dns;
    const app = createAdminApp({ ...options, notFound: 'Try /queries, /queries/stream, /faults, /zones, /grants, /scavenge, /metrics or /healthz' });
    app.get('/faults', async (_req, reply) => sendJson(reply, 200, dns.faults.list().map(faultView)));
    app.post<{ Body: FaultRuleInput & { rule?: string } }>('/faults', { config: { usage: FAULT_USAGE }, schema: { body: { type: 'object' } } }, async (req, reply) => {
      const text = req.body.rule;
      const rule = typeof text === 'string' ? parseFaultRule(text, Date.now()) : toFaultRule(req.body, Date.now());
      return sendJson(reply, 201, faultView(dns.faults.add(rule)));
    });
    app.delete('/faults', async (_req, reply) => {
      dns.faults.clear();
      return reply.code(204).send();
    });
    app.route({ method: ['PUT', 'PATCH'], url: '/faults', handler: methodNotAllowed(['GET', 'HEAD', 'POST', 'DELETE'], 'GET, POST or DELETE /faults') });
    app.delete<{ Params: { id: string } }>('/faults/:id', async (req, reply) => {
      if (!dns.faults.remove(req.params.id)) return sendLine(reply, 404, `No fault ${req.params.id}; GET /faults lists them`);
      return reply.code(204).send();
    });
    app.route({ method: ['GET', 'POST', 'PUT', 'PATCH'], url: '/faults/:id', handler: methodNotAllowed(['DELETE'], 'DELETE /faults/ID') });
    app.get('/queries', async (req, reply) => {
      const log = dns.queryLog;
      if (!log) return sendLine(reply, 404, 'The query log is off');
      return sendJson(reply, 200, (await log.read(filterOf(queryString(req.url)))).map(withIsoTime));
    });
    app.get('/queries/stream', async (req, reply) => this.#stream(queryString(req.url), reply));
    app.get('/zones', async (_req, reply) => sendJson(reply, 200, await withReplicas(dns, zoneViews(dns))));
    app.post('/scavenge', async (req, reply) => {
      const dryRun = /(^|&)dryRun=(1|true)(&|$)/.test(queryString(req.url));
      const removed = dns.scavenge({ dryRun });
      return sendJson(reply, 200, { dryRun, removed: removed.map((r) => ({ zone: r.zone, name: r.record.name, type: typeName(r.record.type), ttl: r.record.ttl, data: presentRData(r.record.data), refreshedAt: new Date(r.refreshedAt).toISOString() })) });
    });
    app.route({ method: ['GET', 'PUT', 'PATCH', 'DELETE'], url: '/scavenge', handler: methodNotAllowed(['POST'], 'POST /scavenge[?dryRun=1]') });
    app.get('/grants', async (_req, reply) => sendJson(reply, 200, { ...dns.ownership.state(), owners: ownerViews(dns) }));
    app.post<{ Body: Record<string, unknown> }>('/grants', { config: { usage: GRANTS_USAGE }, schema: { body: { type: 'object' } } }, async (req, reply) => {
      const body = req.body;
      const extra = Object.keys(body).find((k) => !['groups', 'grants', 'secureZones'].includes(k));
      if (extra !== undefined) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `field "${extra.slice(0, 40)}" is not one of groups, grants, secureZones`);
      for (const part of ['groups', 'grants'] as const) {
        const v = body[part];
        if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${part} must be an object of lists (${GRANTS_USAGE})`);
      }
      const zones = body.secureZones ?? [];
      if (!Array.isArray(zones) || zones.some((z) => typeof z !== 'string' || !dns.zones.get(z))) {
        throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'secureZones must list zones this server serves');
      }
      const state = dns.ownership.update({ secureZones: zones as string[], groups: body.groups as Record<string, string[]> | undefined, grants: body.grants as Record<string, string[]> | undefined });
      return sendJson(reply, 200, { ...state, owners: ownerViews(dns) });
    });
    app.route({ method: ['PUT', 'PATCH', 'DELETE'], url: '/grants', handler: methodNotAllowed(['GET', 'HEAD', 'POST'], 'GET or POST /grants') });
    app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store').send(dns.metrics()));
    app.get('/healthz', async (_req, reply) => {
      const health = dns.health();
      return sendJson(reply, health.ok ? 200 : 503, health);
    });
    this.#app = app;
  }

  listen(hostPort: string): Promise<string> {
    return listenAdmin(this.#app, hostPort, 'DNS admin listener');
  }

  close(): Promise<void> {
    return this.#app.close();
  }

  /**
   * Server-sent events: one `data:` line of JSON per query from now on
   * (filtered like /queries); with `after=SEQ`, first the entries the log
   * still holds after that one (at most MAX_PAGE), so a follower that
   * reconnects misses nothing. Followers beyond the cap are refused (503), and
   * one that does not keep up is disconnected (query-followers.ts).
   */
  #stream(query: string, reply: AdminReply): AdminReply | undefined {
    const log = this.#dns.queryLog;
    if (!log) return sendLine(reply, 404, 'The query log is off');
    const filter = filterOf(query);
    const followers = log.followers();
    if (followers.size >= followers.max) {
      return sendLine(reply.header('retry-after', '10'), 503, `${followers.max} followers of /queries/stream already (--query-log-followers): try again later, or read /queries`);
    }
    const backlog = filter.after === undefined ? [] : log.find({ ...filter, limit: MAX_PAGE });
    let off: (() => void) | null = null;
    const res = openEventStream(reply, () => off?.());
    if (!res) return undefined;
    res.write(`: kmslab DNS query stream\n\n${backlog.map((e) => `data: ${JSON.stringify(withIsoTime(e))}\n\n`).join('')}`);
    off = log.follow(filter, res);
    if (!off) res.destroy();
    return undefined;
  }
}
