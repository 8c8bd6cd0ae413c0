import { CLASS, OPCODE, RCODE, TSIG_ERROR, TYPE, decodeMessage, emptyMessage, signRequest, verifyRequest } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { handleMessage } from '../handle-message.js';
import { defaultZone } from '../zone/default-zone.js';
import { ZoneSet } from '../zone/zone-set.js';
import { parseKeyPolicy } from './policy.js';

const policy = parseKeyPolicy('kms1:hmac-sha256:a21zbGFiLXRlc3Qtc2VjcmV0LWtleS0wMTIzNDU2Nzg5:host=kms1.lab.test');
const NOW = Date.UTC(2026, 10, 28, 12);

function update(target: string) {
  const m = emptyMessage(77);
  m.opcode = OPCODE.UPDATE;
  m.questions = [{ name: 'lab.test', type: TYPE.SOA, class: CLASS.IN }];
  m.authorities = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target } }];
  return m;
}

function server(now = NOW) {
  const zones = new ZoneSet();
  zones.add(defaultZone('lab.test'));
  return { zones, keys: new Map([[policy.key.name, policy]]), now: () => now };
}

describe('TSIG (RFC 8945)', () => {
  test('a request signed by signRequest verifies; one flipped byte does not (BADSIG)', () => {
    const { bytes } = signRequest(update('kms1.lab.test'), policy.key, NOW);
    const ok = verifyRequest(bytes, decodeMessage(bytes), () => policy.key, NOW);
    expect(ok.ok).toBe(true);
    const tampered = Buffer.from(bytes);
    tampered[20]! ^= 1;
    const bad = verifyRequest(tampered, decodeMessage(tampered), () => policy.key, NOW);
    expect(bad).toMatchObject({ ok: false, error: TSIG_ERROR.BADSIG });
  });

  test('time outside the fudge window: NOTAUTH with BADTIME, signed, and the zone is unchanged', () => {
    const ctx = server();
    const serial = ctx.zones.get('lab.test')!.serial;
    const { bytes } = signRequest(update('kms1.lab.test'), policy.key, NOW - 301_000);
    const out = handleMessage(bytes, 'udp', ctx);
    const res = decodeMessage(out.bytes as Buffer);
    expect(res.rcode).toBe(RCODE.NOTAUTH);
    expect(res.tsig?.data).toMatchObject({ type: 'TSIG', error: TSIG_ERROR.BADTIME });
    expect((res.tsig!.data as { mac: Buffer }).mac.length).toBe(32);
    expect(ctx.zones.get('lab.test')!.serial).toBe(serial);
  });

  test('a signed update within the fudge applies, and its answer verifies against the request MAC', () => {
    const ctx = server();
    const { bytes } = signRequest(update('kms1.lab.test'), policy.key, NOW + 299_000);
    const res = decodeMessage(handleMessage(bytes, 'udp', ctx).bytes as Buffer);
    expect(res.rcode).toBe(RCODE.NOERROR);
    expect(ctx.zones.get('lab.test')!.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records).toHaveLength(1);
    const refused = decodeMessage(handleMessage(signRequest(update('other.lab.test'), policy.key, NOW).bytes, 'udp', ctx).bytes as Buffer);
    expect(refused.rcode).toBe(RCODE.REFUSED);
  });
});

describe('RFC 2136 §3.5: an update is answered once it is stable', () => {
  test('a zone that cannot be saved: SERVFAIL, the served zone unchanged; once saving works, NOERROR and served', () => {
    const ctx = server();
    const zone = ctx.zones.get('lab.test')!;
    const serial = zone.serial;
    const saved: number[] = [];
    let disk: 'full' | 'ok' = 'full';
    const withSave = {
      ...ctx,
      saveZone: (z: typeof zone) => {
        if (disk === 'full') throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
        saved.push(z.serial);
      },
    };
    const refused = handleMessage(signRequest(update('kms1.lab.test'), policy.key, NOW).bytes, 'tcp', withSave);
    expect(refused).toMatchObject({ rcode: RCODE.SERVFAIL, kind: 'update', reason: 'not-saved' });
    expect([zone.serial, zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)]).toEqual([serial, undefined]);
    disk = 'ok';
    const accepted = handleMessage(signRequest(update('kms1.lab.test'), policy.key, NOW + 1000).bytes, 'tcp', withSave);
    expect(accepted.rcode).toBe(RCODE.NOERROR);
    // The same zone object serves the change (whoever holds it sees it), with the serial that was saved.
    expect(saved).toEqual([serial + 1]);
    expect(zone.serial).toBe(serial + 1);
    expect(zone.rrset('_vlmcs._tcp.lab.test', TYPE.SRV)?.records).toHaveLength(1);
  });
});
