import { KmsLabError, parseDurationMs, type Clock } from '@kmslab/core';

/**
 * The lab's one clock, shared by its DNS, hosts and clients: virtual (still
 * until advanced: tests decide when 7 days pass) or real (running, and
 * advanced by an offset). `advance('7d')` takes the duration forms of
 * scenario files, or milliseconds.
 */
export class LabTime implements Clock {
  readonly kind: 'virtual' | 'real';
  #base: number;
  #offset = 0;

  constructor(kind: 'virtual' | 'real', start = Date.now()) {
    this.kind = kind;
    this.#base = kind === 'virtual' ? start : 0;
  }

  now(): number {
    return (this.kind === 'virtual' ? this.#base : Date.now()) + this.#offset;
  }

  /** Moves lab time forward; returns the new time (ms since the epoch). */
  advance(by: string | number): number {
    const ms = typeof by === 'number' ? by : parseDurationMs(by);
    if (ms === null || !(ms >= 0) || !Number.isFinite(ms)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `advance takes a duration forward ("7d", "2h30m") or milliseconds (got ${JSON.stringify(by)})`);
    this.#offset += ms;
    return this.now();
  }
}
