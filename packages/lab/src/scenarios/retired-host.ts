import { TIME } from '@kmslab/core';
import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const DAY = TIME.DAY_MS / TIME.MINUTE_MS;
const RETIRED_AT = 2 * DAY;

/**
 * A KMS host retired without removing its record (kms-reference.md
 * "Publishing in Active Directory DNS"; docs/secure-zones.md "Aging and
 * scavenging"): kms1 at priority 0 goes away on day 2, kms2 at priority 10
 * stays. Every new client tries kms1 first and loses about 2 s to a Windows
 * client's SYN retries before reaching kms2 — until aging (7 + 7 days, a pass
 * every 7 days, Windows' defaults) lets the scavenging pass remove kms1's
 * stale record; after that activations are fast again. kms2 refreshes daily
 * and is never scavenged.
 */
export function retiredHost(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({
    name: 'retired-host',
    description: 'kms1 (priority 0) is retired without deregistering: new clients lose ~2 s on it until aging and scavenging remove its record; kms2 refreshes and stays.',
  }, options, async (sim, check) => {
    await sim.useDns('lab.test', { aging: { intervals: '7d/7d', scavengePeriod: '7d' } });
    await sim.startHost({ name: 'kms1', priority: 0 });
    await sim.startHost({ name: 'kms2', priority: 10 });
    // A new machine every six hours for four weeks; each one's first activation shows what DNS costs it.
    for (let i = 0; i < 4 * 28; i++) sim.addClient(`pc-${String(i + 1).padStart(3, '0')}`, 'windows-11-pro', 60 + i * 360, { dns: true });
    await sim.runUntil(RETIRED_AT);
    await sim.stopHost('kms1'); // retired: no deregistration, its record stays
    await sim.runUntil(28 * DAY);

    const firsts = sim.timeline.filter((e, i) => sim.timeline.findIndex((x) => x.client === e.client) === i);
    const scavenged = sim.events.find((e) => e.label.startsWith('scavenged: _vlmcs._tcp.lab.test') && e.label.includes('kms1.lab.test'));
    const before = firsts.filter((e) => e.minute < RETIRED_AT);
    const stale = firsts.filter((e) => e.minute > RETIRED_AT && scavenged && e.minute < scavenged.minute);
    const clean = firsts.filter((e) => scavenged && e.minute > scavenged.minute);
    const seconds = (es: typeof firsts) => es.map((e) => e.spentMs / 1000);
    const range = (es: typeof firsts) => (es.length ? `${Math.min(...seconds(es)).toFixed(1)}–${Math.max(...seconds(es)).toFixed(1)} s` : 'none');
    check('before kms1 is retired new clients activate at once, on kms1', before.length > 0 && before.every((e) => e.spentMs < 1000 && e.host?.startsWith('kms1.')), `${before.length} clients, ${range(before)}`);
    check('while its record stays, every new client loses about 2 s on kms1 before kms2', stale.length > 0 && stale.every((e) => e.spentMs >= 1950 && e.spentMs < 2500 && e.host?.startsWith('kms2.')), `${stale.length} clients, ${range(stale)}`);
    const scavengedDay = scavenged ? scavenged.minute / DAY : null;
    // Its timestamp is day 0's: the daily refreshes fell inside the no-refresh interval. Stale from day 14, removed by the first 7-day pass from then.
    check('the scavenging pass removes kms1\'s record once it is stale (no refresh for 7 + 7 days)', scavengedDay !== null && scavengedDay >= 14 && scavengedDay < 14 + 7, scavenged ? `${scavenged.label} on day ${scavengedDay!.toFixed(1)}` : 'never scavenged');
    check('after it, new clients activate at once on kms2', clean.length > 0 && clean.every((e) => e.spentMs < 1000 && e.host?.startsWith('kms2.')), `${clean.length} clients, ${range(clean)}`);
    check('kms2 refreshes daily and is never scavenged', !sim.events.some((e) => e.label.startsWith('scavenged') && e.label.includes('kms2.lab.test')), 'kms2 kept');
  });
}
