import { describe, expect, test } from 'vitest';
import { TIME } from '@kmslab/core';
import { FamilyRecords } from './family-records.js';

describe('FamilyRecords (kms-reference.md "Counting")', () => {
  test('a repeat CMID refreshes its record and never raises the count', () => {
    const f = new FamilyRecords();
    expect(f.touch('a', 0)).toBe(1);
    expect(f.touch('b', 1)).toBe(2);
    expect(f.touch('a', 2)).toBe(2);
    expect([...f.clients.keys()]).toEqual(['b', 'a']);
  });

  test('30-day window: a record exactly 30 days old still counts, one ms older does not', () => {
    const f = new FamilyRecords();
    f.touch('a', 0);
    expect(f.count(30 * TIME.DAY_MS)).toBe(1);
    expect(f.count(30 * TIME.DAY_MS + 1)).toBe(0);
    expect(f.touch('b', 30 * TIME.DAY_MS + 1)).toBe(1);
  });

  test('at most 50 records: the least recently seen goes first', () => {
    const f = new FamilyRecords();
    for (let i = 0; i < 50; i++) f.touch(`c${i}`, i);
    f.touch('c0', 100); // c0 is now the most recent, c1 the oldest
    expect(f.touch('new', 101)).toBe(50);
    expect(f.clients.has('c1')).toBe(false);
    expect(f.clients.has('c0')).toBe(true);
  });

  test('a record is never moved back in time by a slower clock', () => {
    const f = new FamilyRecords();
    f.touch('a', 1000);
    f.touch('a', 900);
    expect(f.clients.get('a')).toBe(1000);
  });
});
