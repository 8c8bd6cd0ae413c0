import type { TsigKey } from '@kmslab/dns-wire';
import { MemoryStore, startHostService, type ActivationStore, type HostStatus, type KmsHost, type StoreConfig } from '@kmslab/host';
import type { LabTime } from './lab-time.js';

/** A host of the lab: its name and SRV priority/weight, and what it may activate. */
export interface LabHostOptions {
  name: string;
  priority?: number;
  weight?: number;
  keyGroup?: string;
  licensePacks?: string[];
}

/**
 * One KMS host of the lab, on a loopback port it keeps across `stop()` and
 * `start()` (clients cache it, as they cache a real host), publishing itself
 * in the lab DNS by signed dynamic update.
 */
export interface LabHost {
  readonly name: string;
  readonly fqdn: string;
  readonly options: LabHostOptions;
  /** Where its KMS listener is. */
  readonly address: { host: string; port: number };
  readonly adminUrl: string | null;
  readonly running: boolean;
  /** The running KmsHost in this process (null while stopped, and always in a lab in a worker: use `status()`). */
  readonly host: KmsHost | null;
  start(): Promise<void>;
  /** Stops listening; its SRV record stays, as a real host's does when it goes down (clients fail over). */
  stop(): Promise<void>;
  status(): Promise<HostStatus>;
  /** Publishes its records now, as a running host's daily refresh does (nothing while stopped). */
  republish(): Promise<void>;
}

/** A host of a lab in this process. */
export class LocalLabHost implements LabHost {
  readonly name: string;
  readonly fqdn: string;
  #host: KmsHost | null = null;
  #port = 0;
  #adminUrl: string | null = null;
  #memory: MemoryStore | null = null;

  constructor(
    readonly options: LabHostOptions,
    private readonly lab: { zone: string; dnsPort: number; key: TsigKey; time: LabTime; redisUrl: string | null },
  ) {
    this.name = options.name;
    this.fqdn = `${options.name}.${lab.zone}`;
  }

  /** Where its KMS listener is. */
  get address(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.#port };
  }

  get adminUrl(): string | null {
    return this.#adminUrl;
  }

  get running(): boolean {
    return this.#host !== null;
  }

  /** The running KmsHost (null while stopped). */
  get host(): KmsHost | null {
    return this.#host;
  }

  async start(): Promise<void> {
    if (this.#host) return;
    const { zone, dnsPort, key, time, redisUrl } = this.lab;
    // A memory store outlives a stop and start (the host's counts stay, as its journal would keep them).
    const store: ActivationStore | StoreConfig = redisUrl ? { kind: 'redis', url: redisUrl, hostId: this.name } : (this.#memory ??= await MemoryStore.open());
    // As `kmslab host start` runs a host (one service entry).
    ({ host: this.#host } = await startHostService({
      hostId: this.name, store, clock: time, listen: ['127.0.0.1'], port: this.#port, admin: '127.0.0.1:0',
      keyGroup: this.options.keyGroup, licensePacks: this.options.licensePacks,
      publish: {
        dns: { host: '127.0.0.1', port: dnsPort }, key, fqdn: this.fqdn, addresses: ['127.0.0.1'],
        domains: [{ domain: zone, priority: this.options.priority ?? 0, weight: this.options.weight ?? 0 }],
        // Lab time, which the lab DNS checks TSIG signatures against and ages records by.
        clock: time,
      },
      // Nothing is in flight between a test's requests; a stop need not wait for anything else.
      drainTimeoutMs: 1000,
    }));
    this.#port = this.#host.port;
    this.#adminUrl = this.#host.adminUrl;
  }

  /** Stops listening; its SRV record stays, as a real host's does when it goes down (clients fail over). */
  async stop(): Promise<void> {
    const host = this.#host;
    this.#host = null;
    await host?.close();
  }

  status(): Promise<HostStatus> {
    if (!this.#host) throw new Error(`host ${this.name} is stopped`);
    return this.#host.status();
  }

  async republish(): Promise<void> {
    await this.#host?.republish();
  }
}
