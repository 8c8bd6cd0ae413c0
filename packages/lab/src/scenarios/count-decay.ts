import { TIME } from '@kmslab/core';
import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const DAY = TIME.DAY_MS / TIME.MINUTE_MS;

/**
 * kms-reference.md "Client timing": a network at 25 loses two machines; 30
 * days later the count is 23 and the remaining clients' renewals fail, yet
 * they stay licensed (until their 180 days run out) and retry every 2 h.
 */
export function countDecay(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({ name: 'count-decay', description: 'A network at 25 loses two machines; 30 days later the count is 23 and renewals fail, but licenses hold for 180 days.' }, options, async (sim, check) => {
    await sim.startHost();
    for (let i = 1; i <= 25; i++) sim.addClient(`pc-${String(i).padStart(2, '0')}`, 'windows-10-enterprise', i);
    await sim.runUntil(3 * 60);
    const licensedAt3h = sim.clientNames().filter((n) => sim.client(n).licenseStatus === 'licensed').length;
    check('25 machines: every one licensed within 2 h of the 25th', licensedAt3h === 25, `${licensedAt3h} licensed`);

    sim.removeClient('pc-24', 10 * DAY);
    sim.removeClient('pc-25', 10 * DAY);
    await sim.runUntil(36 * DAY);
    const before = await sim.host.status();
    // They last renewed on day 7 (every 7 days), so their records age out after day 37.
    check('day 36: the two who left on day 10 still count (last seen on day 7, within 30 days)', before.families.windows!.currentCount === 25, `count ${before.families.windows!.currentCount}`);
    await sim.runUntil(45 * DAY);
    const after = await sim.host.status();
    check('day 45: their records aged out, the count is 23', after.families.windows!.currentCount === 23, `count ${after.families.windows!.currentCount}`);
    const pc01 = sim.timeline.filter((e) => e.client === 'pc-01' && e.minute > 42 * DAY);
    const failing = pc01.length > 0 && pc01.every((e) => !e.licensed && e.count === 23);
    check('renewals now fail with 0xC004F038 (23 < 25)…', failing, `${pc01.length} contacts of pc-01 since day 42, counts ${[...new Set(pc01.map((e) => e.count))].join('/')}`);
    const gaps = pc01.slice(1).map((e, i) => e.minute - pc01[i]!.minute);
    check('…retried every 2 h…', gaps.length > 5 && gaps.every((g) => g === 120), `gaps ${[...new Set(gaps)].join('/')} min`);
    check('…and the machines stay licensed until their 180 days run out', sim.client('pc-01').licenseStatus === 'licensed', `pc-01 is ${sim.client('pc-01').licenseStatus}`);
  });
}
