import { readFileSync } from 'node:fs';
import { COUNT_WINDOW_MS, KmsLabError, LICENSE_STATUS_NAMES, MAX_CLIENT_RECORDS, type Family } from '@kmslab/core';
import { Redis, type RedisOptions } from 'ioredis';
import { emptyStatusCounts } from './family-records.js';
import type { ActivationStore, CountedRequest, FamilyStats, RefusedRequest } from './store.js';

const RECORD_LUA = readFileSync(new URL('./record-requests.lua', import.meta.url), 'utf8');
/** Largest batch in one script call (Lua's unpack and Redis's argument limits are far above). */
const MAX_BATCH = 256;

export interface RedisStoreOptions {
  url: string;
  hostId: string;
  /** Longest wait for one Redis command before the client is told "host unavailable". */
  commandTimeoutMs?: number;
  /** How long start-up waits for Redis before it gives up. */
  connectTimeoutMs?: number;
}

type RedisWithRecord = Redis & {
  kmslabRecord(clients: string, stats: string, ...args: Array<string | number>): Promise<number[]>;
  kmslabMak(key: string, cmid: string, limit: number): Promise<number>;
};

/** One MAK activation per distinct client, atomically; -1 when the key is used up. */
const MAK_LUA = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return tonumber(ARGV[2]) - redis.call('SCARD', KEYS[1]) end
local used = redis.call('SCARD', KEYS[1])
if used >= tonumber(ARGV[2]) then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
return tonumber(ARGV[2]) - used - 1`;

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
 * `{hostId:family}` so a Redis Cluster keeps a family's keys in one slot.
 * Host processes with the same host id share the count.
 */
export class RedisStore implements ActivationStore {
  readonly kind = 'redis';
  readonly #redis: RedisWithRecord;
  readonly #hostId: string;
  #pending = new Map<Family, Waiting[]>();
  #flushScheduled = false;

  private constructor(redis: RedisWithRecord, hostId: string) {
    this.#redis = redis;
    this.#hostId = hostId;
  }

  static async open(options: RedisStoreOptions): Promise<RedisStore> {
    const { url, hostId, commandTimeoutMs = 2000, connectTimeoutMs = 5000 } = options;
    const redisOptions: RedisOptions = {
      // Fail fast while Redis is away (the client hears "host unavailable"
      // and retries); reconnect in the background so service resumes by itself.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      retryStrategy: (attempt) => Math.min(50 * attempt, 1000),
      lazyConnect: true,
    };
    const redis = new Redis(url, redisOptions) as RedisWithRecord;
    redis.defineCommand('kmslabRecord', { numberOfKeys: 2, lua: RECORD_LUA });
    redis.defineCommand('kmslabMak', { numberOfKeys: 1, lua: MAK_LUA });
    let lastError: Error | undefined;
    redis.on('error', (err: Error) => (lastError = err)); // later errors show in healthy() and per request; ioredis reconnects
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      const why = (lastError ?? (err as Error)).message;
      throw new KmsLabError('KMSLAB_HOST_UNAVAILABLE', `Cannot reach Redis at ${redactUrl(url)} (${why}); start Redis, or use the embedded store (--store memory)`, { cause: err });
    }
    return new RedisStore(redis, hostId);
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
    this.#redis.kmslabRecord(k.clients, k.stats, ...args).then(
      (counts) => batch.forEach((w, i) => w.resolve(counts[i]!)),
      (err) => {
        const e = unavailable(err);
        for (const w of batch) w.reject(e);
      },
    );
  }

  async recordRefused(r: RefusedRequest): Promise<void> {
    const k = this.keys(r.family);
    try {
      await this.#redis.multi().hincrby(k.stats, 'total', 1).hincrby(k.stats, 'failed', 1).hincrby(k.stats, r.licenseStatus, 1).exec();
    } catch (err) {
      throw unavailable(err);
    }
  }

  async consumeMak(key: string, cmid: string, limit: number): Promise<number | null> {
    try {
      const remaining = await this.#redis.kmslabMak(`kmslab:{${this.#hostId}:mak}:${key}`, cmid, limit);
      return remaining < 0 ? null : remaining;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async stats(families: readonly Family[], now: number): Promise<Record<Family, FamilyStats>> {
    const pipeline = this.#redis.pipeline();
    for (const f of families) {
      const k = this.keys(f);
      pipeline.zcount(k.clients, now - COUNT_WINDOW_MS, '+inf');
      pipeline.hgetall(k.stats);
    }
    let results: Array<[Error | null, unknown]>;
    try {
      results = (await pipeline.exec()) ?? [];
    } catch (err) {
      throw unavailable(err);
    }
    const out: Record<Family, FamilyStats> = {};
    families.forEach((f, i) => {
      const [countErr, count] = results[2 * i] ?? [new Error('no reply'), 0];
      const [hashErr, hash] = results[2 * i + 1] ?? [new Error('no reply'), {}];
      if (countErr || hashErr) throw unavailable(countErr ?? hashErr);
      const h = hash as Record<string, string>;
      const requestsByStatus = emptyStatusCounts();
      for (const s of LICENSE_STATUS_NAMES) requestsByStatus[s] = Number(h[s] ?? 0);
      out[f] = {
        currentCount: Math.min(Number(count), MAX_CLIENT_RECORDS),
        totalRequests: Number(h.total ?? 0),
        failedRequests: Number(h.failed ?? 0),
        requestsByStatus,
      };
    });
    return out;
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
