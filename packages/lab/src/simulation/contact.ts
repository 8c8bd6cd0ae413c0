import { TIME, type Catalog, type Clock, type EventLog } from '@kmslab/core';
import { activateOnce, dueIn } from '@kmslab/client';
import type { LabDns } from '../lab-dns.js';
import type { SimClient, TimelineEntry } from './sim-client.js';

/**
 * One client's contact, as its own machine makes it: `activateOnce` on its
 * clock (the lab's, plus its skew), through the lab DNS or its manual host;
 * what came of it as a timeline line; its events (12288, 12289) go to the lab's log.
 */
export async function contact(
  c: SimClient,
  o: { clock: Clock; wait: (ms: number) => Promise<void>; minute: number; dns: LabDns | null; random: () => number; catalog: Catalog; events: EventLog },
): Promise<TimelineEntry> {
  const dns = c.dns && o.dns ? { dns: c.server ? o.dns.servers![c.server]! : o.dns.target, domains: [o.dns.zone] } : { domains: [] };
  const clock: Clock = c.skewMs ? { now: () => o.clock.now() + c.skewMs } : o.clock;
  let failure: string | null = null;
  const events = { record: (e: Parameters<EventLog['record']>[0]) => o.events.record(e), source: c.name };
  const began = o.clock.now();
  // A dead host costs the client's SYN retries (about 2 s) in lab time, as on Windows: `wait` moves the lab clock.
  const outcome = await activateOnce({ state: c.state, productId: c.productId, clock, wait: o.wait, random: o.random, events, ...dns }).catch((err: unknown) => {
    failure = (err as { code?: string }).code ?? 'error'; // a setting the client cannot use (DNS failures come back as outcomes)
    return null;
  });
  // An attempt that threw before scheduling must not be retried at the same instant forever.
  if (dueIn(c.state, clock.now()) === 0) c.state.nextContactAt = new Date(clock.now() + 2 * 60 * TIME.MINUTE_MS).toISOString();
  const threshold = o.catalog.product(c.productId).threshold;
  const spentMs = o.clock.now() - began;
  if (!outcome) return { minute: o.minute, client: c.name, product: c.productId, count: null, threshold, licensed: false, via: null, errorCode: failure, reason: null, host: null, spentMs };
  const r = outcome.response;
  return {
    minute: o.minute,
    client: c.name,
    product: c.productId,
    count: r?.count ?? null,
    threshold: r?.threshold ?? threshold,
    licensed: r?.licensed ?? Boolean(outcome.mak),
    via: outcome.mak ? 'mak' : r?.licensed ? 'kms' : null,
    errorCode: outcome.errorCode,
    reason: [outcome.tried[0]?.error.split(':')[0] ?? null].find((x) => x !== outcome.errorCode) ?? null,
    host: outcome.host,
    spentMs,
  };
}
