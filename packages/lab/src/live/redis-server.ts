import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

/** ioredis, loaded the first time a Redis is started or asked (not by every command that imports the lab). */
const ioredis = (): typeof import('ioredis') => createRequire(import.meta.url)('ioredis');
import { freePort, freePortPair } from './free-port.js';
import { waitFor } from '@kmslab/core';

const HOW_TO_GET =
  'This needs a real Redis: install redis-server (Debian: apt-get install redis-server) so it is on PATH; kmslab starts its own on a free loopback port.';

/** Throws, saying how to get it, when redis-server is not on PATH. */
export function requireRedisServer(): string {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) throw new Error(`redis-server not found on PATH. ${HOW_TO_GET}`);
  return 'redis-server';
}

/**
 * A real redis-server on a free loopback port (lab --live runs, tests, benchmarks), in a temp dir, with an
 * append-only file fsynced on every write: stopping and starting it again
 * keeps every write it acknowledged (what "no acknowledged client lost" needs).
 */
export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #proc: ChildProcess | null = null;

  private constructor(
    port: number,
    dir: string,
    private readonly durable: boolean,
    /** A config file read first (Sentinel rewrites it), or null. */
    private readonly configFile: string | null,
    private readonly args: readonly string[],
  ) {
    this.port = port;
    this.dir = dir;
  }

  /**
   * `durable: false` (benchmarks): no append-only file, Redis's speed without
   * fsync. `args`: more redis-server arguments (cluster mode, replicaof…);
   * `config`: a config file's text written to the data dir and read first
   * (Sentinel needs one it can rewrite); `parentDir`: where its temp data
   * dir is made (the OS temp dir by default; a soak puts it on a tmpfs so
   * the disk's fsync latency is not what it measures).
   */
  static async start(options: { durable?: boolean; args?: readonly string[]; config?: string; parentDir?: string } = {}): Promise<RedisServer> {
    requireRedisServer();
    const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'kmslab-redis-'));
    const configFile = options.config === undefined ? null : join(dir, 'redis.conf');
    if (configFile) writeFileSync(configFile, options.config!);
    // A cluster node also listens on its bus port (port + 10000).
    const clustered = options.args?.includes('--cluster-enabled') ?? false;
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(clustered ? await freePortPair(10_000) : await freePort(), dir, options.durable ?? true, configFile, options.args ?? []);
      try {
        await server.resume();
        return server;
      } catch (err) {
        // Another process took the port between our look and redis-server's bind: another port.
        if (attempt < 3 && /Address already in use/.test((err as Error).message)) continue;
        throw err;
      }
    }
  }

  /** The process id while it runs (soak runs watch its memory). */
  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#proc !== null && this.#proc.exitCode === null;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and data dir. */
  async resume(): Promise<void> {
    const args = [...(this.configFile ? [this.configFile] : []), '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...(this.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']), ...this.args];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#proc = proc;
    let output = '';
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}:\n${output}`);
        const client = new (ioredis().Redis)(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        client.on('error', () => {});
        const ok = await client.connect().then(() => client.ping()).then(() => true, () => false);
        client.disconnect();
        return ok;
      },
      { timeoutMs: 10_000, everyMs: 50, timedOut: () => new Error(`redis-server did not answer on port ${this.port} within 10 s:\n${output}`) },
    );
  }

  /** The process dies at once (SIGKILL), as in a crash; `resume()` starts it again. */
  kill(): Promise<void> {
    return this.#end('SIGKILL');
  }

  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void> {
    return this.#end('SIGTERM');
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const proc = this.#proc;
    this.#proc = null;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** A client for assertions from the test itself. */
  client(): Redis {
    return new (ioredis().Redis)(this.url, { maxRetriesPerRequest: 1 });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
