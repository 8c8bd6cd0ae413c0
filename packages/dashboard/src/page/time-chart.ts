import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];

/** One reading: its time (ms) and a value per series. */
export interface ChartPoint {
  at: number;
  values: Record<string, number>;
}

/**
 * Lines over time (uPlot on a canvas: thousands of points draw in a
 * millisecond or two), with dashed horizontal lines at `thresholds`. A new
 * series builds the chart again; new readings only update its data.
 */
export function TimeChart({ points, thresholds = [], axis, label }: { points: ChartPoint[]; thresholds?: number[]; axis: string; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.values)))].sort();
  const shape = keys.join('|');

  useEffect(() => {
    if (!box.current) return;
    const width = () => Math.max(280, box.current!.clientWidth);
    const top = Math.max(0, ...thresholds) + 5;
    const opts: uPlot.Options = {
      width: width(),
      height: 260,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(top, Math.ceil(max / 5) * 5 + 5)] } },
      axes: [{}, { label: axis }],
      series: [{}, ...keys.map((k, i) => ({ label: k, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.setLineDash([6, 4]);
            ctx.strokeStyle = '#6b7280';
            ctx.fillStyle = '#374151';
            ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
            for (const t of thresholds) {
              const y = u.valToPos(t, 'y', true);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.fillText(`threshold ${t}`, u.bbox.left + 6 * devicePixelRatio, y - 4 * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, toData(points, keys), box.current);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 260 }));
    resize.observe(box.current);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(toData(points, keys));
  }, [points]);

  return html`<div ref=${box} class="chart" role="img" aria-label=${`${label}: ${keys.join(', ') || 'nothing yet'}${thresholds.length ? `, with the thresholds ${thresholds.join(' and ')}` : ''}`}></div>`;
}

function toData(points: ChartPoint[], keys: string[]): uPlot.AlignedData {
  return [points.map((p) => p.at / 1000), ...keys.map((k) => points.map((p) => p.values[k] ?? null))];
}
