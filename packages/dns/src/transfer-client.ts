import { CLASS, RCODE, TYPE, decodeMessage, emptyMessage, encodeMessage, rcodeName, signRequest, verifyResponse, type Message, type ResourceRecord, type TsigKey } from '@kmslab/dns-wire';
import { connect } from 'node:net';
import { KmsLabError } from '@kmslab/core';

/**
 * Fetches a whole zone by AXFR over TCP (RFC 5936) from any authoritative
 * server; with a key, the request is signed and every signed answer verified
 * (RFC 8945 §5.3.1). A refusal is KMSLAB_DNS_REFUSED naming what to give.
 */
export function transferZone(o: { host: string; port: number; zone: string; key?: TsigKey | null; timeoutMs?: number; nowMs?: number }): Promise<ResourceRecord[]> {
  const req = emptyMessage(Math.floor(Math.random() * 0xffff));
  req.questions = [{ name: o.zone, type: TYPE.AXFR, class: CLASS.IN }];
  const signed = o.key ? signRequest(req, o.key, o.nowMs ?? Date.now()) : null;
  const bytes = signed ? signed.bytes : encodeMessage(req);
  const framed = Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  const where = `${o.host}:${o.port}`;
  return new Promise((resolve, reject) => {
    const records: ResourceRecord[] = [];
    let soaSeen = 0;
    let pending = Buffer.alloc(0);
    let prior = signed?.mac ?? null;
    let unsigned: Buffer[] = [];
    let first = true;
    const socket = connect({ host: o.host, port: o.port });
    const fail = (err: KmsLabError) => {
      socket.destroy();
      reject(err);
    };
    const failed = (why: string) => fail(new KmsLabError('KMSLAB_CONNECTION_FAILED', `Zone transfer of ${o.zone} from ${where} failed: ${why}`));
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
        // RFC 8945 §5.3.1: the first and the last answer are signed; those between may be, with the ones before them in the MAC.
        if (o.key && prior) {
          // The message holding the closing SOA (the second one seen) is the last.
          const last = soaSeen + msg.answers.filter((rr) => rr.type === TYPE.SOA).length >= 2;
          if (msg.tsig || first || last) {
            try {
              prior = verifyResponse(raw, msg, o.key, prior, { subsequent: !first, unsignedBefore: unsigned });
            } catch (err) {
              return fail(new KmsLabError((err as KmsLabError).code ?? 'KMSLAB_DNS_MALFORMED', `Zone transfer of ${o.zone} from ${where}: ${(err as Error).message}`, { cause: err }));
            }
            unsigned = [];
          } else unsigned.push(Buffer.from(raw));
        }
        first = false;
        for (const rr of msg.answers) {
          if (rr.type === TYPE.SOA && ++soaSeen === 2) {
            socket.removeAllListeners('close');
            socket.destroy();
            return resolve(records);
          }
          records.push(rr);
        }
      }
    });
  });
}
