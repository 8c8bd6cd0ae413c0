import { CLASS, RCODE, TYPE, decodeMessage, emptyMessage, encodeMessage, rcodeName, signRequest, verifyResponse, type Message, type ResourceRecord, type TsigKey } from '@kmslab/dns-wire';
import { connect } from 'node:net';
import { KmsLabError } from '@kmslab/core';
import type { ZoneDiff } from './zone/zone-history.js';

/** Where a transfer comes from, and how it is signed. */
export interface TransferSource {
  host: string;
  port: number;
  zone: string;
  key?: TsigKey | null;
  timeoutMs?: number;
  nowMs?: number;
}

/**
 * Fetches a whole zone by AXFR over TCP (RFC 5936) from any authoritative
 * server; with a key, the request is signed and every signed answer verified
 * (RFC 8945 §5.3.1). A refusal is KMSLAB_DNS_REFUSED naming what to give.
 */
export async function transferZone(o: TransferSource): Promise<ResourceRecord[]> {
  const records: ResourceRecord[] = [];
  let soas = 0;
  await streamTransfer(o, TYPE.AXFR, null, (rr) => {
    if (rr.type === TYPE.SOA && ++soas === 2) return true;
    records.push(rr);
    return false;
  });
  return records;
}

/** What an IXFR brought: nothing new, the changes since the serial asked from, or (the history did not reach back) the whole zone. */
export type IncrementalTransfer =
  | { kind: 'current' }
  | { kind: 'diffs'; soa: ResourceRecord; diffs: ZoneDiff[] }
  | { kind: 'full'; records: ResourceRecord[] };

/**
 * IXFR over TCP (RFC 1995) from the zone's SOA as this server holds it
 * (`have`): the answer is the SOA alone when nothing changed, the changes as
 * sequences of the old SOA, what went, the new SOA, what came (§4), or the
 * whole zone in AXFR form when the primary's history does not reach back.
 * Signed and verified as `transferZone` is.
 */
export async function transferIncremental(o: TransferSource & { have: ResourceRecord }): Promise<IncrementalTransfer> {
  const all: ResourceRecord[] = [];
  let final = -1;
  // Which part of an incremental answer the next record belongs to.
  let phase: 'first' | 'second' | 'axfr' | 'deleted' | 'added' = 'first';
  const diffs: ZoneDiff[] = [];
  const serial = (rr: ResourceRecord) => (rr.data as { serial: number }).serial;
  await streamTransfer(o, TYPE.IXFR, o.have, (rr, endOfMessage) => {
    all.push(rr);
    const isSoa = rr.type === TYPE.SOA;
    switch (phase) {
      case 'first':
        if (!isSoa) throw new KmsLabError('KMSLAB_DNS_MALFORMED', `IXFR of ${o.zone} from ${o.host}:${o.port}: the answer does not start with the zone's SOA`);
        final = serial(rr);
        // The SOA alone, the whole answer: nothing newer than what this server has.
        if (endOfMessage && final === serial(o.have)) return true;
        phase = 'second';
        return false;
      case 'second':
        if (!isSoa) {
          phase = 'axfr';
          return false;
        }
        // The SOA again right away: an empty zone in AXFR form, or the first change's old SOA.
        if (serial(rr) === final && endOfMessage) return true;
        diffs.push({ from: serial(rr), to: -1, deleted: [], added: [] });
        phase = 'deleted';
        return false;
      case 'axfr':
        return isSoa;
      case 'deleted':
        if (isSoa) {
          diffs.at(-1)!.to = serial(rr);
          phase = 'added';
        } else diffs.at(-1)!.deleted.push(rr);
        return false;
      case 'added':
        if (!isSoa) {
          diffs.at(-1)!.added.push(rr);
          return false;
        }
        // After the last change's additions, the closing SOA; else the next change's old SOA.
        if (diffs.at(-1)!.to === final) return true;
        diffs.push({ from: serial(rr), to: -1, deleted: [], added: [] });
        phase = 'deleted';
        return false;
    }
  });
  if (phase === 'first') return { kind: 'current' };
  if (phase === 'axfr' || (phase === 'second' && diffs.length === 0)) return { kind: 'full', records: all.slice(0, -1) };
  return { kind: 'diffs', soa: all[0]!, diffs };
}

