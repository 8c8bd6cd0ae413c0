import { TIME } from '@kmslab/core';
import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const HOUR = 60;
const DAY = TIME.DAY_MS / TIME.MINUTE_MS;
// Just after the branch server's hourly refresh (its refreshes fall a minute after each hour of the run here).
const REPLACED_AT = DAY + 5;

/**
 * "DNS changes may not be reflected until all DNS servers have been
 * replicated" (kms-reference.md "Publishing in Active Directory DNS";
 * docs/secondaries.md): head-office clients ask the lab DNS, branch clients
 * a secondary of it that learns changes only at its SOA refresh (every hour,
 * no NOTIFY — a DNS server in another site). On day 1 kms1 fails and kms2
 * replaces it: head office finds kms2 at once (after the ~2 s a Windows
 * client loses on kms1's record), the branch knows only kms1 and fails
 * (0xC004F074) until its server's refresh brings kms2; the branch clients
 * that failed activate at their 2-hour retry.
 */
export function branchSecondary(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({
    name: 'branch-secondary',
    description: 'A replacement KMS host published at head office: branch clients, asking a secondary that refreshes hourly, fail until their DNS server has the change.',
  }, options, async (sim, check) => {
    await sim.useDns('lab.test', { secondaries: 1 });
    await sim.startHost({ name: 'kms1', priority: 0 });
    // A head-office and a branch machine joining every 15 minutes for a day and a half; the branch from hour 2,
    // once its server has taken kms1 in (it took the zone before kms1 published, and refreshes hourly).
    for (let i = 0; i < 36 * 4; i++) {
      const minute = 1 + i * 15;
      sim.addClient(`hq-${String(i + 1).padStart(3, '0')}`, 'windows-11-pro', minute, { dns: true });
      if (minute > 2 * HOUR) sim.addClient(`branch-${String(i + 1).padStart(3, '0')}`, 'windows-11-pro', minute + 1, { dns: true, server: 1 });
    }
    await sim.runUntil(REPLACED_AT);
    await sim.stopHost('kms1'); // failed: its record stays
    await sim.startHost({ name: 'kms2', priority: 10 });
    await sim.runUntil(REPLACED_AT + 12 * HOUR);

    const took = sim.events.find((e) => e.minute >= REPLACED_AT && e.label.startsWith('secondary 1 took in serial'));
    const firsts = sim.timeline.filter((e, i) => sim.timeline.findIndex((x) => x.client === e.client) === i);
    const after = (prefix: string) => firsts.filter((e) => e.client.startsWith(prefix) && e.minute > REPLACED_AT);
    const before = firsts.filter((e) => e.minute < REPLACED_AT);
    const answeredBy = (e: { host: string | null; errorCode: string | null }, host: string) => e.host?.startsWith(`${host}.`) === true && e.errorCode !== '0xC004F074';
    const branchStale = after('branch-').filter((e) => took && e.minute < took.minute);
    const branchFresh = after('branch-').filter((e) => took && e.minute > took.minute);
    const hq = after('hq-');
    check('before kms1 fails every client, head office and branch, is answered by kms1', before.length > 0 && before.every((e) => answeredBy(e, 'kms1')), `${before.length} clients`);
    check('head office finds kms2 at once (about 2 s lost on kms1\'s record first)', hq.length > 0 && hq.every((e) => answeredBy(e, 'kms2') && e.spentMs >= 1950), `${hq.length} clients`);
    check('the branch server takes the change at its SOA refresh, within the hour', took !== undefined && took.minute - REPLACED_AT <= HOUR, took ? `${took.label} at ${Math.round(took.minute - REPLACED_AT)} min` : 'never');
    check('until then branch clients know only kms1 and fail with 0xC004F074', branchStale.length > 0 && branchStale.every((e) => e.errorCode === '0xC004F074'), `${branchStale.length} clients`);
    check('after it branch clients find kms2', branchFresh.length > 0 && branchFresh.every((e) => answeredBy(e, 'kms2')), `${branchFresh.length} clients`);
    const retried = branchStale.map((f) => sim.timeline.find((e) => e.client === f.client && e.minute > f.minute));
    check('the branch clients that failed reach kms2 at their 2-hour retry', retried.length > 0 && retried.every((e, i) => e !== undefined && answeredBy(e, 'kms2') && Math.round(e.minute - branchStale[i]!.minute) >= 119), `${retried.filter(Boolean).length} of ${retried.length}`);
  });
}
