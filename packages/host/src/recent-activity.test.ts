import { describe, expect, test } from 'vitest';
import type { ActivationRequest } from '@kmslab/core';
import { RecentActivity } from './recent-activity.js';

const req = (n: number): ActivationRequest => ({ cmid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, productId: 'windows-10-pro', fqdn: `pc${n}`, clientTime: 0, kind: 'activation', licenseStatus: 'initial-grace' });

describe('what a replica saw lately', () => {
  test('per family the 50 clients heard from most recently, most recent first; a client heard again moves to the front and counts its contacts', () => {
    const a = new RecentActivity();
    for (let i = 0; i < 60; i++) a.saw(req(i), 'windows', '0xC004F038', i + 1, 1000 + i, 7200_000, '127.0.0.1');
    a.saw(req(15), 'windows', 'licensed', 50, 5000, 604_800_000, '127.0.0.1');
    a.saw(req(1), 'office2013', 'licensed', 5, 6000, 604_800_000, '127.0.0.1');
    const { windows, office2013 } = a.clients();
    expect(windows).toHaveLength(50);
    expect(windows![0]).toMatchObject({ cmid: req(15).cmid, machine: 'pc15', contacts: 2, answer: 'licensed', firstContact: new Date(1015).toISOString(), nextContact: new Date(5000 + 604_800_000).toISOString() });
    // 0-9 were the oldest and went first; 15 was heard again, so 10 is the oldest kept.
    expect(windows!.at(-1)!.cmid).toBe(req(10).cmid);
    expect(windows!.map((c) => c.cmid)).not.toContain(req(9).cmid);
    expect(office2013).toHaveLength(1);
  });

  test('the request ring keeps the last N, newest first, refused ones too (they hold no client)', () => {
    const a = new RecentActivity({ requests: 3 });
    for (let i = 0; i < 5; i++) a.saw(req(i), 'windows', i === 4 ? '0xC004F06C' : '0xC004F038', i === 4 ? null : i + 1, i, i === 4 ? null : 7200_000, `10.0.0.${i}`);
    expect(a.requests().map((r) => [r.machine, r.answer, r.count])).toEqual([['pc4', '0xC004F06C', null], ['pc3', '0xC004F038', 4], ['pc2', '0xC004F038', 3]]);
    expect(a.clients().windows!.map((c) => c.machine)).not.toContain('pc4');
  });
});
