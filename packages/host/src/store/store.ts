import type { Family, FamilyStats, LicenseStatus } from '@kmslab/core';

export type { FamilyStats } from '@kmslab/core';

/** One counted request, as the store applies it atomically. */
export interface CountedRequest {
  family: Family;
  cmid: string;
  /** Host time of the request (ms); records older than the 30-day window are dropped first. */
  now: number;
  /** Threshold of the requesting product: a count below it is a failed request. */
  threshold: number;
  licenseStatus: LicenseStatus;
}

/** A request refused before counting (0xC004F042, 0xC004F06C): statistics only. */
export interface RefusedRequest {
  family: Family;
  licenseStatus: LicenseStatus;
}


/**
 * Where a host keeps its client records and statistics. `record` must be
 * atomic and durable before it resolves: the host answers the client only
 * after it (kms-reference.md "Counting"; DEVELOPERS.md "no acknowledged count is lost").
 */
export interface ActivationStore {
  readonly kind: 'memory' | 'redis';
  /** Refreshes the client's record and returns the family's count after it. */
  record(request: CountedRequest): Promise<number>;
  recordRefused(request: RefusedRequest): Promise<void>;
  /**
   * Uses one activation of a MAK for this client (the same client again uses
   * none): the activations left, or null when the key is used up.
   */
  consumeMak(key: string, cmid: string, limit: number): Promise<number | null>;
  stats(families: readonly Family[], now: number): Promise<Record<Family, FamilyStats>>;
  /** True when the store can take writes now. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
