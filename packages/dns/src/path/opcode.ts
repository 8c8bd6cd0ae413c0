import { OPCODE, RCODE, canonicalName } from '@kmslab/dns-wire';
import type { Exchange, Handled } from './exchange.js';
import { answerWith } from './reply.js';

/**
 * Step 4: what kind of message this server takes. An update must be signed
 * (RFC 2136 §3.3 leaves the policy to the server; kmslab's is TSIG, as
 * Windows' secure zones need Kerberos); a NOTIFY is REFUSED and logged (this
 * server is the primary, RFC 1996 §3.10); any other opcode is NOTIMP
 * (RFC 1035 §4.1.1).
 */
export function admitOpcode(ex: Exchange): Handled | undefined {
  const req = ex.req!;
  if (req.opcode === OPCODE.QUERY) return undefined;
  if (req.opcode === OPCODE.NOTIFY) {
    // A zone this server follows takes NOTIFY from its primary only (RFC 1996 §3.10); for its own zones it is the primary.
    const zone = req.questions[0]?.name ?? '';
    const from = ex.client?.address ?? '';
    const secondary = ex.ctx.secondaries?.get(canonicalName(zone));
    if (secondary?.notified(from)) return answerWith(ex, RCODE.NOERROR, 'notify');
    ex.ctx.onEvent?.({ event: 'notify-refused', zone, from, reason: secondary ? 'not from the zone\'s primary' : 'not a secondary of that zone' });
    return answerWith(ex, RCODE.REFUSED, 'notify');
  }
  if (req.opcode !== OPCODE.UPDATE) return answerWith(ex, RCODE.NOTIMP, 'notimp');
  if (ex.signed) return undefined;
  ex.ctx.onEvent?.({ event: 'update-refused', zone: req.questions[0]?.name, reason: 'unsigned' });
  return answerWith(ex, RCODE.REFUSED, 'update', 'unsigned');
}
