/**
 * pnpm bench:lab — the fleet model (kmslab lab fleet): 10,000, 100,000 and
 * 1,000,000 clients over 180 days, each in its own process (one core, as a
 * user runs it), for time and peak memory. The anchor for linearity is the
 * smallest fleet's cost per client scaled up, from the same run; the 100,000
 * figures are held against the targets (10 s, 1 GiB).
 *
 * Options: --sizes 10000,100000,1000000.
 */
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { KMSLAB_BIN } from '../test/support/cli.js';
import { isMain, printTable, stamp, writeResults, type Row } from './report.js';

interface FleetRun {
  clients: number;
  elapsedMs: number;
  peakRssMiB: number;
  contacts: number;
  passed: boolean;
}

function runFleet(clients: number): Promise<FleetRun> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [KMSLAB_BIN, 'lab', 'fleet', '--clients', String(clients), '--days', '180', '--json'], { encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err && !stdout) return reject(new Error(`kmslab lab fleet --clients ${clients} failed: ${stderr}`));
      const r = JSON.parse(stdout) as { passed: boolean; summary: { elapsedMs: number; peakRssMiB: number; contacts: number } };
      resolve({ clients, passed: r.passed, elapsedMs: r.summary.elapsedMs, peakRssMiB: r.summary.peakRssMiB, contacts: r.summary.contacts });
    });
  });
}

export async function benchLab(sizes = [10_000, 100_000, 1_000_000]): Promise<{ rows: Row[]; runs: FleetRun[] }> {
  console.error(`bench:lab — fleet model, 180 days, ${sizes.map((n) => n.toLocaleString('en-US')).join(' / ')} clients, Node ${process.version}`);
  const runs: FleetRun[] = [];
  for (const n of sizes) {
    const r = await runFleet(n);
    console.error(`  ${n.toLocaleString('en-US')} clients: ${(r.elapsedMs / 1000).toFixed(2)} s, ${r.contacts.toLocaleString('en-US')} contacts, peak RSS ${r.peakRssMiB} MiB, checks ${r.passed ? 'passed' : 'FAILED'}`);
    runs.push(r);
  }
  const base = runs[0]!;
  const rows: Row[] = runs.slice(1).map((r) => ({
    measure: `lab: fleet ${r.clients.toLocaleString('en-US')} clients × 180 d (s)`,
    kmslab: r.elapsedMs / 1000,
    anchor: (base.elapsedMs / base.clients) * r.clients / 1000,
    anchorName: `${base.clients.toLocaleString('en-US')} × ${r.clients / base.clients}`,
    ratio: r.elapsedMs / ((base.elapsedMs / base.clients) * r.clients),
    target: '≈ 1 (linear)',
  }));
  const hundred = runs.find((r) => r.clients === 100_000);
  if (hundred) {
    rows.push({ measure: 'lab: fleet 100,000 clients × 180 d (s)', kmslab: hundred.elapsedMs / 1000, anchor: 10, anchorName: 'issue target', ratio: hundred.elapsedMs / 10_000, target: '≤ 1.0 (< 10 s)' });
    rows.push({ measure: 'lab: fleet 100,000 clients, peak RSS (MiB)', kmslab: hundred.peakRssMiB, anchor: 1024, anchorName: 'issue target', ratio: hundred.peakRssMiB / 1024, target: '≤ 1.0 (< 1 GiB)' });
  }
  return { rows, runs };
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '10000,100000,1000000' } } });
  const { rows, runs } = await benchLab(values.sizes!.split(',').map(Number));
  printTable(rows);
  writeResults(`lab-${stamp()}`, { node: process.version, runs, rows });
}
