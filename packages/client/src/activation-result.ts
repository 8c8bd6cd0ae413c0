import type { ActivationResult } from '@kmslab/core';
import type { ActivationOutcome } from './activation-outcome.js';

export type { ActivationResult } from '@kmslab/core';

/** One attempt's outcome in the form users' scripts read. */
export function activationResult(outcome: ActivationOutcome, product: { id: string; threshold: number }, cmid: string): ActivationResult {
  const r = outcome.response;
  return {
    licensed: r?.licensed ?? Boolean(outcome.mak), count: r?.count ?? null, activatedBy: outcome.mak ? 'mak' : r ? 'kms' : null, makRemaining: outcome.mak?.remaining ?? null, threshold: r?.threshold ?? product.threshold, errorCode: outcome.errorCode,
    message: outcome.message, host: outcome.host, discoveredBy: outcome.discoveredBy, product: product.id, cmid, tried: outcome.tried,
    family: r?.family ?? null, hostId: r?.hostId ?? null, activationIntervalMin: r?.activationIntervalMin ?? null, renewalIntervalMin: r?.renewalIntervalMin ?? null,
  };
}
