/**
 * pnpm bench:cli — how fast the kmslab command starts, against `node -e 0`
 * in the same hyperfine run (--help, products --json, activate against a
 * running host), and how long `kmslab up` takes to its first SRV answer
 * against BIND's own start to its first answer, both measured here and now.
 * Targets (issue "Ship it"): the three commands within 2.5x node -e 0 (aim
 * 1.5x), `up` within 5x BIND.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TYPE, query } from '@kmslab/dns-wire';
import { freePort } from '@kmslab/lab/live';
import { KMSLAB_BIN, startCliHost } from '../test/support/cli.js';
import { NamedServer } from '../test/support/named.js';
import { requireTool } from '../test/support/dns-tools.js';
import { median, printTable, stamp, writeResults, type Row } from './report.js';

requireTool('hyperfine');
const dir = mkdtempSync(join(tmpdir(), 'kmslab-bench-cli-'));

async function startup(): Promise<Array<{ command: string; mean: number }>> {
  await using host = await startCliHost(['--data-dir', join(dir, 'host')]);
  const kmslab = `${process.execPath} ${KMSLAB_BIN}`;
  const commands = ['node -e 0', `${kmslab} --help`, `${kmslab} products --json`, `${kmslab} activate --host 127.0.0.1:${host.port} --product windows-10-pro --json`];
  const out = join(dir, 'hyperfine.json');
  // -i: activate exits 2 (not licensed yet), which is its answer, not a failure.
  const r = spawnSync('hyperfine', ['-N', '-i', '--warmup', '3', '--runs', '20', '--export-json', out, ...commands], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hyperfine failed:\n${r.stderr}`);
  return (JSON.parse(readFileSync(out, 'utf8')) as { results: Array<{ command: string; mean: number }> }).results;
}

/** From spawning `kmslab up` to the first answer for _vlmcs._tcp.lab.test SRV holding the host. */
async function upToFirstAnswer(): Promise<number> {
  const port = await freePort();
  const t = performance.now();
  const p = spawn(process.execPath, [KMSLAB_BIN, 'up', '--dns-port', String(port), '--port', '0', '--admin', '127.0.0.1:0', '--dns-admin', '127.0.0.1:0', '--data-dir', mkdtempSync(join(dir, 'up-')), '--listen', '127.0.0.1'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 2000; i++) {
      const answered = await query({ host: '127.0.0.1', port, timeoutMs: 50 }, '_vlmcs._tcp.lab.test', TYPE.SRV).then((r) => r.answer.answers.length > 0, () => false);
      if (answered) return performance.now() - t;
      await new Promise((res) => setTimeout(res, 5));
    }
    throw new Error('kmslab up gave no SRV answer within the bound');
  } finally {
    p.kill();
  }
}

/** From spawning named to its first answer for the same SRV name. */
async function bindToFirstAnswer(): Promise<number> {
  const zone = join(dir, 'lab.test.db');
  writeFileSync(zone, '$ORIGIN lab.test.\n$TTL 60\n@ IN SOA ns h 1 60 60 60 60\n@ IN NS ns\nns IN A 127.0.0.1\n_vlmcs._tcp IN SRV 0 0 1688 kms1\nkms1 IN A 127.0.0.1\n');
  const t = performance.now();
  await using named = await NamedServer.start(`zone "lab.test" { type primary; file "${zone}"; };`);
  for (let i = 0; i < 2000; i++) {
    const answered = await query({ host: '127.0.0.1', port: named.port, timeoutMs: 50 }, '_vlmcs._tcp.lab.test', TYPE.SRV).then((r) => r.answer.answers.length > 0, () => false);
    if (answered) return performance.now() - t;
    await new Promise((res) => setTimeout(res, 5));
  }
  throw new Error('named gave no SRV answer within the bound');
}

console.error(`bench:cli — Node ${process.version}`);
const starts = await startup();
const ups: number[] = [];
const binds: number[] = [];
for (let i = 0; i < 5; i++) {
  ups.push(await upToFirstAnswer());
  binds.push(await bindToFirstAnswer());
}
const node = starts[0]!.mean;
const rows: Row[] = [
  ...starts.slice(1).map((s) => ({ measure: `cli: ${s.command.replace(`${process.execPath} ${KMSLAB_BIN}`, 'kmslab').replace(/127\.0\.0\.1:\d+/, 'HOST')} (ms)`, kmslab: s.mean * 1000, anchor: node * 1000, anchorName: 'node -e 0', ratio: s.mean / node, target: '≤ 2.5 (aim 1.5)' })),
  { measure: 'cli: kmslab up to its first SRV answer (ms, median of 5)', kmslab: median(ups), anchor: median(binds), anchorName: 'BIND start to first answer', ratio: median(ups) / median(binds), target: '≤ 5' },
];
printTable(rows);
writeResults(`cli-${stamp()}`, { node: process.version, starts, ups, binds, rows });
rmSync(dir, { recursive: true, force: true });
