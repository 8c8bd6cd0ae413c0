import {
  ACTIVATION_VALIDITY_MS, DEFAULT_ACTIVATION_INTERVAL_MIN, DEFAULT_GRACE_MS, DEFAULT_RENEWAL_INTERVAL_MIN, TIME, isValidInterval, type Clock,
} from '@kmslab/core';
import type { ActivationOutcome } from './activation-outcome.js';
import type { ClientState } from './client-state.js';

/** The client lifecycle fields kept in ClientState (times are ISO strings). */
export interface LifecycleFields {
  installedAt: string | null;
  graceUntil: string | null;
  nextContactAt: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();
const ms = (s: string | null) => (s === null ? null : Date.parse(s));

/**
 * When a KMS client talks to its host, and what it is in between
 * (kms-reference.md "Client timing"): unlicensed clients retry every
 * activation interval (120 min) until licensed or out of grace (30 days, then
 * notification); licensed clients renew every renewal interval (7 days), and
 * every success restarts the 180 days; a licensed client whose renewals fail
 * stays licensed until its 180 days run out, retrying every activation
 * interval, then falls to notification. Intervals the host sends win (15 to
 * 43,200 min). Pure functions of the state and the clock, so the same code
 * runs on the real and the virtual clock.
 */
export function ensureInstalled(state: ClientState & Partial<LifecycleFields>, clock: Clock, graceMs = DEFAULT_GRACE_MS): void {
  if (state.installedAt) return;
  const now = clock.now();
  state.installedAt = iso(now);
  state.graceUntil = iso(now + graceMs);
  state.nextContactAt = iso(now);
  state.licenseStatus = 'initial-grace';
}

/** The license status at `now`, with expiry applied (grace over, or 180 days without a renewal). */
export function statusAt(state: ClientState & Partial<LifecycleFields>, now: number): ClientState['licenseStatus'] {
  if (state.licenseStatus === 'licensed') {
    if (state.licensedUntil === null && state.makKey) return 'licensed'; // MAK activation does not expire
    const until = ms(state.licensedUntil);
    return until !== null && now > until ? 'notification' : 'licensed';
  }
  const grace = ms(state.graceUntil ?? null);
  if (state.licenseStatus === 'initial-grace' && grace !== null && now > grace) return 'notification';
  return state.licenseStatus;
}

function minutes(value: number | null, fallback: number): number {
  return value !== null && isValidInterval(value) ? value : fallback;
}

/** Applies an attempt's outcome at `now` and schedules the next contact. */
export function afterAttempt(state: ClientState & Partial<LifecycleFields>, outcome: ActivationOutcome, now: number): void {
  state.licenseStatus = statusAt(state, now);
  const activation = minutes(state.activationIntervalMin, DEFAULT_ACTIVATION_INTERVAL_MIN);
  const renewal = minutes(state.renewalIntervalMin, DEFAULT_RENEWAL_INTERVAL_MIN);
  if (outcome.mak) {
    // MAK: activated for good, nothing to renew (kms-reference.md "Roles").
    state.licenseStatus = 'licensed';
    state.licensedUntil = null;
    state.nextContactAt = null;
    return;
  }
  if (outcome.response?.licensed) {
    state.licenseStatus = 'licensed';
    state.licensedUntil = iso(now + ACTIVATION_VALIDITY_MS);
    state.nextContactAt = iso(now + renewal * TIME.MINUTE_MS);
  } else {
    state.nextContactAt = iso(now + activation * TIME.MINUTE_MS);
  }
}

/** Milliseconds until the client should contact a host (0 when due). */
export function dueIn(state: ClientState & Partial<LifecycleFields>, now: number): number {
  if (state.makKey && state.licenseStatus === 'licensed' && state.licensedUntil === null) return Number.POSITIVE_INFINITY;
  const next = ms(state.nextContactAt ?? null);
  return next === null ? 0 : Math.max(0, next - now);
}

/** Minutes left on the client's license (licensed) or grace (not yet), 0 once it ran out: the time to expiration its events carry. */
export function minutesLeft(state: ClientState & Partial<LifecycleFields>, now: number): number {
  const until = ms(state.licenseStatus === 'licensed' ? (state.licensedUntil ?? null) : (state.graceUntil ?? null));
  return until === null ? 0 : Math.max(0, Math.floor((until - now) / TIME.MINUTE_MS));
}
