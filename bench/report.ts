import { mkdirSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Row {
  measure: string;
  kmslab: number;
  anchor: number;
  anchorName: string;
  ratio: number;
  target: string;
}

const num = (x: number) => (Number.isNaN(x) ? '—' : x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

/** One table: measure, kmslab figure, anchor from the same run, ratio, target. */
export function printTable(rows: Row[]): void {
  const cells = [['measure', 'kmslab', 'anchor', 'ratio', 'target'], ...rows.map((r) => [r.measure, num(r.kmslab), `${num(r.anchor)} (${r.anchorName})`, num(r.ratio), r.target])];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  for (const c of cells) console.log(c.map((x, i) => x.padEnd(widths[i]!)).join('  '));
}

/** True when this module is the script node was started with (a bench run on its own), not imported by `pnpm bench`. */
export function isMain(moduleUrl: string): boolean {
  return Boolean(process.argv[1]) && moduleUrl === pathToFileURL(process.argv[1]!).href;
}

/** Writes bench/results/<name>.json (gitignored) and says where. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/${name}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  console.error(`results: ${file.pathname}`);
  return file.pathname;
}

/** A time stamp for result file names. */
export const stamp = () => new Date().toISOString().slice(0, 19).replace(/:/g, '');

/** The middle value (the upper one of an even count): what every bench reports of repeated runs. */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
