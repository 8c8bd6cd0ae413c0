import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLASS, TYPE, type ResourceRecord } from '@kmslab/dns-wire';
import { afterEach, describe, expect, test } from 'vitest';
import { parseZoneFile } from './zone-file.js';
import { Zone } from './zone.js';
import { ZoneJournal } from './zone-journal.js';

const ZONE = '$ORIGIN lab.test.\n$TTL 600\n@ IN SOA ns hostmaster 1 3600 600 604800 300\n@ IN NS ns\nns IN A 127.0.0.1\n';
const a = (name: string, address = '192.0.2.1'): ResourceRecord => ({ name, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address } });
const dirs: string[] = [];
const journals: ZoneJournal[] = [];
afterEach(() => {
  for (const j of journals.splice(0)) j.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir = mkdtempSync(join(tmpdir(), 'kmslab-zj-'))): { journal: ZoneJournal; dir: string; warnings: string[] } {
  dirs.push(dir);
  const warnings: string[] = [];
  const journal = new ZoneJournal(dir, { onRepaired: (m) => warnings.push(m) });
  journals.push(journal);
  return { journal, dir, warnings };
}

/** One dynamic change as the update path makes it: a copy changed, one serial step, its diff kept, then saved. */
function change(journal: ZoneJournal, served: Zone, edit: (copy: Zone) => string[]): void {
  const copy = served.clone();
  const names = edit(copy);
  copy.bumpSerial();
  copy.recordChangeFrom(served, names);
  journal.save(copy, { from: served.serial, names });
  served.takeOver(copy);
}

/** A crash: the files as the process left them, in a data dir another journal opens (the lock stays with the first). */
function crashCopy(dir: string): string {
  const to = mkdtempSync(join(tmpdir(), 'kmslab-zj-crash-'));
  for (const f of ['lab.test.zone', 'lab.test.journal']) copyFileSync(join(dir, f), join(to, f));
  return to;
}

const state = (z: Zone) => ({ serial: z.serial, records: z.records(), owners: z.owners(), stamped: z.stamped(), history: z.history() });

describe('zone journal: a snapshot and one appended entry per change', () => {
  test('after the first snapshot each change is one entry in the journal, not the zone rewritten; a crash replays them to the same zone, owners, timestamps and IXFR history', () => {
    const { journal, dir } = open();
    const served = Zone.of('lab.test', parseZoneFile(ZONE).records);
    change(journal, served, (z) => (z.add(a('kms1.lab.test'), { bumpSerial: false }), z.setOwner('kms1.lab.test', 'kms1'), z.setStamp('kms1.lab.test', TYPE.A, a('kms1.lab.test').data!, 1000), ['kms1.lab.test']));
    const snapshot = readFileSync(join(dir, 'lab.test.zone'), 'utf8');
    expect(snapshot).toContain('kms1.lab.test');
    for (let i = 2; i <= 20; i++) change(journal, served, (z) => (z.add(a(`kms${i}.lab.test`), { bumpSerial: false }), z.setOwner(`kms${i}.lab.test`, `kms${i}`), [`kms${i}.lab.test`]));
    // A refresh that moves a timestamp only (aging past no-refresh): an entry, no serial step.
    const copy = served.clone();
    copy.setStamp('kms1.lab.test', TYPE.A, a('kms1.lab.test').data!, 9000);
    journal.save(copy, { from: served.serial, names: ['kms1.lab.test'] });
    served.takeOver(copy);
    // A delete of a whole name.
    change(journal, served, (z) => (z.delete('kms2.lab.test', TYPE.ANY, null, { bumpSerial: false }), ['kms2.lab.test']));
    expect(readFileSync(join(dir, 'lab.test.zone'), 'utf8')).toBe(snapshot);
    expect(readFileSync(join(dir, 'lab.test.journal'), 'utf8').match(/^;kmslab-end /gm)).toHaveLength(21);

    const { journal: again } = open(crashCopy(dir));
    const restored = again.load('lab.test')!;
    expect(state(restored)).toEqual(state(served));
    expect(restored.serial).toBe(22);
    expect(restored.stamp('kms1.lab.test', TYPE.A, a('kms1.lab.test').data!)).toBe(9000);
    expect(restored.history().at(-1)).toMatchObject({ from: 21, to: 22, deleted: [expect.objectContaining({ name: 'kms2.lab.test' })], added: [] });
  });

  test('an entry a crash cut short was never acknowledged: cut off with a warning, the whole ones replayed, the next appended after them', () => {
    const { journal, dir } = open();
    const served = Zone.of('lab.test', parseZoneFile(ZONE).records);
    for (let i = 1; i <= 3; i++) change(journal, served, (z) => (z.add(a(`h${i}.lab.test`), { bumpSerial: false }), [`h${i}.lab.test`]));
    const copied = crashCopy(dir);
    const torn = ';kmslab-entry 3 4 5\n;kmslab-soa lab.test.\t600\tIN\tSOA\tns.lab.test. host';
    appendFileSync(join(copied, 'lab.test.journal'), torn);
    const { journal: again, warnings } = open(copied);
    const restored = again.load('lab.test')!;
    expect(restored.serial).toBe(4);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`lab\\.test\\.journal: cut off ${Buffer.byteLength(torn)} bytes of an entry that was never completely written$`))]);
    change(again, restored, (z) => (z.add(a('h4.lab.test'), { bumpSerial: false }), ['h4.lab.test']));
    const { journal: third } = open(crashCopy(copied));
    expect(third.load('lab.test')!.rrset('h4.lab.test', TYPE.A)).toBeDefined();
  });

  test('the journal is folded into a new snapshot once it outgrows it, and at a clean close; entries the snapshot holds are never replayed twice', () => {
    const { journal, dir } = open();
    const served = Zone.of('lab.test', parseZoneFile(ZONE).records);
    const txt = (i: number): ResourceRecord => ({ name: `t${i}.lab.test`, type: TYPE.TXT, class: CLASS.IN, ttl: 60, data: { type: 'TXT', texts: ['x'.repeat(200)] } });
    for (let i = 0; i < 400; i++) change(journal, served, (z) => (z.add(txt(i), { bumpSerial: false }), [`t${i}.lab.test`]));
    // 400 entries of ~600 bytes: past 64 KiB the journal was emptied into the zone file at least once.
    expect(statSync(join(dir, 'lab.test.journal')).size).toBeLessThan(100 * 1024);
    expect(readFileSync(join(dir, 'lab.test.zone'), 'utf8')).toMatch(/^;kmslab-seq [1-9]\d*$/m);
    // A crash between a snapshot and the journal's emptying: the old entries are in the snapshot already.
    const copied = crashCopy(dir);
    const { journal: again } = open(copied);
    expect(state(again.load('lab.test')!)).toEqual(state(served));
    journal.close([served]);
    journals.splice(journals.indexOf(journal), 1);
    expect(statSync(join(dir, 'lab.test.journal')).size).toBe(0);
    expect(readFileSync(join(dir, 'lab.test.zone'), 'utf8')).toContain('t399.lab.test');
  });

  test('a journal that does not follow its snapshot is refused with the file named, before anything is served', () => {
    const { journal, dir } = open();
    const served = Zone.of('lab.test', parseZoneFile(ZONE).records);
    for (let i = 1; i <= 2; i++) change(journal, served, (z) => (z.add(a(`h${i}.lab.test`), { bumpSerial: false }), [`h${i}.lab.test`]));
    const copied = crashCopy(dir);
    writeFileSync(join(copied, 'lab.test.journal'), readFileSync(join(copied, 'lab.test.journal'), 'utf8').replace(/^;kmslab-entry 1 2 3$/m, ';kmslab-entry 1 7 3'));
    const { journal: again } = open(copied);
    expect(() => again.load('lab.test')).toThrow(expect.objectContaining({ code: 'KMSLAB_STORE_CORRUPT', message: expect.stringMatching(/lab\.test\.journal: entry 1 follows serial 7, the zone is at 2/) }));
  });

  test("a record line that does not read, in the journal or in the saved zone's ;kmslab lines, is KMSLAB_STORE_CORRUPT at that file's line", () => {
    const { journal, dir } = open();
    const served = Zone.of('lab.test', parseZoneFile(ZONE).records);
    for (let i = 1; i <= 3; i++) change(journal, served, (z) => (z.add(a(`h${i}.lab.test`), { bumpSerial: false }), [`h${i}.lab.test`]));
    const copied = crashCopy(dir);
    const path = join(copied, 'lab.test.journal');
    const lines = readFileSync(path, 'utf8').split('\n');
    const bad = lines.findIndex((l) => l.startsWith(';kmslab-rr h3.lab.test'));
    lines[bad] = ';kmslab-rr h3.lab.test. 600 IN A 300.1.1.1';
    writeFileSync(path, lines.join('\n'));
    const { journal: again } = open(copied);
    expect(() => again.load('lab.test')).toThrow(expect.objectContaining({ code: 'KMSLAB_STORE_CORRUPT', message: `${path} line ${bad + 1}: the A record's address is not an IPv4 address` }));

    // The saved zone's own lines: a stamp whose record does not read.
    const zoneFile = join(copied, 'lab.test.zone');
    rmSync(path);
    const text = `${readFileSync(zoneFile, 'utf8')};kmslab-owner h1.lab.test kms1\n;kmslab-stamp 1000 h1.lab.test. 600 IN A 1.2.3\n`;
    writeFileSync(zoneFile, text);
    expect(() => again.load('lab.test')).toThrow(expect.objectContaining({ code: 'KMSLAB_STORE_CORRUPT', message: `${zoneFile} line ${text.split('\n').length - 1}: the A record's address is not an IPv4 address` }));
  });
});
