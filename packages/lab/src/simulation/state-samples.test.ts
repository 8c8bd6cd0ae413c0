import { TIME } from '@kmslab/core';
import { newClientState } from '@kmslab/client';
import { describe, expect, test } from 'vitest';
import type { SimClient } from './sim-client.js';
import { SAMPLE_STEP_MIN, StateSamples } from './state-samples.js';

const T0 = Date.UTC(2026, 0, 5, 8);
const at = (minute: number) => T0 + minute * TIME.MINUTE_MS;

function client(name: string, o: { installed?: number; licensedUntil?: number; leaveAt?: number } = {}): SimClient {
  const state = newClientState();
  if (o.installed !== undefined) {
    state.installedAt = new Date(o.installed).toISOString();
    state.graceUntil = new Date(o.installed + 30 * TIME.DAY_MS).toISOString();
  }
  if (o.licensedUntil !== undefined) {
    state.licenseStatus = 'licensed';
    state.licensedUntil = new Date(o.licensedUntil).toISOString();
  }
  return { name, skewMs: 0, productId: 'windows-10-pro', state, joinAt: o.installed ?? 0, leaveAt: o.leaveAt ?? null, dns: false };
}

describe('state samples (the report\'s stacked chart)', () => {
  test('one sample per step up to the time asked, each counting grace, licensed, notification and left; not joined yet counts nowhere', () => {
    const samples = new StateSamples(T0);
    const clients = [client('a', { installed: at(0) }), client('b', { installed: at(0), licensedUntil: at(10_000) }), client('c', { installed: at(0), leaveAt: at(90) }), client('later', { installed: at(200) })];
    samples.sampleUpTo(at(2 * SAMPLE_STEP_MIN), clients);
    expect(samples.states).toEqual({ grace: [2, 2, 1], licensed: [1, 1, 1], notification: [0, 0, 0], left: [0, 0, 1] }); // c leaves at minute 90
  });

  test('asked again, only the samples not taken yet are added; a grace that ran out is notification', () => {
    const samples = new StateSamples(T0);
    const clients = [client('a', { installed: at(0) })];
    samples.sampleUpTo(at(0), clients);
    samples.sampleUpTo(at(0), clients);
    expect(samples.states.grace).toEqual([1]);
    samples.sampleUpTo(at(31 * 24 * 60), clients);
    expect(samples.states.grace.length).toBe(31 * 24 + 1);
    expect(samples.states.notification.at(-1)).toBe(1);
  });
});
