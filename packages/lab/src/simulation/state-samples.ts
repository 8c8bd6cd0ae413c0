import { TIME } from '@kmslab/core';
import { statusAt } from '@kmslab/client';
import { CLIENT_STATES, type ClientStateName } from '../report/report-data.js';
import type { SimClient } from './sim-client.js';

/** Minutes between client-state samples (reports). */
export const SAMPLE_STEP_MIN = 60;

/** How many clients were in each state, every SAMPLE_STEP_MIN minutes from the start: the report's stacked chart. */
export class StateSamples {
  readonly states = Object.fromEntries(CLIENT_STATES.map((s) => [s, [] as number[]])) as Record<ClientStateName, number[]>;
  readonly #start: number;

  constructor(start: number) {
    this.#start = start;
  }

  /** Takes every sample due up to `upTo` (ms), from the clients' states as they are now. */
  sampleUpTo(upTo: number, clients: readonly SimClient[]): void {
    const step = SAMPLE_STEP_MIN * TIME.MINUTE_MS;
    for (let i = this.states.licensed.length; this.#start + i * step <= upTo; i++) {
      const t = this.#start + i * step;
      const n: Record<ClientStateName, number> = { grace: 0, licensed: 0, notification: 0, left: 0 };
      for (const c of clients) {
        if (c.leaveAt !== null && c.leaveAt <= t) n.left++;
        else if (c.state.installedAt && Date.parse(c.state.installedAt) <= t) {
          const s = statusAt(c.state, t);
          n[s === 'licensed' ? 'licensed' : s === 'notification' ? 'notification' : 'grace']++;
        }
      }
      for (const s of CLIENT_STATES) this.states[s].push(n[s]);
    }
  }
}
