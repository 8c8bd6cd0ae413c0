import { Worker } from 'node:worker_threads';
import { KmsLabError } from '@kmslab/core';
import type { ActivationResult } from '@kmslab/client';
import type { ActiveFault, FaultRule, QueryFilter, QueryLogEntry } from '@kmslab/dns';
import type { HostStatus } from '@kmslab/host';
import type { LabHost, LabHostOptions } from './lab-host.js';
import { LabTime } from './lab-time.js';
import type { Lab, LabActivation, LabDns, LabOptions, LabScavenged } from './lab.js';
import { callSync, errorFromWire, syncBuffers, type SyncBuffers } from './sync-call.js';

/**
 * The worker's entry: beside this file once built; from the sources (the
 * repository's own tests run them), the built one, which the test command
 * builds first.
 */
const WORKER = import.meta.url.endsWith('.ts') ? new URL('../dist/lab-worker.js', import.meta.url) : new URL('./lab-worker.js', import.meta.url);

/**
 * The test thread's Node flags, less its export conditions: a test runner's
 * (`--conditions development`, vitest's for a monorepo's sources) would make
 * the worker load TypeScript sources it cannot run.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--conditions' || args[i] === '-C') i++;
    else if (!/^(--conditions|-C)=/.test(args[i]!)) out.push(args[i]!);
  }
  return out;
}

interface Ready {
  ready: true;
  zone: string;
  dns: { host: string; port: number };
  secondaries: Array<{ host: string; port: number }>;
  queryLog: boolean;
  hosts: Array<{ name: string; fqdn: string; options: LabHostOptions; address: { host: string; port: number }; adminUrl: string | null; running: boolean }>;
}

/** Calls across to the worker: promises by id, and synchronous ones through shared memory. */
class Channel {
  readonly #worker: Worker;
  readonly #sync: SyncBuffers;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #gone: Error | null = null;

  constructor(worker: Worker, sync: SyncBuffers) {
    this.#worker = worker;
    this.#sync = sync;
    worker.on('message', (m: { id?: number; ok?: boolean; value?: unknown; error?: { code?: string; message: string } }) => {
      const p = m.id === undefined ? undefined : this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id!);
      if (m.ok) p.resolve(m.value);
      else p.reject(errorFromWire(m.error!));
    });
    const fail = (err: Error) => {
      this.#gone = err;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new KmsLabError('KMSLAB_SHUTTING_DOWN', "the lab's worker has stopped")));
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise<T>((resolve, reject) => {
      const id = this.#next++;
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, method, args });
    });
  }

  callSync<T>(method: string, ...args: unknown[]): T {
    if (this.#gone) throw this.#gone;
    return callSync<T>(this.#sync, (m) => this.#worker.postMessage(m), method, args);
  }
}

/** A host of a lab in a worker: the same surface as one in process; its KmsHost object stays in the worker (`host` is null). */
class WorkerLabHost implements LabHost {
  readonly name: string;
  readonly fqdn: string;
  readonly options: LabHostOptions;
  #address: { host: string; port: number };
  #adminUrl: string | null;
  #running: boolean;

  constructor(
    h: Ready['hosts'][number],
    private readonly index: number,
    private readonly channel: Channel,
  ) {
    this.name = h.name;
    this.fqdn = h.fqdn;
    this.options = h.options;
    this.#address = h.address;
    this.#adminUrl = h.adminUrl;
    this.#running = h.running;
  }

  get address(): { host: string; port: number } {
    return this.#address;
  }

  get adminUrl(): string | null {
    return this.#adminUrl;
  }

  get running(): boolean {
    return this.#running;
  }

  get host(): null {
    return null;
  }

  async start(): Promise<void> {
    this.#take(await this.channel.call('host.start', this.index));
  }

  async stop(): Promise<void> {
    this.#take(await this.channel.call('host.stop', this.index));
  }

  status(): Promise<HostStatus> {
    return this.channel.call('host.status', this.index);
  }

  republish(): Promise<void> {
    return this.channel.call('host.republish', this.index);
  }

  #take(view: { address: { host: string; port: number }; adminUrl: string | null; running: boolean }): void {
    this.#address = view.address;
    this.#adminUrl = view.adminUrl;
    this.#running = view.running;
  }
}

/** `startLab({ worker: true })`: the lab in a thread of its own, answering while the test's thread blocks (spawnSync, execFileSync). */
export async function startWorkerLab(options: LabOptions): Promise<Lab> {
  const time = new LabTime(options.clock ?? 'virtual', Date.now(), new SharedArrayBuffer(8));
  const sync = syncBuffers();
  const worker = new Worker(WORKER, { execArgv: workerExecArgv(), workerData: { options: { ...options, worker: false }, clock: { kind: time.kind, start: time.start, offset: time.sharedOffset }, sync } });
  const ready = await new Promise<Ready>((resolve, reject) => {
    worker.once('message', (m: Ready | { ready: false; error: { code?: string; message: string } }) => (m.ready ? resolve(m) : reject(errorFromWire(m.error))));
    worker.once('error', reject);
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  const channel = new Channel(worker, sync);
  const dnsServer: LabDns = {
    port: ready.dns.port,
    faults: {
      add: (rule: FaultRule) => channel.callSync<ActiveFault>('faults.add', rule),
      remove: (id: string) => channel.callSync<boolean>('faults.remove', id),
      clear: () => channel.callSync<void>('faults.clear'),
      list: () => channel.callSync<ActiveFault[]>('faults.list'),
      get size() {
        return channel.callSync<number>('faults.size');
      },
    },
    queryLog: ready.queryLog
      ? {
          find: (filter?: QueryFilter) => channel.callSync<QueryLogEntry[]>('queryLog.find', filter ?? {}),
          get total() {
            return channel.callSync<number>('queryLog.total');
          },
        }
      : null,
    get delayedAnswers() {
      return channel.callSync<number>('delayedAnswers');
    },
  };
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await channel.call('stop').catch(() => {});
      await worker.terminate();
    })());
  return {
    zone: ready.zone,
    dns: ready.dns,
    dnsServer,
    hosts: ready.hosts.map((h, i) => new WorkerLabHost(h, i, channel)),
    clock: time,
    activate: (request: LabActivation) => channel.call<ActivationResult>('activate', request),
    grantDns: (group: string, hosts: readonly string[], name: string) => channel.callSync<void>('grantDns', group, hosts, name),
    secondaries: ready.secondaries,
    serials: () => channel.callSync<ReturnType<Lab['serials']>>('serials'),
    scavenge: (o: { dryRun?: boolean } = {}) => channel.call<LabScavenged[]>('scavenge', o),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
