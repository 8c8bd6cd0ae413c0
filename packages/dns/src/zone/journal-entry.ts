import { canonicalName, TYPE, type ResourceRecord } from '@kmslab/dns-wire';
import { parseRecordLines } from './zone-file.js';
import { presentRecord } from './presentation.js';
import type { Zone } from './zone.js';

/** What one change (an update, a scavenging pass) touched: the serial it started from and the names it may have changed. */
export interface ZoneChange {
  from: number;
  names: Iterable<string>;
}

/**
 * One journal entry: the zone's SOA after the change, and for each name the
 * change touched, what the name holds after it — its records, their
 * timestamps, its owner. An after-image, not a list of operations, so
 * replaying it needs no RFC 2136 rules and gives the same zone the update
 * left; the IXFR diff is taken again on replay, as the update took it.
 */
export interface JournalEntry {
  seq: number;
  from: number;
  to: number;
  soa: ResourceRecord;
  names: Array<{ name: string; owner: string | null; records: ResourceRecord[]; stamps: Array<{ record: ResourceRecord; at: number }> }>;
}

/**
 * The entry as journal lines, every one a comment (`;kmslab-…`) so nothing
 * mistakes the file for zone data: `entry SEQ FROM TO`, `soa RECORD`, per
 * name `name NAME OWNER|-` then its `rr RECORD` and `stamp MS RECORD` lines,
 * and `end SEQ` — a crash before that line leaves an entry never
 * acknowledged, which recovery cuts off.
 */
export function formatEntry(zone: Zone, change: ZoneChange, seq: number): string {
  const lines = [`;kmslab-entry ${seq} ${change.from} ${zone.serial}`, `;kmslab-soa ${presentRecord(zone.soa)}`];
  for (const name of new Set([...change.names].map(canonicalName))) {
    lines.push(`;kmslab-name ${name} ${zone.owner(name) ?? '-'}`);
    const records = zone.recordsAt(name);
    for (const rr of records) lines.push(`;kmslab-rr ${presentRecord(rr)}`);
    for (const rr of records) {
      const at = zone.stamp(name, rr.type, rr.data!);
      if (at !== null) lines.push(`;kmslab-stamp ${at} ${presentRecord(rr)}`);
    }
  }
  lines.push(`;kmslab-end ${seq}`, '');
  return lines.join('\n');
}

// Each line with its newline: a last line without one was torn.
const LINE = /^;kmslab-(entry|soa|name|rr|stamp|end) (.*)\n/gm;

/**
 * The whole entries in `text`, and how many bytes they take: bytes after the
 * last `end` line belong to an entry never acknowledged. Every record of
 * every entry is parsed in one pass (the zone file parser, so the journal
 * reads records exactly as the zone file does).
 */
export function parseEntries(text: string, origin: string, source: string): { entries: JournalEntry[]; wholeBytes: number } {
  const lines = [...text.matchAll(LINE)];
  let last = -1;
  lines.forEach((m, i) => {
    if (m[1] === 'end') last = i;
  });
  const whole = lines.slice(0, last + 1);
  const withRecords = whole.filter((m) => m[1] === 'soa' || m[1] === 'rr' || m[1] === 'stamp');
  const records = parseRecordLines(text, withRecords, (m) => (m[1] === 'stamp' ? m[2]!.slice(m[2]!.indexOf(' ') + 1) : m[2]!), { origin, source });
  const entries: JournalEntry[] = [];
  let next = 0;
  let entry: JournalEntry | null = null;
  for (const [, kind, rest] of whole) {
    const fields = rest!.split(' ');
    if (kind === 'entry') {
      entry = { seq: Number(fields[0]), from: Number(fields[1]), to: Number(fields[2]), soa: null!, names: [] };
    } else if (kind === 'end') {
      if (entry?.soa) entries.push(entry);
      entry = null;
    } else if (kind === 'soa') {
      const soa = records[next++]!;
      if (entry && soa.type === TYPE.SOA) entry.soa = soa;
    } else if (kind === 'name') {
      entry?.names.push({ name: fields[0]!, owner: fields[1] === '-' ? null : fields[1]!, records: [], stamps: [] });
    } else {
      const record = records[next++]!;
      const node = entry?.names.at(-1);
      if (kind === 'rr') node?.records.push(record);
      else node?.stamps.push({ record, at: Number(fields[0]) });
    }
  }
  const endOfLast = last < 0 ? 0 : whole[last]!.index! + whole[last]![0].length;
  return { entries, wholeBytes: Buffer.byteLength(text.slice(0, endOfLast)) };
}

/** Replays an entry onto `zone` (its serial the entry's `from`): each name as the entry left it, the SOA, the IXFR diff. */
export function applyEntry(zone: Zone, entry: JournalEntry): void {
  const names = entry.names.map((n) => n.name);
  const before = new Map(names.map((n) => [n, zone.recordsAt(n)]));
  const was = { serial: zone.serial, records: () => [...before.values()].flat(), recordsAt: (n: string) => before.get(n) ?? [] };
  for (const { name, owner, records, stamps } of entry.names) {
    zone.delete(name, TYPE.ANY, null, { bumpSerial: false });
    for (const rr of records) zone.add(rr, { bumpSerial: false });
    zone.setOwner(name, owner);
    for (const { record, at } of stamps) zone.setStamp(record.name, record.type, record.data!, at);
  }
  zone.add(entry.soa, { bumpSerial: false });
  zone.recordChangeFrom(was, names);
}
