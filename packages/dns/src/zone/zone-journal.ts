import { DataDirLock, replaceFileSync } from '@kmslab/core';
import { type ResourceRecord } from '@kmslab/dns-wire';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readZoneFile } from './zone-file.js';
import { presentRecord } from './presentation.js';
import type { Zone } from './zone.js';

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

  /** The saved records of a zone, or null when none were saved. */
  load(origin: string): ResourceRecord[] | null {
    const path = this.path(origin);
    return existsSync(path) ? readZoneFile(path, origin).records : null;
  }

  save(zone: Zone): void {
    const path = this.path(zone.origin);
    const text = `; ${zone.origin} serial ${zone.serial}, written by kmslab after a dynamic update\n${zone.records().map(presentRecord).join('\n')}\n`;
    replaceFileSync(path, text);
  }
}
