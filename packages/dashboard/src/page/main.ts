import { render } from 'preact';
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { CountPoint, Fault, HostView, LabState, LoggedQuery, Zone } from './api.js';
import { CountsChart } from './counts-chart.js';
import { ActivityTables } from './activity-tables.js';
import { LabPanel } from './lab-panel.js';
import './style.css';

/** Queries the page shows at most (the server sends batches; the rest scrolls away). */
const QUERIES_SHOWN = 100;
const HISTORY_KEPT = 1200;

function useLab() {
  const [state, setState] = useState<LabState | null>(null);
  const [history, setHistory] = useState<CountPoint[]>([]);
  const [queries, setQueries] = useState<LoggedQuery[]>([]);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    // Server-sent events: the server reads the lab once a second for every page; the page never polls.
    const events = new EventSource('/api/events');
    events.onopen = () => setConnected(true);
    events.onerror = () => setConnected(false);
    events.addEventListener('state', (e) => {
      const next = JSON.parse((e as MessageEvent<string>).data) as LabState;
      // A pushed reading leaves out a host's clients, requests and events when they did not change: keep the ones shown.
      setState((prev) => ({
        ...next,
        hosts: next.hosts.map((h) => {
          const before = prev?.hosts.find((p) => p.url === h.url);
          return { ...h, clients: h.clients ?? before?.clients, requests: h.requests ?? before?.requests, events: h.events ?? before?.events };
        }),
        readOnly: next.readOnly ?? prev?.readOnly ?? false,
      }));
      if (next.history) setHistory(next.history);
      else if (next.point) setHistory((h) => [...h.slice(-(HISTORY_KEPT - 1)), next.point!]);
      if (next.queries) setQueries(next.queries.slice(-QUERIES_SHOWN).reverse());
    });
    // A change of the lab clock, pushed at once (the next reading is up to a second away).
    events.addEventListener('lab', (e) => {
      const lab = JSON.parse((e as MessageEvent<string>).data) as LabState['lab'];
      setState((prev) => (prev ? { ...prev, lab } : prev));
    });
    events.addEventListener('queries', (e) => {
      const batch = JSON.parse((e as MessageEvent<string>).data) as LoggedQuery[];
      setQueries((q) => [...batch.reverse(), ...q].slice(0, QUERIES_SHOWN));
    });
    return () => events.close();
  }, []);
  return { state, history, queries, connected };
}

function App() {
  const { state, history, queries, connected } = useLab();
  // Marks the moment the lab is first on screen (pnpm bench:dashboard reads it).
  useEffect(() => {
    if (state && performance.getEntriesByName('kmslab:first-render').length === 0) performance.mark('kmslab:first-render');
  }, [state]);
  if (!state) return html`<p class="loading">Connecting to the dashboard…</p>`;
  return html`
    <header>
      <h1>kmslab dashboard</h1>
      <p class="meta"><span class=${connected ? 'dot ok' : 'dot down'} aria-hidden="true"></span>${connected ? 'live' : 'reconnecting'} · read ${new Date(state.time).toLocaleTimeString()}</p>
    </header>
    <main>
      <section aria-labelledby="hosts-h">
        <h2 id="hosts-h">Hosts</h2>
        <div class="cards">${state.hosts.map((h) => html`<${HostCard} key=${h.url} host=${h} />`)}</div>
      </section>
      <section aria-labelledby="counts-h">
        <h2 id="counts-h">Counts over time</h2>
        <${CountsChart} history=${history} />
      </section>
      ${state.lab && html`<${LabPanel} lab=${state.lab} history=${history} readOnly=${state.readOnly === true} />`}
      <${ActivityTables} hosts=${state.hosts} />
      ${state.dns && html`<${DnsPanel} dns=${state.dns} queries=${queries} readOnly=${state.readOnly === true} now=${Date.parse(state.time)} />`}
    </main>
  `;
}

