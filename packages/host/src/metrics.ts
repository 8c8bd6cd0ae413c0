import { Counter, Gauge, Registry } from 'prom-client';
import type { Family } from '@kmslab/core';
import type { FamilyStats } from './store/store.js';

/**
 * Prometheus metrics of one host process (a registry of its own, no globals).
 * Process counters are per replica; count and statistics gauges read the
 * store, so replicas sharing a host id report the shared figures.
 */
export class HostMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'family' | 'result'>;
  readonly #protocolErrors: Counter<'code'>;
  readonly #foreignClients: Counter;
  readonly #evicted: Counter;
  readonly #refused: Counter;
  readonly connections: Gauge;
  #served = 0;
  #foreign = 0;
  #inFlight: () => number = () => 0;

  /** Where `kmslab_requests_in_flight` reads from (the KMS listener's count). */
  watchInFlight(read: () => number): void {
    this.#inFlight = read;
  }

  constructor(hostId: string, readStats: () => Promise<{ stats: Record<Family, FamilyStats>; healthy: boolean }>) {
    this.registry.setDefaultLabels({ host_id: hostId });
    this.#requests = new Counter({
      name: 'kmslab_requests_total',
      help: 'Activation requests answered by this process, by family and result (licensed or error code)',
      labelNames: ['family', 'result'],
      registers: [this.registry],
    });
    this.#protocolErrors = new Counter({
      name: 'kmslab_protocol_errors_total',
      help: 'Connections closed for a protocol error, by code',
      labelNames: ['code'],
      registers: [this.registry],
    });
    this.#foreignClients = new Counter({
      name: 'kmslab_real_kms_clients_total',
      help: "Connections that opened with a DCE/RPC bind (a real Windows KMS client), detected and closed",
      registers: [this.registry],
    });
    this.connections = new Gauge({ name: 'kmslab_connections', help: 'Open client connections', registers: [this.registry] });
    const inFlight = () => this.#inFlight();
    // Read when scraped, so the request path pays nothing for it.
    new Gauge({ name: 'kmslab_requests_in_flight', help: 'Requests received and not yet answered (waiting on the store)', registers: [this.registry], collect() { this.set(inFlight()); } });
    this.#evicted = new Counter({
      name: 'kmslab_connections_evicted_total',
      help: 'Idle or half-sent connections closed to make room at the connection cap',
      registers: [this.registry],
    });
    this.#refused = new Counter({
      name: 'kmslab_connections_refused_total',
      help: 'New connections refused at the cap because every connection had requests in flight',
      registers: [this.registry],
    });

    let snapshot: Promise<{ stats: Record<Family, FamilyStats>; healthy: boolean }> | null = null;
    // One store read per scrape, shared by the gauges below.
    const read = () => (snapshot ??= readStats().finally(() => setImmediate(() => (snapshot = null))));
    const storeGauge = (name: string, help: string, pick: (s: FamilyStats) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['family'],
        registers: [this.registry],
        async collect() {
          const { stats } = await read().catch(() => ({ stats: {} as Record<Family, FamilyStats> }));
          for (const [family, s] of Object.entries(stats)) this.set({ family }, pick(s));
        },
      });
    storeGauge('kmslab_current_count', 'Distinct clients seen in the last 30 days (the KMS count), per family', (s) => s.currentCount);
    storeGauge('kmslab_store_requests_total', 'Requests received by the logical host (all replicas), per family', (s) => s.totalRequests);
    storeGauge('kmslab_store_failed_requests_total', 'Failed requests received by the logical host (all replicas), per family', (s) => s.failedRequests);
    new Gauge({
      name: 'kmslab_store_up',
      help: '1 when the store takes writes',
      registers: [this.registry],
      async collect() {
        this.set((await read().catch(() => ({ healthy: false }))).healthy ? 1 : 0);
      },
    });
  }

  request(family: Family, result: string): void {
    this.#served++;
    this.#requests.inc({ family, result });
  }

  protocolError(code: string): void {
    this.#protocolErrors.inc({ code });
  }

  foreignClient(): void {
    this.#foreign++;
    this.#foreignClients.inc();
  }

  connectionClosedForRoom(): void {
    this.#evicted.inc();
  }

  connectionRefused(): void {
    this.#refused.inc();
  }

  get served(): number {
    return this.#served;
  }

  get foreignClients(): number {
    return this.#foreign;
  }
}
