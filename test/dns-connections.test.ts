import type { Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLASS, TYPE, emptyMessage, encodeMessage } from '@kmslab/dns-wire';
import { DnsServer, ZoneSet, defaultZone } from '@kmslab/dns';
import { dig } from './support/dns-tools.js';
import { startCliProcess } from './support/cli.js';
import { rawConnect } from './support/raw-connect.js';

function tcpQuery(): Buffer {
  const m = emptyMessage(9);
  m.rd = true;
  m.questions = [{ name: '_vlmcs._tcp.lab.test', type: TYPE.SRV, class: CLASS.IN }];
  const body = encodeMessage(m);
  const framed = Buffer.alloc(2 + body.length);
  framed.writeUInt16BE(body.length, 0);
  body.copy(framed, 2);
  return framed;
}

describe('DNS over TCP against idle and slow connections (RFC 7766 §6.2)', () => {
  test('with the cap of 1,000 idle connections held, a new TCP query is still answered (the oldest idle one makes room)', async () => {
    await using dns = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--admin', '127.0.0.1:0']);
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 1000; i += 100) held.push(...(await Promise.all(Array.from({ length: 100 }, () => rawConnect(dns.port)))));
      for (const s of held) s.on('error', () => {});
      const closed = held.map((s) => new Promise<void>((r) => s.once('close', () => r())));
      // The server has accepted every one of them (the kernel completes a handshake before Node accepts it).
      await expect.poll(async () => (await (await fetch(`${dns.adminUrl}/metrics`)).text()).match(/^kmslab_dns_tcp_connections (\d+)/m)?.[1], { timeout: 10_000 }).toBe('1000');
      const r = await dig('dig', '127.0.0.1', dns.port, ['+tcp', 'lab.test', 'SOA']);
      expect(r.status).toBe('NOERROR');
      // Exactly the one used longest ago was closed for it.
      await Promise.race([closed[0], new Promise((r) => setTimeout(r, 2000))]);
      expect(held[0]!.destroyed || held[0]!.readableEnded).toBe(true);
      expect(held.slice(1).filter((s) => s.destroyed).length).toBeLessThan(5);
    } finally {
      for (const s of held) s.destroy();
    }
  });

  test('a query fed one byte at a time is closed the idle timeout after its first byte, not kept alive by each byte', async () => {
    const zones = new ZoneSet();
    zones.add(defaultZone('lab.test'));
    await using server = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0, tcpIdleTimeoutMs: 1000 });
    const s = await rawConnect(server.port);
    s.on('error', () => {});
    const started = Date.now();
    const closed = new Promise<number>((r) => s.once('close', () => r(Date.now() - started)));
    const bytes = tcpQuery();
    let i = 0;
    const trickle = setInterval(() => !s.destroyed && s.write(bytes.subarray(i, ++i)), 150);
    const after = await closed;
    clearInterval(trickle);
    expect(after).toBeLessThan(2500);
    expect(i).toBeLessThan(bytes.length);
    // A whole query on a fresh connection is answered.
    const fresh = await rawConnect(server.port);
    const answer = new Promise<Buffer>((r) => fresh.once('data', r));
    fresh.write(bytes);
    expect((await answer).readUInt16BE(2)).toBe(9);
    fresh.destroy();
  });
});
