import { Catalog, type ClientView, type Family, type FaultView, type EventLog, type HostStatus, type KmsEvent, type RequestView, type ZoneView } from '@kmslab/core';

/** An admin listener the dashboard reads: a host's (`/status`) or the DNS server's (`/zones`, `/faults`, `/queries/stream`). */
export interface AdminSource {
  url: string;
  /** Its bearer token, when it needs one. */
  token?: string | undefined;
}

/** A host to read: its admin listener, or (the page served by the host itself) its status in the same process. */
export type HostSource = AdminSource | { url: string; status(): Promise<unknown>; clients?(): unknown; requests?(): unknown; events?: EventLog };

/** How many of a host's newest events the page shows. */
export const EVENTS_SHOWN = 100;

/** One host as the page shows it: its `/status`, or why it could not be read. */
export interface HostView {
  url: string;
  ok: boolean;
  error?: string;
  status?: HostStatus;
  /** What the host saw lately (`GET /clients`, `GET /requests`); left out of a pushed reading when nothing changed since the one before (the page keeps what it has). */
  clients?: { perFamily: number; families: Record<Family, ClientView[]> };
  requests?: { capacity: number; requests: RequestView[] };
  /** Its newest events (`GET /events`: 12290 per request, 12293/12294 for DNS publishing), oldest first; left out of a pushed reading like the requests. */
  events?: KmsEvent[];
  /** Per family: the thresholds and the products each unlocks on this host, and whether the count reaches it now. */
  unlocks?: Record<Family, Array<{ threshold: number; reached: boolean; products: string[] }>>;
}

/** The DNS server as the page shows it: its zones' SRV records and active faults, or why they could not be read. */
export interface DnsView {
  url: string;
  ok: boolean;
  error?: string;
  zones?: ZoneView[];
  faults?: FaultView[];
}

/** One reading of every host's counts, for the chart: `counts[hostId][family]`; in a lab, the fleet's states and the lab time too. */
export interface CountPoint {
  at: number;
  counts: Record<string, Record<Family, number>>;
  labTime?: number;
  fleet?: Record<string, number>;
}

/** A running lab (`kmslab up`): its clock, which the page may pause, speed up and jump, and its simulated clients. */
export interface LabSource {
  clock: { now(): number; readonly speed: number; readonly paused: boolean; pause(): void; resume(): void; setSpeed(speed: number): void; jump(ms: number): void };
  /** How many simulated clients are in each license state now. */
  fleet(): Record<string, number>;
  /** The clients' last attempts, newest first. */
  attempts(): unknown[];
}

/** The lab as the page shows it. */
export interface LabView {
  time: string;
  speed: number;
  paused: boolean;
  clients: number;
  fleet: Record<string, number>;
  attempts: unknown[];
}

/** One reading of the whole lab: what `/api/state` and each `state` event carry. */
export interface LabState {
  time: string;
  hosts: HostView[];
  dns: DnsView | null;
  lab?: LabView;
}

/** Readings kept for the chart: 20 minutes at one a second. */
const HISTORY = 1200;

/**
 * Reads the lab's admin listeners on one timer, however many pages are
 * open (no polling storm: the pages get the result pushed), and keeps the
 * counts over time for the chart.
 */
export class LabSources {
  readonly #hosts: readonly HostSource[] | (() => readonly HostSource[]);
  readonly #dns: AdminSource | null;
  readonly #lab: LabSource | null;
  readonly #catalog = Catalog.load();
  readonly history: CountPoint[] = [];
  #state: LabState = { time: new Date(0).toISOString(), hosts: [], dns: null };
  /** The newest request each host showed at the reading before, to leave unchanged activity out of a push. */
  readonly #newest = new Map<string, string>();
  #changes: LabState = this.#state;

  constructor(hosts: readonly HostSource[] | (() => readonly HostSource[]), dns: AdminSource | null, lab: LabSource | null = null) {
    this.#hosts = hosts;
    this.#dns = dns;
    this.#lab = lab;
  }

  get state(): LabState {
    return this.#state;
  }

  /** The last reading as pushed: hosts whose requests did not change since the reading before carry no clients or requests. */
  get changes(): LabState {
    return this.#changes;
  }

  get dns(): AdminSource | null {
    return this.#dns;
  }

