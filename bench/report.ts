export interface Row {
  measure: string;
  kmslab: number;
  anchor: number;
  anchorName: string;
  ratio: number;
  target: string;
}

const num = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

/** One table: measure, kmslab figure, anchor from the same run, ratio, target. */
export function printTable(rows: Row[]): void {
  const cells = [['measure', 'kmslab', 'anchor', 'ratio', 'target'], ...rows.map((r) => [r.measure, num(r.kmslab), `${num(r.anchor)} (${r.anchorName})`, r.ratio.toFixed(2), r.target])];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  for (const c of cells) console.log(c.map((x, i) => x.padEnd(widths[i]!)).join('  '));
}
