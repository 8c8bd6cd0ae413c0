import { RCODE, TYPE, decodeMessage, signRequest } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { answerFromZones } from './answer.js';
import { exchangeFor } from './exchange.js';
import { HOST_KEY, NOW, context, decoded, query, queryMessage } from './exchange.fixture.js';
import { answerFromCache } from './fast-path.js';

describe('answer step', () => {
  test('a query is answered from the zones, authoritatively; a name outside them is REFUSED', () => {
    const ctx = context();
    const out = answerFromZones(decoded(query('_vlmcs._tcp.lab.test', TYPE.SRV), ctx));
    const res = decodeMessage(out.bytes as Buffer);
    expect(res.aa).toBe(true);
    expect(res.answers[0]!.data).toMatchObject({ type: 'SRV', port: 1688 });
    expect(answerFromZones(decoded(query('example.com', TYPE.A), ctx)).rcode).toBe(RCODE.REFUSED);
  });

  test('a plain query\'s answer is kept for the fast path; a signed one\'s is not', () => {
    const ctx = context({ cache: true, keys: [HOST_KEY] });
    const plain = exchangeFor(query('lab.test', TYPE.SOA), 'udp', ctx, undefined);
    answerFromCache(plain);
    answerFromZones(Object.assign(decoded(plain.raw, ctx), { fast: plain.fast }));
    expect(answerFromCache(exchangeFor(query('lab.test', TYPE.SOA), 'udp', ctx, undefined))).toBeDefined();
    const signed = signRequest(queryMessage('lab.test', TYPE.NS), HOST_KEY.key, NOW).bytes;
    answerFromZones(decoded(signed, ctx));
    expect(answerFromCache(exchangeFor(query('lab.test', TYPE.NS), 'udp', ctx, undefined))).toBeUndefined();
  });
});
