/**
 * pnpm bench — every benchmark (host, DNS, lab fleet) in one run, then one
 * table: measure, kmslab figure, anchor figure from the same run, ratio, and
 * the target the issues set. Writes bench/results/<date>.json.
 *
 * Options: --seconds N (host measures, default 8; DNS gets N + 2).
 */
import { parseArgs } from 'node:util';
import { benchDns } from './dns.bench.js';
import { benchHost } from './host.bench.js';
import { benchLab } from './lab.bench.js';
import { printTable, writeResults } from './report.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
const started = Date.now();
const host = await benchHost({ seconds, connections: 50 });
const dns = await benchDns({ seconds: seconds + 2, clients: 4, outstanding: 200, rounds: 7 });
const lab = await benchLab();
const rows = [...host.rows, ...dns.rows, ...lab.rows];
console.log('');
printTable(rows);
writeResults(new Date().toISOString().slice(0, 10), { node: process.version, date: new Date().toISOString(), minutes: +((Date.now() - started) / 60_000).toFixed(1), rows, host: host.details, dns: dns.results, lab: lab.runs });
