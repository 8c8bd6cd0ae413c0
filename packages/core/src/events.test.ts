import { describe, expect, test } from 'vitest';
import { EventLog } from './events.js';

const published = (domain: string) => ({ id: 12294 as const, source: 'kms1', domain, fqdn: 'kms1.lab.test' });

describe('EventLog', () => {
  test('numbers events from 1, keeps the newest `capacity`, reads after a seq, at most `limit` of the newest, times as ISO text', () => {
    const log = new EventLog(3, () => Date.UTC(2026, 11, 5));
    expect(log.after()).toEqual([]);
    for (const d of ['a', 'b', 'c', 'd', 'e']) log.record(published(d));
    expect(log.last).toBe(5);
    expect(log.after().map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.after(3).map((e) => e.seq)).toEqual([4, 5]);
    expect(log.after(0, 1)).toEqual([{ ...published('e'), seq: 5, time: '2026-12-05T00:00:00.000Z' }]);
    expect(log.after(5)).toEqual([]);
  });

  test('followers get each new event as readers do, until they stop; an event may bring its own time', () => {
    const log = new EventLog(10, () => 0);
    const seen: unknown[] = [];
    const off = log.follow((e) => seen.push(e));
    log.record({ ...published('a'), at: Date.UTC(2026, 0, 1) });
    off();
    log.record(published('b'));
    expect(seen).toEqual([{ ...published('a'), seq: 1, time: '2026-01-01T00:00:00.000Z' }]);
  });

  test("a client time given as ms reads as ISO text; one no date holds (a hostile frame's) reads as its number", () => {
    const log = new EventLog(10, () => 0);
    const served = (clientTime: number) => ({
      id: 12290 as const, source: 'kms1', hresult: '0x0', minimumCount: 25, fqdn: 'pc1', cmid: 'c', clientTime, licenseStatus: 'initial-grace' as const,
      timeToExpirationMin: 0, activationId: 'windows-11-pro', currentCount: 1, peer: '127.0.0.1:1',
    });
    log.record(served(Date.UTC(2026, 11, 5)));
    log.record(served(9e15));
    expect(log.after().map((e) => (e as { clientTime: string }).clientTime)).toEqual(['2026-12-05T00:00:00.000Z', '9000000000000000']);
  });
});
