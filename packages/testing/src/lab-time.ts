import { KmsLabError, parseDurationMs, type Clock } from '@kmslab/core';

/**
 * The lab's one clock, shared by its DNS, hosts and clients: virtual (still
 * until advanced: tests decide when 7 days pass) or real (running, and
 * advanced by an offset). `advance('7d')` takes the duration forms of
 * scenario files, or milliseconds.
 */
export class LabTime implements Clock {
  readonly kind: 'virtual' | 'real';
  /** When a virtual clock starts (ms since the epoch). */
  readonly start: number;
  #base: number;
  /** The offset advanced so far, in memory a lab's worker thread can share (one float). */
  readonly #offset: Float64Array;

  constructor(kind: 'virtual' | 'real', start = Date.now(), sharedOffset?: SharedArrayBuffer) {
    this.kind = kind;
    this.start = start;
    this.#base = kind === 'virtual' ? start : 0;
    this.#offset = new Float64Array(sharedOffset ?? new SharedArrayBuffer(8));
  }

  /** The memory the offset lives in: a LabTime made over it in another thread moves with this one. */
  get sharedOffset(): SharedArrayBuffer {
    return this.#offset.buffer as SharedArrayBuffer;
  }

  now(): number {
    return (this.kind === 'virtual' ? this.#base : Date.now()) + this.#offset[0]!;
  }

  /** Moves lab time forward; returns the new time (ms since the epoch). */
  advance(by: string | number): number {
    const ms = typeof by === 'number' ? by : parseDurationMs(by);
    if (ms === null || !(ms >= 0) || !Number.isFinite(ms)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `advance takes a duration forward ("7d", "2h30m") or milliseconds (got ${JSON.stringify(by)})`);
    this.#offset[0]! += ms;
    return this.now();
  }
}
