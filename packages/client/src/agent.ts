import { DEFAULT_ACTIVATION_INTERVAL_MIN, TIME, type Clock, type VirtualClock } from '@kmslab/core';
import type { ActivationOutcome } from './activation-outcome.js';
import type { ClientState } from './client-state.js';
import { dueIn, ensureInstalled } from './lifecycle.js';

/** The client agent: one attempt function, run on the lifecycle's schedule. */
export interface AgentOptions {
  state: ClientState;
  clock: Clock;
  /** How much faster than real time `clock` runs (a ScaledClock); waits shrink by it. */
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
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          clearTimeout(timer);
          resolve();
        };
        // Long waits are cut in pieces: timers cap at 24.8 days.
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, Math.min(Math.ceil(wait / (o.timeScale ?? 1)), 2 ** 31 - 1));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      continue;
    }
    const outcome = await o.attempt().catch(() => null);
    keepSchedule(o.state, o.clock.now());
    o.onAttempt?.(outcome, o.state);
  }
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
