import { KMS_EVENT, TIME, type KmsEvent } from '@kmslab/core';
import { runScenario, type RunOptions, type ScenarioResult } from './scenario.js';

const DAY = TIME.DAY_MS / TIME.MINUTE_MS;
const GRANT_AT = 3 * DAY;

/**
 * Two KMS hosts in an Active Directory-integrated (secure-only) zone
 * (kms-reference.md "Publishing in Active Directory DNS"; docs/secure-zones.md):
 * kms1 publishes `_vlmcs._tcp` first and owns the name; kms2's updates are
 * refused — 12293 REFUSED on every hourly retry, for days — and every client
 * finds kms1 only. The admin grants a group of KMS hosts on the record
 * ("Change the Default DNS Permissions for SRV Records"); kms2's next retry
 * publishes (12294) and new clients find both.
 */
export function secondHostCannotPublish(options: RunOptions = {}): Promise<ScenarioResult> {
  return runScenario({
    name: 'second-host-cannot-publish',
    description: 'A secure zone: kms1 owns _vlmcs._tcp, kms2 is refused (12293) for three days and clients find kms1 only; the admin grants a group of KMS hosts and kms2 appears.',
  }, options, async (sim, check) => {
    await sim.useDns('lab.test', { secure: true });
    await sim.startHost({ name: 'kms1', priority: 0, weight: 50 });
    await sim.startHost({ name: 'kms2', priority: 0, weight: 50 });
    const at = (e: KmsEvent) => (Date.parse(e.time) - sim.clock.now()) / TIME.MINUTE_MS + sim.minute;
    const hostsUsed = (from: number, to: number) => [...new Set(sim.timeline.filter((e) => e.minute >= from && e.minute < to && e.host).map((e) => e.host!.split('.')[0]))].sort();

    // A machine joins every three hours, before and after the grant.
    for (let i = 0; i < 48; i++) sim.addClient(`pc-${String(i + 1).padStart(2, '0')}`, 'windows-11-pro', 30 + i * 180, { dns: true });
    await sim.runUntil(GRANT_AT);
    const events = sim.kmsEvents.after();
    const kms2Refused = events.filter((e) => e.id === KMS_EVENT.publishFailed && e.source === 'kms2');
    check('kms2 is refused on every try for three days: 12293 with REFUSED, never 12294', kms2Refused.length >= 2 * 24 && kms2Refused.every((e) => 'dnsError' in e && e.dnsError === 'REFUSED') && !events.some((e) => e.id === KMS_EVENT.published && e.source === 'kms2'), `${kms2Refused.length} × 12293 from kms2 (${kms2Refused[0] && 'hresult' in kms2Refused[0] ? kms2Refused[0].hresult : '-'})`);
    check('until the grant every client finds kms1 only', hostsUsed(0, GRANT_AT).join() === 'kms1', `hosts used: ${hostsUsed(0, GRANT_AT).join(', ')}`);

    sim.grantDns('kms-hosts', ['kms1', 'kms2'], '_vlmcs._tcp.lab.test');
    await sim.runUntil(6 * DAY);
    const published = sim.kmsEvents.after().find((e) => e.id === KMS_EVENT.published && e.source === 'kms2');
    const after = published ? at(published) - GRANT_AT : null;
    check("kms2's next retry after the grant publishes (12294), within the hour", after !== null && after >= 0 && after <= 60, published ? `12294 from kms2 ${Math.round(after!)} min after the grant` : 'no 12294 from kms2');
    check('after the grant new clients find both hosts', hostsUsed(GRANT_AT, 6 * DAY).join() === 'kms1,kms2', `hosts used: ${hostsUsed(GRANT_AT, 6 * DAY).join(', ')}`);
  });
}
