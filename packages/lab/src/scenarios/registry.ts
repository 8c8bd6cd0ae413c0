import { formatMinute } from '../simulation.js';
import { countEvents } from '../report/scenario-report.js';
import { countDecay } from './count-decay.js';
import { currentFleet } from './current-fleet.js';
import { referenceWalkthrough } from './reference-walkthrough.js';
import { fleetScenario } from './fleet.js';
import { redisOutage } from './redis-outage.js';
import type { RunOptions, ScenarioResult } from './scenario.js';
import { smallOfficeMak } from './small-office-mak.js';
import { twoHostsFailover } from './two-hosts-failover.js';
import { retiredHost } from './retired-host.js';
import { secondHostCannotPublish } from './second-host-cannot-publish.js';
import { branchSecondary } from './branch-secondary.js';

/** Built-in scenarios by name (`kmslab lab list`). */
export const SCENARIOS: Record<string, { description: string; run: (options?: RunOptions) => Promise<ScenarioResult> }> = {
  'reference-walkthrough': {
    description: 'The documented KMS counting example: counts 2, 3, 13; the server activates on its next contact; Windows 7 needs 12 more',
    run: referenceWalkthrough,
  },
  'count-decay': {
    description: 'A network at 25 loses two machines: 30 days later the count is 23, renewals fail, licenses hold for 180 days',
    run: countDecay,
  },
  'two-hosts-failover': {
    description: 'Two hosts by SRV priority: clients fail over during an outage, keep the cached host after it; new clients return to priority 0',
    run: twoHostsFailover,
  },
  'current-fleet': {
    description: 'Windows 11, Server 2019-2025 and Office LTSC 2024 on one Server 2025 host with the Office LTSC 2024 pack; Office 2019 needs its own pack',
    run: currentFleet,
  },
  'second-host-cannot-publish': {
    description: 'A secure zone (AD-integrated): kms1 owns _vlmcs._tcp, kms2 is refused (12293) for days and clients find kms1 only; granting a group of KMS hosts lets kms2 in',
    run: secondHostCannotPublish,
  },
  'retired-host': {
    description: 'kms1 retired without deregistering: new clients lose ~2 s on its record until aging and scavenging remove it',
    run: retiredHost,
  },
  'branch-secondary': {
    description: 'A replacement host published at head office: branch clients, asking a secondary that refreshes hourly, fail until their DNS server has the change',
    run: branchSecondary,
  },
  'small-office-mak': {
    description: 'Five machines never reach the threshold; they switch to a MAK and are licensed for good',
    run: smallOfficeMak,
  },
  'redis-outage': {
    description: 'Redis stops for two hours while machines join: "host unavailable", retries, and no acknowledged activation lost',
    run: redisOutage,
  },
  fleet: {
    description: 'The fleet model: 100,000 clients over 180 days, two hosts, a 3-day outage of the first (kmslab lab fleet to change it)',
    run: fleetScenario,
  },
};

/** The timeline and the checks as text, one line each. */
export function narrate(r: ScenarioResult): string {
  const lines = [`${r.scenario}: ${r.description}`, ''];
  if (r.timeline.length === 0) for (const [k, v] of Object.entries(r.report.summary)) lines.push(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  for (const e of r.timeline) {
    const verdict = e.via === 'mak' ? 'licensed by MAK' : e.licensed ? 'licensed' : `not licensed (${e.errorCode}${e.reason ? `: ${e.reason}` : ''})`;
    lines.push(`  ${formatMinute(e.minute).padStart(11)}  ${e.client.padEnd(10)} ${e.product.padEnd(34)} count ${String(e.count ?? '-').padStart(2)} / ${e.threshold}  ${verdict}${e.host ? `  via ${e.host}` : ''}${e.spentMs >= 1000 ? `  (took ${(e.spentMs / 1000).toFixed(1)} s)` : ''}`);
  }
  lines.push('');
  const logged = countEvents(r.kmsEvents);
  if (logged.length) lines.push(`  Windows events: ${logged.map((e) => `${e.id} ${e.hresult} ×${e.count}`).join(', ')}`, '');
  for (const c of r.checks) lines.push(`  ${c.passed ? '✔' : '✘'} ${c.name} (${c.detail})`);
  lines.push('', r.passed ? 'All checks passed.' : 'Some checks FAILED.');
  return lines.join('\n');
}
