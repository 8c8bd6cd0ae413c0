import { COUNT_WINDOW_MS, MAX_CLIENT_RECORDS, TIME, type Catalog } from '@kmslab/core';
import type { SimHost } from '../lab-hosts.js';
import type { Check } from '../scenarios/check.js';
import type { TimelineEntry } from './sim-client.js';

/**
 * "No acknowledged activation is lost": every client a host answered with a
 * count in the last 30 days is still counted by that host (at most 50 per
 * family, kms-reference.md "Counting"), whatever went down in between.
 */
export async function acknowledgedCheck(o: { hosts: readonly SimHost[]; timeline: readonly TimelineEntry[]; minute: number; catalog: Catalog; hostAt: (address: string | null) => SimHost | undefined }): Promise<Check> {
  const since = o.minute - COUNT_WINDOW_MS / TIME.MINUTE_MS;
  const problems: string[] = [];
  let checked = 0;
  for (const h of o.hosts.filter((x) => x.running)) {
    const acknowledged = new Map<string, Set<string>>();
    for (const e of o.timeline) {
      if (e.count === null || e.minute < since || o.hostAt(e.host) !== h) continue;
      const family = o.catalog.product(e.product).family;
      acknowledged.set(family, (acknowledged.get(family) ?? new Set()).add(e.client));
    }
    const status = await h.status();
    for (const [family, clients] of acknowledged) {
      const expected = Math.min(MAX_CLIENT_RECORDS, clients.size);
      const counted = status.families[family]?.currentCount ?? 0;
      checked += clients.size;
      if (counted !== expected) problems.push(`${h.name} ${family}: ${expected} acknowledged, ${counted} counted`);
    }
  }
  return { name: 'no acknowledged activation lost: every client a host answered in the last 30 days is still counted', passed: problems.length === 0, detail: problems.join('; ') || `${checked} acknowledged clients, all counted` };
}
