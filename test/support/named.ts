import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from './dns-tools.js';
import { stopChild } from './process-group.js';
import { freePort } from '@kmslab/lab/live';

/**
 * A real BIND (`named -g`, foreground) on a free loopback port with a config
 * of the test's making; `zones` is the text of its zone statements, with
 * DIR standing for its temp folder.
 */
export class NamedServer implements AsyncDisposable {
  #out = '';
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly proc: ChildProcess,
  ) {
    proc.stdout!.on('data', (d) => (this.#out += d));
    proc.stderr!.on('data', (d) => (this.#out += d));
  }

  static async start(zones: string, extra = '', at: { port?: number; dir?: string } = {}): Promise<NamedServer> {
    requireTool('named');
    const port = at.port ?? (await freePort());
    const dir = at.dir ?? mkdtempSync(join(tmpdir(), 'kmslab-named-'));
    const conf = `
options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  notify no;
};
controls { };
${extra}
${zones.replaceAll('DIR', dir)}
`;
    writeFileSync(join(dir, 'named.conf'), conf);
    // -n 1: one worker thread, like the benchmark; -g: foreground, logs on stderr.
    const proc = spawn('named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new NamedServer(port, dir, proc);
    const deadline = Date.now() + 15_000;
    while (!server.#out.includes('running')) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`named did not start:\n${server.#out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return server;
  }

  logs(): string {
    return this.#out;
  }

  /** Stops named and keeps its folder (its zones and journals), for a restart on the same port and folder. */
  async stop(): Promise<void> {
    await stopChild(this.proc);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await stopChild(this.proc);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
