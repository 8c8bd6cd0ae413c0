/**
 * Time for everything that reads it (style.md rule 5): logic takes a Clock,
 * so the same code runs live and on the simulator's virtual clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

/** The wall clock. */
export const realClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. Never goes backwards. */
export class VirtualClock implements Clock {
  #now: number;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`a virtual clock moves forward only (got ${ms} ms)`);
    this.#now += ms;
    return this.#now;
  }

  set(ms: number): number {
    return this.advance(ms - this.#now);
  }
}

/**
 * A clock set from outside: `kmslab lab run --live` drives a host process's
 * time through its admin listener. Unlike VirtualClock it may move backwards,
 * as a real clock does after a correction (a lab's clock-jump event).
 */
export class SettableClock implements Clock {
  #now: number;

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  set(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`a clock needs a finite time (got ${ms})`);
    this.#now = ms;
  }
}

/**
 * Real time running `scale` times faster from the moment it was made: a
 * classroom lab shows days of KMS behaviour in minutes (`kmslab up --time-scale`).
 */
export class ScaledClock implements Clock {
  readonly #origin: number;
  constructor(
    readonly scale: number,
    private readonly real: () => number = Date.now,
  ) {
    if (!(scale > 0)) throw new RangeError(`time scale must be positive (got ${scale})`);
    this.#origin = real();
  }

  now(): number {
    return this.#origin + (this.real() - this.#origin) * this.scale;
  }
}
