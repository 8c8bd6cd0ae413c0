import { DataDirLock, parseUserJson, readUserFile, replaceFileSync } from '@kmslab/core';
import { type ResourceRecord } from '@kmslab/dns-wire';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ZONE_FILE_MAX_BYTES, parseZoneFile } from './zone-file.js';
import { presentRecord } from './presentation.js';
import type { Zone } from './zone.js';
import type { OwnershipState } from '../update/ownership.js';
import type { ZoneDiff } from './zone-history.js';

/** Where groups and grants added at run time are kept, beside the zones. */
const GRANTS_FILE = 'grants.json';

/**
 * Keeps each dynamically updated zone in the data dir as a master file
 * (`<zone>.zone`), replaced whole (a new temporary file, fsync, rename, fsync
 * of the folder) before an update that changed it is answered, so a restart
 * serves what the last acknowledged update left and never a torn file.
 * Zones are small and updates rare (a host refreshes daily), so the whole
 * zone is the journal entry.
 */
export class ZoneJournal {
  readonly #lock: DataDirLock;

  /** Takes `dir` for this process (a second DNS server on it is KMSLAB_DATA_DIR_LOCKED); `close()` gives it back. */
  constructor(
    readonly dir: string,
    options: { onWarning?: (message: string) => void } = {},
  ) {
    this.#lock = DataDirLock.acquire(dir, 'kmslab dns start', options.onWarning);
  }

  close(): void {
    this.#lock.release();
  }

  path(origin: string): string {
    return join(this.dir, `${origin === '' ? 'root' : origin}.zone`);
  }

  /**
   * The saved records of a zone and who owns each name of it (secure zones:
   * `;kmslab-owner NAME KEY` lines, comments to any other reader of the
   * file), or null when none were saved.
   */
  load(origin: string): { records: ResourceRecord[]; owners: Array<[name: string, key: string]>; stamps: Array<{ record: ResourceRecord; at: number }>; history: ZoneDiff[] } | null {
    const path = this.path(origin);
    if (!existsSync(path)) return null;
    // Read once: the records, then the kmslab lines (comments to any other reader of the file).
    const text = readUserFile(path, 'zone file', { maxBytes: ZONE_FILE_MAX_BYTES });
    const { records } = parseZoneFile(text, { origin, source: path });
    const owners: Array<[string, string]> = [];
    for (const m of text.matchAll(/^;kmslab-owner (\S+) (\S+)$/gm)) owners.push([m[1]!, m[2]!]);
    // Each dynamic record's timestamp (aging), `;kmslab-stamp MS RECORD`, and the changes IXFR answers from,
    // `;kmslab-diff FROM TO` then its `;kmslab-del RECORD` and `;kmslab-add RECORD` lines; each RECORD as the file
    // writes records, one a line, all parsed at once.
    const lines = [...text.matchAll(/^;kmslab-(?:stamp (\d{1,16})|(diff|del|add)) (.+)$/gm)];
    const parsed = parseZoneFile(`${lines.filter((m) => m[2] !== 'diff').map((m) => m[3]).join('\n')}\n`, { origin, source: path, requireSoa: false }).records;
    const stamps: Array<{ record: ResourceRecord; at: number }> = [];
    const history: ZoneDiff[] = [];
    let next = 0;
    for (const [, at, kind, rest] of lines) {
      if (kind === 'diff') {
        const [from, to] = rest!.split(' ').map(Number);
        history.push({ from: from!, to: to!, deleted: [], added: [] });
        continue;
      }
      const record = parsed[next++]!;
      if (at !== undefined) stamps.push({ record, at: Number(at) });
      else history.at(-1)?.[kind === 'del' ? 'deleted' : 'added'].push(record);
    }
    return { records, owners, stamps, history };
  }

  save(zone: Zone): void {
    const path = this.path(zone.origin);
    const owners = zone.owners().map(([name, key]) => `;kmslab-owner ${name} ${key}\n`).join('');
    const stamps = zone.stamped().map((s) => `;kmslab-stamp ${s.at} ${presentRecord(s.record)}\n`).join('');
    const history = zone.history().map((d) => [`;kmslab-diff ${d.from} ${d.to}\n`, ...d.deleted.map((rr) => `;kmslab-del ${presentRecord(rr)}\n`), ...d.added.map((rr) => `;kmslab-add ${presentRecord(rr)}\n`)].join('')).join('');
    const text = `; ${zone.origin} serial ${zone.serial}, written by kmslab after a dynamic update\n${zone.records().map(presentRecord).join('\n')}\n${owners}${stamps}${history}`;
    replaceFileSync(path, text);
  }

  /** Groups and grants added at run time (`POST /grants`), or null when none were saved. */
  loadGrants(): OwnershipState | null {
    const path = join(this.dir, GRANTS_FILE);
    return existsSync(path) ? (parseUserJson(readUserFile(path, 'saved grants', { maxBytes: 4 * 1024 * 1024 }), path) as OwnershipState) : null;
  }

  /** Keeps secure zones, groups and grants whole (a new file, fsync, rename) before a change to them is acknowledged. */
  saveGrants(state: OwnershipState): void {
    replaceFileSync(join(this.dir, GRANTS_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }
}
