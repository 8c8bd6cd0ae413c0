import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { TYPE } from '@kmslab/dns-wire';
import type { LogRecord } from './log-entry.js';
import { QueryLog, type QueryLogEntry } from './query-log.js';

const entry = (i: number, qname = `h${i}.lab.test`, qtype = 'A'): LogRecord => ({
  at: Date.UTC(2026, 11, 1) + i * 1000, address: '127.0.0.1', port: 5000 + i, tcp: false, id: i, kind: 'query', qname, qnameWire: undefined, qtype: (TYPE as Record<string, number>)[qtype],
  rd: true, ednsSize: null, dnssecOk: false, rcode: 0, answers: 1, tc: false, latencyMs: 0.1, faultId: undefined, faultAction: undefined, key: undefined,
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
  });

  test('a name kept in wire form (the fast path) reads back dotted, and filters as such', () => {
    const log = new QueryLog({ capacity: 4 });
    log.record({ ...entry(1), qname: undefined, qnameWire: '\x06_vlmcs\x04_tcp\x03lab\x04test\x00' });
    expect(log.find({ name: '_vlmcs._tcp.lab.test' }).map((e) => e.qname)).toEqual(['_vlmcs._tcp.lab.test']);
  });
});
