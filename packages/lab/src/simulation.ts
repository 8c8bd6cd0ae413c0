import { Catalog, TIME, VirtualClock } from '@kmslab/core';
import { activateOnce, dueIn, newClientState, type ClientState } from '@kmslab/client';
import { KmsHost, MemoryStore } from '@kmslab/host';

/** One line of the narrated timeline. */
export interface TimelineEntry {
  /** Virtual minutes since the start. */
  minute: number;
  client: string;
  product: string;
  count: number | null;
  threshold: number;
  licensed: boolean;
  /** How the client was licensed, when it was: by the KMS count or by its MAK. */
  via: 'kms' | 'mak' | null;
  errorCode: string | null;
}

interface SimClient {
  name: string;
  productId: string;
  state: ClientState;
  joinAt: number;
  /** When the machine leaves the network (no more contacts). */
  leaveAt: number | null;
}

/**
 * Real host and client code on one virtual clock, in-process: the host is a
 * KmsHost on a loopback port with a memory store and the same clock; each
 * client is the client library's state and `activateOnce`. Contacts happen in
 * time order; nothing sleeps.
 */
export class Simulation implements AsyncDisposable {
  readonly clock: VirtualClock;
  readonly timeline: TimelineEntry[] = [];
  readonly #start: number;
  readonly #clients: SimClient[] = [];
  readonly #catalog = Catalog.load();
  #host: KmsHost | null = null;

  constructor(start = Date.UTC(2026, 0, 5, 8)) {
    this.clock = new VirtualClock(start);
    this.#start = start;
  }

  async startHost(options: { keyGroup?: string; licensePacks?: string[]; makKeys?: Array<{ key: string; activations: number }> } = {}): Promise<KmsHost> {
    this.#host = await KmsHost.start({ hostId: 'lab-host', store: await MemoryStore.open(), clock: this.clock, listen: ['127.0.0.1'], port: 0, admin: null, ...options });
    return this.#host;
  }

  get host(): KmsHost {
    if (!this.#host) throw new Error('start the host first');
    return this.#host;
  }

  /** A client machine that joins at `minute` (virtual minutes from the start) and then follows the KMS client schedule. */
  addClient(name: string, productId: string, minute: number): void {
    const state = { ...newClientState(), manualHost: `127.0.0.1:${this.host.port}` };
    this.#clients.push({ name, productId, state, joinAt: this.#start + minute * TIME.MINUTE_MS, leaveAt: null });
  }

  /** The machine leaves the network at `minute`: it never contacts a host again. */
  removeClient(name: string, minute: number): void {
    this.#find(name).leaveAt = this.#start + minute * TIME.MINUTE_MS;
  }

  /** Names of the clients still on the network. */
  clientNames(): string[] {
    return this.#clients.filter((c) => c.leaveAt === null || c.leaveAt > this.clock.now()).map((c) => c.name);
  }

  #find(name: string): SimClient {
    const c = this.#clients.find((x) => x.name === name);
    if (!c) throw new Error(`no client ${name}`);
    return c;
  }

  client(name: string): ClientState {
    return this.#find(name).state;
  }

  /** Runs every contact due up to `minute`, in time order. */
  async runUntil(minute: number): Promise<void> {
    const until = this.#start + minute * TIME.MINUTE_MS;
    for (;;) {
      let next: { client: SimClient; at: number } | null = null;
      for (const c of this.#clients) {
        const at = c.state.installedAt ? this.clock.now() + dueIn(c.state, this.clock.now()) : c.joinAt;
        if (c.leaveAt !== null && at >= c.leaveAt) continue;
        if (at <= until && (!next || at < next.at)) next = { client: c, at };
      }
      if (!next) break;
      this.clock.set(Math.max(this.clock.now(), next.at));
      await this.#contact(next.client);
    }
    this.clock.set(Math.max(this.clock.now(), until));
  }

  async #contact(c: SimClient): Promise<void> {
    const outcome = await activateOnce({ state: c.state, productId: c.productId, clock: this.clock, domains: [], random: Math.random });
    const r = outcome.response;
    this.timeline.push({
      minute: Math.round((this.clock.now() - this.#start) / TIME.MINUTE_MS),
      client: c.name,
      product: c.productId,
      count: r?.count ?? null,
      threshold: r?.threshold ?? this.#catalog.product(c.productId).threshold,
      licensed: r?.licensed ?? Boolean(outcome.mak),
      via: outcome.mak ? 'mak' : r?.licensed ? 'kms' : null,
      errorCode: outcome.errorCode,
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#host?.close();
  }
}

export function formatMinute(minute: number): string {
  const d = Math.floor(minute / 1440);
  const h = Math.floor((minute % 1440) / 60);
  const m = minute % 60;
  return `${d > 0 ? `day ${d} ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
