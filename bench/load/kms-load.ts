import { connect, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { FRAME_TYPE, encodeActivationRequest } from '@kmslab/core';

/**
 * A lean load generator for the KMS port: pre-encoded frames, raw sockets,
 * only the header of each answer is read. It shares the machine's two cores
 * with the host, so it must cost as little as possible per request.
 */

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Request frames for `distinct` clients of one product; a frame's request id is rewritten on send. */
export function requestFrames(productId: string, distinct = 4096): Buffer[] {
  return Array.from({ length: distinct }, () =>
    encodeActivationRequest(0, { cmid: randomUUID(), productId, fqdn: 'bench.lab.test', clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace' }),
  );
}

function openSockets(port: number, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: n }, () => new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(s));
      s.once('error', reject);
    })),
  );
}

/** Calls `onFrame(type, requestId)` for each whole answer frame on the socket. */
function onFrames(socket: Socket, onFrame: (type: number, requestId: number) => void): void {
  let pending: Buffer | null = null;
  socket.on('data', (chunk: Buffer) => {
    let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = null;
    let o = 0;
    while (buf.length - o >= 12) {
      const total = buf.readUInt32BE(o) + 4;
      if (buf.length - o < total) break;
      onFrame(buf[o + 7]!, buf.readUInt32BE(o + 8));
      o += total;
    }
    if (o < buf.length) pending = buf.subarray(o);
  });
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summarise(latencies: Float64Array, n: number, errors: number, seconds: number): LoadResult {
  const sorted = latencies.subarray(0, n).sort();
  return { requests: n, errors, seconds, perSecond: n / seconds, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
}

/** Closed loop: each connection keeps one request outstanding; measured after a warm-up. */
export async function closedLoop(o: { port: number; connections: number; warmupMs: number; durationMs: number; frames: Buffer[] }): Promise<LoadResult> {
  const sockets = await openSockets(o.port, o.connections);
  const latencies = new Float64Array(2_000_000);
  let n = 0;
  let errors = 0;
  let measuring = false;
  let stopped = false;
  let next = 0;
  const sentAt = new Float64Array(o.connections);
  const send = (i: number) => {
    const frame = o.frames[next++ % o.frames.length]!;
    sentAt[i] = performance.now();
    sockets[i]!.write(frame);
  };
  sockets.forEach((s, i) => {
    onFrames(s, (type) => {
      if (measuring && n < latencies.length) {
        latencies[n++] = performance.now() - sentAt[i]!;
        if (type !== FRAME_TYPE.activationResponse) errors++;
      }
      if (!stopped) send(i);
    });
    send(i);
  });
  await new Promise((r) => setTimeout(r, o.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs));
  measuring = false;
  stopped = true;
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  return summarise(latencies, n, errors, seconds);
}

/**
 * Open loop: requests leave at a fixed rate whatever the answers do, spread
 * round-robin over the connections. The generator never waits for answers,
 * so latency is counted from the moment a request was written; how far the
 * generator's own timer fell behind its plan is reported as `lagP99Ms`.
 * Answers during the warm-up (fresh connections, JIT) are not counted.
 */
export async function openLoop(o: { port: number; connections: number; rate: number; warmupMs: number; durationMs: number; frames: Buffer[] }): Promise<LoadResult & { lagP99Ms: number }> {
  const sockets = await openSockets(o.port, o.connections);
  const warm = Math.floor((o.rate * o.warmupMs) / 1000);
  const total = warm + Math.floor((o.rate * o.durationMs) / 1000);
  const sentAt = new Float64Array(total);
  const lag = new Float64Array(total);
  const latencies = new Float64Array(total);
  let answered = 0;
  let counted = 0;
  let errors = 0;
  for (const s of sockets) {
    onFrames(s, (type, id) => {
      answered++;
      if (id <= warm) return;
      latencies[counted++] = performance.now() - sentAt[id - 1]!;
      if (type !== FRAME_TYPE.activationResponse) errors++;
    });
  }
  const t0 = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate));
      while (sent < due) {
        const frame = Buffer.from(o.frames[sent % o.frames.length]!);
        frame.writeUInt32BE(sent + 1, 8);
        sentAt[sent] = performance.now();
        lag[sent] = sentAt[sent]! - (t0 + (sent * 1000) / o.rate);
        sockets[sent % sockets.length]!.write(frame);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const deadline = performance.now() + 5000;
  while (answered < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const s of sockets) s.destroy();
  const result = summarise(latencies, counted, errors + (total - answered), o.durationMs / 1000);
  return { ...result, lagP99Ms: percentile(lag.subarray(warm).sort(), 0.99) };
}
