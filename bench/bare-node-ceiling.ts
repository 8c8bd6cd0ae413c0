/**
 * The one-process ceilings for the KMS port. Bare: a Node TCP server that
 * answers every frame with one pre-encoded response, only copying the
 * request id (no decoding, no counting, no logging). Durable: the same, but
 * what arrives in one event-loop turn is first appended to a journal file
 * with one synchronous write (a line per request, the size of the memory
 * store's), and only then answered — the memory store's group commit
 * (packages/host/src/store/journal.ts: page cache, no fsync), so the store is
 * measured against what its durability costs on this disk. Anything else
 * kmslab's host does costs on top of these.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeActivationResponse } from '@kmslab/core';

export function startBareCeiling(o: { journalDir?: string } = {}): Promise<{ port: number; close(): Promise<void> }> {
  const template = encodeActivationResponse(0, {
    errorCode: '0xC004F038', licensed: false, count: 13, threshold: 25, family: 'windows',
    activationIntervalMin: 120, renewalIntervalMin: 10080, validityMin: 0, hostId: 'ceiling', hostTime: Date.now(),
  });
  const fd = o.journalDir ? openSync(join(o.journalDir, 'ceiling-journal.ndjson'), 'a') : null;
  let seq = 0;
  let pending: Array<{ socket: Socket; out: Buffer }> = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    const lines = batch.map(() => `{"q":${++seq},"t":"r","f":"windows","c":"00000000-0000-4000-8000-000000000000","n":${Date.now()},"th":25,"s":"initial-grace"}\n`).join('');
    writeSync(fd!, lines);
    for (const { socket, out } of batch) socket.write(out);
  };
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      // One frame per chunk in a closed loop; the request id sits at bytes 8..11.
      const out = Buffer.from(template);
      chunk.copy(out, 8, 8, 12);
      if (fd === null) return void socket.write(out);
      if (pending.length === 0) setImmediate(flush);
      pending.push({ socket, out });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise<void>((r) =>
            server.close(() => {
              if (fd !== null) closeSync(fd);
              r();
            }),
          ),
      });
    });
  });
}

// As a child process: `tsx bench/bare-node-ceiling.ts` prints its port.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { port } = await startBareCeiling();
  console.log(JSON.stringify({ event: 'ready', port }));
}
