import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** What `ss` says listens on a TCP port: `redis-server (pid 1234)`, or null. */
function holder(port: number): string | null {
  const r = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(r.stdout ?? '');
  return m ? `${m[1]} (pid ${m[2]})` : r.stdout?.trim() ? 'another process' : null;
}

function taken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(true));
    s.listen({ port, host: '127.0.0.1', exclusive: true }, () => s.close(() => resolve(false)));
  });
}

/**
 * Fixed ports a test uses as the documentation writes them (1688, 6379…):
 * free, or the test fails at once with one line saying what holds the port —
 * it must never talk to a server it did not start (a user's own Redis).
 */
export async function requireFreePorts(ports: readonly number[], why: string): Promise<void> {
  for (const port of ports) {
    if (await taken(port)) throw new Error(`port ${port} is taken by ${holder(port) ?? 'another process'}: ${why} use it as written; stop it, then run the tests again`);
  }
}
