import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KmsLabError } from '@kmslab/core';
import { CLASS, OPCODE, RCODE, TYPE, decodeMessage, emptyMessage, encodeMessage, parseTsigKey, rcodeName, sendUpdate } from '@kmslab/dns-wire';
import type { HostStatus } from '@kmslab/host';
import { startCliHost, startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';
import { TestClient } from './support/kms-host.js';
import { tinyDisk } from './support/tiny-disk.js';

const PRODUCT = 'windows-10-enterprise';

async function health(adminUrl: string): Promise<{ healthz: number; storeHealthy: boolean }> {
  const healthz = (await fetch(`${adminUrl}/healthz`)).status;
  const status = (await (await fetch(`${adminUrl}/status`)).json()) as HostStatus;
  return { healthz, storeHealthy: status.store.healthy };
}

describe('memory store on a full disk (a real 64 KiB tmpfs)', () => {
  test('DEVELOPERS.md "no acknowledged count is lost": a full disk refuses, counts nothing, recovers by itself, and a kill -9 after it restarts with every acknowledged client', async () => {
    await using disk = tinyDisk('64k');
    const dataDir = join(disk.path, 'data');
    // Most of the disk taken by something else, so the journal fills the rest within a few hundred requests.
    const filler = join(disk.path, 'filler');
    writeFileSync(filler, Buffer.alloc(40 * 1024, 1));
    // Disposed too if an assertion fails before the kill -9 below.
    await using host = await startCliHost(['--data-dir', dataDir]);
    const acknowledged: string[] = [];
    let refused = 0;
    {
      await using c = await TestClient.connect(host.port);
      for (let i = 0; i < 2000 && refused < 10; i++) {
        try {
          const cmid = randomUUID();
          const r = await c.activate(PRODUCT, cmid);
          // Counts only ever grow by the acknowledged: a refused request counted nothing.
          expect(r.count).toBe(Math.min(acknowledged.length + 1, 50));
          acknowledged.push(cmid);
        } catch (err) {
          expect(err).toBeInstanceOf(KmsLabError);
          expect((err as KmsLabError).code).toBe('KMSLAB_HOST_UNAVAILABLE');
          refused++;
        }
      }
      expect(refused).toBe(10);
      expect(acknowledged.length).toBeGreaterThan(20);
      expect(await health(host.adminUrl)).toEqual({ healthz: 503, storeHealthy: false });

      // Space comes back: health returns by itself, and the next client is acknowledged+1, not acknowledged+11.
      rmSync(filler);
      expect(await health(host.adminUrl)).toEqual({ healthz: 200, storeHealthy: true });
      const next = randomUUID();
      expect((await c.activate(PRODUCT, next)).count).toBe(Math.min(acknowledged.length + 1, 50));
      acknowledged.push(next);
    }
    // Every line on disk is whole: nothing torn was left behind for the next entry to be glued to.
    const journal = readFileSync(join(dataDir, 'journal.ndjson'), 'utf8');
    for (const line of journal.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();

    host.proc.kill('SIGKILL');
    await host.exited;
    await using again = await startCliHost(['--data-dir', dataDir]);
    await using c = await TestClient.connect(again.port);
    // Acknowledged clients are records: repeating them does not raise the count.
    const last50 = acknowledged.slice(-50);
    for (const cmid of last50) expect((await c.activate(PRODUCT, cmid)).count).toBe(Math.min(acknowledged.length, 50));
  });

  test('a torn last journal line is cut off with a warning at start-up; a corrupt line before it names the file and line', async () => {
    await using disk = tinyDisk('1m');
    const dataDir = join(disk.path, 'data');
    {
      await using h = await startCliHost(['--data-dir', dataDir]);
      await using c = await TestClient.connect(h.port);
      for (let i = 0; i < 3; i++) await c.activate(PRODUCT);
      h.proc.kill('SIGKILL');
      await h.exited;
    }
    const path = join(dataDir, 'journal.ndjson');
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"q":4,"t":"r","f":"wind`);
    {
      await using h = await startCliHost(['--data-dir', dataDir]);
      expect(h.logs()).toMatch(/"event":"journal-repaired".*cut off 24 bytes/);
      await using c = await TestClient.connect(h.port);
      expect((await c.activate(PRODUCT)).count).toBe(4);
      h.proc.kill('SIGKILL');
      await h.exited;
    }
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(1, 0, '{"q":2,"t":"r","f":"wi');
    writeFileSync(path, lines.join('\n'));
    await expect(startCliHost(['--data-dir', dataDir])).rejects.toThrow(/journal\.ndjson line 2 is not valid JSON/);
  });
});

describe('DNS server on a full disk (a real tmpfs)', () => {
  const SECRET = Buffer.from('full-disk-dns-test-secret-32-by').toString('base64');
  const key = parseTsigKey(`admin:hmac-sha256:${SECRET}`);
  const addTxt = (port: number, i: number) => {
    const update = emptyMessage();
    update.opcode = OPCODE.UPDATE;
    update.questions = [{ name: 'lab.test', type: TYPE.SOA, class: CLASS.IN }];
    // Records of about 200 bytes in the zone file, so a 4 KiB page fills in about 20 updates.
    update.authorities = [{ name: `r${i}.lab.test`, type: TYPE.TXT, class: CLASS.IN, ttl: 60, data: { type: 'TXT', texts: ['x'.repeat(180)] } }];
    return sendUpdate({ host: '127.0.0.1', port }, update, key, Date.now());
  };
  const txt = async (port: number, i: number) => (await dig('dig', '127.0.0.1', port, [`r${i}.lab.test`, 'TXT'])).status;

  test('RFC 2136 §3.5: an update is answered NOERROR only once the zone file or its journal holds it whole; when the disk is full it is SERVFAIL, served as before, logged as an error, /healthz 503 until space returns; a restart serves every acknowledged record', async () => {
    await using disk = tinyDisk('64k');
    const dataDir = join(disk.path, 'dns');
    const filler = join(disk.path, 'filler');
    // 11 of the 16 pages; the data dir's marker and lock take 2: the zone file and its next copy share the last 3.
    writeFileSync(filler, Buffer.alloc(44 * 1024, 1));
    // A secondary's NOTIFY port: every serial the primary told it of, acknowledged.
    const secondary = createSocket('udp4');
    const told: number[] = [];
    secondary.on('message', (raw, from) => {
      const m = decodeMessage(raw);
      told.push((m.answers[0]?.data as { serial: number }).serial);
      secondary.send(encodeMessage({ ...m, qr: true, answers: [], tsig: null }), from.port, from.address);
    });
    await new Promise<void>((r) => secondary.bind(0, '127.0.0.1', r));
    const start = () => startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', dataDir, '--admin', '127.0.0.1:0', '--tsig-key', `admin:hmac-sha256:${SECRET}`, '--notify', `127.0.0.1:${secondary.address().port}`]);
    const acknowledged: number[] = [];
    let refusedAt = -1;
    {
      await using dns = await start();
      for (let i = 0; i < 200 && refusedAt < 0; i++) {
        const answer = await addTxt(dns.port, i);
        if (answer.rcode === RCODE.NOERROR) acknowledged.push(i);
        else {
          expect(rcodeName(answer.rcode)).toBe('SERVFAIL');
          refusedAt = i;
        }
      }
      expect(refusedAt).toBeGreaterThan(3);
      // The refused record is not served; the acknowledged ones are; no secondary was told of a serial past the last acknowledged.
      expect(await txt(dns.port, refusedAt)).toBe('NXDOMAIN');
      const servedSerial = Number((await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA'])).answer[0]!.split(/\s+/)[6]);
      await expect.poll(() => told.at(-1)).toBe(servedSerial);
      expect(Math.max(...told)).toBe(servedSerial);
      expect(await txt(dns.port, acknowledged.at(-1)!)).toBe('NOERROR');
      // The same update again: still refused while the disk is full (it was not kept in memory meanwhile).
      expect(rcodeName((await addTxt(dns.port, refusedAt)).rcode)).toBe('SERVFAIL');
      const failing = await fetch(`${dns.adminUrl}/healthz`);
      expect(failing.status).toBe(503);
      expect(await failing.json()).toMatchObject({ ok: false, status: 'failing', problems: [expect.stringMatching(/^zone lab\.test cannot be saved \(ENOSPC\)/)] });
      // JSON logs are written in batches: the line is there within the second.
      await expect.poll(() => dns.logs()).toContain('"event":"zone-save-failed"');
      expect(JSON.parse(dns.logs().split('\n').find((l) => l.includes('"event":"zone-save-failed"'))!)).toMatchObject({ level: 50, zone: 'lab.test', error: 'ENOSPC' });
      expect(await (await fetch(`${dns.adminUrl}/metrics`)).text()).toMatch(/^kmslab_dns_zone_save_failures_total 2$/m);
      // The zone file and its journal hold the last acknowledged record, and the journal ends with a whole entry (the torn one cut back).
      const journal = readFileSync(join(dataDir, 'lab.test.journal'), 'utf8');
      const saved = readFileSync(join(dataDir, 'lab.test.zone'), 'utf8') + journal;
      expect(saved).toContain(`r${acknowledged.at(-1)}.lab.test`);
      expect(saved).not.toContain(`r${refusedAt}.lab.test`);
      expect(journal === '' || /;kmslab-end \d+\n$/.test(journal)).toBe(true);
      expect(readdirSync(dataDir).filter((f) => !f.startsWith('.kmslab') && f !== 'kmslab.lock').sort()).toEqual(['lab.test.journal', 'lab.test.zone']);

      rmSync(filler);
      expect((await fetch(`${dns.adminUrl}/healthz`)).status).toBe(200);
      expect(rcodeName((await addTxt(dns.port, refusedAt)).rcode)).toBe('NOERROR');
      acknowledged.push(refusedAt);
      dns.proc.kill('SIGKILL');
      await dns.exited;
    }
    // A temporary file a crash left behind does not stop the start.
    writeFileSync(join(dataDir, 'lab.test.zone.tmp'), '; torn\n_vlmcs 60 IN SRV 0 0 16');
    await using again = await start();
    for (const i of [acknowledged[0]!, acknowledged.at(-2)!, acknowledged.at(-1)!]) expect(await txt(again.port, i), `r${i}`).toBe('NOERROR');
    secondary.close();
  });

  test('--query-log on a full disk: lines lost are counted in /metrics, told once, /healthz degraded; the file keeps whole lines and goes on once there is room', async () => {
    await using disk = tinyDisk('64k');
    const file = join(disk.path, 'queries.jsonl');
    const filler = join(disk.path, 'filler');
    writeFileSync(filler, Buffer.alloc(40 * 1024, 1));
    // A torn last line a crash left: cut off at start.
    writeFileSync(file, '{"seq":1}\n{"seq":2,"ti');
    await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', join(disk.path, 'dns'), '--admin', '127.0.0.1:0', '--query-log', file]);
    expect(dns.logs()).toMatch(/"event":"query-log-file".*cut off 12 bytes of a last line/);
    const metric = async () => Number(/^kmslab_dns_query_log_lines_dropped_total (\d+)$/m.exec(await (await fetch(`${dns.adminUrl}/metrics`)).text())![1]);
    for (let i = 0; i < 300 && (await metric()) === 0; i++) await dig('dig', '127.0.0.1', dns.port, [`q${i}.lab.test`, 'A']);
    expect(await metric()).toBeGreaterThan(0);
    const degraded = await fetch(`${dns.adminUrl}/healthz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({ ok: true, status: 'degraded', problems: [expect.stringContaining(`the query log file ${file} cannot be written (ENOSPC)`)] });
    await expect.poll(() => dns.logs().split('\n').filter((l) => l.includes('cannot be written (ENOSPC)')).length).toBe(1);
    // DNS kept answering all along.
    expect((await dig('dig', '127.0.0.1', dns.port, ['lab.test', 'SOA'])).status).toBe('NOERROR');

    rmSync(filler);
    await dig('dig', '127.0.0.1', dns.port, ['after.lab.test', 'A']);
    await expect.poll(() => readFileSync(file, 'utf8')).toContain('"qname":"after.lab.test"');
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    for (const line of lines) expect(() => JSON.parse(line), line.slice(0, 80)).not.toThrow();
    await expect.poll(async () => (await (await fetch(`${dns.adminUrl}/healthz`)).json()) as { status: string }).toMatchObject({ status: 'ok' });
  });
});
