import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const INSTALL: Record<string, string> = {
  dig: 'apt-get install bind9-dnsutils',
  nsupdate: 'apt-get install bind9-dnsutils',
  kdig: 'apt-get install knot-dnsutils',
  named: 'apt-get install bind9',
  knotd: 'apt-get install knot',
  nsd: 'apt-get install nsd',
  dnsmasq: 'apt-get install dnsmasq-base',
  ip: 'apt-get install iproute2',
  nft: 'apt-get install nftables',
  unshare: 'apt-get install util-linux',
};

/**
 * Fails with how to get the tool when it is not on PATH (nothing is skipped).
 * Looked up, never run: a daemon's `-v` may mean "verbose" and start it.
 */
export function requireTool(tool: string): void {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  const found = dirs.some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${tool} not found on PATH; install it (Debian: ${INSTALL[tool] ?? `apt-get install ${tool}`})`);
}

export function run(tool: string, args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  requireTool(tool);
  return new Promise((resolve) => {
    const child = execFile(tool, args, { timeout: 20_000, encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

export interface DigAnswer {
  status: string;
  flags: string[];
  answer: string[];
  authority: string[];
  additional: string[];
  raw: string;
}

/** Runs `dig` (or `kdig`) and splits its answer into header status, flags and sections (records as "name ttl class type data"). */
export async function dig(tool: 'dig' | 'kdig', server: string, port: number, args: readonly string[]): Promise<DigAnswer> {
  const retry = tool === 'dig' ? ['+tries=1', '+time=3'] : ['+retry=0', '+timeout=3'];
  const r = await run(tool, [`@${server}`, '-p', String(port), ...retry, ...args]);
  const out = r.stdout;
  const status = /status: (\w+)/.exec(out)?.[1] ?? `no answer (exit ${r.code}): ${out}${r.stderr}`;
  const flags = (/flags: ([a-z ]+);/i.exec(out)?.[1] ?? '').trim().split(/\s+/);
  const section = (name: string) => {
    const m = new RegExp(`;; ${name} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|\\n;;|$)`).exec(out);
    return m ? m[1]!.split('\n').filter((l) => l && !l.startsWith(';')).map((l) => l.split(/\s+/).join(' ')) : [];
  };
  return { status, flags, answer: section('ANSWER'), authority: section('AUTHORITY'), additional: section('ADDITIONAL'), raw: out };
}
