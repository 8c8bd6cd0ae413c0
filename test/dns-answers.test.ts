import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { promises as dnsPromises } from 'node:dns';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeMessage, encodeMessage, TYPE, CLASS, type Message } from '@kmslab/dns-wire';
import { dig } from './support/dns-tools.js';
import { startDns } from './support/dns-server.js';

let server: Awaited<ReturnType<typeof startDns>>;
beforeAll(async () => {
  server = await startDns();
});
afterAll(async () => {
  await server?.close();
});

function udpRaw(bytes: Buffer, port = server.port, host = '127.0.0.1', timeoutMs = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(bytes, port, host);
  });
}

function query(name: string, type: number, patch: Partial<Message> = {}): Buffer {
  return encodeMessage({
    id: 0x1234, qr: false, opcode: 0, aa: false, tc: false, rd: false, ra: false, rcode: 0,
    questions: [{ name, type, class: CLASS.IN }], answers: [], authorities: [], additionals: [], edns: null, tsig: null, tsigOffset: -1, ...patch,
  });
}

describe.each(['dig', 'kdig'] as const)('authoritative answers checked with %s', (tool) => {
  describe.each([['UDP', '+notcp'], ['TCP', '+tcp']])('over %s', (_t, transport) => {
    test('SRV: AA set, both records, targets\' A and AAAA in the additional section', async () => {
      const r = await dig(tool, '127.0.0.1', server.port, ['_vlmcs._tcp.lab.test', 'SRV', transport, '+norec']);
      expect(r.status).toBe('NOERROR');
      expect(r.flags).toContain('aa');
      expect(r.answer.sort()).toEqual(['_vlmcs._tcp.lab.test. 600 IN SRV 0 0 1688 kms1.lab.test.', '_vlmcs._tcp.lab.test. 600 IN SRV 10 0 1688 kms2.lab.test.']);
      expect(r.additional.sort()).toEqual(['kms1.lab.test. 3600 IN A 127.0.0.11', 'kms1.lab.test. 3600 IN AAAA fd00::11', 'kms2.lab.test. 3600 IN A 127.0.0.12']);
    });

    test('names are case-insensitive (RFC 4343) and the question is echoed as asked', async () => {
      const r = await dig(tool, '127.0.0.1', server.port, ['_VLMCS._Tcp.LAB.Test', 'SRV', transport]);
      expect(r.status).toBe('NOERROR');
      expect(r.answer).toHaveLength(2);
      // dig prints the question as it came back; kdig prints names in lower case.
      if (tool === 'dig') expect(r.raw).toContain('_VLMCS._Tcp.LAB.Test.');
    });

    test('unknown name in the zone: NXDOMAIN with the SOA in authority (negative TTL = SOA minimum)', async () => {
      const r = await dig(tool, '127.0.0.1', server.port, ['missing.lab.test', 'A', transport]);
      expect(r.status).toBe('NXDOMAIN');
      expect(r.flags).toContain('aa');
      expect(r.authority).toEqual(['lab.test. 300 IN SOA ns.lab.test. hostmaster.lab.test. 2026010101 3600 600 604800 300']);
    });

    test('name exists, type does not: NODATA with SOA; an empty non-terminal is NODATA too (RFC 8020)', async () => {
      for (const name of ['kms2.lab.test', '_tcp.lab.test']) {
        const r = await dig(tool, '127.0.0.1', server.port, [name, 'AAAA', transport]);
        expect(r.status, name).toBe('NOERROR');
        expect(r.answer, name).toEqual([]);
        expect(r.authority[0], name).toMatch(/^lab\.test\. 300 IN SOA /);
      }
    });

    test('out-of-zone name: REFUSED', async () => {
      expect((await dig(tool, '127.0.0.1', server.port, ['www.example.com', 'A', transport])).status).toBe('REFUSED');
    });
  });

  test('CNAME inside the zone is followed; CNAME out of the zone is given alone', async () => {
    const r = await dig(tool, '127.0.0.1', server.port, ['alias.lab.test', 'A']);
    expect(r.answer).toEqual(['alias.lab.test. 3600 IN CNAME kms1.lab.test.', 'kms1.lab.test. 3600 IN A 127.0.0.11']);
    const out = await dig(tool, '127.0.0.1', server.port, ['outside.lab.test', 'A']);
    expect(out.status).toBe('NOERROR');
    expect(out.answer).toEqual(['outside.lab.test. 3600 IN CNAME www.example.com.']);
  });

  test('TXT with several strings; over IPv6', async () => {
    const r = await dig(tool, '::1', server.port, ['note.lab.test', 'TXT']);
    expect(r.answer).toEqual(['note.lab.test. 3600 IN TXT "kmslab lab zone" "second string"']);
  });
});

