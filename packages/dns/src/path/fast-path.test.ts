import { TYPE, decodeMessage } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { handleMessage } from '../handle-message.js';
import { exchangeFor } from './exchange.js';
import { parseFaultRule } from '../harness/fault-rule.js';
import { NOW, context, query } from './exchange.fixture.js';
import { answerFromCache } from './fast-path.js';

const SRV = '_vlmcs._tcp.lab.test';
const client = { address: '127.0.0.1', port: 5300 };

describe('fast path', () => {
  test('a plain query answered once is answered again from the cache, with its own id and spelling; the log gets the name as spelled', () => {
    const ctx = context({ cache: true });
    const first = exchangeFor(query(SRV, TYPE.SRV, { id: 1 }), 'udp', ctx, client);
    expect(answerFromCache(first)).toBeUndefined();
    expect(first.fast).not.toBeNull();
    handleMessage(first.raw, 'udp', ctx, client);
    const hit = answerFromCache(exchangeFor(query('_vlmcs._TCP.lab.TEST', TYPE.SRV, { id: 3 }), 'udp', ctx, client))!;
    // A Windows client asks in upper case (_VLMCS._TCP): the query log shows what was asked, not the cache's lower case.
    expect(hit).toMatchObject({ kind: 'query', qtype: TYPE.SRV, qnameWire: '\x06_vlmcs\x04_TCP\x03lab\x04TEST\x00' });
    expect(answerFromCache(exchangeFor(query(SRV, TYPE.SRV, { id: 4 }), 'udp', ctx, client))).toMatchObject({ qnameWire: '\x06_vlmcs\x04_tcp\x03lab\x04test\x00' });
    const res = decodeMessage(hit.bytes as Buffer);
    expect(res.id).toBe(3);
    expect(res.questions[0]!.name).toBe('_vlmcs._TCP.lab.TEST');
    expect(res.answers).toHaveLength(1);
  });

  test('the cache is per answer shape: the same name with EDNS, or as another type, goes on', () => {
    const ctx = context({ cache: true });
    handleMessage(query(SRV, TYPE.SRV), 'udp', ctx, client);
    expect(answerFromCache(exchangeFor(query(SRV, TYPE.SRV, { edns: 1232 }), 'udp', ctx, client))).toBeUndefined();
    expect(answerFromCache(exchangeFor(query(SRV, TYPE.A), 'udp', ctx, client))).toBeUndefined();
  });

  test('without a cache, or for a message that is not a plain query (AXFR), every message goes on', () => {
    expect(answerFromCache(exchangeFor(query(SRV, TYPE.SRV), 'udp', context(), client))).toBeUndefined();
    const axfr = exchangeFor(query('lab.test', TYPE.AXFR), 'tcp', context({ cache: true }), client);
    expect(answerFromCache(axfr)).toBeUndefined();
    expect(axfr.fast).toBeNull();
  });

  test('a fault rule on a cached name is matched here, once: the cached answer does not go, and the rule counts one use', () => {
    const ctx = context({ cache: true });
    handleMessage(query(SRV, TYPE.SRV), 'udp', ctx, client);
    ctx.faults!.add(parseFaultRule(`${SRV}=servfail,count=1`, NOW));
    const ex = exchangeFor(query(SRV, TYPE.SRV), 'udp', ctx, client);
    expect(answerFromCache(ex)).toBeUndefined();
    expect(ex.cached).not.toBeNull();
    expect(ex.fault).toMatchObject({ action: { kind: 'servfail' } });
    expect(ctx.faults!.list()[0]).toMatchObject({ applied: 1 });
  });
});
