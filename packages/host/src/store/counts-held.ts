import type { Family } from '@kmslab/core';
import type { ActivationStore } from './store.js';

/**
 * What a store holds now, over every family: the highest current count and
 * the requests it has answered. At start, what an earlier run left (the
 * start lines of `host start` and `kmslab up` say it).
 */
export async function countsHeld(store: ActivationStore, families: readonly Family[], now: number): Promise<{ count: number; requests: number }> {
  const stats = Object.values(await store.stats(families, now));
  return { count: Math.max(0, ...stats.map((f) => f.currentCount)), requests: stats.reduce((n, f) => n + f.totalRequests, 0) };
}
