import { RCODE, TYPE, decodeMessage, signRequest, verifyResponse } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { HOST_KEY, NOW, TRANSFER_KEY, context, decoded, query, queryMessage } from './exchange.fixture.js';
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
});
