import { spawnSync } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { RedisServer } from '@kmslab/lab/live';
import { waitFor } from '@kmslab/core';

/**
 * A real Redis Cluster on loopback: `primaries` redis-servers in cluster mode
 * plus `replicas` per primary, joined by `redis-cli --cluster create`, each
 * with an append-only file fsynced on every write. A short node timeout makes
 * failovers take seconds, not the default 15.
 */
export class RedisCluster implements AsyncDisposable {
  private constructor(readonly nodes: RedisServer[]) {}

  /**
   * `durable: false` (benchmarks): no append-only file; `parentDir`: where the
   * nodes' data dirs are made (see RedisServer.start). One primary without
   * replicas is allowed too (all slots on one node).
   */
  static async start(options: { primaries?: number; replicas?: number; nodeTimeoutMs?: number; durable?: boolean; parentDir?: string } = {}): Promise<RedisCluster> {
    const primaries = options.primaries ?? 3;
    const replicas = options.replicas ?? 1;
    const total = primaries * (1 + replicas);
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < total; i++) {
        nodes.push(await RedisServer.start({ durable: options.durable, parentDir: options.parentDir, args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 1500), '--cluster-announce-ip', '127.0.0.1'] }));
      }
      if (primaries === 1 && replicas === 0) {
        // redis-cli --cluster create wants three primaries; one node takes every slot itself.
        const one = new Redis({ port: nodes[0]!.port });
        await one.call('CLUSTER', 'ADDSLOTSRANGE', 0, 16383).finally(() => one.disconnect());
      } else {
        const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { encoding: 'utf8', timeout: 60_000 });
        if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (is redis-tools installed?):\n${create.stdout}${create.stderr}`);
      }
      const cluster = new RedisCluster(nodes);
      await cluster.waitUntilHealthy();
      return cluster;
    } catch (err) {
      for (const n of nodes) await n[Symbol.asyncDispose]();
      throw err;
    }
  }

  /** Seed nodes, as `--redis-cluster` takes them. */
  get seeds(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  /** Waits until every running node reports cluster_state:ok and every slot served. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    let states: Array<string | null> = [];
    await waitFor(
      async () => {
        states = await Promise.all(this.nodes.map((n) => this.#info(n.port)));
        return states.every((s) => s === null || (/cluster_state:ok/.test(s) && /cluster_slots_ok:16384/.test(s)));
      },
      { timeoutMs, everyMs: 200, timedOut: () => new Error(`Redis Cluster not healthy within ${timeoutMs} ms:\n${states.join('\n---\n')}`) },
    );
  }

  /** The node that serves `key`'s slot as primary now. */
  async primaryFor(key: string): Promise<RedisServer> {
    const client = new Cluster([{ host: '127.0.0.1', port: this.nodes.find((n) => n.running)!.port }], { lazyConnect: true });
    try {
      await client.connect();
      const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
      const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
      return this.nodes.find((n) => n.port === Number(range[2][1]))!;
    } finally {
      client.disconnect();
    }
  }

  /** A cluster client for the test's own checks. */
  client(): Cluster {
    return new Cluster(this.nodes.filter((n) => n.running).map((n) => ({ host: '127.0.0.1', port: n.port })));
  }

  async #info(port: number): Promise<string | null> {
    const node = this.nodes.find((n) => n.port === port)!;
    if (!node.running) return null;
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    try {
      await r.connect();
      return String(await r.call('CLUSTER', 'INFO'));
    } catch {
      return 'unreachable';
    } finally {
      r.disconnect();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const n of this.nodes) await n[Symbol.asyncDispose]();
  }
}
