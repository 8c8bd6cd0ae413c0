import { expect, test } from 'vitest';
import { VirtualClock } from './clock.js';

test('a virtual clock moves only forward, and only when told', () => {
  const c = new VirtualClock(1000);
  expect(c.now()).toBe(1000);
  expect(c.advance(500)).toBe(1500);
  expect(c.set(2000)).toBe(2000);
  expect(() => c.advance(-1)).toThrow(/forward only/);
  expect(() => c.set(10)).toThrow(/forward only/);
});
