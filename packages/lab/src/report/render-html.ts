import { CLIENT_STATES, type ReportData } from './report-data.js';
import { escapeXml as esc, legend, lineChart, type ChartSeries } from './svg-chart.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const STATE_COLORS: Record<string, string> = { grace: '#ff7f0e', licensed: '#2ca02c', notification: '#d62728', left: '#7f7f7f' };

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:960px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}p.lead{color:#555;margin:0 0 16px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
svg.chart{width:100%;height:auto;background:#fcfcfc;border:1px solid #e4e4e4}
.grid{stroke:#eee}.axis{stroke:#999}.tick,.axis-label,.threshold-label{font-size:11px;fill:#666}
.series{stroke-width:1.6}.threshold{stroke:#444;stroke-dasharray:6 4}.marker{stroke:#c00;stroke-dasharray:2 3}
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:14px}.swatch{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px}
.pass{color:#2a7a2a}.fail{color:#b00}`;

/** Flattens nested summary values to "a.b" rows. */
function rows(value: unknown, prefix = ''): Array<[string, string]> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.entries(value).flatMap(([k, v]) => rows(v, prefix ? `${prefix}.${k}` : k));
  return [[prefix, typeof value === 'number' ? value.toLocaleString('en-US') : String(value)]];
}

/**
 * The lab report as one HTML file: inline CSS, inline SVG, no script that
 * runs and nothing fetched, so it opens offline. The JSON summary is embedded
 * as data (`#kmslab-summary`) as well.
 */
export function renderReportHtml(data: ReportData): string {
  const markers = data.events.map((e) => ({ x: e.minute, label: e.label }));
  const countSeries: ChartSeries[] = data.counts.map((c, i) => ({ label: `${c.host} ${c.family}`, color: PALETTE[i % PALETTE.length]!, points: c.points, step: true }));
  const stateSeries: ChartSeries[] = CLIENT_STATES.map((s) => ({ label: s, color: STATE_COLORS[s]!, points: data.states.series[s].map((v, i) => [i * data.states.step, v] as [number, number]) }));
  const requestSeries: ChartSeries[] = data.requests.map((r, i) => ({ label: r.host, color: PALETTE[i % PALETTE.length]!, points: r.perHour.map((v, h) => [h * 60, v] as [number, number]) }));
  const thresholdLines = [...new Map(data.thresholds.map((t) => [t.value, { value: t.value, label: `threshold ${t.value} (${data.thresholds.filter((x) => x.value === t.value).map((x) => `${x.family} ${x.kind}`).join(', ')})` }])).values()];
  const checks = data.checks.length
    ? `<h2>Checks</h2><table id="checks">${data.checks.map((c) => `<tr class="${c.passed ? 'pass' : 'fail'}"><td>${c.passed ? '✔' : '✘'}</td><td>${esc(c.name)}</td><td>${esc(c.detail)}</td></tr>`).join('')}</table>`
    : '';
  const events = data.events.length ? `<h2>Events</h2><table id="events">${data.events.map((e) => `<tr><td>minute ${e.minute}</td><td>${esc(e.label)}</td></tr>`).join('')}</table>` : '';
  const windows = data.windowsEvents?.length
    ? `<h2>Windows events</h2><table id="windows-events"><tr><th>Event</th><th>HRESULT</th><th>Logged</th></tr>${data.windowsEvents.map((e) => `<tr data-event="${e.id}"><td>${e.id}</td><td>${esc(e.hresult)}</td><td>${e.count}</td></tr>`).join('')}</table>`
    : '';
  const summaryJson = JSON.stringify(data.summary).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(data.title)} — kmslab report</title><style>${CSS}</style></head>
<body>
<h1>${esc(data.title)}</h1>
<p class="lead">${esc(data.description)}<br>Virtual time from ${esc(data.start)}, ${+(data.minutes / 1440).toFixed(2)} days.</p>
<h2>Summary</h2><table id="summary">${rows(data.summary).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${checks}
${windows}
<h2>Count per host and family, against the thresholds</h2>
${lineChart({ id: 'counts', title: 'Count per host and family', xMax: data.minutes, yLabel: 'count', series: countSeries, lines: thresholdLines, markers })}${legend(countSeries)}
<h2>Client states</h2>
${lineChart({ id: 'states', title: 'Clients per state', xMax: data.minutes, yLabel: 'clients', series: stateSeries, markers })}${legend(stateSeries)}
<h2>Requests per hour per host</h2>
${lineChart({ id: 'requests', title: 'Requests per hour per host', xMax: data.minutes, yLabel: 'requests / hour', series: requestSeries, markers })}${legend(requestSeries)}
${events}
<script type="application/json" id="kmslab-summary">${summaryJson}</script>
<p class="lead">Made by kmslab lab. Counts are what the hosts answered; states are sampled every ${data.states.step} minutes.</p>
</body></html>
`;
}
