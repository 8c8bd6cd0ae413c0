import { OPCODE, RCODE, TYPE, encodeMessage, signRequest } from '@kmslab/dns-wire';
import { describe, expect, test } from 'vitest';
import { HOST_KEY, NOW, context, decoded, query, updateMessage } from './exchange.fixture.js';
import { admitOpcode } from './opcode.js';

describe('opcode step', () => {
  test('a query goes on; so does a signed update', () => {
    const ctx = context({ keys: [HOST_KEY] });
    expect(admitOpcode(decoded(query('lab.test', TYPE.SOA), ctx))).toBeUndefined();
    expect(admitOpcode(decoded(signRequest(updateMessage('kms1.lab.test'), HOST_KEY.key, NOW).bytes, ctx))).toBeUndefined();
  });

  test('an unsigned update is REFUSED, unsigned, and logged', () => {
    const ctx = context({ keys: [HOST_KEY] });
    expect(admitOpcode(decoded(encodeMessage(updateMessage('kms1.lab.test')), ctx))).toMatchObject({ kind: 'update', rcode: RCODE.REFUSED, reason: 'unsigned' });
    expect(ctx.events).toEqual([{ event: 'update-refused', zone: 'lab.test', reason: 'unsigned' }]);
  });

  test('STATUS is not implemented: NOTIMP; NOTIFY to a primary is REFUSED (transfer.test.ts)', () => {
    expect(admitOpcode(decoded(query('lab.test', TYPE.SOA, { opcode: 2 }), context()))).toMatchObject({ kind: 'notimp', rcode: RCODE.NOTIMP });
    expect(admitOpcode(decoded(query('lab.test', TYPE.SOA, { opcode: OPCODE.NOTIFY }), context()))).toMatchObject({ kind: 'notify', rcode: RCODE.REFUSED });
  });
});
