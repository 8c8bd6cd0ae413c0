import { RCODE, TSIG_ERROR, TYPE, decodeMessage, signRequest } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { decodeRequest } from './decode.js';
import { exchangeFor } from './exchange.js';
import { HOST_KEY, NOW, context, query, queryMessage } from './exchange.fixture.js';
import { verifySignature } from './tsig.js';

function verify(raw: Buffer) {
  const ctx = context({ keys: [HOST_KEY] });
  const ex = exchangeFor(raw, 'udp', ctx, undefined);
  decodeRequest(ex);
  return { ex, ctx, out: verifySignature(ex) };
}

describe('TSIG step', () => {
  test('an unsigned request goes on unsigned; a signed one goes on with its key, so its answers are signed', () => {
    expect(verify(query('lab.test', TYPE.SOA)).ex.signed).toBeNull();
    const { ex, out } = verify(signRequest(queryMessage('lab.test', TYPE.SOA), HOST_KEY.key, NOW).bytes);
    expect(out).toBeUndefined();
    expect(ex.signed?.key.name).toBe('kms1');
  });

  test('a signature outside the time window is NOTAUTH, BADTIME, signed, and logged', () => {
    const { out, ctx } = verify(signRequest(queryMessage('lab.test', TYPE.SOA), HOST_KEY.key, NOW - 301_000).bytes);
    expect(out).toMatchObject({ kind: 'notauth', rcode: RCODE.NOTAUTH, reason: 'tsig', key: 'kms1' });
    const res = decodeMessage(out!.bytes as Buffer);
    expect(res.tsig?.data).toMatchObject({ type: 'TSIG', error: TSIG_ERROR.BADTIME });
    expect(ctx.events).toEqual([expect.objectContaining({ event: 'tsig-refused', key: 'kms1' })]);
  });

  test('an unknown key is NOTAUTH, BADKEY, unsigned (there is no key to sign with)', () => {
    const stranger = { ...HOST_KEY.key, name: 'stranger' };
    const { out } = verify(signRequest(queryMessage('lab.test', TYPE.SOA), stranger, NOW).bytes);
    const res = decodeMessage(out!.bytes as Buffer);
    expect(res.rcode).toBe(RCODE.NOTAUTH);
    expect(res.tsig?.data).toMatchObject({ error: TSIG_ERROR.BADKEY, mac: Buffer.alloc(0) });
  });
});
