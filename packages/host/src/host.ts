import type { EventLog, HostStatus } from '@kmslab/core';
import { ActivationService } from './activation-service.js';
import type { ClientView, RequestView } from './recent-activity.js';
import { AdminServer } from './admin-server.js';
import { resolveHostOptions, type HostOptions, type ResolvedHostOptions } from './host-options.js';
import { KmsListener, type ListenAddress } from './kms-listener.js';
import { HostMetrics } from './metrics.js';
import { SOFTWARE } from './software.js';

export type { HostStatus } from '@kmslab/core';

/** A running KMS host: its listener, admin server and store, closed together. */
export class KmsHost {
  readonly #o: ResolvedHostOptions;
  readonly #listener: KmsListener;
  readonly #service: ActivationService;
  readonly #admin: AdminServer | null;
  readonly #metrics: HostMetrics;
  readonly #startedAt: number;
  #addresses: ListenAddress[] = [];
  #adminUrl: string | null = null;
  #closing: Promise<void> | null = null;

  private constructor(o: ResolvedHostOptions) {
    this.#o = o;
    this.#startedAt = o.clock.now();
    this.#metrics = new HostMetrics(o.hostId, async () => {
      const now = o.clock.now();
      const [stats, healthy] = await Promise.all([o.store.stats(o.catalog.families(), now), o.store.healthy()]);
      return { stats, healthy };
    });
    this.#service = new ActivationService(o, this.#metrics);
    this.#listener = new KmsListener(o, this.#service, this.#metrics);
    this.#admin =
      o.admin === null ? null : new AdminServer({ status: () => this.status(), clients: () => this.clients(), requests: () => this.requests(), events: o.events, healthy: () => o.store.healthy(), registry: this.#metrics.registry, clockControl: o.clockControl, token: o.adminToken?.value, readOnly: o.adminReadOnly, allowedHosts: o.adminAllowedHosts, page: typeof o.adminPage === 'function' ? o.adminPage(this) : o.adminPage });
  }

  /** Starts listening. The store is the caller's; `close()` closes it too. */
  static async start(options: HostOptions): Promise<KmsHost> {
    return KmsHost.create(options).listen();
  }

  /**
   * A host built but not listening: its service, its admin routes and page
   * in place (compose, then listen), so nothing answers before it is whole.
   * Checks its options first (one line, KMSLAB_INVALID_ARGUMENT).
   */
  static create(options: HostOptions): KmsHost {
    return new KmsHost(resolveHostOptions(options));
  }

  /** Opens the KMS port and the admin listener, then starts publishing; on failure closes all (and the store) and throws. */
  async listen(): Promise<this> {
    try {
      this.#addresses = await this.#listener.listen();
      if (this.#admin) this.#adminUrl = await this.#admin.listen(this.#o.admin!);
    } catch (err) {
      await this.close();
      throw err;
    }
    // Publishing failures are logged and retried; they never stop the host from serving.
    await this.#o.publisher?.start(this.port);
    this.#o.logger?.info(
      { event: 'host-started', hostId: this.#o.hostId, kms: this.#addresses, admin: this.#adminUrl, store: this.#o.store.kind, keyGroup: this.#o.keyGroup },
      `KMS host ${this.#o.hostId} listening on port ${this.port}`,
    );
    return this;
  }

  get port(): number {
    return this.#addresses[0]?.port ?? 0;
  }

  get addresses(): ListenAddress[] {
    return this.#addresses;
  }

  get adminUrl(): string | null {
    return this.#adminUrl;
  }

  /** The admin listener's bearer token (given, or generated for an address beyond loopback); null when it needs none. */
  get adminToken(): string | null {
    return this.#o.adminToken?.value ?? null;
  }

  /** True when kmslab made the token up (the caller shows it once; it is never logged). */
  get adminTokenGenerated(): boolean {
    return this.#o.adminToken?.generated ?? false;
  }

  async status(): Promise<HostStatus> {
    const o = this.#o;
    const now = o.clock.now();
    const keyGroup = o.catalog.keyGroup(o.keyGroup);
    let families: HostStatus['families'] = {};
    let healthy = false;
    let error: string | undefined;
    try {
      [families, healthy] = await Promise.all([o.store.stats(o.catalog.families(), now), o.store.healthy()]);
    } catch (err) {
      error = (err as Error).message;
    }
    return {
      hostId: o.hostId,
      software: SOFTWARE,
      startedAt: new Date(this.#startedAt).toISOString(),
      time: new Date(now).toISOString(),
      kms: { port: this.port, addresses: this.#addresses },
      keyGroup: { id: keyGroup.id, name: keyGroup.name },
      licensePacks: o.licensePacks.map((id) => ({ id, name: o.catalog.licensePack(id).name })),
      activationIntervalMin: o.activationIntervalMin,
      renewalIntervalMin: o.renewalIntervalMin,
      dnsPublishing: o.publisher !== null,
      ...(o.publisher && { publishing: o.publisher.state }),
      store: { kind: o.store.kind, healthy, ...(error !== undefined && { error }) },
      families,
      replica: { pid: process.pid, requestsServed: this.#metrics.served, connections: this.#listener.connections, realKmsClients: this.#metrics.foreignClients },
    };
  }

  /** The clients this replica heard from lately, per family (≤ 50 each, most recent first), as `GET /clients` shows them. */
  clients(): { perFamily: number; families: Record<string, ClientView[]> } {
    return { perFamily: this.#service.recent.perFamily, families: this.#service.recent.clients() };
  }

  /** The events this host logged (12290 per request; 12293/12294 when its publisher shares the log), as `GET /events` shows them. */
  get events(): EventLog {
    return this.#o.events;
  }

  /** The last requests this replica answered, newest first, as `GET /requests` shows them. */
  requests(): { capacity: number; requests: RequestView[] } {
    return { capacity: this.#service.recent.capacity, requests: this.#service.recent.requests() };
  }

  /**
   * Publishes this host's records now, as its daily refresh does (a lab on a
   * virtual clock calls it for the refreshes the days it skipped would have
   * made); nothing without DNS publishing. Throws when the update failed.
   */
  async republish(): Promise<void> {
    await this.#o.publisher?.publish();
  }

  /** Drains in-flight requests, then closes the listeners and the store. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#o.publisher?.stop({ deregister: this.#o.deregisterOnClose }).catch((err: Error) =>
        this.#o.logger?.warn({ event: 'dns-deregister-failed', err: err.message }, 'could not remove the DNS records'),
      );
      await this.#listener.close();
      await this.#admin?.close();
      await this.#o.store.close();
      this.#o.logger?.info({ event: 'host-stopped', hostId: this.#o.hostId }, 'KMS host stopped');
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