function HostCard({ host }: { host: HostView }) {
  const s = host.status;
  if (!host.ok || !s) return html`<article class="card down"><h3>${host.url}</h3><p role="status">Unreachable: ${host.error}</p></article>`;
  return html`
    <article class="card" data-host=${s.hostId}>
      <h3>${s.hostId}</h3>
      <dl>
        <dt>Key group</dt><dd>${s.keyGroup.name}</dd>
        <dt>License packs</dt><dd>${s.licensePacks.map((p) => p.name).join(', ') || 'none'}</dd>
        <dt>Store</dt><dd>${s.store.kind}, ${s.store.healthy ? 'healthy' : html`<strong class="bad">unhealthy</strong>`}</dd>
        <dt>Listening</dt><dd>${s.kms.addresses.map((a) => `${a.address}:${a.port}`).join(', ')}</dd>
        <dt>Replica</dt><dd>pid ${s.replica.pid}, ${s.replica.requestsServed.toLocaleString()} requests, ${s.replica.connections} connections</dd>
        <dt>Publishing</dt><dd>${publishing(s)}</dd>
      </dl>
      <div class="wide" tabindex="0" role="region" aria-label=${`${s.hostId} per family`}><table>
        <caption>Per application family</caption>
        <thead><tr><th scope="col">Family</th><th scope="col">Count</th><th scope="col">Requests</th><th scope="col">Failed</th><th scope="col">Unlocks now</th></tr></thead>
        <tbody>
          ${Object.entries(s.families).map(([family, f]) => html`
            <tr>
              <th scope="row">${family}</th>
              <td class="num" data-count=${family}>${f.currentCount}</td>
              <td class="num">${f.totalRequests}</td>
              <td class="num">${f.failedRequests}</td>
              <td>${(host.unlocks?.[family] ?? []).map((u) => html`<span class=${u.reached ? 'pill on' : 'pill'} title=${u.products.join(', ')}>≥ ${u.threshold}: ${u.reached ? 'reached' : `${u.threshold - f.currentCount} to go`}</span>`)}</td>
            </tr>`)}
        </tbody>
      </table></div>
    </article>
  `;
}

function publishing(s: NonNullable<HostView['status']>): string {
  if (!s.dnsPublishing || !s.publishing) return 'off';
  const p = s.publishing;
  const where = p.domains.map((d) => `${d.domain} (priority ${d.priority}, weight ${d.weight})`).join(', ');
  return `${p.fqdn} in ${where}; ${p.lastPublished ? `last ${new Date(p.lastPublished).toLocaleTimeString()}` : 'not yet'}${p.lastError ? `; error: ${p.lastError}` : ''}`;
}

