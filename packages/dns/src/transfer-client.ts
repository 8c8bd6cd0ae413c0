import { CLASS, RCODE, TYPE, decodeMessage, emptyMessage, encodeMessage, rcodeName, type ResourceRecord } from '@kmslab/dns-wire';
import { connect } from 'node:net';
import { KmsLabError } from '@kmslab/core';

/** Fetches a whole zone by AXFR over TCP (RFC 5936) from any authoritative server. */
export function transferZone(o: { host: string; port: number; zone: string; timeoutMs?: number }): Promise<ResourceRecord[]> {
  const req = emptyMessage(Math.floor(Math.random() * 0xffff));
  req.questions = [{ name: o.zone, type: TYPE.AXFR, class: CLASS.IN }];
  const bytes = encodeMessage(req);
  const framed = Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
  return new Promise((resolve, reject) => {
    const records: ResourceRecord[] = [];
    let soaSeen = 0;
    let pending = Buffer.alloc(0);
    const socket = connect({ host: o.host, port: o.port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new KmsLabError('KMSLAB_CONNECTION_FAILED', `Zone transfer of ${o.zone} from ${o.host}:${o.port} failed: ${why}`));
    };
    socket.setTimeout(o.timeoutMs ?? 5000, () => fail('timed out'));
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('the server closed the connection'));
    socket.on('connect', () => socket.write(framed));
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = decodeMessage(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
        if (msg.rcode !== RCODE.NOERROR) return fail(`the server answered ${rcodeName(msg.rcode)}`);
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
