import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { TYPE } from '@kmslab/dns-wire';
import type { LogRecord } from './log-entry.js';
import { MAX_PAGE, QueryLog, type QueryLogEntry } from './query-log.js';

const entry = (i: number, qname = `h${i}.lab.test`, qtype = 'A'): LogRecord => ({
  at: Date.UTC(2026, 11, 1) + i * 1000, address: '127.0.0.1', port: 5000 + i, tcp: false, id: i, kind: 'query', qname, qnameWire: undefined, qtype: (TYPE as Record<string, number>)[qtype],
  rd: true, ednsSize: null, dnssecOk: false, rcode: 0, answers: 1, tc: false, latencyMs: 0.1, faultId: undefined, faultAction: undefined, key: undefined, reason: undefined,
});

describe('QueryLog', () => {
  test('a ring of the last N entries; filters by name (exact or *.suffix), type, since, newest `limit` kept', () => {
    const log = new QueryLog({ capacity: 5 });
    for (let i = 0; i < 8; i++) log.record(entry(i, i % 2 ? `_vlmcs._tcp.lab.test` : `kms${i}.lab.test`, i % 2 ? 'SRV' : 'A'));
    expect(log.total).toBe(8);
    expect(log.find().map((e) => e.id)).toEqual([3, 4, 5, 6, 7]);
    expect(log.find({ type: 'srv' }).map((e) => e.id)).toEqual([3, 5, 7]);
    expect(log.find({ name: '_VLMCS._tcp.lab.test.' }).map((e) => e.id)).toEqual([3, 5, 7]);
    expect(log.find({ name: '*.lab.test', limit: 2 }).map((e) => e.id)).toEqual([6, 7]);
    expect(log.find({ since: Date.UTC(2026, 11, 1) + 6000 }).map((e) => e.id)).toEqual([6, 7]);
  });

  test('subscribers see each entry as it is recorded, until they unsubscribe', () => {
    const log = new QueryLog({ capacity: 10 });
    const seen: number[] = [];
    const off = log.subscribe((e) => seen.push(e.id));
    log.record(entry(1));
    off();
    log.record(entry(2));
    expect(seen).toEqual([1]);
  });

  test('--query-log FILE: one JSON line per entry, written once per turn', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kmslab-qlog-')), 'queries.jsonl');
    const log = new QueryLog({ capacity: 10, file });
    for (let i = 0; i < 3; i++) log.record(entry(i));
    await new Promise((r) => setImmediate(r));
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as QueryLogEntry & { time: string });
    expect(lines.map((l) => l.id)).toEqual([0, 1, 2]);
    expect(lines[1]!.time).toBe('2026-12-01T00:00:01.000Z');
    log.close();
    rmSync(dirname(file), { recursive: true, force: true });
  });

  test('a name kept in wire form (the fast path) reads back dotted, and filters as such', () => {
    const log = new QueryLog({ capacity: 4 });
    log.record({ ...entry(1), qname: undefined, qnameWire: '\x06_vlmcs\x04_tcp\x03lab\x04test\x00' });
    expect(log.find({ name: '_vlmcs._tcp.lab.test' }).map((e) => e.qname)).toEqual(['_vlmcs._tcp.lab.test']);
  });

  test('a wire-form name as a Windows client spells it (_VLMCS._TCP) reads back so, and matches filters in any case', () => {
    const log = new QueryLog({ capacity: 4 });
    log.record({ ...entry(1), qname: undefined, qnameWire: '\x06_VLMCS\x04_TCP\x03lab\x04test\x00' });
    expect(log.find({ name: '_vlmcs._tcp.lab.test' }).map((e) => e.qname)).toEqual(['_VLMCS._TCP.lab.test']);
    expect(log.find({ name: '*._TCP.LAB.test' })).toHaveLength(1);
  });
});

