import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CountPoint } from './api.js';

/** The thresholds a host needs to reach (kms-reference.md "Counting"): drawn across the chart. */
const THRESHOLDS = [5, 25];
const COLOURS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#4b5563'];

/** Each host's count per family over time, from the readings the server pushed (it keeps 20 minutes). */
export function CountsChart({ history }: { history: CountPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const keys = [...new Set(history.flatMap((p) => Object.entries(p.counts).flatMap(([host, f]) => Object.keys(f).map((family) => `${host} · ${family}`))))].sort();
  const shape = keys.join('|');

  useEffect(() => {
    if (!box.current) return;
    const width = () => Math.max(280, box.current!.clientWidth);
    const opts: uPlot.Options = {
      width: width(),
      height: 260,
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(30, Math.ceil(max / 5) * 5 + 5)] } },
      axes: [{}, { label: 'count' }],
      series: [{}, ...keys.map((label, i) => ({ label, stroke: COLOURS[i % COLOURS.length], width: 2 }))],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.setLineDash([6, 4]);
            ctx.strokeStyle = '#6b7280';
            ctx.fillStyle = '#374151';
            ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
            for (const t of THRESHOLDS) {
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
    plot.current = new uPlot(opts, toData(history, keys), box.current);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 260 }));
    resize.observe(box.current);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // A new series (a host or family appears) builds the chart again; new readings only update its data.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(toData(history, keys));
  }, [history]);

  return html`<div ref=${box} class="chart" role="img" aria-label=${`Counts over time for ${keys.join(', ') || 'no host yet'}, with the thresholds 5 and 25`}></div>`;
}

function toData(history: CountPoint[], keys: string[]): uPlot.AlignedData {
  const xs = history.map((p) => p.at / 1000);
  const series = keys.map((key) => {
    const [host, family] = key.split(' · ') as [string, string];
    return history.map((p) => p.counts[host]?.[family] ?? null);
  });
  return [xs, ...series];
}
