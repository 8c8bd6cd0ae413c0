import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import type { ClientView, HostView, KmsEvent, RequestView } from './api.js';

export type Column<T> = { key: keyof T & string; label: string; num?: boolean };

const CLIENT_COLUMNS: Array<Column<ClientView>> = [
  { key: 'cmid', label: 'CMID' },
  { key: 'machine', label: 'Machine' },
  { key: 'product', label: 'Product' },
  { key: 'family', label: 'Family' },
  { key: 'licenseStatus', label: 'Status' },
  { key: 'answer', label: 'Answer' },
  { key: 'firstContact', label: 'First contact' },
  { key: 'lastContact', label: 'Last contact' },
  { key: 'contacts', label: 'Contacts', num: true },
  { key: 'nextContact', label: 'Next contact' },
];

const REQUEST_COLUMNS: Array<Column<RequestView>> = [
  { key: 'time', label: 'Time' },
  { key: 'cmid', label: 'CMID' },
  { key: 'machine', label: 'Machine' },
  { key: 'product', label: 'Product' },
  { key: 'licenseStatus', label: 'Status' },
  { key: 'answer', label: 'Answer' },
  { key: 'count', label: 'Count', num: true },
  { key: 'peer', label: 'From' },
];

/** An event as a row: its id, who logged it, its HRESULT, and the rest of what it says in one cell. */
interface EventRow {
  seq: number;
  time: string;
  id: number;
  source: string;
  hresult: string;
  details: string;
}

const EVENT_COLUMNS: Array<Column<EventRow>> = [
  { key: 'time', label: 'Time' },
  { key: 'id', label: 'Event', num: true },
  { key: 'source', label: 'Source' },
  { key: 'hresult', label: 'HRESULT' },
  { key: 'details', label: 'Details' },
];

/** The Windows event ids by name (docs/admin-api.md "Events"). */
const EVENT_NAMES: Record<number, string> = { 12288: 'request sent', 12289: 'answer processed', 12290: 'request served', 12293: 'DNS publishing failed', 12294: 'published in DNS' };

function eventRow(e: KmsEvent): EventRow {
  const { seq, time, id, source, ...rest } = e;
  const hresult = 'hresult' in rest ? rest.hresult : '0x0';
  const details = Object.entries(rest).filter(([k, v]) => k !== 'hresult' && v !== null && v !== '').map(([k, v]) => `${k} ${v}`).join(', ');
  return { seq, time, id, source, hresult, details: `${EVENT_NAMES[id] ?? ''}: ${details}` };
}

const shown = (v: unknown, key: string) => (v === null || v === undefined ? '' : /time|Contact$/.test(key) ? new Date(String(v)).toLocaleString() : String(v));

/** A table sorted by any column (a button in its header) and searched across every cell; at most `pageSize` rows at once. */
export function SortableTable<T extends object>({ id, caption, rows, columns, initial, pageSize = 50 }: { id: string; caption: string; rows: T[]; columns: Array<Column<T>>; initial: keyof T & string; pageSize?: number }) {
  const [sort, setSort] = useState<{ key: keyof T & string; down: boolean }>({ key: initial, down: true });
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(0);
  const filtered = useMemo(() => {
    const q = search.trim().toLowerCase();
    const hit = q ? rows.filter((r) => columns.some((c) => String(r[c.key] ?? '').toLowerCase().includes(q))) : rows;
    return [...hit].sort((a, b) => {
      const x = a[sort.key] as unknown;
      const y = b[sort.key] as unknown;
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x ?? '').localeCompare(String(y ?? ''));
      return sort.down ? -order : order;
    });
  }, [rows, search, sort]);
  const pages = Math.max(1, Math.ceil(filtered.length / pageSize));
  const at = Math.min(page, pages - 1);
  return html`
    <div class="table-tools">
      <label>Search ${caption.toLowerCase()} <input type="search" data-search=${id} value=${search} onInput=${(e: Event) => { setSearch((e.target as HTMLInputElement).value); setPage(0); }} /></label>
      <span>${filtered.length} of ${rows.length}</span>
      ${pages > 1 && html`<button type="button" disabled=${at === 0} onClick=${() => setPage(at - 1)}>Previous</button> page ${at + 1} of ${pages} <button type="button" disabled=${at >= pages - 1} onClick=${() => setPage(at + 1)}>Next</button>`}
    </div>
    <div class="scroll" tabindex="0" role="region" aria-label=${caption}>
      <table data-table=${id}>
        <caption class="sr-only">${caption}</caption>
        <thead><tr>${columns.map((c) => html`
          <th scope="col" aria-sort=${sort.key === c.key ? (sort.down ? 'descending' : 'ascending') : 'none'}>
            <button type="button" class="sort" onClick=${() => setSort({ key: c.key, down: sort.key === c.key ? !sort.down : true })}>${c.label}${sort.key === c.key ? (sort.down ? ' ▼' : ' ▲') : ''}</button>
          </th>`)}</tr></thead>
        <tbody>${filtered.slice(at * pageSize, (at + 1) * pageSize).map((r) => html`<tr>${columns.map((c) => html`<td class=${c.num ? 'num' : ''} data-col=${c.key}>${shown(r[c.key], c.key)}</td>`)}</tr>`)}</tbody>
      </table>
    </div>`;
}

/** Per host: the clients it holds (≤ 50 per family, as a real host keeps them), its most recent requests with their answers, and its events. */
export function ActivityTables({ hosts }: { hosts: HostView[] }) {
  const withActivity = hosts.filter((h) => h.status && h.clients);
  const [chosen, setChosen] = useState<string | null>(null);
  if (withActivity.length === 0) return null;
  const host = withActivity.find((h) => h.url === chosen) ?? withActivity[0]!;
  const clients = Object.values(host.clients?.families ?? {}).flat();
  const requests = host.requests?.requests ?? [];
  const events = (host.events ?? []).map(eventRow);
  return html`
    <section aria-labelledby="clients-h">
      <h2 id="clients-h">Clients, requests and events</h2>
      ${withActivity.length > 1 && html`
        <label>Host <select value=${host.url} onChange=${(e: Event) => setChosen((e.target as HTMLSelectElement).value)}>
          ${withActivity.map((h) => html`<option value=${h.url}>${h.status!.hostId}</option>`)}
        </select></label>`}
      <h3>Clients ${host.status!.hostId} holds <small>(at most ${host.clients!.perFamily} per family)</small></h3>
      <${SortableTable} id="clients" caption="Clients" rows=${clients} columns=${CLIENT_COLUMNS} initial="lastContact" />
      <h3>Most recent requests <small>(the last ${host.requests?.capacity ?? 0} kept)</small></h3>
      <${SortableTable} id="requests" caption="Requests" rows=${requests} columns=${REQUEST_COLUMNS} initial="time" />
      <h3>Events <small>(as Windows logs them: 12290 per request, 12293/12294 for DNS publishing; the last ${events.length})</small></h3>
      <${SortableTable} id="events" caption="Events" rows=${events} columns=${EVENT_COLUMNS} initial="time" />
    </section>`;
}
