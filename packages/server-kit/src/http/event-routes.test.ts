import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { EventLog, waitFor } from '@kmslab/core';
import { createAdminApp, listenAdmin, type AdminApp } from './admin-app.js';
import { eventRoutes } from './event-routes.js';

let app: AdminApp | null = null;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app?.close();
  app = null;
});

async function serve(log: EventLog): Promise<{ url: string; port: number }> {
  app = createAdminApp({ notFound: 'Try /events' });
  eventRoutes(app, log);
  const url = await listenAdmin(app, '127.0.0.1:0', 'test listener');
  return { url, port: Number(new URL(url).port) };
}

/** A follower over a raw socket: its request sent, its bytes counted; `paused` reads nothing at all. */
function follower(port: number, paused = false): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n\r\n`);
      if (paused) socket.pause();
      resolve({ socket, received: () => received, closed });
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    sockets.push(socket);
    socket.on('data', (d) => (received += d));
    socket.once('error', reject);
  });
}

const published = (domain: string) => ({ id: 12294 as const, source: 'kms1', domain, fqdn: 'kms1.lab.test' });

describe('GET /events (docs/admin-api.md "Events")', () => {
  test('JSON after= and limit=, a bad value one line; followers get the backlog, then each event; past 16 a new one is 503', async () => {
    const log = new EventLog(100, () => 0);
    for (const d of ['a', 'b', 'c']) log.record(published(d));
    const { url, port } = await serve(log);
    expect(await (await fetch(`${url}/events?after=1&limit=1`)).json()).toMatchObject({ last: 3, events: [{ seq: 3, domain: 'c' }] });
    const bad = await fetch(`${url}/events?limit=0`);
    expect([bad.status, (await bad.text()).split('\n').length]).toEqual([400, 2]);
    const first = await follower(port);
    await waitFor(() => first.received().includes('"domain":"c"'), { timeoutMs: 5000, everyMs: 10, timedOut: () => new Error(first.received()) });
    log.record(published('d'));
    await waitFor(() => first.received().includes('"domain":"d"'), { timeoutMs: 5000, everyMs: 10, timedOut: () => new Error(first.received()) });
    const more = await Promise.all(Array.from({ length: 15 }, () => follower(port)));
    await waitFor(() => more.every((f) => f.received().includes('kmslab events')), { timeoutMs: 5000, everyMs: 10, timedOut: () => new Error('followers not served') });
    const refused = await fetch(`${url}/events`, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(503);
    // One goes: there is room again.
    first.socket.destroy();
    await first.closed;
    await waitFor(async () => {
      const res = await fetch(`${url}/events`, { headers: { accept: 'text/event-stream' } });
      await res.body?.cancel();
      return res.status === 200;
    }, { timeoutMs: 5000, everyMs: 20, timedOut: () => new Error('no room after a follower left') });
  });

  test('a follower that reads nothing is let go once 1 MiB waits for it; the log and the others go on', async () => {
    const log = new EventLog(100, () => 0);
    const { port } = await serve(log);
    const stalled = await follower(port, true);
    const reading = await follower(port);
    await waitFor(() => reading.received().includes('kmslab events'), { timeoutMs: 5000, everyMs: 10, timedOut: () => new Error('not served') });
    // About 12 MiB: far more than the kernel's socket buffers hold for a reader that never reads (a few MiB on loopback) plus the 1 MiB.
    for (let i = 0; i < 100; i++) {
      for (let j = 0; j < 500; j++) log.record(published(`${'x'.repeat(200)}-${i}-${j}`));
      await new Promise((r) => setImmediate(r));
    }
    log.record(published('after'));
    await waitFor(() => reading.received().includes('"domain":"after"'), { timeoutMs: 10_000, everyMs: 20, timedOut: () => new Error('the reading follower was let go too') });
    // The stalled one, reading at last, gets what was sent before it was let go, and then the end.
    stalled.socket.resume();
    await stalled.closed;
    expect(stalled.received()).not.toContain('"domain":"after"');
  });
});
