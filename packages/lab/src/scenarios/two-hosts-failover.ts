import { TIME } from '@kmslab/core';
import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const DAY = TIME.DAY_MS / TIME.MINUTE_MS;

/**
 * Two hosts behind SRV records with priorities 0 and 10 (kms-reference.md
 * "Discovery"): clients find the priority-0 host through DNS and cache it;
 * during its outage they fail over to the other; after it returns, the
 * clients that cached the second host stay with it, and new clients use the
 * first again.
 */
export function twoHostsFailover(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({ name: 'two-hosts-failover', description: 'Two hosts (SRV priorities 0 and 10); clients fail over during an outage, keep their cached host after it, new clients return to priority 0.' }, options, async (sim, check) => {
    await sim.useDns('lab.test');
    await sim.startHost({ name: 'kms-a', priority: 0 });
    await sim.startHost({ name: 'kms-b', priority: 10 });
    const hostsOf = (from: number, to: number) => new Set(sim.timeline.filter((e) => e.minute >= from && e.minute < to && e.host).map((e) => e.host!.split('.')[0]));

    for (let i = 1; i <= 20; i++) sim.addClient(`pc-${String(i).padStart(2, '0')}`, 'windows-10-pro', i, { dns: true });
    await sim.runUntil(DAY);
    const a1 = await sim.hostNamed('kms-a').status();
    check('every client found the priority-0 host through DNS', a1.families.windows!.currentCount === 20 && [...hostsOf(0, DAY)].join() === 'kms-a', `kms-a count ${a1.families.windows!.currentCount}; hosts used: ${[...hostsOf(0, DAY)].join(', ')}`);

    await sim.stopHost('kms-a');
    await sim.runUntil(DAY + 3 * 60);
    const b = await sim.hostNamed('kms-b').status();
    check('kms-a down: within one retry interval every client failed over to kms-b', b.families.windows!.currentCount === 20 && [...hostsOf(DAY, DAY + 3 * 60)].join() === 'kms-b', `kms-b count ${b.families.windows!.currentCount}`);
    // A Windows client spends about 2 s on each try of a dead host (its SYN retries): the cached kms-a, then kms-a again from DNS.
    const during = sim.timeline.filter((e) => e.minute >= DAY && e.minute < DAY + 3 * 60);
    const failovers = during.filter((e, i) => e.host?.startsWith('kms-b.') && during.findIndex((x) => x.client === e.client) === i);
    const took = failovers.map((e) => e.spentMs / 1000);
    check('each failover cost its client about 2 s per try of the dead host, in lab time', failovers.length > 0 && took.every((s) => s >= 2 * 1.95 && s < 2 * 2.2), `${failovers.length} failovers took ${Math.min(...took).toFixed(1)}–${Math.max(...took).toFixed(1)} s (cached kms-a, then kms-a from DNS, then kms-b)`);

    await sim.restartHost('kms-a');
    await sim.runUntil(2 * DAY);
    check('kms-a back: clients that cached kms-b stay with it (host caching)', [...hostsOf(DAY + 3 * 60, 2 * DAY)].join() === 'kms-b', `hosts used: ${[...hostsOf(DAY + 3 * 60, 2 * DAY)].join(', ')}`);
    sim.addClient('new-pc', 'windows-10-pro', 2 * DAY + 1, { dns: true });
    await sim.runUntil(2 * DAY + 1);
    const fresh = sim.timeline.find((e) => e.client === 'new-pc');
    check('a new client (nothing cached) uses the priority-0 host again', fresh?.host?.startsWith('kms-a.') === true, `new-pc used ${fresh?.host}`);
  });
}
