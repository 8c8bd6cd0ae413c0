import { RCODE, TYPE, encodeMessage, signResponse } from '@kmslab/dns-wire';
import { mayTransfer } from '../update/policy.js';
import { zoneTransfer } from '../zone-transfer.js';
import type { Exchange, Handled } from './exchange.js';
import { answerWith } from './reply.js';

/**
 * Step 5: a zone transfer (AXFR, RFC 5936), only over TCP (§4.2) and,
 * once the server has keys, only signed by a key granted `transfer`. Signed
 * transfers sign every message, each MAC chained to the one before (RFC
 * 8945 §5.3.1). Transfers are never faulted.
 */
export function answerTransfer(ex: Exchange): Handled | undefined {
  const req = ex.req!;
  if (req.questions.length !== 1 || req.questions[0]!.type !== TYPE.AXFR) return undefined;
  if (ex.transport === 'udp') return answerWith(ex, RCODE.FORMERR, 'query');
  const { ctx, signed } = ex;
  const zone = req.questions[0]!.name;
  if (ctx.keys.size > 0 && !signed) {
    ctx.onEvent?.({ event: 'transfer-refused', zone, reason: 'unsigned' });
    return answerWith(ex, RCODE.REFUSED, 'transfer');
  }
  if (signed && !mayTransfer(ctx.keys.get(signed.key.name)!.grants)) {
    ctx.onEvent?.({ event: 'transfer-refused', zone, key: signed.key.name, reason: 'no zone or transfer grant' });
    return answerWith(ex, RCODE.REFUSED, 'transfer');
  }
  const messages = zoneTransfer(req, ctx.zones);
  const rcode = messages[0]!.rcode;
  if (!signed) return { bytes: messages.map((m) => encodeMessage(m)), rcode, kind: 'transfer', ...ex.asked };
  let previousMac: Buffer | undefined;
  const bytes = messages.map((m) => {
    const s = signResponse(m, { key: signed.key, keyName: signed.key.name, algorithm: signed.key.algorithm, requestMac: signed.requestMac, nowMs: ctx.now(), previousMac });
    previousMac = s.mac;
    return s.bytes;
  });
  return { bytes, rcode, kind: 'transfer', ...ex.asked };
}
