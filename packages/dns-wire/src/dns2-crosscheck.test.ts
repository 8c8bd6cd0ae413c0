import dns2 from 'dns2';
import { describe, expect, test } from 'vitest';
import { TYPE } from './constants.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { emptyMessage } from './message.js';

// dns2 is the declared wire library. The server does not parse with it (3.0.0,
// the version npm gives Node 20, stalls ~1.7 s on a 12-byte header with all
// counts 0xFFFF, and does not set AA, echo EDNS or keep SRV targets
// uncompressed), but as an independent decoder it checks our encoder here.
const { Packet } = dns2 as unknown as { Packet: { parse(b: Buffer): any } };

describe('cross-check with dns2 3.0.0 as an independent decoder', () => {
  test('an SRV answer with additional addresses reads the same in dns2', () => {
    const m = emptyMessage(4242);
    m.qr = true;
    m.aa = true;
    m.questions = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: 1 }];
    m.answers = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: 1, ttl: 600, data: { type: 'SRV', priority: 10, weight: 5, port: 1688, target: 'kms1.lab.test' } }];
    m.additionals = [
      { name: 'kms1.lab.test', type: TYPE.A, class: 1, ttl: 600, data: { type: 'A', address: '127.0.0.11' } },
      { name: 'kms1.lab.test', type: TYPE.AAAA, class: 1, ttl: 600, data: { type: 'AAAA', address: 'fd00::11' } },
    ];
    const p = Packet.parse(encodeMessage(m));
    expect(p.header).toMatchObject({ id: 4242, qr: 1, aa: 1, ancount: 1, arcount: 2 });
    expect(p.answers[0]).toMatchObject({ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, ttl: 600, priority: 10, weight: 5, port: 1688, target: 'kms1.lab.test' });
    expect(p.additionals.map((r: { address: string }) => r.address)).toEqual(['127.0.0.11', 'fd00::11']);
  });

  test('a query dns2 encodes reads the same in our decoder', () => {
    const q = new (dns2 as any).Packet();
    q.header.id = 7;
    q.header.rd = 1;
    q.questions.push({ name: 'kms1.lab.test', type: TYPE.A, class: 1 });
    const ours = decodeMessage(q.toBuffer());
    expect(ours).toMatchObject({ id: 7, rd: true, questions: [{ name: 'kms1.lab.test', type: TYPE.A, class: 1 }] });
  });
});
