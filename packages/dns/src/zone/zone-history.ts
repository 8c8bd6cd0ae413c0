import { TYPE, type ResourceRecord } from '@kmslab/dns-wire';
import { presentRecord } from './presentation.js';

/** One change of a zone, as IXFR sends it (RFC 1995 §4): from serial, to serial, what went, what came. */
export interface ZoneDiff {
  from: number;
  to: number;
  deleted: ResourceRecord[];
  added: ResourceRecord[];
}

/**
 * How far back IXFR can answer: the newest diffs, at most this many, and at
 * most this many records in all (a secondary further behind gets the whole
 * zone, AXFR in the IXFR answer, RFC 1995 §4).
 */
export const HISTORY_MAX_DIFFS = 64;
export const HISTORY_MAX_RECORDS = 20_000;

/** What a diff is taken of: a zone's serial and records (zone.ts; named here so the history needs no zone). */
export interface ZoneContents {
  readonly serial: number;
  records(): ResourceRecord[];
  recordsAt(name: string): ResourceRecord[];
}

/**
 * What changed from `before` to `after` (every record but the SOA; a TTL
 * change is a delete and an add), looking only at `names` when given: the
 * names a change touched, so an update to a large zone costs what it changed.
 */
export function diffZones(before: ZoneContents, after: ZoneContents, names?: Iterable<string>): ZoneDiff {
  const key = (rr: ResourceRecord) => presentRecord(rr).toLowerCase();
  const at = names === undefined ? null : [...new Set(names)];
  const of = (z: ZoneContents) => (at === null ? z.records().filter((rr) => rr.type !== TYPE.SOA) : at.flatMap((n) => z.recordsAt(n)));
  const was = new Map(of(before).map((rr) => [key(rr), rr]));
  const now = new Map(of(after).map((rr) => [key(rr), rr]));
  return {
    from: before.serial,
    to: after.serial,
    deleted: [...was].filter(([k]) => !now.has(k)).map(([, rr]) => rr),
    added: [...now].filter(([k]) => !was.has(k)).map(([, rr]) => rr),
  };
}

/** The diffs kept, with `diff` added and the oldest dropped beyond the bounds. */
export function withDiff(history: readonly ZoneDiff[], diff: ZoneDiff): ZoneDiff[] {
  const out = [...history, diff];
  let records = out.reduce((n, d) => n + d.deleted.length + d.added.length, 0);
  while (out.length > HISTORY_MAX_DIFFS || (records > HISTORY_MAX_RECORDS && out.length > 1)) {
    const dropped = out.shift()!;
    records -= dropped.deleted.length + dropped.added.length;
  }
  return out;
}

/** The diffs that take a secondary at `serial` to the zone's current serial, in order, or null when the history does not reach back. */
export function diffsSince(history: readonly ZoneDiff[], serial: number, current: number): ZoneDiff[] | null {
  const start = history.findIndex((d) => d.from === serial);
  if (start < 0) return null;
  const chain = history.slice(start);
  for (let i = 1; i < chain.length; i++) if (chain[i]!.from !== chain[i - 1]!.to) return null;
  return chain.at(-1)!.to === current ? chain : null;
}
