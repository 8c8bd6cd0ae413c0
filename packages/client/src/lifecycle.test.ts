import { ACTIVATION_VALIDITY_MS, DEFAULT_GRACE_MS, TIME, type ActivationResponse } from '@kmslab/core';
import { describe, expect, test } from 'vitest';
import type { ActivationOutcome } from './activation-outcome.js';
import { newClientState } from './client-state.js';
import { afterAttempt, dueIn, ensureInstalled, statusAt } from './lifecycle.js';

const T0 = Date.UTC(2026, 11, 5, 12);
const MIN = TIME.MINUTE_MS;

function answered(licensed: boolean): ActivationOutcome {
  const response: ActivationResponse = {
    errorCode: licensed ? null : '0xC004F038', licensed, count: licensed ? 25 : 3, threshold: 25, family: 'windows',
    activationIntervalMin: 120, renewalIntervalMin: 10_080, validityMin: licensed ? ACTIVATION_VALIDITY_MS / MIN : 0, hostId: 'kms1', hostTime: T0,
  };
  return { response, errorCode: response.errorCode, message: null, host: 'kms1.lab.test:1688', discoveredBy: 'dns', tried: [] };
}
const failed: ActivationOutcome = { response: null, errorCode: '0xC004F074', message: null, host: null, discoveredBy: null, tried: [] };

function installed() {
  const state = newClientState();
  ensureInstalled(state, { now: () => T0 });
  return state;
}

describe('client lifecycle (kms-reference.md "Client timing")', () => {
  test('a new install is in initial grace for 30 days and due at once; past the grace it is in notification', () => {
    const s = installed();
    expect(s.licenseStatus).toBe('initial-grace');
    expect(dueIn(s, T0)).toBe(0);
    expect(statusAt(s, T0 + DEFAULT_GRACE_MS)).toBe('initial-grace');
    expect(statusAt(s, T0 + DEFAULT_GRACE_MS + 1)).toBe('notification');
  });

  test('not licensed yet (count below the threshold) or no host: the next try is one activation interval (120 min) later', () => {
    for (const outcome of [answered(false), failed]) {
      const s = installed();
      afterAttempt(s, outcome, T0);
      expect(s.licenseStatus).toBe('initial-grace');
      expect(dueIn(s, T0)).toBe(120 * MIN);
    }
  });

  test('licensed: valid 180 days, renewed every 7 days; each renewal restarts the 180 days', () => {
    const s = installed();
    afterAttempt(s, answered(true), T0);
    expect(s.licenseStatus).toBe('licensed');
    expect(Date.parse(s.licensedUntil!)).toBe(T0 + ACTIVATION_VALIDITY_MS);
    expect(dueIn(s, T0)).toBe(10_080 * MIN);
    const later = T0 + 10_080 * MIN;
    afterAttempt(s, answered(true), later);
    expect(Date.parse(s.licensedUntil!)).toBe(later + ACTIVATION_VALIDITY_MS);
  });

  test('renewals that fail keep it licensed until the 180 days run out, retrying every activation interval; then notification', () => {
    const s = installed();
    afterAttempt(s, answered(true), T0);
    const t = T0 + 30 * TIME.DAY_MS;
    afterAttempt(s, failed, t);
    expect(s.licenseStatus).toBe('licensed');
    expect(dueIn(s, t)).toBe(120 * MIN);
    expect(statusAt(s, T0 + ACTIVATION_VALIDITY_MS + 1)).toBe('notification');
  });

  test('intervals the host sends win when valid (15 to 43,200 min); others are ignored', () => {
    const s = installed();
    s.activationIntervalMin = 60;
    afterAttempt(s, failed, T0);
    expect(dueIn(s, T0)).toBe(60 * MIN);
    s.activationIntervalMin = 5; // below 15: the default stands
    afterAttempt(s, failed, T0);
    expect(dueIn(s, T0)).toBe(120 * MIN);
  });
});
