import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CATALOG_LIMITS, Catalog } from '@kmslab/core';
import { CLASS, TYPE, parseTsigKey, updateZone } from '@kmslab/dns-wire';
import { runCli, startCliHost, startCliProcess } from './support/cli.js';
import { tinyDisk } from './support/tiny-disk.js';
import { dig } from './support/dns-tools.js';
import { startDns } from './support/dns-server.js';
import { TestClient, tempDir } from './support/kms-host.js';

/** One line, kmslab's own form, exit 1: what a user error looks like (no stack trace). */
function expectOneLineError(r: { code: number; stderr: string }, code: string, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^kmslab: .*\\(${code}\\)\\n$`));
  expect(r.stderr).toMatch(pattern);
}

const product = (i: number, family = 'windows') => ({ id: `p-${i}`, name: `P ${i}`, family, kind: 'client', keyGroup: 'windows-10' });

describe('files users name on the command line (docs/errors.md "File limits")', () => {
  test('a file given by mistake (a shadow-like file as --zone-file, --catalog, --config) is named with its line, never quoted', async () => {
    await using dir = tempDir();
    const secret = join(dir.path, 'shadow');
    writeFileSync(secret, 'root:$6$S3CR3T-HASH-VALUE:19000:0:99999:7:::\nkms:$6$ANOTHER-S3CR3T:19000:0:99999:7:::\n');
    for (const args of [
      ['dns', 'start', '--port', '0', '--listen', '127.0.0.1', '--zone-file', secret],
      ['products', '--catalog', secret],
      ['dns', 'start', '--port', '0', '--listen', '127.0.0.1', '--config', secret],
    ]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(secret);
      expect(r.stderr).not.toMatch(/S3CR3T|root:|\$6\$/);
    }
    const zone = await runCli(['dns', 'start', '--port', '0', '--listen', '127.0.0.1', '--zone-file', secret]);
    expectOneLineError(zone, 'KMSLAB_INVALID_ARGUMENT', /shadow line 1:/);
  });

  test(`a catalog past its limits (${CATALOG_LIMITS.products} products, 4 MiB) or with a family the wire cannot carry is refused at load`, async () => {
    await using dir = tempDir();
    const many = join(dir.path, 'many.json');
    writeFileSync(many, JSON.stringify({ products: Array.from({ length: CATALOG_LIMITS.products + 1 }, (_, i) => product(i)) }));
    expectOneLineError(await runCli(['products', '--catalog', many]), 'KMSLAB_INVALID_CATALOG', new RegExp(`built-in catalog \\+ .*many\\.json: ${Catalog.load().products().length + CATALOG_LIMITS.products + 1} products; a catalog holds at most 10000`));

    const huge = join(dir.path, 'huge.json');
    writeFileSync(huge, JSON.stringify({ products: Array.from({ length: 300_000 }, (_, i) => product(i)) }));
    expectOneLineError(await runCli(['products', '--catalog', huge]), 'KMSLAB_INVALID_CATALOG', /huge\.json is \d+ bytes; the limit is 4194304/);

    const long = join(dir.path, 'long.json');
    writeFileSync(long, JSON.stringify({ products: [product(1, `f${'x'.repeat(300)}`)] }));
    expectOneLineError(await runCli(['host', 'start', '--port', '0', '--admin', 'off', '--catalog', long]), 'KMSLAB_INVALID_CATALOG', /products\[0\]\.family: is 301 bytes; the protocol carries at most 255/);

    // Just under the limits still loads, and the table prints without overflowing the stack.
    const fine = join(dir.path, 'fine.json');
    writeFileSync(fine, JSON.stringify({ products: Array.from({ length: CATALOG_LIMITS.products - 100 }, (_, i) => product(i)) }));
    const r = await runCli(['products', '--catalog', fine]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('p-9899');
  });

  test('a YAML alias bomb (billion laughs) in a scenario file is a one-line error, not a crash', async () => {
    await using dir = tempDir();
    const bomb = join(dir.path, 'bomb.yaml');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    writeFileSync(bomb, `name: bomb\n${levels.join('\n')}\n`);
    expectOneLineError(await runCli(['lab', 'run', bomb]), 'KMSLAB_INVALID_ARGUMENT', /bomb\.yaml: aliases expand past the limit of 100/);
  });

  test('a catalog that is not JSON names the file and line only', async () => {
    await using dir = tempDir();
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, '{\n  "products": [\n    { "id": "x", PRIVATE-TOKEN }\n  ]\n}\n');
    const r = await runCli(['products', '--catalog', bad]);
    expectOneLineError(r, 'KMSLAB_INVALID_CATALOG', /bad\.json line 3: not valid JSON/);
    expect(r.stderr).not.toContain('PRIVATE');
  });

  test('client activate with a state dir that cannot be written (a read-only mount, even for root) fails first and counts nothing', async () => {
    await using disk = tinyDisk('64k', { readOnly: true });
    await using dir = tempDir();
    await using host = await startCliHost(['--data-dir', join(dir.path, 'host')]);
    await using dns = await startDns(
      `$ORIGIN lab.test.\n@ 60 IN SOA ns h 1 60 60 60 60\n@ 60 IN NS ns\nns 60 IN A 127.0.0.1\n_vlmcs._tcp 60 IN SRV 0 0 ${host.port} kms1\nkms1 60 IN A 127.0.0.1\n`,
    );
    // Discovery works: a writable state dir is counted (the check below is not vacuous).
    const ok = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--state-dir', join(dir.path, 'client'), '--json']);
    expect(JSON.parse(ok.stdout)).toMatchObject({ count: 1, discoveredBy: 'dns' });
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['client', 'activate', '--product', 'windows-10-pro', '--dns', `127.0.0.1:${dns.port}`, '--domain', 'lab.test', '--state-dir', join(disk.path, 'client')]);
      expectOneLineError(r, 'KMSLAB_INVALID_ARGUMENT', /client state folder .* cannot be written \(E[A-Z]+\)/);
    }
    const status = (await (await fetch(`${host.adminUrl}/status`)).json()) as { families: Record<string, { currentCount: number; totalRequests: number }> };
    expect(status.families.windows).toMatchObject({ currentCount: 1, totalRequests: 1 });
  });
});

describe('links planted in a data dir (another user, or a mistake)', () => {
  test('snapshot.json.tmp and lab.test.zone.tmp pointing at a file: kmslab replaces the link, never writes through it', async () => {
    await using dir = tempDir();
    const victim = join(dir.path, 'bashrc');
    writeFileSync(victim, 'export PS1=victim\n');
    const hostDir = join(dir.path, 'host');
    const dnsDir = join(dir.path, 'dns');
    mkdirSync(hostDir);
    mkdirSync(dnsDir);
    symlinkSync(victim, join(hostDir, 'snapshot.json.tmp'));
    symlinkSync(victim, join(dnsDir, 'lab.test.zone.tmp'));
    const secret = Buffer.from('planted-links-test-secret-32-byt').toString('base64');
    {
      await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', dnsDir, '--tsig-key', `kms1:hmac-sha256:${secret}`]);
      // A host that publishes: the DNS server saves the zone after the update.
      await using host = await startCliHost(['--data-dir', hostDir, '--publish', '--dns', `127.0.0.1:${dns.port}`, '--tsig-key', `kms1:hmac-sha256:${secret}`, '--fqdn', 'kms1.lab.test', '--advertise-address', '127.0.0.1']);
      await using c = await TestClient.connect(host.port);
      await c.activate('windows-10-enterprise');
      await expect.poll(() => existsSync(join(dnsDir, 'lab.test.zone'))).toBe(true);
      // A clean stop compacts the journal into snapshot.json.
      await host.stop();
    }
    expect(readFileSync(victim, 'utf8')).toBe('export PS1=victim\n');
    expect(JSON.parse(readFileSync(join(hostDir, 'snapshot.json'), 'utf8'))).toMatchObject({ seq: 1 });
    expect(readFileSync(join(dnsDir, 'lab.test.zone'), 'utf8')).toContain('kms1.lab.test');
  });

  test('lab.test.journal pointing at a file: ignored at start with a warning, replaced by the first save, the file it points at neither read into the zone nor written', async () => {
    await using dir = tempDir();
    const victim = join(dir.path, 'bashrc');
    writeFileSync(victim, ';kmslab-entry 1 1 2\nexport PS1=victim\n');
    const dnsDir = join(dir.path, 'dns');
    mkdirSync(dnsDir);
    const secret = Buffer.from('planted-links-test-secret-32-byt').toString('base64');
    const key = parseTsigKey(`kms1:hmac-sha256:${secret}`);
    const add = (port: number, name: string) => updateZone({ host: '127.0.0.1', port }, 'lab.test', [{ name, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '127.0.0.1' } }], key, Date.now());
    const start = () => startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', dnsDir, '--tsig-key', `kms1:hmac-sha256:${secret}`]);
    {
      await using dns = await start();
      await add(dns.port, 'kms1.lab.test');
      await dns.stop();
    }
    symlinkSync(victim, join(dnsDir, 'lab.test.journal.planted'));
    rmSync(join(dnsDir, 'lab.test.journal'));
    renameSync(join(dnsDir, 'lab.test.journal.planted'), join(dnsDir, 'lab.test.journal'));
    await using again = await start();
    await expect.poll(() => again.logs()).toMatch(/lab\.test\.journal is not a regular file: ignored, and replaced by the next save of lab\.test/);
    expect((await dig('dig', '127.0.0.1', again.port, ['kms1.lab.test', 'A'])).status).toBe('NOERROR');
    await add(again.port, 'kms2.lab.test');
    await add(again.port, 'kms3.lab.test');
    expect(lstatSync(join(dnsDir, 'lab.test.journal')).isFile()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe(';kmslab-entry 1 1 2\nexport PS1=victim\n');
  });

  test("the host's journal.ndjson pointing at a file: ignored with a warning and replaced, the file neither truncated, read into the counts nor written; snapshot.json as a link, or a folder at journal.ndjson, refuses to start in one line", async () => {
    await using dir = tempDir();
    const victim = join(dir.path, 'bashrc');
    // No newline at the end: a journal's torn last line would be cut off, and the file it points at with it.
    const text = '{"q":1,"t":"r","f":"windows","c":"x","n":1,"th":25,"s":"x"}\nexport PS1=victim';
    writeFileSync(victim, text);
    const hostDir = join(dir.path, 'host');
    mkdirSync(hostDir);
    symlinkSync(victim, join(hostDir, 'journal.ndjson'));
    const familyCounts = async (adminUrl: string) => ((await (await fetch(`${adminUrl}/status`)).json()) as { families: Record<string, { totalRequests: number }> }).families.windows?.totalRequests ?? 0;
    {
      await using host = await startCliHost(['--data-dir', hostDir]);
      await expect.poll(() => host.logs()).toMatch(/journal\.ndjson is not a regular file: ignored, and replaced by a new journal/);
      expect(await familyCounts(host.adminUrl)).toBe(0);
      await using c = await TestClient.connect(host.port);
      await c.activate('windows-10-enterprise');
      // Killed: only the journal keeps the activation.
      host.proc.kill('SIGKILL');
      await host.exited;
    }
    expect(readFileSync(victim, 'utf8')).toBe(text);
    expect(lstatSync(join(hostDir, 'journal.ndjson')).isFile()).toBe(true);
    {
      await using host = await startCliHost(['--data-dir', hostDir]);
      expect(await familyCounts(host.adminUrl)).toBe(1);
    }
    rmSync(join(hostDir, 'snapshot.json'), { force: true });
    symlinkSync(victim, join(hostDir, 'snapshot.json'));
    expectOneLineError(await runCli(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', 'off', '--data-dir', hostDir]), 'KMSLAB_STORE_CORRUPT', /snapshot\.json is not a regular file; move it away to start empty/);
    expect(readFileSync(victim, 'utf8')).toBe(text);
    // A folder at the journal's name cannot be replaced by unlinking it: one line, before anything listens.
    rmSync(join(hostDir, 'snapshot.json'));
    rmSync(join(hostDir, 'journal.ndjson'));
    mkdirSync(join(hostDir, 'journal.ndjson'));
    expectOneLineError(await runCli(['host', 'start', '--listen', '127.0.0.1', '--port', '0', '--admin', 'off', '--data-dir', hostDir]), 'KMSLAB_STORE_CORRUPT', /journal\.ndjson is a folder, not a journal; move it away/);
  });
});