describe('EDNS and truncation (RFC 6891, RFC 1035 §4.2.1)', () => {
  test('EDNS is echoed: OPT in the answer; EDNS version 1 gets BADVERS', async () => {
    const r = await dig('dig', '127.0.0.1', server.port, ['_vlmcs._tcp.lab.test', 'SRV', '+edns=0']);
    expect(r.raw).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
    const bad = await dig('dig', '127.0.0.1', server.port, ['_vlmcs._tcp.lab.test', 'SRV', '+edns=1', '+noednsneg']);
    expect(bad.status).toBe('BADVERS');
    const none = await dig('dig', '127.0.0.1', server.port, ['_vlmcs._tcp.lab.test', 'SRV', '+noedns']);
    expect(none.raw).not.toMatch(/OPT PSEUDOSECTION/);
  });

  test('an answer over 512 bytes without EDNS is truncated (TC) and complete over TCP', async () => {
    const many = await startDns(undefined, (zones) => {
      const zone = zones.get('lab.test')!;
      for (let i = 0; i < 40; i++) {
        zone.add({ name: 'big.lab.test', type: TYPE.SRV, class: CLASS.IN, ttl: 60, data: { type: 'SRV', priority: i, weight: 0, port: 1688, target: `kms-host-${i}.lab.test` } });
      }
    });
    try {
      const udp = decodeMessage((await udpRaw(query('big.lab.test', TYPE.SRV), many.port))!);
      expect(udp.tc).toBe(true);
      expect(udp.answers).toEqual([]);
      const ednsBig = await dig('dig', '127.0.0.1', many.port, ['big.lab.test', 'SRV', '+bufsize=4096', '+ignore']);
      expect(ednsBig.flags).not.toContain('tc');
      expect(ednsBig.answer).toHaveLength(40);
      const viaDig = await dig('dig', '127.0.0.1', many.port, ['big.lab.test', 'SRV', '+noedns']); // dig retries over TCP on TC
      expect(viaDig.answer).toHaveLength(40);
      expect(viaDig.raw).toContain('(TCP)');
    } finally {
      await many.close();
    }
  });
});

describe('wire details', () => {
  test('SRV target names are written uncompressed (RFC 2782)', async () => {
    const raw = (await udpRaw(query('_vlmcs._tcp.lab.test', TYPE.SRV)))!;
    // The full target spelled out in the answer: "\x04kms1\x03lab\x04test\x00" right after priority, weight, port.
    expect(raw.includes(Buffer.from('\x00\x00\x00\x00\x06\x98\x04kms1\x03lab\x04test\x00', 'latin1'))).toBe(true);
  });

  test('unsupported opcode: NOTIMP', async () => {
    const raw = (await udpRaw(query('lab.test', TYPE.SOA, { opcode: 2 })))!;
    expect(decodeMessage(raw).rcode).toBe(4);
  });

  test('malformed query with a readable header: FORMERR; a response or a runt: dropped; the server keeps answering', async () => {
    const bad = Buffer.from(query('lab.test', TYPE.SOA));
    bad.writeUInt16BE(5, 4); // five questions claimed, one present
    expect(decodeMessage((await udpRaw(bad))!)).toMatchObject({ id: 0x1234, rcode: 1, qr: true });
    const hostile = Buffer.alloc(12, 0xff);
    hostile[2] = 0x01; // QR=0, all section counts 0xFFFF
    const started = Date.now();
    expect(decodeMessage((await udpRaw(hostile))!).rcode).toBe(1);
    expect(Date.now() - started).toBeLessThan(1500); // no stall
    expect(await udpRaw(Buffer.from([1, 2, 3]), server.port, '127.0.0.1', 300)).toBeNull();
    const response = Buffer.from(query('lab.test', TYPE.SOA));
    response[2]! |= 0x80;
    expect(await udpRaw(response, server.port, '127.0.0.1', 300)).toBeNull();
    expect(decodeMessage((await udpRaw(query('lab.test', TYPE.SOA)))!).answers).toHaveLength(1);
  });

  test('TCP: several queries in one write are answered in order (pipelining, RFC 7766)', async () => {
    const names = ['kms1.lab.test', 'kms2.lab.test', 'ns.lab.test'];
    const frames = names.map((n, i) => {
      const q = query(n, TYPE.A, { id: 100 + i });
      return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
    });
    const answers = await new Promise<Message[]>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: server.port }, () => s.write(Buffer.concat(frames)));
      let buf = Buffer.alloc(0);
      const out: Message[] = [];
      s.on('error', reject);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          out.push(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (out.length === 3) {
          s.destroy();
          resolve(out);
        }
      });
    });
    expect(answers.map((m) => m.id)).toEqual([100, 101, 102]);
    expect(answers.map((m) => (m.answers[0]?.data as { address: string }).address)).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.1']);
  });
});

describe('clients', () => {
  test("Node's dns.promises.Resolver.resolveSrv reads the SRV records", async () => {
    const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${server.port}`]);
    const srv = await resolver.resolveSrv('_vlmcs._tcp.lab.test');
    expect(srv.sort((a, b) => a.priority - b.priority)).toEqual([
      { name: 'kms1.lab.test', port: 1688, priority: 0, weight: 0 },
      { name: 'kms2.lab.test', port: 1688, priority: 10, weight: 0 },
    ]);
    await expect(resolver.resolveSrv('_vlmcs._tcp.other.lab.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  test('dig AXFR transfers the whole zone, SOA first and last', async () => {
    const r = await dig('dig', '127.0.0.1', server.port, ['lab.test', 'AXFR']);
    const lines = r.raw.split('\n').filter((l) => l && !l.startsWith(';'));
    expect(lines[0]).toMatch(/^lab\.test\.\s+3600\s+IN\s+SOA/);
    expect(lines.at(-1)).toMatch(/^lab\.test\.\s+3600\s+IN\s+SOA/);
    expect(lines).toHaveLength(12); // 11 records, then the SOA again
    expect((await dig('dig', '127.0.0.1', server.port, ['lab.test', 'AXFR', '+notcp'])).status).not.toBe('NOERROR');
  });
});
