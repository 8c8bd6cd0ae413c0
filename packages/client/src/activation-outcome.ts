import type { ActivationResponse, DiscoveredBy, ErrorCode, MakResponse } from '@kmslab/core';

export type { DiscoveredBy } from '@kmslab/core';

/**
 * What one activation attempt came to — an answer, a MAK activation, or a
 * failure with its code (DNS failures included) — and what was tried. The
 * lifecycle schedules the next contact from it, whatever it holds.
 */
export interface ActivationOutcome {
  response: ActivationResponse | null;
  /** Set when the client activated with its MAK (no count, no expiry). */
  mak?: MakResponse | null;
  /** HOST:PORT actually connected to (an address for DNS-found hosts). */
  address?: string | null;
  errorCode: ErrorCode | null;
  message: string | null;
  /** HOST:PORT that answered. */
  host: string | null;
  discoveredBy: DiscoveredBy | null;
  tried: Array<{ host: string; discoveredBy: DiscoveredBy; error: string }>;
}
