import { ACTIVATION_VALIDITY_MS, DEFAULT_ACTIVATION_INTERVAL_MIN, DEFAULT_GRACE_MS, DEFAULT_RENEWAL_INTERVAL_MIN, TIME } from '@kmslab/core';
import { FamilyRecords } from '@kmslab/host';
import { CLIENT_STATES, type ClientStateName, type ReportData } from '../report/report-data.js';
import { EventHeap } from './event-heap.js';
import type { FleetPlan } from './fleet-plan.js';

const MIN = TIME.MINUTE_MS;
const VALIDITY_MIN = ACTIVATION_VALIDITY_MS / MIN;
const GRACE_MIN = DEFAULT_GRACE_MS / MIN;
const SAMPLE_MIN = 60;

const WAITING = 0;
const STATE: Record<ClientStateName, number> = { grace: 1, licensed: 2, notification: 3, left: 4 };

/** One contact, for cross-checks against the simulation of the real code. */
export interface FleetContact {
  minute: number;
  client: number;
  /** Host index that answered, or -1. */
  host: number;
  count: number | null;
  licensed: boolean;
}

/** How long to model a fleet and how to report progress. */
export interface FleetRunOptions {
  start?: number;
  /** Called with the share of virtual time done, about once per virtual day. */
  onProgress?: (done: number) => void;
  /** Receives every contact (slow on big fleets; for tests). */
  onContact?: (c: FleetContact) => void;
}

/**
 * The KMS fleet as a model: the client lifecycle of kms-reference.md (grace,
 * 2 h retries, 7-day renewals, 180-day validity) on typed arrays, and each
 * host's count kept by the host's own FamilyRecords (30-day window, 50
 * records). Contacts run in time order from a heap; no network, so 100,000
 * clients over 180 days take seconds. A test runs small fleets through both
 * this and Simulation (the real host and client code) and compares every contact.
 */
