import { RCODE, TYPE, canonicalName, encodeMessage, signResponse } from '@kmslab/dns-wire';
import { inPrefixes } from '../update/transfer-acl.js';
import { mayTransfer } from '../update/policy.js';
import { incrementalTransfer, zoneTransfer } from '../zone-transfer.js';
import type { Exchange, Handled } from './exchange.js';
import { answerWith } from './reply.js';

/**
 * Step 5: a zone transfer — AXFR (RFC 5936) or IXFR (RFC 1995) — for a
 * secondary this server lets in: any client while it has neither keys nor
 * `--allow-transfer` prefixes; else a key granted `zone` or `transfer`, or a
 * client inside an allowed prefix. Anyone else is REFUSED and logged. AXFR
 * is TCP only (§4.2); an IXFR over UDP gets the current SOA alone, which
 * sends the secondary to TCP (RFC 1995 §2). Signed transfers sign every
 * message, each MAC chained to the one before (RFC 8945 §5.3.1). The only
 * faults that apply are the replication ones: `transfer-refused`, `transfer-delay:MS`.
 */
export function answerTransfer(ex: Exchange): Handled | undefined {
  const req = ex.req!;
  const type = req.questions.length === 1 ? req.questions[0]!.type : 0;
  if (type !== TYPE.AXFR && type !== TYPE.IXFR) return undefined;
  const { ctx, signed } = ex;
  const zone = req.questions[0]!.name;
  const from = ex.client?.address;
  const allowed = ctx.allowTransfer ?? [];
  const byAddress = allowed.length > 0 && from !== undefined && inPrefixes(allowed, from);
  if (!signed && !byAddress && (ctx.keys.size > 0 || allowed.length > 0)) {
    ctx.onEvent?.({ event: 'transfer-refused', zone, from, reason: allowed.length ? 'not signed, not from an allowed prefix' : 'unsigned' });
    return answerWith(ex, RCODE.REFUSED, 'transfer');
  }
  if (signed && !mayTransfer(ctx.keys.get(signed.key.name)!.grants)) {
    ctx.onEvent?.({ event: 'transfer-refused', zone, from, key: signed.key.name, reason: 'no zone or transfer grant' });
    return answerWith(ex, RCODE.REFUSED, 'transfer');
  }
  if (type === TYPE.AXFR && ex.transport === 'udp') return answerWith(ex, RCODE.FORMERR, 'query');
  // Replication drills (docs/dns-faults.md): a transfer refused, or held back.
  const fault = ctx.faults?.size ? ctx.faults.match({ name: canonicalName(zone), type, address: from ?? '', transport: ex.transport, update: false, replication: true }) : null;
  if (fault?.action.kind === 'transfer-refused') {
    ctx.onEvent?.({ event: 'transfer-refused', zone, from, reason: `fault ${fault.id}` });
    return { ...answerWith(ex, RCODE.REFUSED, 'transfer'), fault };
  }
  const delayMs = fault?.action.kind === 'transfer-delay' ? fault.action.ms : undefined;
  const t = type === TYPE.IXFR ? incrementalTransfer(req, ctx.zones, { soaOnly: ex.transport === 'udp' }) : zoneTransfer(req, ctx.zones);
  const messages = t.messages;
  const rcode = messages[0]!.rcode;
  if (t.style === 'refused') ctx.onEvent?.({ event: 'transfer-refused', zone, from, reason: rcode === RCODE.FORMERR ? 'IXFR without the secondary\'s SOA' : 'not a zone this server holds' });
  else ctx.onEvent?.({ event: 'transfer', zone, from, key: signed?.key.name, transport: ex.transport, asked: type === TYPE.IXFR ? 'IXFR' : 'AXFR', sent: t.style, fromSerial: t.from, toSerial: t.to, records: t.records });
  if (!signed) return { bytes: messages.map((m) => encodeMessage(m)), rcode, kind: 'transfer', ...ex.asked, fault: fault ?? undefined, delayMs };
  let previousMac: Buffer | undefined;
  const bytes = messages.map((m) => {
    const s = signResponse(m, { key: signed.key, keyName: signed.key.name, algorithm: signed.key.algorithm, requestMac: signed.requestMac, nowMs: ctx.now(), previousMac });
    previousMac = s.mac;
    return s.bytes;
  });
  return { bytes, rcode, kind: 'transfer', ...ex.asked, fault: fault ?? undefined, delayMs };
}
