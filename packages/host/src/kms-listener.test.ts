import { connect } from 'node:net';
import { FrameDecoder, decodeFrame, encodeActivationRequest, encodeHelloRequest, type Frame } from '@kmslab/core';
import { afterEach, describe, expect, test } from 'vitest';
import { ActivationService } from './activation-service.js';
import { resolveHostOptions } from './host-options.js';
import { KmsListener } from './kms-listener.js';
import { HostMetrics } from './metrics.js';
import { MemoryStore } from './store/memory-store.js';

const NOW = Date.UTC(2026, 11, 5, 12);
let listener: KmsListener | null = null;

async function start(): Promise<{ port: number; metrics: HostMetrics }> {
  const options = resolveHostOptions({ hostId: 'kms-test', store: await MemoryStore.open(), clock: { now: () => NOW }, listen: ['127.0.0.1'], port: 0 });
  const metrics = new HostMetrics('kms-test', async () => ({ stats: {}, healthy: true }));
  listener = new KmsListener(options, new ActivationService(options, metrics), metrics);
  const [address] = await listener.listen();
  return { port: address!.port, metrics };
}

afterEach(async () => {
  await listener?.close();
  listener = null;
});

/** Sends the chunks (a turn apart), collects answer frames until `want` arrived or the host closed. */
function exchange(port: number, chunks: Buffer[], want: number): Promise<{ frames: Frame[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    let closed = false;
    const done = () => {
      socket.destroy();
      resolve({ frames, closed });
    };
    socket.on('data', (d: Buffer) => {
      for (let n = decoder.write(d); n > 0; n--) frames.push(decodeFrame(decoder.next()!));
      if (frames.length >= want) done();
    });
    socket.on('close', () => ((closed = true), resolve({ frames, closed })));
    socket.on('error', reject);
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

const request = (id: number, cmid: string) => encodeActivationRequest(id, { cmid, productId: 'windows-server-2016-standard', fqdn: `${id}.lab.test`, clientTime: NOW, kind: 'activation', licenseStatus: 'initial-grace' });

describe('KMS listener (docs/protocol.md)', () => {
  test('pipelined frames in one write, and a frame split across writes, are each answered, matched by request id', async () => {
    const { port } = await start();
    const a = request(7, '11111111-1111-4111-8111-111111111111');
    const b = request(9, '22222222-2222-4222-8222-222222222222');
    const hello = encodeHelloRequest(11);
    const { frames } = await exchange(port, [Buffer.concat([a, b, hello.subarray(0, 5)]), hello.subarray(5)], 3);
    const byId = new Map(frames.map((f) => [f.requestId, f]));
    expect(byId.get(7)).toMatchObject({ type: 'activationResponse', body: { count: 1 } });
    expect(byId.get(9)).toMatchObject({ type: 'activationResponse', body: { count: 2 } });
    expect(byId.get(11)).toMatchObject({ type: 'helloResponse', body: { hostId: 'kms-test' } });
  });

  test('a field the protocol does not allow gets an error frame with its request id; the next request on the connection is still answered', async () => {
    const { port } = await start();
    const bad = request(21, '33333333-3333-4333-8333-333333333333');
    bad[bad.length - 1] = 0x01; // a control character in the FQDN
    const { frames } = await exchange(port, [bad, encodeHelloRequest(22)], 2);
    expect(frames[0]).toMatchObject({ type: 'error', requestId: 21, body: { code: 'KMSLAB_MALFORMED_REQUEST' } });
    expect(frames[1]).toMatchObject({ type: 'helloResponse', requestId: 22 });
  });

  test('a frame that is not kmslab\'s (bad magic) or over 64 KiB gets one error frame and the connection is closed; both are counted', async () => {
    const { port, metrics } = await start();
    const garbage = Buffer.from(encodeHelloRequest(31));
    garbage.writeUInt16BE(0xbeef, 4);
    const bad = await exchange(port, [garbage], 99);
    expect(bad.closed).toBe(true);
    expect(bad.frames).toEqual([expect.objectContaining({ type: 'error', body: expect.objectContaining({ code: 'KMSLAB_MALFORMED_FRAME' }) })]);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(70_000, 0);
    const big = await exchange(port, [huge], 99);
    expect(big.closed).toBe(true);
    expect(big.frames[0]).toMatchObject({ type: 'error', body: { code: 'KMSLAB_FRAME_TOO_LARGE' } });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/kmslab_protocol_errors_total\{code="KMSLAB_MALFORMED_FRAME",host_id="kms-test"\} 1/);
    expect(text).toMatch(/kmslab_protocol_errors_total\{code="KMSLAB_FRAME_TOO_LARGE",host_id="kms-test"\} 1/);
  });
});
