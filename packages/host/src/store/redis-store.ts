import { readFileSync } from 'node:fs';
import { COUNT_WINDOW_MS, KmsLabError, LICENSE_STATUS_NAMES, MAX_CLIENT_RECORDS, type Family } from '@kmslab/core';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { emptyStatusCounts } from './family-records.js';
import type { ActivationStore, CountedRequest, FamilyStats, RefusedRequest } from './store.js';

const RECORD_LUA = readFileSync(new URL('./record-requests.lua', import.meta.url), 'utf8');
/** Largest batch in one script call (Lua's unpack and Redis's argument limits are far above). */
const MAX_BATCH = 256;

/** Where the Redis store's data lives: one Redis, a Redis Cluster, or a Sentinel-managed primary. */
export type RedisTopology =
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; nodes: Array<{ host: string; port: number }>; password?: string }
  | { mode: 'sentinel'; sentinels: Array<{ host: string; port: number }>; masterName: string; password?: string };

/**
 * When a request is acknowledged: after the primary applied the write
 * (`primary`, the default), or only after `WAIT` saw at least one replica
 * take it (`replica`), so a failover cannot lose an acknowledged client.
 */
export type Durability = 'primary' | 'replica';

/** Which Redis (one, Cluster or Sentinel), which host id, how durable. */
export interface RedisStoreOptions {
  /** One Redis (`redis://…`); or give `topology`. */
  url?: string;
  topology?: RedisTopology;
  hostId: string;
  durability?: Durability;
  /** Longest wait for one Redis command. */
  commandTimeoutMs?: number;
  /** How long one connection attempt at start-up waits for Redis to answer. */
  connectTimeoutMs?: number;
  /**
   * How long start-up keeps trying when Redis refuses or its name does not
   * resolve yet (a host started beside its Redis, as in a container lab);
   * default 0: the first failure is the answer.
   */
  startupWaitMs?: number;
  /**
   * How long a request keeps retrying through a failover (connection lost,
   * CLUSTERDOWN, TRYAGAIN, READONLY…) before the client is told "host
   * unavailable": 5 s on Cluster and Sentinel; 0 on one Redis, where no
   * failover is coming and clients should hear at once (they retry anyway).
   */
  retryBudgetMs?: number;
}

/** Between start-up attempts while `startupWaitMs` lasts. */
const STARTUP_RETRY_MS = 100;

