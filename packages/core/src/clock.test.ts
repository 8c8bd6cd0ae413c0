import { expect, test } from 'vitest';
import { LabClock, VirtualClock } from './clock.js';

test('a virtual clock moves only forward, and only when told', () => {
  const c = new VirtualClock(1000);
  expect(c.now()).toBe(1000);
  expect(c.advance(500)).toBe(1500);
  expect(c.set(2000)).toBe(2000);
  expect(() => c.advance(-1)).toThrow(/forward only/);
  expect(() => c.set(10)).toThrow(/forward only/);
});

test('a lab clock runs at its speed, pauses, changes speed and jumps ahead, telling whoever sleeps on it', () => {
  let real = 0;
  const c = new LabClock(720, () => real, 1_000_000);
  const changes: string[] = [];
  c.onChange(() => changes.push(`${c.paused ? 'paused' : 'running'}@${c.speed}`));
  real = 1000;
  expect(c.now()).toBe(1_000_000 + 720_000);
  expect(c.realDelay(7_200_000)).toBe(10_000);
  c.pause();
  real = 5000;
  expect(c.now()).toBe(1_720_000);
  expect(c.realDelay(1)).toBeNull();
  c.jump(7 * 86_400_000);
  expect(c.now()).toBe(1_720_000 + 7 * 86_400_000);
  c.resume();
  c.setSpeed(2);
  real = 6000;
  expect(c.now()).toBe(1_720_000 + 7 * 86_400_000 + 2000);
  expect(changes).toEqual(['paused@720', 'paused@720', 'running@720', 'running@2']);
  expect(() => c.jump(-1)).toThrow(/forward only/);
  expect(() => c.setSpeed(0)).toThrow(/speed/);
});