  /** Reads every source once (each within 2 s) and records a chart point. */
  async refresh(): Promise<LabState> {
    const sources = typeof this.#hosts === 'function' ? this.#hosts() : this.#hosts;
    const [hosts, dns] = await Promise.all([Promise.all(sources.map((h) => this.#readHost(h))), this.#dns ? this.#readDns(this.#dns) : null]);
    const lab = this.labView();
    this.#state = { time: new Date().toISOString(), hosts, dns, ...(lab && { lab }) };
    this.#changes = {
      ...this.#state,
      hosts: hosts.map((h) => {
        const newest = `${h.requests ? `${h.requests.requests.length}|${h.requests.requests[0]?.time}|${h.requests.requests[0]?.cmid}` : ''}|${h.events?.at(-1)?.seq ?? ''}`;
        const same = this.#newest.get(h.url) === newest;
        this.#newest.set(h.url, newest);
        if (!same) return h;
        const { clients: _c, requests: _r, events: _e, ...rest } = h;
        return rest;
      }),
    };
    const counts: CountPoint['counts'] = {};
    for (const h of hosts) {
      if (!h.status) continue;
      counts[h.status.hostId] = Object.fromEntries(Object.entries(h.status.families).map(([f, s]) => [f, s.currentCount]));
    }
    this.history.push({ at: Date.now(), counts, ...(lab && { labTime: Date.parse(lab.time), fleet: lab.fleet }) });
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    return this.#state;
  }

  /** The lab's clock and clients now, or null outside a lab. */
  labView(): LabView | null {
    const lab = this.#lab;
    if (!lab) return null;
    const fleet = lab.fleet();
    return { time: new Date(lab.clock.now()).toISOString(), speed: lab.clock.speed, paused: lab.clock.paused, clients: Object.values(fleet).reduce((a, b) => a + b, 0), fleet, attempts: lab.attempts().slice(0, 100) };
  }

  async #readHost(source: HostSource): Promise<HostView> {
    try {
      const [status, clients, requests, events] = (await Promise.all(
        'status' in source
          ? [source.status(), source.clients?.() ?? null, source.requests?.() ?? null, source.events?.after(0, EVENTS_SHOWN) ?? null]
          : [getJson(source, '/status'), getJson(source, '/clients').catch(() => null), getJson(source, '/requests').catch(() => null), getJson(source, `/events?limit=${EVENTS_SHOWN}`).then((r) => (r as { events: KmsEvent[] }).events, () => null)],
      )) as [HostStatus, HostView['clients'] | null, HostView['requests'] | null, KmsEvent[] | null];
      return { url: source.url, ok: true, status, unlocks: this.#unlocks(status), ...(clients && { clients }), ...(requests && { requests }), ...(events && { events }) };
    } catch (err) {
      return { url: source.url, ok: false, error: (err as Error).message };
    }
  }

  async #readDns(source: AdminSource): Promise<DnsView> {
    try {
      const [zones, faults] = await Promise.all([getJson(source, '/zones'), getJson(source, '/faults')]);
      return { url: source.url, ok: true, zones: zones as ZoneView[], faults: faults as FaultView[] };
    } catch (err) {
      return { url: source.url, ok: false, error: (err as Error).message };
    }
  }

  /** What the host can activate, grouped by family and threshold (5 server, 25 client, 5 Office). */
  #unlocks(status: HostStatus): HostView['unlocks'] {
    const host = { keyGroup: status.keyGroup.id, licensePacks: status.licensePacks.map((p) => p.id) };
    const out: NonNullable<HostView['unlocks']> = {};
    for (const [family, stats] of Object.entries(status.families)) {
      const byThreshold = new Map<number, string[]>();
      for (const p of this.#catalog.products()) {
        if (p.family !== family) continue;
        let can = false;
        try {
          can = this.#catalog.canActivate(host, p);
        } catch {
          // A host with a key group of its own catalog: the built-in one cannot tell.
        }
        if (can) byThreshold.set(p.threshold, [...(byThreshold.get(p.threshold) ?? []), p.name]);
      }
      out[family] = [...byThreshold].sort((a, b) => a[0] - b[0]).map(([threshold, products]) => ({ threshold, reached: stats.currentCount >= threshold, products }));
    }
    return out;
  }
}

/** GET a JSON document from an admin listener, with its token; a one-line error otherwise. */
export async function getJson(source: AdminSource, path: string): Promise<unknown> {
  const res = await fetch(`${source.url}${path}`, { headers: authHeaders(source), signal: AbortSignal.timeout(2000) }).catch((err: Error) => {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(`${source.url} does not answer (${cause ?? err.name})`);
  });
  if (!res.ok) throw new Error(`${source.url}${path}: HTTP ${res.status} ${(await res.text()).trim()}`);
  return res.json();
}

export function authHeaders(source: AdminSource): Record<string, string> {
  return source.token ? { authorization: `Bearer ${source.token}` } : {};
}