describe('QueryLog pages and followers (docs/dns-faults.md "Query log")', () => {
  test('each entry has its seq; a read is at most MAX_PAGE; before= pages back and after= forward', async () => {
    const log = new QueryLog({ capacity: 30_000 });
    for (let i = 0; i < 25_000; i++) log.record(entry(i));
    const newest = log.find({ limit: MAX_PAGE });
    expect(newest).toHaveLength(MAX_PAGE);
    expect([newest[0]!.seq, newest.at(-1)!.seq]).toEqual([15_001, 25_000]);
    const older = await log.read({ limit: MAX_PAGE, before: newest[0]!.seq });
    expect([older[0]!.seq, older.at(-1)!.seq]).toEqual([5_001, 15_000]);
    expect(log.find({ after: 24_998 }).map((e) => e.seq)).toEqual([24_999, 25_000]);
    expect(() => log.find({ limit: MAX_PAGE + 1 })).toThrow(/limit must be a whole number from 1 to 10000; read older entries with before=SEQ/);
    // A filter that matches nothing looks at every entry, in slices, and finds nothing.
    expect(await log.read({ name: 'nothing.lab.test' })).toEqual([]);
  });

  test('a read lets the server answer between slices: records pushed meanwhile are after it and not in it', async () => {
    const log = new QueryLog({ capacity: 200_000 });
    for (let i = 0; i < 200_000; i++) log.record(entry(i));
    let answeredDuringRead = 0;
    const reading = log.read({ name: 'nothing.lab.test' });
    const ticker = setImmediate(() => {
      answeredDuringRead++;
      log.record(entry(1));
    });
    expect(await reading).toEqual([]);
    clearImmediate(ticker);
    expect(answeredDuringRead).toBe(1);
    expect(log.total).toBe(200_001);
  });

  test('followers share one JSON line per entry; beyond the cap one is refused; one that falls behind is let go', async () => {
    const log = new QueryLog({ capacity: 10, followers: { max: 2, maxUnsentBytes: 4096, batchMs: 1 } });
    const sink = (unsent = 0) => ({ chunks: [] as string[], destroyed: false, writableLength: unsent, write(c: Buffer) { this.chunks.push(c.toString()); }, destroy() { this.destroyed = true; } });
    const a = sink();
    const slow = sink(5000);
    expect(log.follow({ type: 'A' }, a)).not.toBeNull();
    expect(log.follow({}, slow)).not.toBeNull();
    expect(log.follow({}, sink())).toBeNull();
    log.record(entry(1));
    log.record(entry(2, '_vlmcs._tcp.lab.test', 'SRV'));
    await expect.poll(() => slow.destroyed).toBe(true); // the batch (1 ms) went out
    expect(a.chunks).toHaveLength(1);
    expect(a.chunks[0]!.split('\n\n').filter(Boolean).map((f) => JSON.parse(f.slice(6)).seq)).toEqual([1]);
    expect(slow.destroyed).toBe(true);
    expect(log.followers().dropped).toBe(1);
    log.close();
  });

  test('followers get at most maxPerSecond entries a second; past it nothing is formatted for them and each is told how many were skipped', async () => {
    const log = new QueryLog({ capacity: 100, followers: { maxPerSecond: 3, batchMs: 1 } });
    const chunks: string[] = [];
    log.follow({}, { writableLength: 0, write: (c: Buffer) => chunks.push(c.toString()), destroy: () => {} });
    for (let i = 0; i < 5; i++) log.record({ ...entry(i + 1, `h${i}.lab.test`, 'A'), at: Date.UTC(2026, 11, 1) + i });
    await expect.poll(() => chunks.join('')).toContain(': skipped 2 entries'); // the batch (1 ms) went out
    const text = chunks.join('');
    expect(text.match(/^data: /gm)).toHaveLength(3);
    expect(text).toContain(': skipped 2 entries (over 3 a second; GET /queries has them)');
    expect(log.total).toBe(5);
    log.close();
  });
});