async function change(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<string | null> {
  const res = await fetch(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return res.ok ? null : (await res.text()).trim();
}

/** How long ago a record was last refreshed ("static" when it never is: zone file, admin API), as aging sees it. */
function recordAge(refreshedAt: string | null | undefined, now: number): string {
  if (!refreshedAt) return 'static';
  const min = Math.max(0, Math.floor((now - Date.parse(refreshedAt)) / 60_000));
  return min < 60 ? `${min} min` : min < 1440 ? `${Math.floor(min / 60)} h ${min % 60} min` : `${Math.floor(min / 1440)} d ${Math.floor((min % 1440) / 60)} h`;
}

function DnsPanel({ dns, queries, readOnly, now }: { dns: NonNullable<LabState['dns']>; queries: LoggedQuery[]; readOnly: boolean; now: number }) {
  const [rule, setRule] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const shown = useMemo(() => (filter ? queries.filter((q) => (q.qname ?? '').includes(filter.toLowerCase())) : queries), [queries, filter]);
  if (!dns.ok) return html`<section><h2>DNS</h2><p role="status">Unreachable: ${dns.error}</p></section>`;
  const add = async (e: Event) => {
    e.preventDefault();
    setError(await change('POST', '/api/dns/faults', { rule }));
  };
  return html`
    <section aria-labelledby="dns-h">
      <h2 id="dns-h">DNS</h2>
      ${(dns.zones ?? []).map((z: Zone) => html`
        <div class="wide" tabindex="0" role="region" aria-label=${`SRV records of ${z.origin}`}><table class="zone">
          <caption>_vlmcs._tcp.${z.origin} (serial ${z.serial}${z.aging ? `; aging ${z.aging.noRefreshMs / 86_400_000}/${z.aging.refreshMs / 86_400_000} d` : ''}${z.replicas?.length ? `; secondaries ${z.replicas.map((r) => `${r.server} ${r.serial ?? 'no answer'}${r.serial !== null && r.serial !== z.serial ? ' (behind)' : ''}`).join(', ')}` : ''})</caption>
          <thead><tr><th scope="col">Priority</th><th scope="col">Weight</th><th scope="col">Port</th><th scope="col">Target</th><th scope="col">TTL</th><th scope="col">Age</th><th scope="col">Owner</th></tr></thead>
          <tbody>${z.srv.length === 0 ? html`<tr><td colspan="7">no SRV records</td></tr>` : z.srv.map((r) => html`<tr><td class="num">${r.priority}</td><td class="num">${r.weight}</td><td class="num">${r.port}</td><td>${r.target}</td><td class="num">${r.ttl}</td><td>${recordAge(r.refreshedAt, now)}</td><td>${r.owner ?? '-'}</td></tr>`)}</tbody>
        </table></div>`)}
      <h3>Faults</h3>
      <div class="wide" tabindex="0" role="region" aria-label="Active faults"><table class="faults">
        <thead><tr><th scope="col">Rule</th><th scope="col">Matched</th><th scope="col">Applied</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
        <tbody>
          ${(dns.faults ?? []).length === 0 ? html`<tr><td colspan="4">none active</td></tr>` : (dns.faults ?? []).map((f: Fault) => html`
            <tr data-fault=${f.id}>
              <td><code>${f.rule}</code></td><td class="num">${f.matched}</td><td class="num">${f.applied}</td>
              <td>${!readOnly && html`<button type="button" aria-label=${`Remove fault ${f.rule}`} onClick=${async () => setError(await change('DELETE', `/api/dns/faults/${encodeURIComponent(f.id)}`))}>Remove</button>`}</td>
            </tr>`)}
        </tbody>
      </table></div>
      ${!readOnly && html`
        <form class="add-fault" onSubmit=${add}>
          <label for="fault-rule">Add a fault rule</label>
          <input id="fault-rule" name="rule" placeholder="_vlmcs._tcp.lab.test/SRV=servfail" value=${rule} onInput=${(e: Event) => setRule((e.target as HTMLInputElement).value)} required />
          <button type="submit">Add</button>
        </form>`}
      ${error && html`<p class="bad" role="alert">${error}</p>`}
      <h3>Query log <small>(latest ${QUERIES_SHOWN})</small></h3>
      <label class="filter">Name contains <input type="search" value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} /></label>
      <div class="scroll" tabindex="0" role="region" aria-label="Query log">
        <table class="queries">
          <thead><tr><th scope="col">Time</th><th scope="col">Client</th><th scope="col">Name</th><th scope="col">Type</th><th scope="col">Answer</th><th scope="col">Fault</th><th scope="col">ms</th></tr></thead>
          <tbody>${shown.map((q) => html`<tr><td>${q.time.slice(11, 23)}</td><td>${q.client.address}</td><td>${q.qname}</td><td>${q.qtype}</td><td>${q.rcode ?? 'dropped'} (${q.answers})</td><td>${q.fault?.action ?? ''}</td><td class="num">${q.latencyMs.toFixed(2)}</td></tr>`)}</tbody>
        </table>
      </div>
    </section>
  `;
}

render(html`<${App} />`, document.getElementById('app')!);
