import { waitFor } from '@kmslab/core';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { dig, run } from './support/dns-tools.js';
import { runCli, startCliProcess } from './support/cli.js';
import { NamedServer } from './support/named.js';

describe('interop with BIND', () => {
  test('BIND as a secondary transfers the zone by TSIG-signed AXFR and answers the same SRV records', async () => {
    const secret = randomBytes(32).toString('base64');
    await using kmslab = await startCliProcess(['dns', 'start', '--data-dir', mkdtempSync(join(tmpdir(), 'kmslab-dns-')), '--tsig-key', `xfr:hmac-sha256:${secret}`]);
    const update = [`server 127.0.0.1 ${kmslab.port}`, 'zone lab.test', 'update add _vlmcs._tcp.lab.test 600 IN SRV 0 0 1688 kms1.lab.test.', 'update add _vlmcs._tcp.lab.test 600 IN SRV 10 5 1688 kms2.lab.test.', 'update add kms1.lab.test 600 IN A 127.0.0.11', 'send', ''].join('\n');
    expect((await run('nsupdate', ['-y', `hmac-sha256:xfr:${secret}`], update)).code).toBe(0);
    const expected = (await dig('dig', '127.0.0.1', kmslab.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.sort();

    await using bind = await NamedServer.start(
      `zone "lab.test" { type secondary; primaries port ${kmslab.port} { 127.0.0.1 key "xfr"; }; file "DIR/lab.test.db"; };`,
      `key "xfr" { algorithm hmac-sha256; secret "${secret}"; };`,
    );
    // BIND answers once its transfer from kmslab is in.
    const answer = await waitFor(async () => {
      const a = await dig('dig', '127.0.0.1', bind.port, ['_vlmcs._tcp.lab.test', 'SRV', '+norec']);
      return a.status === 'NOERROR' && a;
    }, { timeoutMs: 10_000, everyMs: 100, timedOut: () => new Error(`BIND never answered from the transferred zone:\n${bind.logs()}`) });
    expect(answer.flags).toContain('aa');
    expect(answer.answer.sort()).toEqual(expected);
    expect(answer.additional).toContain('kms1.lab.test. 600 IN A 127.0.0.11');
    expect(bind.logs()).toMatch(/transfer of 'lab\.test\/IN' from 127\.0\.0\.1#\d+: Transfer completed/);
  });

  test('kmslab reads the zone a BIND primary serves (dns records is an AXFR client)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-zone-'));
    writeFileSync(join(dir, 'lab.test.db'), '$TTL 300\n@ SOA ns hostmaster 1 3600 600 604800 300\n@ NS ns\nns A 127.0.0.1\n_vlmcs._tcp SRV 0 0 1688 kms1\nkms1 A 127.0.0.11\n');
    await using bind = await NamedServer.start(`zone "lab.test" { type primary; file "${join(dir, 'lab.test.db')}"; allow-transfer { 127.0.0.1; }; };`);
    const r = await runCli(['dns', 'records', '--dns', `127.0.0.1:${bind.port}`, '--zone', 'lab.test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const records = JSON.parse(r.stdout) as Array<{ name: string; type: string; data: string }>;
    expect(records.map((x) => x.type).sort()).toEqual(['A', 'A', 'NS', 'SOA', 'SRV']);
    expect(records.find((x) => x.type === 'SRV')).toMatchObject({ name: '_vlmcs._tcp.lab.test', data: '0 0 1688 kms1.lab.test.' });
  });

  test('kmslab dns records signs its AXFR for a BIND primary that allows a key only, and verifies every signed message of a large transfer (RFC 8945 §5.3.1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmslab-zone-'));
    const secret = Buffer.from('bind-axfr-tsig-test-secret-32-by').toString('base64');
    const hosts = Array.from({ length: 2000 }, (_, i) => `h${i} A 10.0.${i >> 8}.${i & 255}`).join('\n');
    writeFileSync(join(dir, 'lab.test.db'), `$TTL 300\n@ SOA ns hostmaster 1 3600 600 604800 300\n@ NS ns\nns A 127.0.0.1\n_vlmcs._tcp SRV 0 0 1688 kms1\nkms1 A 127.0.0.11\n${hosts}\n`);
    await using bind = await NamedServer.start(`key "xfr" { algorithm hmac-sha256; secret "${secret}"; };\nzone "lab.test" { type primary; file "${join(dir, 'lab.test.db')}"; allow-transfer { key xfr; }; };`);
    const r = await runCli(['dns', 'records', '--dns', `127.0.0.1:${bind.port}`, '--zone', 'lab.test', '--tsig-key', `xfr:hmac-sha256:${secret}`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(2005);
    const unsigned = await runCli(['dns', 'records', '--dns', `127.0.0.1:${bind.port}`, '--zone', 'lab.test']);
    expect(unsigned.stderr).toMatch(/refused the zone transfer of lab\.test \((REFUSED|NOTAUTH)\).*\(KMSLAB_DNS_REFUSED\)\n$/);
  });
});
