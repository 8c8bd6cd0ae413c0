import { CLASSIC_UDP_SIZE, OPCODE, RCODE, TYPE, canonicalName, decodeMessage, emptyMessage, encodeMessage, rcodeName, signResponse, type Message, type Verified, verifyRequest } from '@kmslab/dns-wire';
import { AnswerCache } from './answer-cache.js';
import { dottedName } from './wire-name.js';
import { answerQuery, responseTo } from './answer-query.js';
import { mayTransfer, type KeyPolicy } from './update/policy.js';
import type { ReplayGuard } from './update/replay-guard.js';
import { applyUpdate } from './update/apply-update.js';
import type { Zone } from './zone/zone.js';
import type { ZoneSet } from './zone/zone-set.js';
import { zoneTransfer } from './zone-transfer.js';
import { faultedAnswer } from './harness/faulted-answer.js';
import type { AppliedFault, FaultSet } from './harness/fault-set.js';

/** Largest UDP answer sent even when a client offers more (fragmentation risk grows past it). */
const MAX_UDP_ANSWER = 4096;

/** UDP or TCP. */
export type Transport = 'udp' | 'tcp';

/** What a server answers with: its zones, its TSIG keys and their grants, its clock. */
export interface ServerContext {
  zones: ZoneSet;
  keys: ReadonlyMap<string, KeyPolicy>;
  now(): number;
  /**
   * Keeps a zone as a dynamic update leaves it, before it is served (the
   * zone journal); throws when it cannot (a full disk): the update is then
   * answered SERVFAIL and changes nothing.
   */
  saveZone?(zone: Zone): void;
  /** Told about every dynamic update and refused transfer, for the log. */
  onEvent?(event: Record<string, unknown>): void;
  /** Pre-encoded answers for plain queries (the fast path); none: every query is answered in full. */
  cache?: AnswerCache;
  /** Signed updates already applied in their TSIG window; a repeat is refused. */
  replays?: ReplayGuard;
  /** Faults switched on at run time (the test harness); none: every query answered as the zones say. */
  faults?: FaultSet;
}

/** Who sent the message, for `from=` fault rules and the query log. */
export interface Client {
  address: string;
  port: number;
}

/** What handleMessage made of one message: the answer, and what the query log records. */
export interface Handled {
  /** The answer (several messages for a zone transfer), or null to stay silent (responses, unreadable headers, a `drop` fault). */
  bytes: Buffer | Buffer[] | null;
  rcode: number | null;
  kind: 'query' | 'update' | 'malformed' | 'dropped' | 'notimp' | 'transfer' | 'notauth';
  /** What was asked, when it could be read (the query log shows it); on the fast path the name in wire form instead. */
  qname?: string | undefined;
  qnameWire?: string | undefined;
  qtype?: number | undefined;
  ednsSize?: number | null | undefined;
  dnssecOk?: boolean | undefined;
  /** The TSIG key of a signed request. */
  key?: string | undefined;
  /** Why an update was not applied (`unsigned`, `replay`, `fault`, `tsig`, or the policy's reason). */
  reason?: string | undefined;
  /** The fault applied, and how long to wait before sending (a `delay` fault). */
  fault?: AppliedFault | null | undefined;
  delayMs?: number | undefined;
}

/**
 * One DNS message in, at most one answer out. Never throws: a message that
 * cannot be read gets FORMERR when its header is readable and it is a query,
 * and is dropped otherwise (answering garbage or responses invites loops).
 * Signed requests are verified (RFC 8945) and their answers signed; updates
 * and, once keys exist, zone transfers need a valid signature.
 */
export function handleMessage(raw: Buffer, transport: Transport, ctx: ServerContext, client?: Client): Handled {
  try {
    return handle(raw, transport, ctx, client);
  } catch (err) {
    // A message that decoded but cannot be answered (a name that does not encode back): SERVFAIL, never a crash.
    ctx.onEvent?.({ event: 'internal-error', error: (err as Error).message });
    return headerOnlyAnswer(raw, RCODE.SERVFAIL);
  }
}

