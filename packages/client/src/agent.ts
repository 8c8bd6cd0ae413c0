import { DEFAULT_ACTIVATION_INTERVAL_MIN, TIME, isPacedClock, type Clock, type VirtualClock } from '@kmslab/core';
import type { ActivationOutcome } from './activation-outcome.js';
import type { ClientState } from './client-state.js';
import { dueIn, ensureInstalled } from './lifecycle.js';

/** The client agent: one attempt function, run on the lifecycle's schedule. */
export interface AgentOptions {
  state: ClientState;
  clock: Clock;
  /** How much faster than real time `clock` runs (a clock of the caller's); waits shrink by it. A LabClock (any PacedClock) paces waits itself. */
  timeScale?: number;
  /** One attempt (activateOnce with the client's settings). */
  attempt: () => Promise<ActivationOutcome | null>;
  /** After each attempt (save the state, log). */
  onAttempt?: (outcome: ActivationOutcome | null, state: ClientState) => void;
}

/**
 * `kmslab client run`: contact a host whenever the lifecycle says so, on the
 * real clock, until `signal` aborts.
 */
export async function runAgent(o: AgentOptions, signal: AbortSignal): Promise<void> {
  ensureInstalled(o.state, o.clock);
  while (!signal.aborted) {
    const wait = dueIn(o.state, o.clock.now());
    if (wait > 0) {
      await sleep(o, wait, signal);
      continue;
    }
    const outcome = await o.attempt().catch(() => null);
    keepSchedule(o.state, o.clock.now());
    o.onAttempt?.(outcome, o.state);
  }
}

/**
 * Until `wait` of the clock's time has passed, the signal aborts, or a lab
 * clock changes pace (a jump, a pause, a new speed: the loop then asks
 * again). Long waits are cut in pieces: timers cap at 24.8 days.
 */
function sleep(o: AgentOptions, wait: number, signal: AbortSignal): Promise<void> {
  const paced = isPacedClock(o.clock) ? o.clock : null;
  const realMs = paced ? paced.realDelay(wait) : Math.ceil(wait / (o.timeScale ?? 1));
  return new Promise<void>((resolve) => {
    const sleepers = sleepersOf(signal);
    const done = () => {
      if (timer) clearTimeout(timer);
      sleepers.delete(done);
      off?.();
      resolve();
    };
    const timer = realMs === null ? null : setTimeout(done, Math.min(Math.ceil(realMs), 2 ** 31 - 1));
    const off = paced?.onChange(done);
    sleepers.add(done);
  });
}

/**
 * Who sleeps on a signal, woken together when it aborts: one abort listener
 * per signal, not one per sleeper (an EventTarget checks each new listener
 * against all it holds, so 100,000 agents of one lab would take minutes).
 */
const sleeping = new WeakMap<AbortSignal, Set<() => void>>();
function sleepersOf(signal: AbortSignal): Set<() => void> {
  let set = sleeping.get(signal);
  if (!set) {
    const sleepers = (set = new Set());
    sleeping.set(signal, sleepers);
    signal.addEventListener('abort', () => { for (const wake of [...sleepers]) wake(); }, { once: true });
  }
  return set;
}

/** An attempt that failed before scheduling (a bad setting) must not make the loop spin: retry in the activation interval. */
function keepSchedule(state: ClientState, now: number): void {
  if (dueIn(state, now) === 0) state.nextContactAt = new Date(now + (state.activationIntervalMin ?? DEFAULT_ACTIVATION_INTERVAL_MIN) * TIME.MINUTE_MS).toISOString();
}

/** The same schedule on a virtual clock: jump to each contact until `untilMs` (the simulator and tests use it). */
export async function runAgentVirtual(o: AgentOptions & { clock: VirtualClock }, untilMs: number, maxAttempts = 1_000_000): Promise<number> {
  ensureInstalled(o.state, o.clock);
  let attempts = 0;
  for (;;) {
    const at = o.clock.now() + dueIn(o.state, o.clock.now());
    if (at > untilMs || attempts >= maxAttempts) break;
    o.clock.set(at);
    const outcome = await o.attempt().catch(() => null);
    keepSchedule(o.state, o.clock.now());
    attempts++;
    o.onAttempt?.(outcome, o.state);
  }
  o.clock.set(Math.max(o.clock.now(), untilMs));
  return attempts;
}
