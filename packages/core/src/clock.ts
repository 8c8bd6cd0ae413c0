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

/** A clock that says how long to sleep in real time for a span of its own time, and tells when that changed. */
export interface PacedClock extends Clock {
  /** Real milliseconds until `ms` of this clock's time have passed; null while it stands still. */
  realDelay(ms: number): number | null;
  /** Called whenever earlier answers of `realDelay` stopped holding; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** True for a clock that paces sleepers itself (a LabClock). */
export function isPacedClock(clock: Clock): clock is PacedClock {
  return typeof (clock as Partial<PacedClock>).realDelay === 'function' && typeof (clock as Partial<PacedClock>).onChange === 'function';
}

/**
 * The clock of a running classroom lab (`kmslab up`): real time times
 * `speed`, which can pause, change speed and jump ahead while it runs.
 * Whoever sleeps until a lab time asks `realDelay` and wakes on `onChange`
 * (a jump or a new speed moves every wake-up).
 */
export class LabClock implements PacedClock {
  #labAt: number;
  #realAt: number;
  #speed: number;
  #paused = false;
  readonly #listeners = new Set<() => void>();

  constructor(
    speed = 1,
    private readonly real: () => number = Date.now,
    start = real(),
  ) {
    LabClock.#check(speed);
    this.#speed = speed;
    this.#labAt = start;
    this.#realAt = real();
  }

  static #check(speed: number): void {
    if (!(speed > 0 && speed <= 1_000_000)) throw new RangeError(`a lab clock runs 0 < speed ≤ 1,000,000 times real time (got ${speed})`);
  }

  now(): number {
    return this.#paused ? this.#labAt : this.#labAt + (this.real() - this.#realAt) * this.#speed;
  }

  get speed(): number {
    return this.#speed;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Real milliseconds until `labMs` of lab time have passed; null while paused. */
  realDelay(labMs: number): number | null {
    return this.#paused ? null : Math.max(0, labMs / this.#speed);
  }

  /** Called after every pause, resume, speed change or jump. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  pause(): void {
    this.#rebase();
    this.#paused = true;
    this.#changed();
  }

  resume(): void {
    this.#rebase();
    this.#paused = false;
    this.#changed();
  }

  setSpeed(speed: number): void {
    LabClock.#check(speed);
    this.#rebase();
    this.#speed = speed;
    this.#changed();
  }

  /** Moves lab time forward by `ms` at once (never back: counts and validity only ever age). */
  jump(ms: number): void {
    if (!(ms >= 0 && Number.isFinite(ms))) throw new RangeError(`a lab clock jumps forward only (got ${ms} ms)`);
    this.#rebase();
    this.#labAt += ms;
    this.#changed();
  }

  #rebase(): void {
    this.#labAt = this.now();
    this.#realAt = this.real();
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }
}