/** An answer built from the header alone (the rest could not be read or answered); responses and runts get none. */
function headerOnlyAnswer(raw: Buffer, rcode: number): Handled {
  if (raw.length < 12 || raw[2]! & 0x80) return { bytes: null, rcode: null, kind: 'dropped' };
  const res = emptyMessage(raw.readUInt16BE(0));
  res.qr = true;
  res.opcode = (raw[2]! >> 3) & 0xf;
  res.rcode = rcode;
  return { bytes: encodeMessage(res), rcode, kind: 'malformed' };
}

function handle(raw: Buffer, transport: Transport, ctx: ServerContext, client: Client | undefined): Handled {
  const fast = ctx.cache ? AnswerCache.classify(raw, transport) : null;
  const faults = ctx.faults?.size ? ctx.faults : null;
  let fault: AppliedFault | null = null;
  if (fast) {
    // The name stays in wire form on this path (a hit's is the entry's, made once): a dotted one is made only for a
    // rule that may match, or when the log is read.
    const entry = ctx.cache!.find(fast, raw, ctx.zones);
    const wireName = entry ? entry.wireName : AnswerCache.wireName(raw, fast);
    if (faults?.mayMatchWire(wireName)) fault = faults.match({ name: dottedName(wireName), type: fast.type, address: client?.address ?? '', transport, update: false });
    if (entry && !fault) return { bytes: AnswerCache.answer(entry, fast, raw), rcode: entry.bytes[3]! & 0xf, kind: 'query', qnameWire: wireName, qtype: fast.type, ednsSize: fast.ednsSize, dnssecOk: fast.dnssecOk };
  }
  let req: Message;
  try {
    req = decodeMessage(raw);
  } catch {
    return headerOnlyAnswer(raw, RCODE.FORMERR);
  }
  if (req.qr) return { bytes: null, rcode: null, kind: 'dropped' };
  const q0 = req.questions[0];
  const asked = { qname: q0?.name, qtype: q0?.type, ednsSize: req.edns?.udpSize ?? null, dnssecOk: req.edns?.dnssecOk ?? false, key: req.tsig?.name };
  const maxSize = transport === 'udp' ? Math.min(req.edns?.udpSize ?? CLASSIC_UDP_SIZE, MAX_UDP_ANSWER) : undefined;

  let verified: Verified | null = null;
  if (req.tsig) {
    verified = verifyRequest(raw, req, (name) => ctx.keys.get(name)?.key, ctx.now());
    if (!verified.ok) {
      ctx.onEvent?.({ event: 'tsig-refused', key: req.tsig.name, reason: verified.reason });
      const res = responseTo(req, RCODE.NOTAUTH);
      const signed = signResponse(res, { key: verified.key, keyName: req.tsig.name, algorithm: verified.tsig.algorithm, requestMac: verified.requestMac, error: verified.error, nowMs: ctx.now() });
      return { bytes: signed.bytes, rcode: RCODE.NOTAUTH, kind: 'notauth', ...asked, reason: 'tsig' };
    }
  }
  const good = verified?.ok ? verified : null;
  const reply = (res: Message): Buffer =>
    good ? signResponse(res, { key: good.key, keyName: good.key.name, algorithm: good.key.algorithm, requestMac: good.requestMac, nowMs: ctx.now() }).bytes : encodeMessage(res, { maxSize });

  if (req.opcode === OPCODE.UPDATE) {
    if (!good) {
      ctx.onEvent?.({ event: 'update-refused', zone: req.questions[0]?.name, reason: 'unsigned' });
      return { bytes: reply(responseTo(req, RCODE.REFUSED)), rcode: RCODE.REFUSED, kind: 'update', ...asked, reason: 'unsigned' };
    }
    const updateFault = faults?.match({ name: canonicalName(q0?.name ?? ''), type: q0?.type ?? 0, address: client?.address ?? '', transport, update: true }) ?? null;
    if (updateFault) {
      const res = faultedAnswer(updateFault.action, req, ctx.zones, transport).message!;
      ctx.onEvent?.({ event: 'update-refused', zone: q0?.name, key: good.key.name, reason: `fault ${updateFault.id}` });
      return { bytes: reply(res), rcode: res.rcode, kind: 'update', ...asked, fault: updateFault, reason: 'fault' };
    }
    const policy = ctx.keys.get(good.key.name)!;
    if (ctx.replays && !ctx.replays.admit(good.requestMac, good.tsig.timeSigned, good.tsig.fudge, Math.floor(ctx.now() / 1000))) {
      ctx.onEvent?.({ event: 'update-refused', zone: req.questions[0]?.name, key: good.key.name, reason: 'replay' });
      return { bytes: reply(responseTo(req, RCODE.REFUSED)), rcode: RCODE.REFUSED, kind: 'update', ...asked, reason: 'replay' };
    }
    const outcome = applyUpdate(req, ctx.zones, policy.grants);
    if (outcome.changed && outcome.zone) {
      // RFC 2136 §3.5: a change is answered only once it is stable. The changed copy is served only once saved.
      try {
        ctx.saveZone?.(outcome.zone);
      } catch (err) {
        ctx.onEvent?.({ event: 'update-not-saved', zone: outcome.zone.origin, key: good.key.name, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
        return { bytes: reply(responseTo(req, RCODE.SERVFAIL)), rcode: RCODE.SERVFAIL, kind: 'update', ...asked, reason: 'not-saved' };
      }
      ctx.zones.get(outcome.zone.origin)!.takeOver(outcome.zone);
    }
    ctx.onEvent?.({ event: 'update', zone: outcome.zone?.origin, key: good.key.name, rcode: rcodeName(outcome.rcode), changed: outcome.changed, serial: outcome.zone?.serial, reason: outcome.reason });
    return { bytes: reply(responseTo(req, outcome.rcode)), rcode: outcome.rcode, kind: 'update', ...asked, reason: outcome.rcode === RCODE.NOERROR ? undefined : (outcome.reason ?? rcodeName(outcome.rcode)) };
  }
  if (req.opcode !== OPCODE.QUERY) return { bytes: reply(responseTo(req, RCODE.NOTIMP)), rcode: RCODE.NOTIMP, kind: 'notimp', ...asked };

  if (req.questions.length === 1 && req.questions[0]!.type === TYPE.AXFR) {
    // Zone transfers only over TCP (RFC 5936 §4.2), and signed once the server has keys.
    if (transport === 'udp') return { bytes: reply(responseTo(req, RCODE.FORMERR)), rcode: RCODE.FORMERR, kind: 'query', ...asked };
    if (ctx.keys.size > 0 && !good) {
      ctx.onEvent?.({ event: 'transfer-refused', zone: req.questions[0]!.name, reason: 'unsigned' });
      return { bytes: reply(responseTo(req, RCODE.REFUSED)), rcode: RCODE.REFUSED, kind: 'transfer', ...asked };
    }
    if (good && !mayTransfer(ctx.keys.get(good.key.name)!.grants)) {
      ctx.onEvent?.({ event: 'transfer-refused', zone: req.questions[0]!.name, key: good.key.name, reason: 'no zone or transfer grant' });
      return { bytes: reply(responseTo(req, RCODE.REFUSED)), rcode: RCODE.REFUSED, kind: 'transfer', ...asked };
    }
    const messages = zoneTransfer(req, ctx.zones);
    if (!good) return { bytes: messages.map((m) => encodeMessage(m)), rcode: messages[0]!.rcode, kind: 'transfer', ...asked };
    let previousMac: Buffer | undefined;
    const bytes = messages.map((m) => {
      const signed = signResponse(m, { key: good.key, keyName: good.key.name, algorithm: good.key.algorithm, requestMac: good.requestMac, nowMs: ctx.now(), previousMac });
      previousMac = signed.mac;
      return signed.bytes;
    });
    return { bytes, rcode: messages[0]!.rcode, kind: 'transfer', ...asked };
  }
  // A fast query was matched against the faults already; any other query is matched here.
  if (!fast && faults && q0) fault = faults.match({ name: canonicalName(q0.name), type: q0.type, address: client?.address ?? '', transport, update: false });
  if (fault) {
    const f = faultedAnswer(fault.action, req, ctx.zones, transport);
    // A faulted answer is never cached: the next query may not be faulted.
    return { bytes: f.message ? reply(f.message) : null, rcode: f.message?.rcode ?? null, kind: f.message ? 'query' : 'dropped', ...asked, fault, delayMs: f.delayMs };
  }
  const res = answerQuery(req, ctx.zones);
  const bytes = reply(res);
  if (fast && !good) ctx.cache!.set(fast, raw, bytes, ctx.zones.find(req.questions[0]!.name), ctx.zones);
  return { bytes, rcode: res.rcode, kind: 'query', ...asked };
}