/**
 * One transfer's request and answers over TCP: `onRecord` takes each answer
 * record in order (`endOfMessage` for a message's last) and returns true at
 * the transfer's last. TSIG (RFC 8945 §5.3.1): the first and the last
 * answer are signed, those between may be, with the ones before them in the
 * MAC.
 */
function streamTransfer(o: TransferSource, qtype: number, have: ResourceRecord | null, onRecord: (rr: ResourceRecord, endOfMessage: boolean) => boolean): Promise<void> {
  const req = emptyMessage(Math.floor(Math.random() * 0xffff));
  req.questions = [{ name: o.zone, type: qtype, class: CLASS.IN }];
  if (have) req.authorities = [have];
  const signed = o.key ? signRequest(req, o.key, o.nowMs ?? Date.now()) : null;
  const bytes = signed ? signed.bytes : encodeMessage(req);
  const framed = Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  const where = `${o.host}:${o.port}`;
  const what = qtype === TYPE.IXFR ? 'IXFR' : 'Zone transfer';
  return new Promise((resolve, reject) => {
    let pending = Buffer.alloc(0);
    let prior = signed?.mac ?? null;
    let unsigned: Buffer[] = [];
    let first = true;
    const socket = connect({ host: o.host, port: o.port });
    const fail = (err: KmsLabError) => {
      socket.destroy();
      reject(err);
    };
    const failed = (why: string) => fail(new KmsLabError('KMSLAB_CONNECTION_FAILED', `${what} of ${o.zone} from ${where} failed: ${why}`));
    socket.setTimeout(o.timeoutMs ?? 5000, () => failed('timed out'));
    socket.on('error', (err) => failed(err.message));
    socket.on('close', () => failed('the server closed the connection'));
    socket.on('connect', () => socket.write(framed));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const raw = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
        let msg: Message;
        try {
          msg = decodeMessage(raw);
        } catch (err) {
          return failed((err as Error).message);
        }
        if (msg.rcode === RCODE.REFUSED || msg.rcode === RCODE.NOTAUTH) {
          const hint = o.key ? `the key ${o.key.name} may not transfer it (it needs a zone or transfer grant)` : 'it lets only a TSIG key transfer it: give one with --tsig-key-file FILE (or KMSLAB_TSIG_KEY)';
          return fail(new KmsLabError('KMSLAB_DNS_REFUSED', `${where} refused the zone transfer of ${o.zone} (${rcodeName(msg.rcode)}): ${hint}`));
        }
        if (msg.rcode !== RCODE.NOERROR) return failed(`the server answered ${rcodeName(msg.rcode)}`);
        let done = false;
        try {
          msg.answers.forEach((rr, i) => {
            if (!done) done = onRecord(rr, i === msg.answers.length - 1);
          });
        } catch (err) {
          return fail(err as KmsLabError);
        }
        if (o.key && prior) {
          if (msg.tsig || first || done) {
            try {
              prior = verifyResponse(raw, msg, o.key, prior, { subsequent: !first, unsignedBefore: unsigned });
            } catch (err) {
              return fail(new KmsLabError((err as KmsLabError).code ?? 'KMSLAB_DNS_MALFORMED', `${what} of ${o.zone} from ${where}: ${(err as Error).message}`, { cause: err }));
            }
            unsigned = [];
          } else unsigned.push(Buffer.from(raw));
        }
        first = false;
        if (done) {
          socket.removeAllListeners('close');
          socket.destroy();
          return resolve();
        }
      }
    });
  });
}