/** One connection attempt: connected and past the ready check, or an error. */
async function connectOnce(redis: Redis | Cluster, timeoutMs: number): Promise<void> {
  await redis.connect();
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const ready = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      redis.off('ready', ready);
      reject(new Error(`not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    redis.once('ready', ready);
  });
}

type RecordCommands = {
  kmslabRecord(clients: string, stats: string, ...args: Array<string | number>): Promise<number[]>;
  kmslabMak(key: string, cmid: string, limit: number): Promise<number>;
};
type RedisClient = (Redis | Cluster) & RecordCommands;
type RecordPipeline = ReturnType<Redis['pipeline']> & { kmslabRecord(clients: string, stats: string, ...args: Array<string | number>): RecordPipeline };

/** One MAK activation per distinct client, atomically; -1 when the key is used up. */
const MAK_LUA = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return tonumber(ARGV[2]) - redis.call('SCARD', KEYS[1]) end
local used = redis.call('SCARD', KEYS[1])
if used >= tonumber(ARGV[2]) then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
return tonumber(ARGV[2]) - used - 1`;

/** Errors a failover produces and that go away by themselves. */
const TRANSIENT = /CLUSTERDOWN|TRYAGAIN|MOVED|ASK|READONLY|LOADING|MASTERDOWN|NOREPLICAS|Connection is closed|ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|Command timed out|Stream isn't writeable|offline queue|no replica|Failed to refresh slots|None of startup nodes|All sentinels are unreachable|isn't ready/i;

interface Waiting {
  request: CountedRequest;
  resolve: (count: number) => void;
  reject: (err: KmsLabError) => void;
}

/**
 * Client records in Redis: one sorted set (CMID → last contact) and one
 * statistics hash per host and family, changed by one Lua script. Requests
 * that arrive in the same turn of the event loop go to Redis as one script
 * call per family (in arrival order, each answered with its own count), so a
 * busy host sends Redis one command for many clients. Keys are hash-tagged
 * `{hostId:family}`, so in a Redis Cluster a family's keys share one slot and
 * the script touches that slot only; with `durability: 'replica'` the script
 * and a `WAIT 1` go in one pipeline to the same primary. Host processes with
 * the same host id share the count.
 */
export class RedisStore implements ActivationStore {
  readonly kind = 'redis';
  readonly #redis: RedisClient;
  readonly #hostId: string;
  readonly #durability: Durability;
  readonly #timeoutMs: number;
  readonly #retryBudgetMs: number;
  readonly #cluster: boolean;
  #pending = new Map<Family, Waiting[]>();
  #flushScheduled = false;

  private constructor(redis: RedisClient, o: RedisStoreOptions, topology: RedisTopology) {
    this.#redis = redis;
    this.#hostId = o.hostId;
    this.#durability = o.durability ?? 'primary';
    this.#timeoutMs = o.commandTimeoutMs ?? 2000;
    this.#retryBudgetMs = o.retryBudgetMs ?? (topology.mode === 'single' ? 0 : 5000);
    this.#cluster = topology.mode === 'cluster';
  }

  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const { commandTimeoutMs = 2000, connectTimeoutMs = 5000 } = options;
    const topology: RedisTopology = options.topology ?? { mode: 'single', url: options.url ?? 'redis://127.0.0.1:6379' };
    const redisOptions: RedisOptions = {
      // Fail fast while Redis is away (the store retries within its budget,
      // then the client hears "host unavailable"); reconnect in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      lazyConnect: true,
    };
    // Loaded when a Redis store is opened: a host on the memory store (and every other kmslab command) starts without it (~90 ms).
    const { Cluster, Redis } = await import('ioredis');
    let redis: RedisClient;
    let where: string;
    if (topology.mode === 'cluster') {
      where = `the Redis Cluster at ${topology.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
      redis = new Cluster(topology.nodes, {
        lazyConnect: true,
        enableOfflineQueue: false,
        // The ready check is a command, which a cluster without an offline queue refuses before it is ready: ioredis would reconnect forever.
        enableReadyCheck: false,
        clusterRetryStrategy: (attempt) => Math.min(100 * attempt, 1000),
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        slotsRefreshTimeout: connectTimeoutMs,
        redisOptions: { ...redisOptions, password: topology.password, lazyConnect: false },
      }) as RedisClient;
    } else if (topology.mode === 'sentinel') {
      where = `Sentinel ${topology.masterName} via ${topology.sentinels.map((n) => `${n.host}:${n.port}`).join(',')}`;
      redis = new Redis({ ...redisOptions, sentinels: topology.sentinels, name: topology.masterName, password: topology.password, sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, 1000) }) as RedisClient;
    } else {
      where = `Redis at ${redactUrl(topology.url)}`;
      redis = new Redis(topology.url, redisOptions) as RedisClient;
    }
    redis.defineCommand('kmslabRecord', { numberOfKeys: 2, lua: RECORD_LUA });
    redis.defineCommand('kmslabMak', { numberOfKeys: 1, lua: MAK_LUA });
    let lastError: Error | undefined;
    redis.on('error', (err: Error) => (lastError = err)); // later errors show in healthy() and per request; ioredis reconnects
    const giveUpAt = Date.now() + (options.startupWaitMs ?? 0);
    for (;;) {
      try {
        await connectOnce(redis, connectTimeoutMs);
        return new RedisStore(redis, options, topology);
      } catch (err) {
        redis.disconnect();
        if (Date.now() + STARTUP_RETRY_MS < giveUpAt) {
          await new Promise((r) => setTimeout(r, STARTUP_RETRY_MS));
          continue;
        }
        const why = (lastError ?? (err as Error)).message;
        throw new KmsLabError('KMSLAB_HOST_UNAVAILABLE', `Cannot reach ${where} (${why}); start Redis, or use the embedded store (--store memory)`, { cause: err });
      }
    }
  }

  keys(family: Family): { clients: string; stats: string } {
    const tag = `{${this.#hostId}:${family}}`;
    return { clients: `kmslab:${tag}:clients`, stats: `kmslab:${tag}:stats` };
  }

  record(request: CountedRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      let queue = this.#pending.get(request.family);
      if (!queue) this.#pending.set(request.family, (queue = []));
      queue.push({ request, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After every socket read of this turn: one script call per family for all of them.
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [family, queue] of pending) {
      for (let i = 0; i < queue.length; i += MAX_BATCH) this.#send(family, queue.slice(i, i + MAX_BATCH));
    }
  }

  #send(family: Family, batch: Waiting[]): void {
    const k = this.keys(family);
    const args: Array<string | number> = [COUNT_WINDOW_MS, MAX_CLIENT_RECORDS];
    for (const { request: r } of batch) args.push(r.now, r.cmid, r.threshold, r.licenseStatus);
    this.#retrying(() => this.#apply(k, args)).then(
      (counts) => batch.forEach((w, i) => w.resolve(counts[i]!)),
      (err) => {
        const e = unavailable(err);
        for (const w of batch) w.reject(e);
      },
    );
  }

  /** The script, and with replica durability a WAIT on the same primary, in one round trip. */
  async #apply(k: { clients: string; stats: string }, args: Array<string | number>): Promise<number[]> {
    if (this.#durability === 'primary') return this.#redis.kmslabRecord(k.clients, k.stats, ...args);
    const pipeline = (this.#redis.pipeline() as RecordPipeline).kmslabRecord(k.clients, k.stats, ...args);
    pipeline.call('WAIT', 1, this.#timeoutMs);
    const results = (await pipeline.exec()) ?? [];
    const [scriptErr, counts] = results[0] ?? [new Error('no reply')];
    if (scriptErr) throw scriptErr;
    const [waitErr, replicas] = results[1] ?? [new Error('no reply to WAIT')];
    if (waitErr) throw waitErr;
    // Applied on the primary but not yet on a replica: not acknowledged. A retry touches the same client again, which is harmless.
    if (Number(replicas) < 1) throw new Error(`no replica confirmed the write within ${this.#timeoutMs} ms`);
    return counts as number[];
  }

  /** Runs `op` again on failover errors, with back-off, until the retry budget is spent. */
  async #retrying<T>(op: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.#retryBudgetMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        const message = (err as Error)?.message ?? '';
        if (!TRANSIENT.test(message) || Date.now() + 50 > deadline) throw err;
        // A pipeline that met MOVED (script + WAIT after a failover) is not redirected by ioredis: refresh the slot map ourselves.
        if (this.#cluster && /MOVED|ASK|CLUSTERDOWN/.test(message)) await new Promise<void>((r) => (this.#redis as Cluster).refreshSlotsCache(() => r()));
        await new Promise((r) => setTimeout(r, Math.min(50 * attempt, 500, Math.max(0, deadline - Date.now()))));
      }
    }
  }

  async recordRefused(r: RefusedRequest): Promise<void> {
    const k = this.keys(r.family);
    try {
      await this.#retrying(() => this.#redis.multi().hincrby(k.stats, 'total', 1).hincrby(k.stats, 'failed', 1).hincrby(k.stats, r.licenseStatus, 1).exec());
    } catch (err) {
      throw unavailable(err);
    }
  }

  async consumeMak(key: string, cmid: string, limit: number): Promise<number | null> {
    try {
      const remaining = await this.#retrying(() => this.#redis.kmslabMak(`kmslab:{${this.#hostId}:mak}:${key}`, cmid, limit));
      return remaining < 0 ? null : remaining;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async stats(families: readonly Family[], now: number): Promise<Record<Family, FamilyStats>> {
    // One pipeline per family: in a Redis Cluster each family's keys are one slot, different families are not.
    const perFamily = await Promise.all(
      families.map(async (f) => {
        const k = this.keys(f);
        const results = await this.#redis.pipeline().zcount(k.clients, now - COUNT_WINDOW_MS, '+inf').hgetall(k.stats).exec().catch((err: unknown) => {
          throw unavailable(err);
        });
        const [countErr, count] = results?.[0] ?? [new Error('no reply'), 0];
        const [hashErr, hash] = results?.[1] ?? [new Error('no reply'), {}];
        if (countErr || hashErr) throw unavailable(countErr ?? hashErr);
        const h = hash as Record<string, string>;
        const requestsByStatus = emptyStatusCounts();
        for (const s of LICENSE_STATUS_NAMES) requestsByStatus[s] = Number(h[s] ?? 0);
        return [f, { currentCount: Math.min(Number(count), MAX_CLIENT_RECORDS), totalRequests: Number(h.total ?? 0), failedRequests: Number(h.failed ?? 0), requestsByStatus }] as const;
      }),
    );
    return Object.fromEntries(perFamily) as Record<Family, FamilyStats>;
  }

  async healthy(): Promise<boolean> {
    if (this.#redis.status !== 'ready') return false;
    return this.#redis.ping().then(
      () => true,
      () => false,
    );
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

function unavailable(err: unknown): KmsLabError {
  return new KmsLabError('KMSLAB_HOST_UNAVAILABLE', `The KMS host cannot reach its Redis store: ${(err as Error)?.message ?? err}`, { cause: err });
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
