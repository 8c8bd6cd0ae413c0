import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { encodeMessage, emptyMessage, TYPE, CLASS, OPCODE } from '@kmslab/dns-wire';

/** Deterministic, so a failing fuzz case can be replayed from its seed. */
export { seededRandom as rng } from '@kmslab/core';

/** Valid messages to mutate: queries of each kind the server answers, an update, a transfer. */
export function seedMessages(): Buffer[] {
  const q = (name: string, type: number, opcode: number = OPCODE.QUERY) => {
    const m = emptyMessage(0x4242);
    m.opcode = opcode;
    m.questions = [{ name, type, class: CLASS.IN }];
    return m;
  };
  const withEdns = q('_vlmcs._tcp.lab.test', TYPE.SRV);
  withEdns.edns = { udpSize: 4096, version: 0, dnssecOk: false, extendedRcode: 0 };
  const update = q('lab.test', TYPE.SOA, OPCODE.UPDATE);
  update.authorities = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 60, data: { type: 'SRV', priority: 0, weight: 0, port: 1688, target: 'kms1.lab.test' } }];
  return [q('_vlmcs._tcp.lab.test', TYPE.SRV), withEdns, q('kms1.lab.test', TYPE.A), q('lab.test', TYPE.AXFR), q('nope.lab.test', TYPE.TXT), update].map((m) => encodeMessage(m));
}

/** One hostile packet: random bytes, a truncated or bit-flipped valid message, or a header with huge counts. */
export function mutate(next: () => number, seeds: Buffer[]): Buffer {
  const pick = Math.floor(next() * 5);
  const base = seeds[Math.floor(next() * seeds.length)]!;
  switch (pick) {
    case 0: {
      const b = Buffer.alloc(Math.floor(next() * 300));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(next() * 256);
      return b;
    }
    case 1:
      return base.subarray(0, Math.floor(next() * base.length));
    case 2: {
      const b = Buffer.from(base);
      const flips = 1 + Math.floor(next() * 4);
      for (let i = 0; i < flips; i++) b[Math.floor(next() * b.length)]! ^= 1 << Math.floor(next() * 8);
      return b;
    }
    case 3: {
      // The header that stalls dns2 3.0.0: every section count 0xFFFF.
      const b = Buffer.from(base);
      for (let i = 4; i < 12; i++) b[i] = 0xff;
      b[2] = b[2]! & 0x7f;
      return b;
    }
    default: {
      const b = Buffer.from(base);
      b[Math.floor(next() * b.length)] = Math.floor(next() * 256);
      return Buffer.concat([b, Buffer.alloc(Math.floor(next() * 8), 0xc0)]);
    }
  }
}

/**
 * Sends `packets` hostile UDP datagrams, then opens `connections` TCP
 * connections (100 at a time) that each send one framed hostile message and
 * some trailing garbage. Bounded in count; every socket has a 2 s timeout.
 */
export async function hostileTraffic(port: number, next: () => number, o: { packets: number; connections: number }): Promise<void> {
  const seeds = seedMessages();
  const udp = createSocket('udp4');
  for (let i = 0; i < o.packets; i++) {
    udp.send(mutate(next, seeds), port, '127.0.0.1');
    if (i % 200 === 0) await new Promise((r) => setImmediate(r));
  }
  for (let done = 0; done < o.connections; done += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, o.connections - done) }, () => new Promise<void>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          const p = mutate(next, seeds);
          s.end(Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p, mutate(next, seeds)]));
        });
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.setTimeout(2000, () => s.destroy());
        s.resume();
      })),
    );
  }
  udp.close();
}
