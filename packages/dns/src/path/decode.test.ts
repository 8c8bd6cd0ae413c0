import { RCODE, TYPE, decodeMessage } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { decodeRequest } from './decode.js';
import { exchangeFor } from './exchange.js';
import { context, query } from './exchange.fixture.js';

const on = (raw: Buffer, transport: 'udp' | 'tcp' = 'udp') => exchangeFor(raw, transport, context(), undefined);

describe('decode', () => {
  test('a query that does not decode, with a readable header, is FORMERR with its id; a runt or a response is not answered', () => {
    const garbage = Buffer.concat([query('lab.test', TYPE.SOA, { id: 0x1234 }).subarray(0, 12), Buffer.from([0xc0, 0xff])]);
    const out = decodeRequest(on(garbage))!;
    expect(out).toMatchObject({ kind: 'malformed', rcode: RCODE.FORMERR });
    expect(decodeMessage(out.bytes as Buffer).id).toBe(0x1234);
    expect(decodeRequest(on(Buffer.from([1, 2, 3])))).toMatchObject({ kind: 'dropped', bytes: null });
    const response = query('lab.test', TYPE.SOA);
    response[2]! |= 0x80;
    expect(decodeRequest(on(response))).toMatchObject({ kind: 'dropped', bytes: null });
  });

  test('a request goes on with what it asked and the answer size the client takes', () => {
    const plain = on(query('Lab.Test', TYPE.SOA));
    expect(decodeRequest(plain)).toBeUndefined();
    expect(plain.asked).toEqual({ qname: 'Lab.Test', qtype: TYPE.SOA, ednsSize: null, dnssecOk: false, key: undefined });
    expect(plain.maxSize).toBe(512); // RFC 1035 §4.2.1 without EDNS
    const big = on(query('lab.test', TYPE.SOA, { edns: 65_000 }));
    decodeRequest(big);
    expect(big.maxSize).toBe(4096); // never more than kmslab's cap, whatever the client offers
    const tcp = on(query('lab.test', TYPE.SOA, { edns: 1232 }), 'tcp');
    decodeRequest(tcp);
    expect(tcp.maxSize).toBeUndefined();
  });
});
