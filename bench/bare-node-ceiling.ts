/**
 * The one-process ceiling for the KMS port: a bare Node TCP server that
 * answers every frame with one pre-encoded response, only copying the
 * request id (no decoding, no counting, no logging). Anything kmslab's host
 * does costs on top of this.
 */
import { createServer, type Server } from 'node:net';
import { encodeActivationResponse } from '@kmslab/core';

export function startBareCeiling(): Promise<{ port: number; close(): Promise<void> }> {
  const template = encodeActivationResponse(0, {
    errorCode: '0xC004F038', licensed: false, count: 13, threshold: 25, family: 'windows',
    activationIntervalMin: 120, renewalIntervalMin: 10080, validityMin: 0, hostId: 'ceiling', hostTime: Date.now(),
  });
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      // One frame per chunk in a closed loop; the request id sits at bytes 8..11.
      const out = Buffer.from(template);
      chunk.copy(out, 8, 8, 12);
      socket.write(out);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as { port: number }).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

// As a child process: `tsx bench/bare-node-ceiling.ts` prints its port.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const { port } = await startBareCeiling();
  console.log(JSON.stringify({ event: 'ready', port }));
}
