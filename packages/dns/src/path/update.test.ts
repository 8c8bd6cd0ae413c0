import { RCODE, TYPE, signRequest } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { HOST_KEY, NOW, context, decoded, query, updateMessage } from './exchange.fixture.js';
import { applyDynamicUpdate } from './update.js';

const signedUpdate = (target: string) => signRequest(updateMessage(target), HOST_KEY.key, NOW).bytes;
const srvTargets = (ctx: ReturnType<typeof context>) => ctx.zone.lookup('_vlmcs._tcp.lab.test', TYPE.SRV);

describe('update step', () => {
  test('a query goes on', () => {
    expect(applyDynamicUpdate(decoded(query('lab.test', TYPE.SOA), context()))).toBeUndefined();
  });

  test('a granted update is applied, saved, then served: NOERROR, the serial moves, logged', () => {
    const saved: number[] = [];
    const ctx = context({ keys: [HOST_KEY], saveZone: (z) => saved.push(z.serial) });
    const serial = ctx.zone.serial;
    expect(applyDynamicUpdate(decoded(signedUpdate('kms1.lab.test'), ctx))).toMatchObject({ kind: 'update', rcode: RCODE.NOERROR, reason: undefined });
    expect(ctx.zones.get('lab.test')!.serial).toBeGreaterThan(serial);
    expect(saved).toEqual([ctx.zones.get('lab.test')!.serial]);
    expect(ctx.events).toEqual([expect.objectContaining({ event: 'update', changed: true, key: 'kms1' })]);
  });

  test('the same signed bytes again are a replay: REFUSED', () => {
    const ctx = context({ keys: [HOST_KEY] });
    const bytes = signedUpdate('kms1.lab.test');
    applyDynamicUpdate(decoded(bytes, ctx));
    expect(applyDynamicUpdate(decoded(bytes, ctx))).toMatchObject({ rcode: RCODE.REFUSED, reason: 'replay' });
  });

  test('a record outside the key\'s grants is REFUSED with the policy\'s reason, unapplied', () => {
    const ctx = context({ keys: [HOST_KEY] });
    const before = srvTargets(ctx);
    const out = applyDynamicUpdate(decoded(signedUpdate('kms2.lab.test'), ctx))!;
    expect(out.rcode).toBe(RCODE.REFUSED);
    expect(out.reason).toMatch(/^the key may not change _vlmcs._tcp.lab.test/);
    expect(srvTargets(ctx)).toEqual(before);
  });

  test('a save that fails (a full disk) is SERVFAIL and the change is not served, nor told to secondaries, nor kept for IXFR', () => {
    const ctx = context({ keys: [HOST_KEY], saveZone: () => { throw Object.assign(new Error('no space'), { code: 'ENOSPC' }); } });
    const told: number[] = [];
    ctx.onZoneChanged = (zone) => told.push(zone.serial);
    const serial = ctx.zone.serial;
    const history = ctx.zone.history().length;
    expect(applyDynamicUpdate(decoded(signedUpdate('kms1.lab.test'), ctx))).toMatchObject({ rcode: RCODE.SERVFAIL, reason: 'not-saved' });
    expect(ctx.zones.get('lab.test')!.serial).toBe(serial);
    expect(told).toEqual([]);
    expect(ctx.zones.get('lab.test')!.history()).toHaveLength(history);
    expect(ctx.events).toEqual([expect.objectContaining({ event: 'update-not-saved', error: 'ENOSPC' })]);
  });
});
