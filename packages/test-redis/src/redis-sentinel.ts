import { Redis } from 'ioredis';
import { RedisServer } from '@kmslab/lab/live';
import { waitFor } from '@kmslab/core';

/**
 * A real Sentinel setup on loopback: one primary, `replicas` replicas and
 * `sentinels` sentinels (quorum: a majority) watching master `name`, with
 * short timeouts so a failover takes seconds.
 */
export class RedisSentinelSetup implements AsyncDisposable {
  private constructor(
    readonly name: string,
    readonly servers: RedisServer[],
    readonly sentinels: RedisServer[],
  ) {}

  static async start(options: { replicas?: number; sentinels?: number; name?: string; durable?: boolean } = {}): Promise<RedisSentinelSetup> {
    const name = options.name ?? 'kmslab';
    const servers: RedisServer[] = [];
    const sentinels: RedisServer[] = [];
    try {
      servers.push(await RedisServer.start({ durable: options.durable }));
      const primary = servers[0]!.port;
      for (let i = 0; i < (options.replicas ?? 1); i++) servers.push(await RedisServer.start({ durable: options.durable, args: ['--replicaof', '127.0.0.1', String(primary), '--replica-announce-ip', '127.0.0.1'] }));
      const count = options.sentinels ?? 3;
      const quorum = Math.floor(count / 2) + 1;
      for (let i = 0; i < count; i++) {
        sentinels.push(await RedisServer.start({
          durable: false,
          config: [`sentinel monitor ${name} 127.0.0.1 ${primary} ${quorum}`, `sentinel down-after-milliseconds ${name} 1000`, `sentinel failover-timeout ${name} 5000`, `sentinel parallel-syncs ${name} 1`, 'sentinel announce-ip 127.0.0.1', ''].join('\n'),
          args: ['--sentinel'],
        }));
      }
      const setup = new RedisSentinelSetup(name, servers, sentinels);
      await setup.waitForReplicas();
      return setup;
    } catch (err) {
      for (const s of [...sentinels, ...servers]) await s[Symbol.asyncDispose]();
      throw err;
    }
  }

  /** As `--redis-sentinels` takes them. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  /** The server the sentinels call primary now. */
  async primary(): Promise<RedisServer> {
    const r = new Redis({ port: this.sentinels.find((s) => s.running)!.port, lazyConnect: true });
    try {
      await r.connect();
      const [, port] = (await r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name)) as [string, string];
      return this.servers.find((s) => s.port === Number(port))!;
    } finally {
      r.disconnect();
    }
  }

  /** Waits until the primary sees its replicas online. */
  async waitForReplicas(timeoutMs = 20_000): Promise<void> {
    let info = '';
    await waitFor(
      async () => {
        const p = await this.primary();
        const r = new Redis({ port: p.port, lazyConnect: true });
        info = await r.connect().then(() => r.info('replication')).finally(() => r.disconnect());
        const online = (info.match(/state=online/g) ?? []).length;
        return online >= this.servers.length - 1 - this.servers.filter((s) => !s.running).length;
      },
      { timeoutMs, everyMs: 200, timedOut: () => new Error(`Sentinel setup: replicas not online within ${timeoutMs} ms:\n${info}`) },
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const s of [...this.sentinels, ...this.servers]) await s[Symbol.asyncDispose]();
  }
}
