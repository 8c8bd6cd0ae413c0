import { describe, expect, test } from 'vitest';
import { seededRandom } from '@kmslab/core';
import { orderSrv } from './srv-order.js';

const rec = (target: string, priority: number, weight: number) => ({ target, port: 1688, priority, weight });

describe('SRV order (RFC 2782)', () => {
  test('lower priority first, always', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 200; i++) {
      const order = orderSrv([rec('c', 20, 50), rec('a', 0, 1), rec('b', 10, 100)], random).map((r) => r.target);
      expect(order).toEqual(['a', 'b', 'c']);
    }
  });

  test('within a priority, weights 3:1 give a 3:1 split of first choices (within statistical tolerance)', () => {
    const random = seededRandom(42);
    const n = 20_000;
    let heavy = 0;
    for (let i = 0; i < n; i++) if (orderSrv([rec('light', 0, 1), rec('heavy', 0, 3)], random)[0]!.target === 'heavy') heavy++;
    const expected = 3 / 4;
    const sd = Math.sqrt((expected * (1 - expected)) / n);
    expect(Math.abs(heavy / n - expected)).toBeLessThan(4 * sd);
  });

  test('the captures\' weights (kms-reference.md): 1/1/98 with the heavy one listed last, 98/1/1 first, 25/50/25 — the first choice follows the weight, wherever the record is listed', () => {
    const random = seededRandom(2026);
    const n = 20_000;
    const shares = (records: ReturnType<typeof rec>[]) => {
      const first = new Map<string, number>();
      for (let i = 0; i < n; i++) {
        const t = orderSrv(records, random)[0]!.target;
        first.set(t, (first.get(t) ?? 0) + 1);
      }
      return Object.fromEntries([...first].map(([t, c]) => [t, c / n]));
    };
    const near = (got: number | undefined, p: number) => expect(Math.abs((got ?? 0) - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    // A Windows 11 client chose the heavy one 19 of 20 times with it listed last, 20 of 20 listed first.
    near(shares([rec('a', 0, 1), rec('b', 0, 1), rec('heavy', 0, 98)]).heavy, 0.98);
    near(shares([rec('heavy', 0, 98), rec('a', 0, 1), rec('b', 0, 1)]).heavy, 0.98);
    const split = shares([rec('a', 0, 25), rec('b', 0, 50), rec('c', 0, 25)]);
    near(split.a, 0.25);
    near(split.b, 0.5);
    near(split.c, 0.25);
  });

  test('weight 0 comes after the weighted records of its priority', () => {
    const random = seededRandom(9);
    for (let i = 0; i < 500; i++) expect(orderSrv([rec('zero', 0, 0), rec('one', 0, 1)], random).map((r) => r.target)).toEqual(['one', 'zero']);
  });

  test('all weights 0: every record still comes out, each first about equally often', () => {
    const random = seededRandom(7);
    const first = new Map<string, number>();
    for (let i = 0; i < 9_000; i++) {
      const order = orderSrv([rec('a', 0, 0), rec('b', 0, 0), rec('c', 0, 0)], random);
      expect(order).toHaveLength(3);
      first.set(order[0]!.target, (first.get(order[0]!.target) ?? 0) + 1);
    }
    for (const count of first.values()) expect(count).toBeGreaterThan(2_000);
  });

  test('random mode ignores priority', () => {
    const random = seededRandom(3);
    let lowFirst = 0;
    for (let i = 0; i < 4_000; i++) if (orderSrv([rec('low', 0, 0), rec('high', 10, 0)], random, 'random')[0]!.target === 'low') lowFirst++;
    expect(lowFirst / 4_000).toBeGreaterThan(0.45);
    expect(lowFirst / 4_000).toBeLessThan(0.55);
  });
});
