import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock, EventLog } from '@kmslab/core';
import { MemoryStore, startHostService, type ActivationStore, type HostStatus, type KmsHost, type StoreConfig } from '@kmslab/host';
import { startKmslabProcess, type KmslabProcess } from './live/kmslab-process.js';

/** A host in a simulation: name, keys, DNS priority and weight. */
export interface SimHostOptions {
  name?: string;
  keyGroup?: string;
  licensePacks?: string[];
  makKeys?: Array<{ key: string; activations: number }>;
  /** SRV priority and weight when the lab has DNS (useDns). */
  priority?: number;
  weight?: number;
}

/** One lab host, in this process or as a `kmslab host start` process; its time is the lab's time plus `skewMs`. */
export interface SimHost {
  readonly name: string;
  readonly options: SimHostOptions;
  /** Fixed after the first start, so a restarted host is found where it was. */
  readonly port: number;
  readonly running: boolean;
  skewMs: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<HostStatus>;
  /** What the host saw lately (`GET /clients`, `GET /requests`), for the dashboard; null while it is stopped. */
  activity(): Promise<{ clients: unknown; requests: unknown } | null>;
  /** Live hosts: tells the process the lab time before a client contacts it. */
  syncClock(labNow: number): Promise<void>;
  /** Stops the host for good and removes what it left on disk. */
  close(): Promise<void>;
}

/** The real KmsHost in this process on a loopback port, on the lab's clock. */
export class InProcessHost implements SimHost {
  port = 0;
  skewMs = 0;
  #running: KmsHost | null = null;
  #memory: MemoryStore | null = null;

  constructor(
    readonly name: string,
    readonly options: SimHostOptions,
    private readonly labClock: Clock,
    /** Redis URL for a Redis store (each start opens a new connection); null: memory store kept across restarts. */
    private readonly redisUrl: string | null,
    /** Where its events (12290 per request) go: the lab's log, beside its clients'. */
    private readonly events?: EventLog,
  ) {}

  get running(): boolean {
    return this.#running !== null;
  }

  get host(): KmsHost | null {
    return this.#running;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    // A memory store outlives a stop and start (the host's counts stay, as its journal would keep them).
    const store: ActivationStore | StoreConfig = this.redisUrl ? { kind: 'redis', url: this.redisUrl, hostId: this.name } : (this.#memory ??= await MemoryStore.open());
    const { keyGroup, licensePacks, makKeys } = this.options;
    const clock = { now: () => this.labClock.now() + this.skewMs };
    // As `kmslab host start` runs a host (one service entry).
    this.#running = (await startHostService({ hostId: this.name, store, clock, listen: ['127.0.0.1'], port: this.port, admin: null, keyGroup, licensePacks, makKeys, ...(this.events && { events: this.events }) })).host;
    this.port = this.#running.port;
  }

  async stop(): Promise<void> {
    await this.#running?.close();
    this.#running = null;
  }

  status(): Promise<HostStatus> {
    if (!this.#running) throw new Error(`host ${this.name} is not running`);
    return this.#running.status();
  }

  async activity(): Promise<{ clients: unknown; requests: unknown } | null> {
    return this.#running ? { clients: this.#running.clients(), requests: this.#running.requests() } : null;
  }

  async syncClock(): Promise<void> {}

  close(): Promise<void> {
    return this.stop();
  }
}

export interface LiveLab {
  /** The command that starts kmslab, e.g. [process.execPath, '…/dist/bin.js']. */
  kmslab: readonly string[];
  redisUrl: string;
  /** Set when the lab has DNS: hosts publish themselves into it. */
  dns?: { server: string; zone: string; tsigKey: string };
}

/** `kmslab host start --store redis --lab-clock …` in its own process; the runner sets its clock over the admin listener. */
export class ProcessHost implements SimHost {
  port = 0;
  skewMs = 0;
  #proc: KmslabProcess | null = null;
  #clockSetTo: number | null = null;
  readonly #logs = mkdtempSync(join(tmpdir(), 'kmslab-live-'));
  #starts = 0;

  constructor(
    readonly name: string,
    readonly options: SimHostOptions,
    private readonly labClock: Clock,
    private readonly live: LiveLab,
  ) {}

  get running(): boolean {
    return this.#proc !== null;
  }

  async start(): Promise<void> {
    if (this.#proc) return;
    const o = this.options;
    const args = [
      'host', 'start', '--listen', '127.0.0.1', '--port', String(this.port), '--admin', '127.0.0.1:0',
      '--store', 'redis', '--redis-url', this.live.redisUrl, '--host-id', this.name,
      '--lab-clock', new Date(this.labClock.now() + this.skewMs).toISOString(), '--log-level', 'warn',
      ...(o.keyGroup ? ['--key-group', o.keyGroup] : []),
      ...(o.licensePacks ?? []).flatMap((p) => ['--license-pack', p]),
      ...(o.makKeys ?? []).flatMap((k) => ['--mak-key', `${k.key}:${k.activations}`]),
    ];
    if (this.live.dns) {
      const { server, zone, tsigKey } = this.live.dns;
      args.push('--publish', '--dns', server, '--tsig-key', tsigKey, '--fqdn', `${this.name}.${zone}`, '--advertise-address', '127.0.0.1', '--publish-domain', `${zone},${o.priority ?? 0},${o.weight ?? 0}`);
    }
    this.#proc = await startKmslabProcess(this.live.kmslab, args, { logFile: join(this.#logs, `${this.name}-${++this.#starts}.log`) });
    this.port = this.#proc.port;
    this.#clockSetTo = null;
  }

  async stop(): Promise<void> {
    await this.#proc?.stop();
    this.#proc = null;
  }

  async status(): Promise<HostStatus> {
    if (!this.#proc) throw new Error(`host ${this.name} is not running`);
    return (await fetch(`${this.#proc.adminUrl}/status`)).json() as Promise<HostStatus>;
  }

  async activity(): Promise<{ clients: unknown; requests: unknown } | null> {
    if (!this.#proc) return null;
    const get = async (path: string) => (await fetch(`${this.#proc!.adminUrl}${path}`)).json() as Promise<unknown>;
    const [clients, requests] = await Promise.all([get('/clients'), get('/requests')]);
    return { clients, requests };
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.#logs, { recursive: true, force: true });
  }

  async syncClock(labNow: number): Promise<void> {
    const now = labNow + this.skewMs;
    if (!this.#proc || this.#clockSetTo === now) return;
    const res = await fetch(`${this.#proc.adminUrl}/lab/clock`, { method: 'PUT', body: JSON.stringify({ now }) });
    if (!res.ok) throw new Error(`host ${this.name} refused the lab clock: ${res.status} ${await res.text()}`);
    this.#clockSetTo = now;
  }
}
