import { formatMinute } from '../simulation.js';
import { referenceWalkthrough, type ScenarioResult } from './reference-walkthrough.js';

/** Built-in scenarios by name (`kmslab lab list`). */
export const SCENARIOS: Record<string, { description: string; run: () => Promise<ScenarioResult> }> = {
  'reference-walkthrough': {
    description: 'The documented KMS counting example: counts 2, 3, 13; the server activates on its next contact; Windows 7 needs 12 more',
    run: referenceWalkthrough,
  },
};

/** The timeline and the checks as text, one line each. */
export function narrate(r: ScenarioResult): string {
  const lines = [`${r.scenario}: ${r.description}`, ''];
  for (const e of r.timeline) {
    const verdict = e.licensed ? 'licensed' : `not licensed (${e.errorCode})`;
    lines.push(`  ${formatMinute(e.minute).padStart(11)}  ${e.client.padEnd(10)} ${e.product.padEnd(34)} count ${String(e.count ?? '-').padStart(2)} / ${e.threshold}  ${verdict}`);
  }
  lines.push('');
  for (const c of r.checks) lines.push(`  ${c.passed ? '✔' : '✘'} ${c.name} (${c.detail})`);
  lines.push('', r.passed ? 'All checks passed.' : 'Some checks FAILED.');
  return lines.join('\n');
}
