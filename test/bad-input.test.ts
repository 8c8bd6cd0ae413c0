import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { FrameDecoder, decodeFrame, encodeActivationRequest, type Frame } from '@kmslab/core';
import { startHost, TestClient } from './support/kms-host.js';

/** Sends raw bytes, then reads until the host closes (or the timeout): what came back, and whether it closed. */
function exchange(port: number, bytes: Buffer, timeoutMs = 2000): Promise<{ frames: Frame[]; closed: boolean; raw: Buffer }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      resolve({ frames: raw.length ? new FrameDecoder().push(raw).map(decodeFrame) : [], closed, raw });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (d) => chunks.push(d));
    socket.on('close', () => done(true));
    socket.on('error', () => {});
    socket.write(bytes);
  });
}

const valid = () =>
  encodeActivationRequest(7, {
    cmid: crypto.randomUUID(), productId: 'windows-7-professional', fqdn: 'pc.lab.test', clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace',
  });

describe('bad input on the KMS port (docs/protocol.md "Errors")', () => {
  test('bad magic: an error frame KMSLAB_MALFORMED_FRAME, then close', async () => {
    await using h = await startHost({ kind: 'memory' });
    const frame = valid();
    frame.writeUInt16BE(0x1234, 4);
    const r = await exchange(h.port, frame);
    expect(r.closed).toBe(true);
    expect(r.frames).toEqual([{ type: 'error', requestId: 0, body: expect.objectContaining({ code: 'KMSLAB_MALFORMED_FRAME' }) }]);
  });

  test('a body cut short or with trailing bytes: error frame naming the request id, then close', async () => {
    await using h = await startHost({ kind: 'memory' });
    const good = valid();
    const short = Buffer.from(good.subarray(0, good.length - 5));
    short.writeUInt32BE(short.length - 4, 0);
    const r = await exchange(h.port, short);
    expect(r.frames[0]).toMatchObject({ type: 'error', requestId: 7, body: { code: 'KMSLAB_MALFORMED_FRAME' } });
    expect(r.closed).toBe(true);
  });

  test('unknown frame type and unsupported version get their own codes', async () => {
    await using h = await startHost({ kind: 'memory' });
    const unknownType = valid();
    unknownType[7] = 0x42;
    expect((await exchange(h.port, unknownType)).frames[0]).toMatchObject({ requestId: 7, body: { code: 'KMSLAB_MALFORMED_FRAME' } });
    const v9 = valid();
    v9[6] = 9;
    expect((await exchange(h.port, v9)).frames[0]).toMatchObject({ requestId: 7, body: { code: 'KMSLAB_UNSUPPORTED_VERSION' } });
  });

  test('a product id with bytes outside ASCII (each OR 0x80) is KMSLAB_MALFORMED_REQUEST, counts nothing, and the connection goes on', async () => {
    await using h = await startHost({ kind: 'memory' });
    const frame = valid();
    const id = Buffer.from('windows-7-professional');
    const at = frame.indexOf(id);
    for (let i = 0; i < id.length; i++) frame[at + i]! |= 0x80;
    const bad = await exchange(h.port, Buffer.concat([frame, valid()]), 500);
    expect(bad.frames[0]).toMatchObject({ type: 'error', requestId: 7, body: { code: 'KMSLAB_MALFORMED_REQUEST', message: expect.stringMatching(/product id has byte 0xf7/) } });
    expect(bad.frames[1]).toMatchObject({ type: 'activationResponse', body: { count: 1 } });
    expect(bad.closed).toBe(false);
    // An FQDN that is not UTF-8 is refused the same way.
    const fqdn = valid();
    fqdn.write('\xff', fqdn.indexOf(Buffer.from('pc.lab.test')), 'latin1');
    expect((await exchange(h.port, fqdn, 500)).frames[0]).toMatchObject({ body: { code: 'KMSLAB_MALFORMED_REQUEST', message: expect.stringMatching(/client FQDN is not valid UTF-8/) } });
    expect((await h.status()).families.windows).toMatchObject({ currentCount: 1, totalRequests: 1 });
  });

  test('a frame over 64 KiB: KMSLAB_FRAME_TOO_LARGE and close, without reading the body', async () => {
    await using h = await startHost({ kind: 'memory' });
    const header = Buffer.alloc(12);
    header.writeUInt32BE(10 * 1024 * 1024, 0);
    const r = await exchange(h.port, header);
    expect(r.frames[0]).toMatchObject({ type: 'error', body: { code: 'KMSLAB_FRAME_TOO_LARGE' } });
    expect(r.closed).toBe(true);
  });

  test('a half-sent frame is closed after the idle timeout; a finished one on another connection is served', async () => {
    await using h = await startHost({ kind: 'memory' }, { idleTimeoutMs: 300 });
    const started = Date.now();
    const half = await exchange(h.port, valid().subarray(0, 20), 5000);
    expect(half.closed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await using c = await TestClient.connect(h.port);
    expect((await c.activate('windows-7-professional')).count).toBe(1);
  });

  test('pipelined requests in one write get one answer each, matched by request id', async () => {
    await using h = await startHost({ kind: 'memory' });
    const frames = [1, 2, 3].map((id) =>
      encodeActivationRequest(id, { cmid: crypto.randomUUID(), productId: 'windows-7-professional', fqdn: '', clientTime: Date.now(), kind: 'activation', licenseStatus: 'unlicensed' }),
    );
    const r = await exchange(h.port, Buffer.concat(frames), 500);
    expect(r.frames.map((f) => f.requestId).sort()).toEqual([1, 2, 3]);
    expect(r.frames.map((f) => (f.type === 'activationResponse' ? f.body.count : -1)).sort()).toEqual([1, 2, 3]);
    expect(r.closed).toBe(false);
  });

  test('real Windows client: a DCE/RPC bind is detected from its header, logged, counted and closed with no answer', async () => {
    await using h = await startHost({ kind: 'memory' });
    // The first 16 bytes of a DCE/RPC bind PDU header (version 5.0, type 11): nothing of the activation protocol.
    const bind = Buffer.from([5, 0, 11, 3, 0x10, 0, 0, 0, 0x78, 0, 0, 0, 1, 0, 0, 0]);
    const r = await exchange(h.port, bind);
    expect(r.closed).toBe(true);
    expect(r.raw.length).toBe(0);
    expect((await h.status()).replica.realKmsClients).toBe(1);
    expect(await (await fetch(`${h.adminUrl}/metrics`)).text()).toMatch(/kmslab_real_kms_clients_total\{host_id="test-host"\} 1/);
  });

  test('bounded fuzz: 300 random or bit-flipped payloads never stop the host from serving', async () => {
    await using h = await startHost({ kind: 'memory' }, { idleTimeoutMs: 200 });
    const payloads = Array.from({ length: 300 }, (_, i) => {
      if (i % 3 === 0) return randomBytes(1 + (i % 200));
      const f = valid();
      f[4 + (i % (f.length - 4))]! ^= 1 << (i % 8);
      return i % 3 === 1 ? f : f.subarray(0, i % f.length);
    });
    for (let i = 0; i < payloads.length; i += 30) await Promise.all(payloads.slice(i, i + 30).map((p) => exchange(h.port, p, 1000)));
    await using c = await TestClient.connect(h.port);
    // Some flips only changed a CMID or the FQDN and were counted; the host still answers.
    expect((await c.activate('windows-7-professional')).count).toBeGreaterThanOrEqual(1);
    expect((await h.status()).replica.connections).toBeLessThanOrEqual(1);
  });
});
