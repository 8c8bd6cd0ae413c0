import { Catalog, EventLog, realClock, type Clock, type PublishDomain } from '@kmslab/core';
import type { TsigKey } from '@kmslab/dns-wire';
import { KmsHost } from './host.js';
import type { HostOptions } from './host-options.js';
import { DnsPublisher } from './publish/dns-publisher.js';
import { defaultAdvertiseAddresses, defaultDomains, defaultFqdn } from './publish/publish-defaults.js';
import { countsHeld } from './store/counts-held.js';
import { openStore, type StoreConfig } from './store/open-store.js';
import type { ActivationStore } from './store/store.js';

/** Where and how a host publishes itself (RFC 2136 with TSIG); what is left out takes a KMS host's defaults. */
export interface PublishConfig {
  dns: { host: string; port: number };
  key: TsigKey;
  /** The SRV target; default the machine's name (publish-defaults.ts). */
  fqdn?: string | undefined;
  /** Default: the FQDN's own domain, priority 0, weight 0. */
  domains?: readonly PublishDomain[] | undefined;
  /** Its A/AAAA records; default the listen address, else the address that reaches the DNS server. */
  addresses?: readonly string[] | undefined;
  refreshMs?: number | undefined;
  /** TSIG signs with wall-clock time the server checks: real time unless a test says otherwise. */
  clock?: Clock | undefined;
}

/** A host as `kmslab host start` runs it: its store (opened here, or one the caller keeps), its publishing, its listeners. */
export interface HostServiceOptions extends Omit<HostOptions, 'store' | 'publisher'> {
  store: StoreConfig | ActivationStore;
  publish?: PublishConfig | null | undefined;
}

/** A running host service: the host, its store, and what the store held when it started. */
export interface HostService extends AsyncDisposable {
  host: KmsHost;
  store: ActivationStore;
  /** What earlier runs left (the journal, or Redis): the start line says it. */
  carried: { count: number; requests: number };
  close(): Promise<void>;
}

/**
 * One way to start a KMS host (the CLI, `kmslab up`, the labs and the tests
 * call it): the store opened from its configuration, the host composed with
 * its publisher and admin page, then listening. A failure after the store
 * opened closes it.
 */
export async function startHostService(o: HostServiceOptions): Promise<HostService> {
  const store = 'record' in o.store ? o.store : await openStore(o.store);
  let host: KmsHost;
  let carried: HostService['carried'];
  try {
    carried = await countsHeld(store, (o.catalog ?? Catalog.load()).families(), (o.clock ?? realClock).now());
    // One event log for the host and its publisher: 12290 per request, 12293/12294 per domain published.
    const events = o.events ?? new EventLog(1000, () => (o.clock ?? realClock).now());
    const publisher = o.publish ? await publisherFor(o.publish, o.listen, o.logger, { events, source: o.hostId }) : null;
    host = KmsHost.create({ ...o, store, publisher, events });
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  // From here the host owns the store: a failure to listen closes both.
  await host.listen();
  const close = () => host.close();
  return { host, store, carried, close, [Symbol.asyncDispose]: close };
}

async function publisherFor(p: PublishConfig, listen: readonly string[] | undefined, logger: HostOptions['logger'], events: { events: EventLog; source: string }): Promise<DnsPublisher> {
  const fqdn = p.fqdn ?? defaultFqdn(p.domains ?? []);
  return new DnsPublisher({
    dns: p.dns,
    key: p.key,
    fqdn,
    addresses: p.addresses ?? (await defaultAdvertiseAddresses(listen, p.dns)),
    domains: p.domains?.length ? p.domains : defaultDomains(fqdn),
    refreshMs: p.refreshMs,
    clock: p.clock ?? realClock,
    ...(logger && { logger }),
    ...events,
  });
}
