import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli, startCliHost, startCliProcess } from './support/cli.js';
import { dig } from './support/dns-tools.js';
import { tempDir } from './support/kms-host.js';

const SECRET = Buffer.from('secrets-test-tsig-secret-32-byte').toString('base64');
const TOKEN = 'admin-token-from-a-file-0123';

/** What `ps` shows every user of the machine: the process's command line. */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');

describe('secrets stay off the command line (ps shows it to every user)', () => {
  test('dns start --tsig-key-file and --admin-token-file, host start with KMSLAB_TSIG_KEY and KMSLAB_ADMIN_TOKEN_FILE: the host publishes, the tokens work, and no secret is in either command line', async () => {
    await using dir = tempDir();
    const keys = join(dir.path, 'keys');
    writeFileSync(keys, `# the lab's hosts\nkms1:hmac-sha256:${SECRET}:host=kms1.lab.test\n\n`, { mode: 0o600 });
    const token = join(dir.path, 'token');
    writeFileSync(token, `${TOKEN}\n`, { mode: 0o600 });
    await using dns = await startCliProcess(['dns', 'start', '--zone', 'lab.test', '--data-dir', join(dir.path, 'dns'), '--tsig-key-file', keys, '--admin', '127.0.0.1:0', '--admin-token-file', token]);
    process.env.KMSLAB_TSIG_KEY = `kms1:hmac-sha256:${SECRET}`;
    process.env.KMSLAB_ADMIN_TOKEN_FILE = token;
    let host;
    try {
      host = await startCliHost(['--data-dir', join(dir.path, 'host'), '--publish', '--dns', `127.0.0.1:${dns.port}`, '--fqdn', 'kms1.lab.test', '--advertise-address', '127.0.0.1']);
    } finally {
      delete process.env.KMSLAB_TSIG_KEY;
      delete process.env.KMSLAB_ADMIN_TOKEN_FILE;
    }
    await using _host = host;
    await expect.poll(async () => (await dig('dig', '127.0.0.1', dns.port, ['_vlmcs._tcp.lab.test', 'SRV'])).answer.length).toBe(1);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${dns.adminUrl}/healthz`)).status).toBe(401);
    expect((await fetch(`${dns.adminUrl}/healthz`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${host.adminUrl}/healthz`, { headers: auth })).status).toBe(200);
    for (const pid of [dns.proc.pid!, host.proc.pid!]) {
      expect(commandLine(pid)).not.toContain(SECRET);
      expect(commandLine(pid)).not.toContain(TOKEN);
    }
    // Client commands read the token file too.
    expect((await runCli(['dns', 'queries', '--admin', dns.adminUrl, '--admin-token-file', token, '--limit', '1'])).code).toBe(0);
  });

  test('both --admin-token and --admin-token-file, an empty or missing file: one line each, nothing starts', async () => {
    await using dir = tempDir();
    const empty = join(dir.path, 'empty');
    writeFileSync(empty, '\n');
    const cases: Array<[string[], RegExp]> = [
      [['--admin-token', TOKEN, '--admin-token-file', empty], /Give the admin token once: --admin-token or --admin-token-file, not both/],
      [['--admin-token-file', empty], /The admin token file .*empty must hold the admin token alone, on one line/],
      [['--admin-token-file', join(dir.path, 'missing')], /Cannot read the admin token file .*missing: ENOENT/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['host', 'start', '--port', '0', '--listen', '127.0.0.1', '--admin', '127.0.0.1:0', '--data-dir', join(dir.path, 'data'), ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^kmslab: .* \(KMSLAB_INVALID_ARGUMENT\)\n$/);
      expect(r.stderr).toMatch(message);
    }
  });
});
