import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { waitFor } from '@kmslab/core';
import { freePort } from '@kmslab/lab/live';
import { runCli, startCliProcess } from './support/cli.js';
import { dig, run } from './support/dns-tools.js';
import { startKnotSecondary, startNsdSecondary } from './support/dns-peers.js';
import { eventually, publishingHost } from './support/host-events.js';
import { NamedServer } from './support/named.js';

/**
 * kmslab's DNS as the primary that real secondaries follow (RFC 1996 NOTIFY,
 * RFC 1995 IXFR, RFC 5936 AXFR): BIND, Knot and NSD on loopback, each
 * told of every change and transferring without a key from 127.0.0.0/8
 * (`--allow-transfer`). Each waits on what it asserts: a secondary's own
 * answer (dig), its own log line.
 */
const RECORDS = 10_000;
const secret = randomBytes(32).toString('base64');

/** lab.test with 10,000 address records beside the SOA and NS. */
function bigZone(dir: string): string {
  const file = join(dir, 'lab.test.zone');
  const lines = ['$ORIGIN lab.test.', '$TTL 3600', '@ IN SOA ns hostmaster 1 3600 600 604800 300', '@ IN NS ns', 'ns IN A 127.0.0.1'];
  for (let i = 0; i < RECORDS; i++) lines.push(`h${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** The answer section of a secondary for a name, as dig prints it, once it holds `want`. */
function answers(port: number, name: string, type: string, want: (lines: string[]) => boolean, what: string): Promise<string[]> {
  return waitFor(async () => {
    const a = (await dig('dig', '127.0.0.1', port, [name, type])).answer;
    return want(a) ? a : undefined;
  }, { timeoutMs: 20_000, everyMs: 100, timedOut: () => new Error(`the secondary on ${port} never ${what}`) });
}

/** Waits until a secondary's log holds what `read` looks for. */
const inLog = <T>(read: () => T | undefined | false, what: string) => waitFor(read, { timeoutMs: 10_000, everyMs: 50, timedOut: () => new Error(`no ${what} in the secondary's log`) });

/** Bytes of each completed transfer, in order, from a secondary's log. */
const transferBytes = {
  bind: (log: string) => [...log.matchAll(/Transfer completed: \d+ messages, \d+ records, (\d+) bytes/g)].map((m) => Number(m[1])),
  knot: (log: string) => [...log.matchAll(/(AXFR|IXFR), incoming, remote [^,]+, finished, [^,]+, \d+ messages, (\d+) bytes/g)].map((m) => ({ style: m[1], bytes: Number(m[2]) })),
  nsd: (log: string) => [...log.matchAll(/received update to serial \d+ .* of (\d+) bytes/g)].map((m) => Number(m[1])),
};

describe('secondaries follow a kmslab primary: BIND, Knot, NSD', () => {
  test('a host that publishes itself on the primary is answered by every secondary; one change in 10,000 records goes as IXFR; a secondary restarted after three changes catches up by IXFR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-primary-'));
    const [bindPort, knotPort, nsdPort] = [await freePort(), await freePort(), await freePort()];
    await using primary = await startCliProcess([
      'dns', 'start', '--listen', '127.0.0.1', '--port', '0', '--zone-file', bigZone(dir), '--data-dir', join(dir, 'data'),
      '--tsig-key', `kms1:hmac-sha256:${secret}:host=kms1.lab.test`, '--tsig-key', `admin:hmac-sha256:${secret}`,
      '--allow-transfer', '127.0.0.0/8', ...[bindPort, knotPort, nsdPort].flatMap((p) => ['--notify', `127.0.0.1:${p}`]),
    ]);
    const at = { host: '127.0.0.1', port: primary.port };
    await using bind = await NamedServer.start('zone "lab.test" { type secondary; primaries port PRIMARY { 127.0.0.1; }; file "DIR/lab.test.bind"; allow-notify { 127.0.0.1; }; };'.replace('PRIMARY', String(primary.port)), '', { port: bindPort });
    let knot = await startKnotSecondary('lab.test', at, { port: knotPort });
    await using nsd = await startNsdSecondary('lab.test', at, { port: nsdPort });
    try {
      // The first transfer is the whole zone.
      for (const port of [bindPort, knotPort, nsdPort]) await answers(port, `h${RECORDS - 1}.lab.test`, 'A', (a) => a.length === 1, 'transferred the zone');

      // A KMS host publishes itself on the primary: NOTIFY, then each secondary asks for the change.
      await using kms1 = await publishingHost(primary.port, `kms1:hmac-sha256:${secret}`, 'kms1.lab.test');
      await eventually(kms1.adminUrl, '12294', (e) => e.id === 12294);
      for (const port of [bindPort, knotPort, nsdPort]) {
        const srv = await answers(port, '_vlmcs._tcp.lab.test', 'SRV', (a) => a.length === 1, 'answered the published host');
        expect(srv[0]).toMatch(new RegExp(`SRV 0 0 ${kms1.port} kms1\\.lab\\.test\\.$`));
      }
      // In each secondary's own log: the change came as IXFR, a few hundred bytes where the zone took hundreds of KiB.
      const b = await inLog(() => transferBytes.bind(bind.logs()).length >= 2 && transferBytes.bind(bind.logs()), 'second transfer (BIND)');
      const k = await inLog(() => transferBytes.knot(knot.logs()).length >= 2 && transferBytes.knot(knot.logs()), 'second transfer (Knot)');
      const n = await inLog(() => transferBytes.nsd(nsd.logs()).length >= 2 && transferBytes.nsd(nsd.logs()), 'second transfer (NSD)');
      // The host's SRV and its address are two updates: one IXFR or two, each far below the zone.
      expect(k[0]!.style).toBe('AXFR');
      expect(k.slice(1).every((x) => x.style === 'IXFR')).toBe(true);
      for (const [axfr, ixfr] of [[b[0]!, b.at(-1)!], [k[0]!.bytes, k.at(-1)!.bytes], [n[0]!, n.at(-1)!]] as const) {
        expect(axfr).toBeGreaterThan(100_000);
        expect(ixfr).toBeLessThan(axfr / 100);
      }
      // The primary's own log line for each (its output may reach us after the secondaries' own).
      const ixfrs = () => primary.logs().split('\n').filter((l) => l.includes('"event":"transfer"')).map((l) => JSON.parse(l) as { sent: string }).filter((t) => t.sent === 'IXFR');
      await inLog(() => ixfrs().length >= 3 && ixfrs(), "primary's IXFR log lines");

      // Knot goes down; three changes; back on the same port and folder, it catches up by IXFR, three serials at once.
      // Knot holds the primary's serial first (the host's address update may still be on its way), so what it misses is the three below.
      const serial = (port: number) => dig('dig', '127.0.0.1', port, ['lab.test', 'SOA']).then((d) => Number(d.answer[0]?.split(' ')[6]));
      await answers(primary.port, 'kms1.lab.test', 'A', (a) => a.length === 1, "(the primary) held the host's address");
      const current = await serial(primary.port);
      await waitFor(async () => (await serial(knotPort)) === current, { timeoutMs: 10_000, everyMs: 50, timedOut: () => new Error(`Knot never reached the primary's serial ${current}`) });
      await knot.stop();
      for (let i = 1; i <= 3; i++) {
        const r = await run('nsupdate', ['-y', `hmac-sha256:admin:${secret}`], `server 127.0.0.1 ${primary.port}\nupdate add change${i}.lab.test 600 IN TXT "change ${i}"\nsend\n`);
        expect(r.code, r.stderr).toBe(0);
      }
      knot = await startKnotSecondary('lab.test', at, { port: knotPort, dir: knot.dir });
      await answers(knotPort, 'change3.lab.test', 'TXT', (a) => a.length === 1, 'caught up with the third change');
      const caughtUp = await inLog(() => /IXFR, incoming, remote [^,]+, finished/.test(knot.logs()) && (/serial (\d+) -> (\d+)/.exec(knot.logs()) ?? undefined), 'IXFR after the restart (Knot)');
      expect(Number(caughtUp[2]) - Number(caughtUp[1])).toBe(3);
    } finally {
      await knot[Symbol.asyncDispose]();
    }
  });
});

