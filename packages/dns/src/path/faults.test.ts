import { RCODE, TYPE, signRequest } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { HOST_KEY, NOW, context, decoded, query, updateMessage } from './exchange.fixture.js';
import { applyFault, matchFault } from './faults.js';

describe('faults step', () => {
  test('with no rule on the name, the message goes on', () => {
    expect(applyFault(decoded(query('_vlmcs._tcp.lab.test', TYPE.SRV), context({ faults: ['other.lab.test=drop'] })))).toBeUndefined();
  });

  test('a message is matched once: a count=1 rule is spent by one message however often its steps ask', () => {
    const ctx = context({ faults: ['lab.test/SOA=servfail,count=1'] });
    const ex = decoded(query('lab.test', TYPE.SOA), ctx);
    expect(matchFault(ex, false)).not.toBeNull();
    expect(applyFault(ex)).toMatchObject({ kind: 'query', rcode: RCODE.SERVFAIL, fault: { action: { kind: 'servfail' } } });
    expect(ctx.faults!.list()[0]).toMatchObject({ matched: 1, applied: 1 });
    expect(applyFault(decoded(query('lab.test', TYPE.SOA), ctx))).toBeUndefined();
  });

  test('drop: no answer at all; delay: the answer, and how long to hold it', () => {
    expect(applyFault(decoded(query('lab.test', TYPE.SOA), context({ faults: ['lab.test=drop'] })))).toMatchObject({ kind: 'dropped', bytes: null });
    expect(applyFault(decoded(query('lab.test', TYPE.SOA), context({ faults: ['lab.test=delay:250'] })))).toMatchObject({ kind: 'query', rcode: RCODE.NOERROR, delayMs: 250 });
  });

  test('from= names the client: another address goes on', () => {
    const ctx = context({ faults: ['lab.test=drop,from=10.0.0.0/8'] });
    expect(applyFault(decoded(query('lab.test', TYPE.SOA), ctx))).toBeUndefined();
  });

  test('update-refused: a signed update is REFUSED, unapplied, and logged with its rule', () => {
    const ctx = context({ keys: [HOST_KEY], faults: ['lab.test=update-refused'] });
    const serial = ctx.zone.serial;
    const out = applyFault(decoded(signRequest(updateMessage('kms1.lab.test'), HOST_KEY.key, NOW).bytes, ctx));
    expect(out).toMatchObject({ kind: 'update', rcode: RCODE.REFUSED, reason: 'fault' });
    expect(ctx.zone.serial).toBe(serial);
    expect(ctx.events).toEqual([{ event: 'update-refused', zone: 'lab.test', key: 'kms1', reason: 'fault 1' }]);
  });
});
