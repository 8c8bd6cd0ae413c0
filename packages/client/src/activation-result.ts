import type { ErrorCode } from '@kmslab/core';
import type { ActivationOutcome, DiscoveredBy } from './activation-outcome.js';

/** What `kmslab client activate --json` prints for one attempt (and what test fixtures resolve to). */
export interface ActivationResult {
  licensed: boolean;
  count: number | null;
  /** `kms` (a host's count), `mak` (the client's MAK), or null when nothing answered. */
  activatedBy: 'kms' | 'mak' | null;
  makRemaining: number | null;
  threshold: number;
  /** The code a Windows client would show (0xC004F038, 0x8007232A…), null when licensed. */
  errorCode: ErrorCode | null;
  message: string | null;
  host: string | null;
  discoveredBy: DiscoveredBy | null;
  product: string;
  cmid: string;
  tried: ActivationOutcome['tried'];
}

/** One attempt's outcome in the form users' scripts read. */
export function activationResult(outcome: ActivationOutcome, product: { id: string; threshold: number }, cmid: string): ActivationResult {
  const r = outcome.response;
  return {
    licensed: r?.licensed ?? Boolean(outcome.mak), count: r?.count ?? null, activatedBy: outcome.mak ? 'mak' : r ? 'kms' : null, makRemaining: outcome.mak?.remaining ?? null, threshold: r?.threshold ?? product.threshold, errorCode: outcome.errorCode,
    message: outcome.message, host: outcome.host, discoveredBy: outcome.discoveredBy, product: product.id, cmid, tried: outcome.tried,
  };
}
