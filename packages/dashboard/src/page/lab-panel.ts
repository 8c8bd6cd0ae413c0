import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { CountPoint, LabAttempt, LabView } from './api.js';
import { SortableTable, type Column } from './activity-tables.js';
import { FleetChart } from './counts-chart.js';

const ATTEMPT_COLUMNS: Array<Column<LabAttempt>> = [
  { key: 'time', label: 'Lab time' },
  { key: 'client', label: 'Client' },
  { key: 'product', label: 'Product' },
  { key: 'host', label: 'Host' },
  { key: 'errorCode', label: 'Error code' },
  { key: 'count', label: 'Count', num: true },
];

async function clock(body: unknown): Promise<string | null> {
  const res = await fetch('/api/lab/clock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.ok ? null : (await res.text()).trim();
}

/** `kmslab up`: the lab clock with pause, speed and jumps, the simulated fleet's states over time, its clients' last attempts. */
export function LabPanel({ lab, history, readOnly }: { lab: LabView; history: CountPoint[]; readOnly: boolean }) {
  const [speed, setSpeed] = useState(String(lab.speed));
  const [days, setDays] = useState('7');
  const [error, setError] = useState<string | null>(null);
  const act = async (body: unknown) => setError(await clock(body));
  return html`
    <section aria-labelledby="lab-h">
      <h2 id="lab-h">Lab</h2>
      <p class="lab-time" role="status">Lab time <strong data-lab-time=${lab.time}>${new Date(lab.time).toLocaleString()}</strong>, ${lab.paused ? 'paused' : `× ${lab.speed}`} · ${lab.clients} simulated clients</p>
      ${!readOnly && html`
        <div class="lab-controls">
          <button type="button" onClick=${() => act({ action: lab.paused ? 'resume' : 'pause' })}>${lab.paused ? 'Resume' : 'Pause'}</button>
          <form onSubmit=${(e: Event) => { e.preventDefault(); void act({ action: 'speed', speed: Number(speed) }); }}>
            <label for="lab-speed">Speed ×</label> <input id="lab-speed" type="number" min="1" max="1000000" value=${speed} onInput=${(e: Event) => setSpeed((e.target as HTMLInputElement).value)} />
            <button type="submit">Set speed</button>
          </form>
          <form onSubmit=${(e: Event) => { e.preventDefault(); void act({ action: 'jump', days: Number(days) }); }}>
            <label for="lab-days">Jump</label> <input id="lab-days" type="number" min="1" max="3650" value=${days} onInput=${(e: Event) => setDays((e.target as HTMLInputElement).value)} /> days
            <button type="submit">Jump ${days} ${days === '1' ? 'day' : 'days'}</button>
          </form>
        </div>`}
      ${error && html`<p class="bad" role="alert">${error}</p>`}
      <h3>Simulated clients by license state</h3>
      <p class="fleet">${Object.entries(lab.fleet).filter(([, n]) => n > 0).map(([state, n]) => html`<span class="pill" data-state=${state}>${state}: ${n}</span>`)}</p>
      <${FleetChart} history=${history} />
      <h3>Their last attempts <small>(what a Windows client would report)</small></h3>
      <${SortableTable} id="attempts" caption="Attempts" rows=${lab.attempts} columns=${ATTEMPT_COLUMNS} initial="time" />
    </section>`;
}
