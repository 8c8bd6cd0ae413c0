import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import type { CountPoint } from './api.js';
import { TimeChart } from './time-chart.js';

/** The thresholds a host needs to reach (kms-reference.md "Counting"): drawn across the chart. */
const THRESHOLDS = [5, 25];

/** Each host's count per family over time, from the readings the server pushed (it keeps 20 minutes); on lab time in a lab. */
export function CountsChart({ history }: { history: CountPoint[] }) {
  const points = useMemo(
    () => history.map((p) => ({ at: p.labTime ?? p.at, values: Object.fromEntries(Object.entries(p.counts).flatMap(([host, f]) => Object.entries(f).map(([family, n]) => [`${host} · ${family}`, n]))) })),
    [history],
  );
  return html`<${TimeChart} points=${points} thresholds=${THRESHOLDS} axis="count" label="Counts over time" />`;
}

/** The simulated clients by license state over lab time (`kmslab up --clients N`). */
export function FleetChart({ history }: { history: CountPoint[] }) {
  const points = useMemo(() => history.filter((p) => p.fleet).map((p) => ({ at: p.labTime ?? p.at, values: p.fleet! })), [history]);
  return html`<${TimeChart} points=${points} axis="clients" label="Simulated clients by license state" />`;
}
