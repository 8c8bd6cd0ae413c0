import { RCODE, signResponse, verifyRequest } from '@kmslab/dns-wire';
import { responseTo } from '../answer-query.js';
import type { Exchange, Handled } from './exchange.js';

/**
 * Step 3: a signed request is verified (RFC 8945 §5.2) — key known, MAC
 * right, time within the fudge — and its answers are signed from here on. A
 * failure is NOTAUTH with the TSIG error, signed when the key is known.
 */
export function verifySignature(ex: Exchange): Handled | undefined {
  const req = ex.req!;
  if (!req.tsig) return undefined;
  const { ctx } = ex;
  const verified = verifyRequest(ex.raw, req, (name) => ctx.keys.get(name)?.key, ctx.now());
  if (verified.ok) {
    ex.signed = verified;
    return undefined;
  }
  ctx.onEvent?.({ event: 'tsig-refused', key: req.tsig.name, reason: verified.reason });
  const signed = signResponse(responseTo(req, RCODE.NOTAUTH), { key: verified.key, keyName: req.tsig.name, algorithm: verified.tsig.algorithm, requestMac: verified.requestMac, error: verified.error, nowMs: ctx.now() });
  return { bytes: signed.bytes, rcode: RCODE.NOTAUTH, kind: 'notauth', ...ex.asked, reason: 'tsig' };
}
