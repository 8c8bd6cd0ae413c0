import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/** Clients and requests a memory store's folder holds (snapshot, then the journal after it), read without opening the store. */
export function memoryStoreCounts(dir: string): { clients: number; requests: number } | null {
  const snapshotPath = join(dir, 'snapshot.json');
  const journalPath = join(dir, 'journal.ndjson');
  if (!existsSync(snapshotPath) && !existsSync(journalPath)) return null;
  const clients = new Set<string>();
  let requests = 0;
  let after = 0;
  try {
    const s = JSON.parse(readFileSync(snapshotPath, 'utf8')) as { seq?: number; families?: Record<string, { clients: Array<[string, number]>; total: number }> };
    after = s.seq ?? 0;
    for (const [family, f] of Object.entries(s.families ?? {})) {
      for (const [cmid] of f.clients) clients.add(`${family}/${cmid}`);
      requests += f.total;
    }
  } catch {
    // No snapshot yet (or none readable): the journal alone.
  }
  try {
    for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const e = JSON.parse(line) as { q: number; t: string; f?: string; c?: string };
        if (e.q <= after || (e.t !== 'r' && e.t !== 'x')) continue;
        requests++;
        if (e.t === 'r') clients.add(`${e.f}/${e.c}`);
      } catch {
        // A torn last line: never acknowledged.
      }
    }
  } catch {
    // No journal.
  }
  return { clients: clients.size, requests };
}

/**
 * What kmslab keeps in a folder, a line each, as `reset` and the start lines
 * say it: hosts' counts, DNS zones, client machines, `kmslab up`'s lab.
 */
export function describeState(root: string): string[] {
  const lines: string[] = [];
  const visit = (dir: string) => {
    const where = relative(root, dir) || '.';
    const counts = memoryStoreCounts(dir);
    if (counts) lines.push(`host ${basename(dir)}: ${counts.clients} clients, ${counts.requests} requests (memory store, ${where})`);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile() && e.name.endsWith('.zone')) lines.push(`DNS zone ${e.name.slice(0, -'.zone'.length)}: as dynamic updates left it (${join(where, e.name)})`);
      if (e.isFile() && e.name === 'client.json') lines.push(`client machine ${clientSummary(join(dir, e.name))} (${where})`);
      if (e.isDirectory() && !e.isSymbolicLink()) visit(join(dir, e.name));
    }
  };
  visit(root);
  return lines;
}

function clientSummary(path: string): string {
  try {
    const s = JSON.parse(readFileSync(path, 'utf8')) as { cmid?: string; productId?: string | null; licenseStatus?: string; cachedHost?: string | null; manualHost?: string | null; makKey?: string | null };
    const extras = [s.manualHost && `host set to ${s.manualHost}`, s.cachedHost && `cached host ${s.cachedHost}`, s.makKey && 'a MAK set'].filter(Boolean);
    return `${s.cmid ?? '?'}: ${s.productId ?? 'no product'}, ${s.licenseStatus ?? 'unknown'}${extras.map((e) => `, ${e}`).join('')}`;
  } catch {
    return '(unreadable state)';
  }
}
