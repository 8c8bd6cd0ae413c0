import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { LOCK_FILE } from '@kmslab/core';
import { MemoryStore, type MemoryStoreOptions } from './memory-store.js';

const req = (cmid: string, now = 1000) => ({ family: 'windows', cmid, now, threshold: 25, licenseStatus: 'initial-grace' as const });
const dirs: string[] = [];
const dir = () => { const d = mkdtempSync(join(tmpdir(), 'kmslab-mem-')); dirs.push(d); return d; };
// The tests "crash" a store by opening the next one without closing it: a dead process's lock is taken over, so its
// lock file goes first (a live one is refused: the last test). Its file handle is closed here, once its test is over.
const opened: MemoryStore[] = [];
const openStore = async (o: MemoryStoreOptions) => {
  if (o.dataDir) rmSync(join(o.dataDir, LOCK_FILE), { force: true });
  const s = await MemoryStore.open(o);
  opened.push(s);
  return s;
};
afterEach(async () => {
  for (const s of opened.splice(0).reverse()) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('MemoryStore durability', () => {
  test('the journal alone restores every acknowledged record (crash: no close, no snapshot)', async () => {
    const d = dir();
    const a = await openStore({ dataDir: d });
    await Promise.all(['a', 'b', 'c'].map((c) => a.record(req(c))));
    await a.recordRefused({ family: 'office2013', licenseStatus: 'unlicensed' });
    // No close(): as if the process died right after answering.
    const b = await openStore({ dataDir: d });
    const s = await b.stats(['windows', 'office2013'], 1000);
    expect(s.windows).toMatchObject({ currentCount: 3, totalRequests: 3, failedRequests: 3 });
    expect(s.office2013).toMatchObject({ currentCount: 0, totalRequests: 1, failedRequests: 1, requestsByStatus: { unlicensed: 1 } });
  });

  test('compaction writes a snapshot and empties the journal; entries are never applied twice', async () => {
    const d = dir();
    const a = await openStore({ dataDir: d, compactEvery: 5 });
    for (let i = 0; i < 12; i++) await a.record(req(`c${i}`));
    expect(JSON.parse(readFileSync(join(d, 'snapshot.json'), 'utf8')).seq).toBeGreaterThanOrEqual(10);
    expect(readFileSync(join(d, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean).length).toBeLessThan(5);
    const b = await openStore({ dataDir: d });
    expect((await b.stats(['windows'], 1000)).windows).toMatchObject({ currentCount: 12, totalRequests: 12 });
  });

  test('a crash between snapshot and journal truncation does not count twice (sequence numbers)', async () => {
    const d = dir();
    const a = await openStore({ dataDir: d });
    for (const c of ['a', 'b']) await a.record(req(c));
    const journal = readFileSync(join(d, 'journal.ndjson'), 'utf8');
    await a.close(); // snapshot holds a, b; journal emptied
    writeFileSync(join(d, 'journal.ndjson'), journal); // as if the truncate never happened
    const b = await openStore({ dataDir: d });
    expect((await b.stats(['windows'], 1000)).windows!.totalRequests).toBe(2);
  });

  test('a torn last journal line (crash mid-write) is ignored; a corrupt earlier line is KMSLAB_STORE_CORRUPT', async () => {
    const d = dir();
    const a = await openStore({ dataDir: d });
    await a.record(req('a'));
    appendFileSync(join(d, 'journal.ndjson'), '{"q":2,"t":"r","f":"win');
    const b = await openStore({ dataDir: d });
    expect((await b.stats(['windows'], 1000)).windows!.currentCount).toBe(1);
    await b.record(req('b')); // appended after the cut, not glued to the torn line
    const c = await openStore({ dataDir: d });
    expect((await c.stats(['windows'], 1000)).windows!.currentCount).toBe(2);
    appendFileSync(join(d, 'journal.ndjson'), 'garbage\n{"q":9,"t":"r","f":"windows","c":"z","n":1000,"th":25,"s":"licensed"}\n');
    await expect(openStore({ dataDir: d })).rejects.toMatchObject({ code: 'KMSLAB_STORE_CORRUPT' });
  });

  test('MAK activations queued in one turn cannot overspend the key, and replay decides the same', async () => {
    const d = dir();
    const a = await openStore({ dataDir: d });
    const results = await Promise.all(['a', 'b', 'c'].map((c) => a.consumeMak('KMSLAB-MAK-X', c, 2)));
    expect(results).toEqual([1, 0, null]);
    const b = await openStore({ dataDir: d });
    expect(await b.consumeMak('KMSLAB-MAK-X', 'c', 2)).toBeNull();
    expect(await b.consumeMak('KMSLAB-MAK-X', 'b', 2)).toBe(0);
  });

  test('a second store on a folder a running store holds is refused (KMSLAB_DATA_DIR_LOCKED); once closed, the folder is free', async () => {
    const d = dir();
    const a = await MemoryStore.open({ dataDir: d });
    await expect(MemoryStore.open({ dataDir: d })).rejects.toMatchObject({ code: 'KMSLAB_DATA_DIR_LOCKED', message: expect.stringContaining(`is in use by process ${process.pid}`) });
    await a.close();
    const b = await openStore({ dataDir: d });
    expect(b.kind).toBe('memory');
  });
});
