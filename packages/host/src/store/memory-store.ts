import { DataDirLock, LICENSE_STATUS_NAMES, type Family, type LicenseStatus } from '@kmslab/core';
import { FamilyRecords } from './family-records.js';
import { Journal, type JournalEntry } from './journal.js';
import type { ActivationStore, CountedRequest, FamilyStats, RefusedRequest } from './store.js';

interface SnapshotState {
  families: Record<Family, { clients: Array<[string, number]>; total: number; failed: number; byStatus: Record<string, number> }>;
  /** MAK key → the clients it activated. */
  mak?: Record<string, string[]>;
}

/** Where the memory store keeps its journal and snapshot. */
export interface MemoryStoreOptions {
  /** Folder for the snapshot and journal; without it nothing survives a restart. */
  dataDir?: string;
  /** Journal entries between snapshots. */
  compactEvery?: number;
  /** Told what recovery mended (a torn last journal line cut off, a stale lock taken over), for the log. */
  onWarning?: (message: string) => void;
}

/**
 * The embedded default store: client records in memory, made durable by a
 * write-ahead journal (group commit) and compacted into a snapshot, so a
 * restart (or a crash) keeps every acknowledged client.
 */
export class MemoryStore implements ActivationStore {
  readonly kind = 'memory';
  readonly #families = new Map<Family, FamilyRecords>();
  readonly #mak = new Map<string, Set<string>>();
  readonly #journal: Journal<SnapshotState> | null;
  readonly #lock: DataDirLock | null;

  private constructor(journal: Journal<SnapshotState> | null, lock: DataDirLock | null) {
    this.#journal = journal;
    this.#lock = lock;
  }

  /**
   * Opens the store; with a data dir, takes it for this process first (a
   * second process on it is KMSLAB_DATA_DIR_LOCKED before anything is read),
   * then restores what the journal and snapshot hold.
   */
  static async open(options: MemoryStoreOptions = {}): Promise<MemoryStore> {
    if (!options.dataDir) return new MemoryStore(null, null);
    const lock = DataDirLock.acquire(options.dataDir, 'kmslab host (memory store)', options.onWarning);
    try {
      const journal = new Journal<SnapshotState>(options.dataDir, { compactEvery: options.compactEvery });
      const store = new MemoryStore(journal, lock);
      const { snapshot, entries, warnings } = await journal.recover();
      for (const w of warnings) options.onWarning?.(w);
      if (snapshot) store.#restore(snapshot);
      for (const e of entries) store.#replay(e);
      await journal.open(() => store.#serialise());
      return store;
    } catch (err) {
      lock.release();
      throw err;
    }
  }


  // Each change is applied only once its journal entry is on file: a failed
  // write (a full disk) leaves the counts as they were (DEVELOPERS.md "no
  // acknowledged count is lost", and nothing unacknowledged is counted).
  record(r: CountedRequest): Promise<number> {
    const apply = () => this.#applyCount(r.family, r.cmid, r.now, r.threshold, r.licenseStatus);
    if (!this.#journal) return Promise.resolve(apply());
    return this.#journal.append({ t: 'r', f: r.family, c: r.cmid, n: r.now, th: r.threshold, s: r.licenseStatus }, apply);
  }

  recordRefused(r: RefusedRequest): Promise<void> {
    const apply = () => this.#applyRefused(r.family, r.licenseStatus);
    if (!this.#journal) return Promise.resolve(apply());
    return this.#journal.append({ t: 'x', f: r.family, s: r.licenseStatus }, apply);
  }

  consumeMak(key: string, cmid: string, limit: number): Promise<number | null> {
    const used = this.#makUsed(key);
    // Both facts only grow, so they can be answered before anything is written.
    if (used.has(cmid)) return Promise.resolve(limit - used.size);
    if (used.size >= limit) return Promise.resolve(null);
    const apply = () => this.#applyMak(key, cmid, limit);
    if (!this.#journal) return Promise.resolve(apply());
    return this.#journal.append({ t: 'm', k: key, c: cmid, l: limit }, apply);
  }

  /** Decided when applied, so entries queued together cannot overspend a key. */
  #applyMak(key: string, cmid: string, limit: number | undefined): number | null {
    const used = this.#makUsed(key);
    if (!used.has(cmid)) {
      if (limit !== undefined && used.size >= limit) return null;
      used.add(cmid);
    }
    return limit === undefined ? 0 : limit - used.size;
  }

  #makUsed(key: string): Set<string> {
    let used = this.#mak.get(key);
    if (!used) this.#mak.set(key, (used = new Set()));
    return used;
  }

  async stats(families: readonly Family[], now: number): Promise<Record<Family, FamilyStats>> {
    return Object.fromEntries(families.map((f) => [f, this.#family(f).stats(now)]));
  }

  /** False while journal writes fail (a full disk); true again by itself once they succeed. */
  healthy(): Promise<boolean> {
    return this.#journal ? this.#journal.healthy() : Promise.resolve(true);
  }

  async close(): Promise<void> {
    try {
      await this.#journal?.close();
    } finally {
      this.#lock?.release();
    }
  }

  #family(family: Family): FamilyRecords {
    let f = this.#families.get(family);
    if (!f) this.#families.set(family, (f = new FamilyRecords()));
    return f;
  }

  #applyCount(family: Family, cmid: string, now: number, threshold: number, status: LicenseStatus): number {
    const f = this.#family(family);
    const count = f.touch(cmid, now);
    f.totalRequests++;
    f.requestsByStatus[status]++;
    if (count < threshold) f.failedRequests++;
    return count;
  }

  #applyRefused(family: Family, status: LicenseStatus): void {
    const f = this.#family(family);
    f.totalRequests++;
    f.failedRequests++;
    f.requestsByStatus[status]++;
  }

  #replay(e: JournalEntry): void {
    if (e.t === 'm') {
      this.#applyMak(e.k, e.c, e.l);
      return;
    }
    const status = LICENSE_STATUS_NAMES.includes(e.s as LicenseStatus) ? (e.s as LicenseStatus) : 'unlicensed';
    if (e.t === 'r') this.#applyCount(e.f, e.c, e.n, e.th, status);
    else this.#applyRefused(e.f, status);
  }

  #serialise(): SnapshotState {
    const families: SnapshotState['families'] = {};
    for (const [name, f] of this.#families) {
      families[name] = { clients: [...f.clients], total: f.totalRequests, failed: f.failedRequests, byStatus: { ...f.requestsByStatus } };
    }
    return { families, mak: Object.fromEntries([...this.#mak].map(([k, v]) => [k, [...v]])) };
  }

  #restore(state: SnapshotState): void {
    for (const [key, cmids] of Object.entries(state.mak ?? {})) for (const c of cmids) this.#makUsed(key).add(c);
    for (const [name, s] of Object.entries(state.families ?? {})) {
      const f = this.#family(name);
      for (const [cmid, seen] of s.clients) f.clients.set(cmid, seen);
      f.totalRequests = s.total;
      f.failedRequests = s.failed;
      for (const status of LICENSE_STATUS_NAMES) f.requestsByStatus[status] = s.byStatus[status] ?? 0;
    }
  }
}
