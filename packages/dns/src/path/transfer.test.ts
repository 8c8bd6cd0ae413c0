import { CLASS, OPCODE, RCODE, TYPE, decodeMessage, encodeMessage, signRequest, verifyResponse } from '@kmslab/dns-wire';
import { parseTransferPrefix } from '../update/transfer-acl.js';
import { admitOpcode } from './opcode.js';
import { describe, expect, test } from 'vitest';
import { HOST_KEY, NOW, TRANSFER_KEY, context, decoded, query, queryMessage, type TestContext } from './exchange.fixture.js';
import { answerTransfer } from './transfer.js';

const axfr = (signedBy?: typeof HOST_KEY) => (signedBy ? signRequest(queryMessage('lab.test', TYPE.AXFR), signedBy.key, NOW) : { bytes: query('lab.test', TYPE.AXFR), mac: Buffer.alloc(0) });

describe('transfer step', () => {
  test('anything but AXFR goes on', () => {
    expect(answerTransfer(decoded(query('lab.test', TYPE.SOA), context(), 'tcp'))).toBeUndefined();
  });

  test('AXFR over UDP is FORMERR (RFC 5936 §4.2)', () => {
    expect(answerTransfer(decoded(axfr().bytes, context()))).toMatchObject({ rcode: RCODE.FORMERR, kind: 'query' });
  });

  test('with no keys, TCP gets the zone: its SOA first and last', () => {
    const out = answerTransfer(decoded(axfr().bytes, context(), 'tcp'))!;
    const records = (out.bytes as Buffer[]).flatMap((b) => decodeMessage(b).answers);
    expect(records[0]!.type).toBe(TYPE.SOA);
    expect(records.at(-1)!.type).toBe(TYPE.SOA);
    expect(records.some((r) => r.type === TYPE.SRV)).toBe(true);
  });

  test('once keys exist: unsigned, or signed by a host\'s key, is REFUSED and logged', () => {
    const ctx = context({ keys: [HOST_KEY, TRANSFER_KEY] });
    expect(answerTransfer(decoded(axfr().bytes, ctx, 'tcp'))).toMatchObject({ rcode: RCODE.REFUSED, kind: 'transfer' });
    expect(answerTransfer(decoded(axfr(HOST_KEY).bytes, ctx, 'tcp'))).toMatchObject({ rcode: RCODE.REFUSED, kind: 'transfer' });
    expect(ctx.events.map((e) => e.reason)).toEqual(['unsigned', 'no zone or transfer grant']);
  });

  test('signed by a key granted transfer: every message signed, each MAC chained to the one before', () => {
    const ctx = context({ keys: [TRANSFER_KEY] });
    for (let i = 0; i < 600; i++) ctx.zone.add({ name: `h${i}.lab.test`, type: TYPE.A, class: 1, ttl: 60, data: { type: 'A', address: '192.0.2.1' } });
    const request = axfr(TRANSFER_KEY);
    const out = answerTransfer(decoded(request.bytes, ctx, 'tcp'))!;
    const messages = out.bytes as Buffer[];
    expect(messages.length).toBeGreaterThan(1);
    // verifyResponse throws when a MAC does not verify against the one before it.
    let prior = request.mac;
    for (const [i, bytes] of messages.entries()) prior = verifyResponse(bytes, decodeMessage(bytes), TRANSFER_KEY.key, prior, { subsequent: i > 0 });
  });

  /** An IXFR for lab.test from a secondary at `serial` (its SOA in the authority section, RFC 1995 §3). */
  const ixfr = (ctx: TestContext, serial: number | null) => {
    const m = queryMessage('lab.test', TYPE.IXFR);
    if (serial !== null) m.authorities = [{ ...ctx.zone.soa, data: { ...(ctx.zone.soa.data as { type: 'SOA'; serial: number }), serial } as never }];
    return encodeMessage(m);
  };
  const records = (out: { bytes: unknown }) => (out.bytes as Buffer[]).flatMap((b) => decodeMessage(b).answers);
  /** One change, as the update path makes it: a copy changed, its diff kept, then served. */
  const change = (ctx: TestContext, name: string) => {
    const copy = ctx.zone.clone();
    copy.add({ name, type: TYPE.A, class: CLASS.IN, ttl: 60, data: { type: 'A', address: '192.0.2.7' } }, { bumpSerial: false });
    copy.bumpSerial();
    copy.recordChangeFrom(ctx.zone);
    ctx.zone.takeOver(copy);
  };

  test('IXFR (RFC 1995): the changes since the secondary\'s serial; the SOA alone when it is current; the whole zone when the history does not reach back; no SOA is FORMERR', () => {
    const ctx = context();
    const start = ctx.zone.serial;
    change(ctx, 'a.lab.test');
    change(ctx, 'b.lab.test');
    const inc = answerTransfer(decoded(ixfr(ctx, start), ctx, 'tcp'))!;
    expect(records(inc).map((r) => (r.type === TYPE.SOA ? `SOA ${(r.data as { serial: number }).serial}` : r.name))).toEqual([
      `SOA ${start + 2}`, `SOA ${start}`, `SOA ${start + 1}`, 'a.lab.test', `SOA ${start + 1}`, `SOA ${start + 2}`, 'b.lab.test', `SOA ${start + 2}`,
    ]);
    expect(ctx.events.at(-1)).toMatchObject({ event: 'transfer', asked: 'IXFR', sent: 'IXFR', fromSerial: start, toSerial: start + 2 });
    expect(records(answerTransfer(decoded(ixfr(ctx, start + 2), ctx, 'tcp'))!)).toHaveLength(1);
    // A serial the history never had: the whole zone, as AXFR would send it.
    const full = records(answerTransfer(decoded(ixfr(ctx, 12345), ctx, 'tcp'))!);
    expect(full.filter((r) => r.type === TYPE.SOA)).toHaveLength(2);
    expect(full.some((r) => r.type === TYPE.SRV)).toBe(true);
    // Over UDP, the current SOA alone: the secondary comes back over TCP.
    expect(records(answerTransfer(decoded(ixfr(ctx, start), ctx, 'udp'))!).map((r) => r.type)).toEqual([TYPE.SOA]);
    expect(answerTransfer(decoded(ixfr(ctx, null), ctx, 'tcp'))).toMatchObject({ rcode: RCODE.FORMERR });
    expect(ctx.events.at(-1)).toMatchObject({ event: 'transfer-refused', reason: "IXFR without the secondary's SOA" });
  });

  test('--allow-transfer: with keys, an unsigned transfer from an allowed prefix goes through; from anywhere else it is REFUSED and logged', () => {
    const ctx = { ...context({ keys: [TRANSFER_KEY] }), allowTransfer: [parseTransferPrefix('127.0.0.0/8')] };
    expect(answerTransfer(decoded(axfr().bytes, ctx, 'tcp'))).toMatchObject({ rcode: RCODE.NOERROR, kind: 'transfer' });
    const other = { ...context(), allowTransfer: [parseTransferPrefix('192.0.2.0/24')] };
    expect(answerTransfer(decoded(axfr().bytes, other, 'tcp'))).toMatchObject({ rcode: RCODE.REFUSED });
    expect(other.events.at(-1)).toMatchObject({ event: 'transfer-refused', from: '127.0.0.1', reason: 'not signed, not from an allowed prefix' });
    expect(() => parseTransferPrefix('127.0.0.0/33')).toThrow(/--allow-transfer "127.0.0.0\/33": must be an address or a prefix/);
  });

  test('replication faults: transfer-refused answers REFUSED, transfer-delay holds the transfer; query faults leave transfers alone', () => {
    expect(answerTransfer(decoded(axfr().bytes, context({ faults: ['lab.test=transfer-refused'] }), 'tcp'))).toMatchObject({ rcode: RCODE.REFUSED, fault: { action: { kind: 'transfer-refused' } } });
    expect(answerTransfer(decoded(axfr().bytes, context({ faults: ['lab.test=transfer-delay:1500'] }), 'tcp'))).toMatchObject({ rcode: RCODE.NOERROR, delayMs: 1500 });
    expect(answerTransfer(decoded(axfr().bytes, context({ faults: ['lab.test=servfail'] }), 'tcp'))).toMatchObject({ rcode: RCODE.NOERROR, fault: undefined });
  });

  test('a NOTIFY to this primary is REFUSED and logged (RFC 1996: only a secondary takes them)', () => {
    const ctx = context();
    const out = admitOpcode(decoded(query('lab.test', TYPE.SOA, { opcode: OPCODE.NOTIFY }), ctx));
    expect(out).toMatchObject({ rcode: RCODE.REFUSED, kind: 'notify' });
    expect(ctx.events).toEqual([expect.objectContaining({ event: 'notify-refused', zone: 'lab.test', from: '127.0.0.1' })]);
  });

  test('a zone this server follows takes NOTIFY from its primary only: NOERROR and a refresh; from another address REFUSED and logged', () => {
    const refreshed: string[] = [];
    const follower = { notified: (from: string) => (from === '127.0.0.1' ? (refreshed.push(from), true) : false) };
    const ctx = { ...context(), secondaries: new Map([['lab.test', follower as never]]) };
    expect(admitOpcode(decoded(query('lab.test', TYPE.SOA, { opcode: OPCODE.NOTIFY }), ctx))).toMatchObject({ rcode: RCODE.NOERROR, kind: 'notify' });
    expect(refreshed).toEqual(['127.0.0.1']);
    const other = { ...context(), secondaries: new Map([['lab.test', { notified: () => false } as never]]) };
    expect(admitOpcode(decoded(query('lab.test', TYPE.SOA, { opcode: OPCODE.NOTIFY }), other))).toMatchObject({ rcode: RCODE.REFUSED });
    expect(other.events.at(-1)).toMatchObject({ event: 'notify-refused', reason: "not from the zone's primary" });
  });
});
