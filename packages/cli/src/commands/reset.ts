import { existsSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { Command } from 'commander';
import { DataDirLock, KmsLabError, OWN_DIR_MARKER } from '@kmslab/core';
import { describeState } from '../state-summary.js';

/** The folder `reset` clears when not told otherwise: kmslab's own, by name. */
const DEFAULT_DIR = '.kmslab';

/**
 * `kmslab reset`: forgets what earlier runs left in `./.kmslab` — hosts'
 * counts (memory store), the client's state and cached host, the DNS
 * server's updated zones, `kmslab up`'s lab — so a walkthrough starts from
 * a new host and a new client machine, as the README's sections assume.
 * It removes only folders kmslab made (each holds `.kmslab-folder`), never
 * the current folder or one above it, and nothing a running kmslab holds.
 */
export function resetCommand(): Command {
  return new Command('reset')
    .description("forget the state kmslab keeps in ./.kmslab (host counts, client state, DNS zones, kmslab up's lab); Redis with --redis-url")
    .option('--dir <dir>', 'the folder to clear (one kmslab made)', DEFAULT_DIR)
    .option('--redis-url <url>', 'also forget the counts kmslab hosts keep in this Redis (keys kmslab:*)')
    .option('--host-id <id>', 'with --redis-url: only this host id')
    .action(async (o: { dir: string; redisUrl?: string; hostId?: string }) => {
      const lines = existsSync(o.dir) || isLink(o.dir) ? forgetFolder(o.dir) : [`nothing to reset: ${o.dir} does not exist`];
      if (o.redisUrl) lines.push(await forgetRedis(o.redisUrl, o.hostId));
      else lines.push('Counts a host keeps in Redis (--store redis) are not in this folder: kmslab reset --redis-url URL forgets them.');
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

const isLink = (path: string) => {
  try {
    return lstatSync(path.replace(/[/\\]+$/, '') || path).isSymbolicLink();
  } catch {
    return false;
  }
};

/** Checks, then removes; returns what was forgotten, a line each. */
function forgetFolder(dir: string): string[] {
  const bare = dir.replace(/[/\\]+$/, '') || dir;
  if (isLink(bare)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${dir} is a link: reset removes only a folder kmslab made, not what a link points to`);
  const abs = resolve(bare);
  const cwd = process.cwd();
  if (abs === cwd || `${cwd}${sep}`.startsWith(`${abs}${sep}`) || abs === sep) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${dir} is this folder or one above it: reset removes only a folder kmslab made inside it (default ./.kmslab)`);
  }
  if (!lstatSync(abs).isDirectory()) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${dir} is not a folder`);
  // ./.kmslab is kmslab's by its name (folders made before the marker existed have none); any other needs the marker.
  const ownByName = bare === DEFAULT_DIR || abs === resolve(DEFAULT_DIR);
  if (!ownByName && !existsSync(join(abs, OWN_DIR_MARKER))) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${dir} was not made by kmslab (it holds no ${OWN_DIR_MARKER}): reset leaves it alone; remove it yourself if you mean to`);
  }
  const held = heldBelow(abs);
  if (held) throw new KmsLabError('KMSLAB_DATA_DIR_LOCKED', `${relative(cwd, held.dir) || held.dir} is in use by process ${held.pid} (${held.what}): stop it first, then reset`);
  const summary = describeState(abs);
  const kept = remove(abs, ownByName);
  const shown = relative(cwd, abs) || abs;
  return [
    `forgot ${shown}:`,
    ...(summary.length ? summary.map((s) => `  ${s}`) : ['  (nothing in it)']),
    ...kept.map((k) => `  kept ${relative(cwd, k)}: not made by kmslab`),
  ];
}

/** The first folder at or below `dir` that a running kmslab holds. */
function heldBelow(dir: string): { dir: string; pid: number; what: string } | null {
  const h = DataDirLock.holder(dir);
  if (h) return { dir, pid: h.pid, what: h.what };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const below = heldBelow(join(dir, e.name));
    if (below) return below;
  }
  return null;
}

/**
 * Removes what kmslab made in `dir`: its files, and the folders below it
 * that hold the marker; a folder without it (a user's own, put there) is
 * kept, and so is every folder above it. In ./.kmslab (`legacy`), a folder
 * from before the marker existed counts as kmslab's when it holds no folder
 * of its own. Returns what was kept.
 */
function remove(dir: string, legacy: boolean): string[] {
  const kept: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (existsSync(join(path, OWN_DIR_MARKER)) || (legacy && !hasUserFolders(path))) kept.push(...remove(path, legacy));
      else kept.push(path);
    } else unlinkSync(path);
  }
  if (kept.length === 0) rmdirSync(dir);
  return kept;
}

/** A folder from before the marker existed is kmslab's when it holds files and kmslab-made folders only. */
function hasUserFolders(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && !existsSync(join(dir, e.name, OWN_DIR_MARKER)));
}

/** Deletes the `kmslab:*` keys (of one host id, or all) from a Redis. */
async function forgetRedis(url: string, hostId: string | undefined): Promise<string> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new KmsLabError('KMSLAB_CONNECTION_FAILED', `Cannot reach Redis at ${url} (${(err as Error).message})`, { cause: err });
  }
  try {
    const pattern = hostId ? `kmslab:{${hostId}:*` : 'kmslab:*';
    let removed = 0;
    const hosts = new Set<string>();
    for (let cursor = '0'; ; ) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      for (const k of keys) hosts.add(/^kmslab:\{([^:}]+)/.exec(k)?.[1] ?? '?');
      if (keys.length) removed += await redis.unlink(...keys);
      cursor = next;
      if (cursor === '0') break;
    }
    return removed ? `forgot ${removed} Redis keys at ${url} (hosts ${[...hosts].sort().join(', ')})` : `nothing to forget in Redis at ${url}${hostId ? ` for host ${hostId}` : ''}`;
  } finally {
    redis.disconnect();
  }
}
