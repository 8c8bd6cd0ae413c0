export interface ChartSeries {
  label: string;
  color: string;
  /** [x, y] in data units, x ascending. */
  points: Array<[number, number]>;
  /** Draw as steps (a count holds until the next answer), the last value held to the end. */
  step?: boolean;
}

export interface ChartOptions {
  id: string;
  title: string;
  /** x runs from 0 to xMax minutes; ticks are labelled in hours or days. */
  xMax: number;
  yLabel: string;
  series: ChartSeries[];
  /** Horizontal lines (thresholds). */
  lines?: Array<{ value: number; label: string }>;
  /** Vertical markers (events). */
  markers?: Array<{ x: number; label: string }>;
}

const W = 900;
const H = 260;
const PAD = { left: 56, right: 16, top: 16, bottom: 34 };

export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A step below ~6 ticks over the span, on 1-2-5 numbers. */
function niceStep(span: number, ticks = 6): number {
  const raw = Math.max(span / ticks, 1e-9);
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * p >= raw) ?? 10) * p;
}

/**
 * A line chart as a self-contained SVG string (no script, no external
 * resources). Every series, threshold line and marker carries data-
 * attributes with its values, so a browser test can check what is drawn
 * against what was computed.
 */
export function lineChart(o: ChartOptions): string {
  const allY = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const yTop = Math.max(1, ...allY, ...(o.lines ?? []).map((l) => l.value));
  const yStep = niceStep(yTop);
  const yMax = Math.ceil(yTop / yStep) * yStep;
  const xMax = Math.max(1, o.xMax);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const sx = (x: number) => +(PAD.left + (x / xMax) * plotW).toFixed(1);
  const sy = (y: number) => +(PAD.top + plotH - (y / yMax) * plotH).toFixed(1);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="${escapeXml(o.id)}" data-chart="${escapeXml(o.id)}" data-x-max="${xMax}" data-y-max="${yMax}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(o.title)}">`);
  out.push(`<title>${escapeXml(o.title)}</title>`);
  // Grid and axes.
  for (let y = 0; y <= yMax + 1e-9; y += yStep) {
    out.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(y)}" y2="${sy(y)}"/><text class="tick" x="${PAD.left - 6}" y="${sy(y) + 4}" text-anchor="end">${+y.toFixed(6)}</text>`);
  }
  const days = xMax >= 2 * 1440;
  const unit = days ? 1440 : 60;
  const xStep = niceStep(xMax / unit, 9) * unit;
  for (let x = 0; x <= xMax + 1e-9; x += xStep) {
    out.push(`<text class="tick" x="${sx(x)}" y="${H - PAD.bottom + 16}" text-anchor="middle">${+(x / unit).toFixed(2)}${days ? 'd' : 'h'}</text>`);
  }
  out.push(`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(0)}" y2="${sy(0)}"/><line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${sy(0)}"/>`);
  out.push(`<text class="axis-label" x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">${escapeXml(o.yLabel)}</text>`);
  for (const m of o.markers ?? []) {
    out.push(`<line class="marker" data-x="${m.x}" x1="${sx(m.x)}" x2="${sx(m.x)}" y1="${PAD.top}" y2="${sy(0)}"><title>${escapeXml(m.label)}</title></line>`);
  }
  for (const l of o.lines ?? []) {
    out.push(`<line class="threshold" data-value="${l.value}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${sy(l.value)}" y2="${sy(l.value)}"><title>${escapeXml(l.label)}</title></line>`);
    out.push(`<text class="threshold-label" x="${W - PAD.right - 4}" y="${sy(l.value) - 4}" text-anchor="end">${escapeXml(l.label)}</text>`);
  }
  for (const s of o.series) {
    const pts: string[] = [];
    s.points.forEach(([x, y], i) => {
      if (s.step && i > 0) pts.push(`${sx(x)},${sy(s.points[i - 1]![1])}`);
      pts.push(`${sx(x)},${sy(y)}`);
    });
    const last = s.points.at(-1);
    if (s.step && last && last[0] < xMax) pts.push(`${sx(xMax)},${sy(last[1])}`);
    const ys = s.points.map((p) => p[1]);
    out.push(`<polyline class="series" data-series="${escapeXml(s.label)}" data-points="${s.points.length}" data-max="${ys.length ? Math.max(...ys) : 0}" data-last="${ys.at(-1) ?? 0}" fill="none" stroke="${s.color}" points="${pts.join(' ')}"><title>${escapeXml(s.label)}</title></polyline>`);
  }
  out.push('</svg>');
  return out.join('');
}

/** The chart's legend as HTML. */
export function legend(series: readonly ChartSeries[]): string {
  return `<ul class="legend">${series.map((s) => `<li><span class="swatch" style="background:${s.color}"></span>${escapeXml(s.label)}</li>`).join('')}</ul>`;
}