describe('kmslab dns start --secondary: following a BIND primary', () => {
  test('transfers at start, follows each change (NOTIFY, SOA refresh), refuses updates, runs faults on top; SERVFAIL once the SOA expire passes without the primary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-follow-'));
    const kmslabPort = await freePort();
    // Short SOA timers (refresh 1 s, retry 1 s, expire 4 s) so the expire is seen in a test; allow-update for the admin key.
    writeFileSync(join(dir, 'lab.test.db'), ['$TTL 60', '@ SOA ns hostmaster 1 1 1 4 60', '@ NS ns', 'ns A 127.0.0.1', '_vlmcs._tcp SRV 0 0 1688 kms1', 'kms1 A 127.0.0.1', ''].join('\n'));
    const bind = await NamedServer.start(
      `zone "lab.test" { type primary; file "${join(dir, 'lab.test.db')}"; allow-update { key "admin"; }; allow-transfer { key "xfr"; }; notify explicit; also-notify port ${kmslabPort} { 127.0.0.1; }; };`,
      `key "admin" { algorithm hmac-sha256; secret "${secret}"; };\nkey "xfr" { algorithm hmac-sha256; secret "${secret}"; };`,
    );
    try {
      await using follower = await startCliProcess([
        'dns', 'start', '--listen', '127.0.0.1', '--port', String(kmslabPort), '--data-dir', join(dir, 'data'), '--admin', '127.0.0.1:0',
        '--tsig-key', `xfr:hmac-sha256:${secret}:transfer`, '--secondary', `lab.test@127.0.0.1:${bind.port}`, '--secondary-key', 'xfr',
      ]);
      expect((await dig('dig', '127.0.0.1', kmslabPort, ['_vlmcs._tcp.lab.test', 'SRV'])).answer).toEqual([expect.stringMatching(/SRV 0 0 1688 kms1\.lab\.test\.$/)]);
      // A change on BIND: its NOTIFY brings it here.
      const add = await run('nsupdate', ['-y', `hmac-sha256:admin:${secret}`], `server 127.0.0.1 ${bind.port}\nupdate add _vlmcs._tcp.lab.test 60 IN SRV 10 0 1688 kms2.lab.test.\nsend\n`);
      expect(add.code, add.stderr).toBe(0);
      await answers(kmslabPort, '_vlmcs._tcp.lab.test', 'SRV', (a) => a.length === 2, 'followed the change');
      // Whichever came first: BIND's NOTIFY or the 1-second SOA refresh (NOTIFY's own rules: transfer.test.ts).
      await inLog(() => /"event":"secondary-transferred".*"reason":"(notify|timer)"/.test(follower.logs()), "follower's transfer log line");
      // By IXFR: BIND keeps a journal of its dynamic updates, so only the added record came (RFC 1995).
      expect(follower.logs()).toMatch(/"event":"secondary-transferred".*"how":"IXFR".*"records":1[,}]/);
      expect(follower.logs()).toMatch(/"event":"secondary-transferred".*"reason":"start","how":"AXFR"/);
      await inLog(() => /zone lab\.test\/IN: sending notifies/.test(bind.logs()), "BIND's notify log line");
      const zones = (await (await fetch(`${follower.adminUrl}/zones`)).json()) as Array<{ origin: string; secondary?: { primary: string; expired: boolean } }>;
      expect(zones[0]).toMatchObject({ origin: 'lab.test', secondary: { primary: `127.0.0.1:${bind.port}`, expired: false } });
      // Updates go to the primary, not to a copy of its zone.
      const refused = await run('nsupdate', ['-y', `hmac-sha256:xfr:${secret}`], `server 127.0.0.1 ${kmslabPort}\nupdate add x.lab.test 60 IN A 127.0.0.9\nsend\n`);
      expect(refused.stdout + refused.stderr).toMatch(/update failed: REFUSED/);
      // The harness on top of the mirrored zone.
      const fault = await runCli(['dns', 'fault', 'add', '--admin', follower.adminUrl, '--name', '_vlmcs._tcp.lab.test', '--type', 'SRV', '--action', 'servfail']);
      expect(fault.code, fault.stderr).toBe(0);
      expect((await dig('dig', '127.0.0.1', kmslabPort, ['_vlmcs._tcp.lab.test', 'SRV'])).status).toBe('SERVFAIL');
      await runCli(['dns', 'fault', 'clear', '--admin', follower.adminUrl]);
      // The primary goes away: past the SOA expire (4 s) the zone is SERVFAIL (RFC 1035 §3.3.13).
      await bind.stop();
      await answers(kmslabPort, 'kms1.lab.test', 'A', (a) => a.length === 0, 'expired the zone');
      expect((await dig('dig', '127.0.0.1', kmslabPort, ['kms1.lab.test', 'A'])).status).toBe('SERVFAIL');
      await inLog(() => /"event":"secondary-expired"/.test(follower.logs()), "follower's expiry log line");
    } finally {
      await bind[Symbol.asyncDispose]();
    }
  });
});
