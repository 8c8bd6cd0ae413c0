import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, test } from 'vitest';
import { CLASS, TYPE } from './constants.js';
import { decodeMessage } from './decode.js';
import { encodeMessage } from './encode.js';
import { exchangeTcp, query } from './dns-client.js';
import { emptyMessage } from './message.js';

/**
 * A server that truncates over UDP and answers in full over TCP. Real
 * servers do this only for large answers; a fake makes the switch certain.
 */
async function truncatingServer(): Promise<{ port: number; close(): void }> {
  const tcp = createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const req = decodeMessage(buf.subarray(2));
      req.qr = true;
      req.edns = null;
      req.answers = Array.from({ length: 30 }, (_, i) => ({ name: req.questions[0]!.name, type: TYPE.SRV, class: CLASS.IN, ttl: 60, data: { type: 'SRV' as const, priority: i, weight: 0, port: 1688, target: `kms${i}.lab.test` } }));
      const out = encodeMessage(req);
      s.end(Buffer.concat([Buffer.from([out.length >> 8, out.length & 0xff]), out]));
    });
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const port = (tcp.address() as { port: number }).port;
  const udp = createSocket('udp4');
  udp.on('message', (m, rinfo) => {
    const req = decodeMessage(m);
    req.qr = true;
    req.tc = true;
    req.edns = null;
    udp.send(encodeMessage(req), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(port, '127.0.0.1', () => r()));
  return { port, close: () => (udp.close(), tcp.close()) };
}

describe('DNS client', () => {
  test('a truncated UDP answer is asked again over TCP (RFC 1035 §4.2.1)', async () => {
    const server = await truncatingServer();
    try {
      const { answer, transport } = await query({ host: '127.0.0.1', port: server.port }, '_vlmcs._tcp.lab.test', TYPE.SRV);
      expect(transport).toBe('tcp');
      expect(answer.answers).toHaveLength(30);
    } finally {
      server.close();
    }
  });

  test('no answer: KMSLAB_TIMEOUT', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    try {
      await expect(query({ host: '127.0.0.1', port: silent.address().port, timeoutMs: 200 }, 'lab.test', TYPE.SOA)).rejects.toMatchObject({ code: 'KMSLAB_TIMEOUT' });
    } finally {
      silent.close();
    }
  });

  test('a TCP peer that closes without answering is an error at once, not a hang (a port proxy whose backend is not up does this)', async () => {
    const closer = createServer((socket) => socket.end());
    await new Promise<void>((r) => closer.listen(0, '127.0.0.1', () => r()));
    const q = emptyMessage(1);
    q.questions = [{ name: 'lab.test', type: TYPE.SOA, class: CLASS.IN }];
    try {
      const started = Date.now();
      await expect(exchangeTcp({ host: '127.0.0.1', port: (closer.address() as { port: number }).port, timeoutMs: 30_000 }, encodeMessage(q))).rejects.toMatchObject({ code: 'KMSLAB_CONNECTION_FAILED', message: expect.stringMatching(/closed the TCP connection without an answer/) });
      expect(Date.now() - started).toBeLessThan(10_000); // far below the 30 s timeout: the close itself settled it
    } finally {
      closer.close();
    }
  });
});
