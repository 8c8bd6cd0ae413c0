import { COUNT_WINDOW_MS, LICENSE_STATUS_NAMES, MAX_CLIENT_RECORDS, type LicenseStatus } from '@kmslab/core';
import type { FamilyStats } from './store.js';

export function emptyStatusCounts(): Record<LicenseStatus, number> {
  return Object.fromEntries(LICENSE_STATUS_NAMES.map((s) => [s, 0])) as Record<LicenseStatus, number>;
}

/**
 * The client records of one application family on one host, in memory.
 * Map order is last-contact order (a refresh moves the client to the end),
 * so expiry and eviction only ever look at the front.
 */
export class FamilyRecords {
  readonly clients = new Map<string, number>();
  totalRequests = 0;
  failedRequests = 0;
  readonly requestsByStatus = emptyStatusCounts();

  /** 30-day window and 50-record cap: kms-reference.md "Counting". */
  touch(cmid: string, now: number): number {
    this.expire(now);
    const last = this.clients.get(cmid);
    this.clients.delete(cmid);
    // Never move a record back in time (two replicas' clocks may differ a little).
    this.clients.set(cmid, last !== undefined && last > now ? last : now);
    while (this.clients.size > MAX_CLIENT_RECORDS) this.clients.delete(this.clients.keys().next().value!);
    return this.clients.size;
  }

  expire(now: number): void {
    const cutoff = now - COUNT_WINDOW_MS;
    for (const [cmid, seen] of this.clients) {
      if (seen >= cutoff) break;
      this.clients.delete(cmid);
    }
  }

  count(now: number): number {
    const cutoff = now - COUNT_WINDOW_MS;
    let n = 0;
    for (const seen of this.clients.values()) if (seen >= cutoff) n++;
    return n;
  }

  stats(now: number): FamilyStats {
    return {
      currentCount: this.count(now),
      totalRequests: this.totalRequests,
      failedRequests: this.failedRequests,
      requestsByStatus: { ...this.requestsByStatus },
    };
  }
}
