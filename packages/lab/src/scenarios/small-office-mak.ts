import { TIME } from '@kmslab/core';
import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const DAY = TIME.DAY_MS / TIME.MINUTE_MS;

/**
 * A small office never reaches a threshold (kms-reference.md "Roles": MAK is
 * the way out): five Windows 10 machines sit at count 5 < 25, then switch to
 * a MAK with 10 activations and are all licensed, using 5.
 */
export function smallOfficeMak(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({ name: 'small-office-mak', description: 'Five machines never reach 25; they switch to a MAK and are licensed for good.' }, options, async (sim, check) => {
    await sim.startHost({ makKeys: [{ key: 'KMSLAB-MAK-OFFICE-01', activations: 10 }] });
    const names = ['pc-1', 'pc-2', 'pc-3', 'pc-4', 'pc-5'];
    names.forEach((n, i) => sim.addClient(n, 'windows-10-pro', i * 10));
    await sim.runUntil(DAY);
    const counts = new Set(sim.timeline.filter((e) => e.minute > 60).map((e) => e.count));
    check('below the threshold for a day: count 5 of 25, nobody licensed', counts.size === 1 && counts.has(5) && names.every((n) => sim.client(n).licenseStatus !== 'licensed'), `counts ${[...counts].join('/')}`);
    for (const n of names) sim.client(n).makKey = 'KMSLAB-MAK-OFFICE-01';
    await sim.runUntil(DAY + 3 * 60);
    check('after the switch to MAK, every machine is licensed at its next retry', names.every((n) => sim.client(n).licenseStatus === 'licensed'), names.map((n) => sim.client(n).licenseStatus).join(', '));
    await sim.runUntil(200 * DAY);
    check('a MAK activation does not expire and needs no renewal', names.every((n) => sim.client(n).licenseStatus === 'licensed') && sim.timeline.filter((e) => e.minute > DAY + 3 * 60).length === 0, `${sim.timeline.filter((e) => e.minute > DAY + 3 * 60).length} contacts after the switch`);
  });
}
