/** One SRV record as discovery sees it. */
export interface SrvTarget {
  target: string;
  port: number;
  priority: number;
  weight: number;
}

/** How SRV records are ordered: RFC 2782 priority and weight, or uniformly at random. */
export type SelectionMode = 'rfc2782' | 'random';

/**
 * The order in which to try hosts. `rfc2782` (kmslab's default): lowest
 * priority first; within a priority, a weighted random draw without
 * replacement in proportion to weight, records of weight 0 last (RFC 2782
 * "Usage rules"). `random`: one uniform shuffle, ignoring priority and weight, as
 * older KMS clients did (kms-reference.md "Discovery").
 */
export function orderSrv<T extends SrvTarget>(records: readonly T[], random: () => number, mode: SelectionMode = 'rfc2782'): T[] {
  if (mode === 'random') return shuffle([...records], random);
  const byPriority = new Map<number, T[]>();
  for (const r of records) {
    const group = byPriority.get(r.priority);
    if (group) group.push(r);
    else byPriority.set(r.priority, [r]);
  }
  const out: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    // RFC 2782's running-sum draw, with the draw continuous in [0, total) so a
    // record's chance is exactly weight/total; weight-0 records come after the
    // weighted ones ("a very small chance"), in random order among themselves.
    const left = [...byPriority.get(priority)!];
    while (left.length > 0) {
      const total = left.reduce((sum, r) => sum + r.weight, 0);
      let index: number;
      if (total === 0) index = Math.floor(random() * left.length);
      else {
        const pick = random() * total;
        let running = 0;
        index = left.findIndex((r) => (running += r.weight) > pick);
        if (index < 0) index = left.length - 1;
      }
      out.push(left.splice(index, 1)[0]!);
    }
  }
  return out;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