export function runFleet(plan: FleetPlan, options: FleetRunOptions = {}): ReportData {
  const n = plan.joinAt.length;
  const start = options.start ?? Date.UTC(2026, 0, 5, 8);
  const status = new Uint8Array(n);
  const licensedUntil = new Float64Array(n);
  const cached = new Int16Array(n).fill(-1);
  const stateCounts = new Float64Array(5);
  stateCounts[WAITING] = n;
  const families = [...new Set(plan.products.map((p) => p.family))];
  const familyOf = plan.products.map((p) => families.indexOf(p.family));
  const records = Array.from({ length: plan.hosts }, () => families.map(() => new FamilyRecords()));
  const hours = Math.ceil(plan.minutes / 60);
  const perHour = Array.from({ length: plan.hosts }, () => new Uint32Array(hours));
  const samples = Math.floor(plan.minutes / SAMPLE_MIN) + 1;
  const stateSeries = Object.fromEntries(CLIENT_STATES.map((s) => [s, new Array<number>(samples)])) as Record<ClientStateName, number[]>;
  const countSeries = records.map((byFamily) => byFamily.map(() => new Array<[number, number]>()));
  const down = (h: number, t: number) => plan.outages.some((o) => o.host === h && t >= o.from && t < o.to);
  let contacts = 0;
  let unanswered = 0;
  let failovers = 0;

  const setStatus = (i: number, s: number) => {
    stateCounts[status[i]!]!--;
    stateCounts[s]!++;
    status[i] = s;
  };
  const heap = new EventHeap(n);
  for (let i = 0; i < n; i++) heap.push(plan.joinAt[i]!, i);

  let sample = 0;
  const takeSamples = (upTo: number) => {
    for (; sample < samples && sample * SAMPLE_MIN <= upTo; sample++) {
      const t = sample * SAMPLE_MIN;
      for (const s of CLIENT_STATES) stateSeries[s][sample] = stateCounts[STATE[s]]!;
      records.forEach((byFamily, h) => byFamily.forEach((r, f) => {
        const series = countSeries[h]![f]!;
        const c = r.count((t * MIN) + start);
        if (series.length === 0 || series[series.length - 1]![1] !== c) series.push([t, c]);
      }));
      if (options.onProgress && sample % 24 === 0) options.onProgress(t / plan.minutes);
    }
  };

  const order: number[] = [];
  while (heap.size > 0) {
    const t = heap.peekTime();
    if (t > plan.minutes) break;
    takeSamples(t - 1e-9);
    const i = heap.pop();
    if (t >= plan.leaveAt[i]!) {
      setStatus(i, STATE.left);
      continue;
    }
    if (status[i] === WAITING) setStatus(i, STATE.grace);
    if (status[i] === STATE.licensed && t > licensedUntil[i]!) setStatus(i, STATE.notification);
    if (status[i] === STATE.grace && t > plan.joinAt[i]! + GRACE_MIN) setStatus(i, STATE.notification);
    contacts++;

    // Cached host first, then the SRV order (priority 0, 10, …): activateOnce's order.
    order.length = 0;
    if (plan.hostCaching && cached[i]! >= 0) order.push(cached[i]!);
    for (let h = 0; h < plan.hosts; h++) order.push(h);
    let answeredBy = -1;
    for (const h of order) if (!down(h, t)) { answeredBy = h; break; }

    let next = t + DEFAULT_ACTIVATION_INTERVAL_MIN;
    let count: number | null = null;
    let licensed = false;
    if (answeredBy < 0) unanswered++;
    else {
      if (cached[i]! >= 0 && answeredBy !== cached[i]) failovers++;
      cached[i] = answeredBy;
      const product = plan.products[plan.product[i]!]!;
      count = records[answeredBy]![familyOf[plan.product[i]!]!]!.touch(String(i), t * MIN + start);
      perHour[answeredBy]![Math.min(hours - 1, Math.floor(t / 60))]!++;
      licensed = count >= product.threshold;
      if (licensed) {
        if (status[i] !== STATE.licensed) setStatus(i, STATE.licensed);
        licensedUntil[i] = t + VALIDITY_MIN;
        next = t + DEFAULT_RENEWAL_INTERVAL_MIN;
      }
    }
    options.onContact?.({ minute: t, client: i, host: answeredBy, count, licensed });
    heap.push(Math.min(next, plan.leaveAt[i]!), i);
  }
  takeSamples(plan.minutes);
  options.onProgress?.(1);

  const hostName = (h: number) => `host-${h}`;
  const final = Object.fromEntries(CLIENT_STATES.map((s) => [s, stateCounts[STATE[s]]!]));
  return {
    title: `Fleet: ${n.toLocaleString('en-US')} clients over ${plan.minutes / 1440} days`,
    description: `${plan.hosts} host(s) by SRV priority${plan.outages.map((o) => `; ${hostName(o.host)} down from day ${+(o.from / 1440).toFixed(2)} to day ${+(o.to / 1440).toFixed(2)}`).join('')}; host caching ${plan.hostCaching ? 'on' : 'off'}.`,
    start: new Date(start).toISOString(),
    minutes: plan.minutes,
    thresholds: [...new Map(plan.products.map((p) => [`${p.family}/${p.threshold}`, { family: p.family, kind: p.kind, value: p.threshold }])).values()],
    counts: countSeries.flatMap((byFamily, h) => byFamily.map((points, f) => ({ host: hostName(h), family: families[f]!, points }))),
    states: { step: SAMPLE_MIN, series: stateSeries },
    requests: perHour.map((a, h) => ({ host: hostName(h), perHour: Array.from(a) })),
    events: plan.outages.flatMap((o) => [{ minute: o.from, label: `${hostName(o.host)} down` }, { minute: o.to, label: `${hostName(o.host)} up` }]),
    checks: [],
    summary: {
      clients: n,
      days: plan.minutes / 1440,
      contacts,
      unanswered,
      failovers,
      requestsByHost: Object.fromEntries(perHour.map((a, h) => [hostName(h), a.reduce((s, x) => s + x, 0)])),
      finalStates: { ...final, waiting: stateCounts[WAITING] },
    },
  };
}
