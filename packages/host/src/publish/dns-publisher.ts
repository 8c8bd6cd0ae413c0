import { DEFAULT_SRV_TTL_S, KMS_EVENT, KmsLabError, TIME, kmsSrvName, type Clock, type EventLog } from '@kmslab/core';
import {
  CLASS, TYPE, canonicalName, query, rcodeName, updateZone,
  type DnsTarget, type ResourceRecord, type TsigKey,
} from '@kmslab/dns-wire';
import type { Logger } from 'pino';
import type { PublishDomain, PublishState } from '@kmslab/core';
import { publishFailure } from './publish-failure.js';

export type { PublishDomain, PublishState } from '@kmslab/core';


/** What a host publishes in DNS, where, and with which key. */
export interface PublisherOptions {
  dns: DnsTarget;
  key: TsigKey;
  /** The host's name: the SRV target. */
  fqdn: string;
  /** Addresses published as the host's A/AAAA records; none: leave them alone. */
  addresses: readonly string[];
  /** The KMS port in the SRV record (the host passes the port it got to `start`). */
  port?: number;
  domains: readonly PublishDomain[];
  ttl?: number;
  /** A KMS host re-registers every 24 h (kms-reference.md "Discovery"). */
  refreshMs?: number;
  clock: Clock;
  logger?: Logger;
  /** Where 12294 (published in a domain) and 12293 (failed, with the DNS error) go, as a KMS host logs them. */
  events?: EventLog | undefined;
  /** The host id the events name. */
  source?: string | undefined;
}


/**
 * After a failure: soon at first (a DNS server starting beside the host, as
 * in a compose or container lab, is up within a second or two), then
 * doubling up to a minute, so a server that stays away is not hammered.
 */
const FIRST_RETRY_MS = 250;
const RETRY_CAP_MS = 60_000;
export function retryDelayMs(failures: number): number {
  return Math.min(RETRY_CAP_MS, FIRST_RETRY_MS * 2 ** Math.max(0, failures - 2));
}

/**
 * Registers a KMS host in DNS by RFC 2136 dynamic update signed with TSIG, as
 * a KMS host's DNS publishing does: `_vlmcs._tcp.<domain> SRV priority weight
 * 1688 <fqdn>` in every domain of the publish list, plus the host's A/AAAA.
 * It only ever changes records that point at its own name. Its lookups go
 * over TCP like its updates (which need TCP anyway): a server that is not up
 * yet refuses the connection at once, where a UDP question would wait out
 * its timeout.
 */
export class DnsPublisher {
  readonly #o: PublisherOptions;
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;
  #stopped = false;
  #inFlight: Promise<void> | null = null;
  #state: PublishState;

  constructor(options: PublisherOptions) {
    this.#o = { ...options, fqdn: canonicalName(options.fqdn) };
    this.#state = { enabled: true, fqdn: this.#o.fqdn, domains: [...options.domains], lastPublished: null, lastError: null, nextRefresh: null };
  }

  get state(): PublishState {
    return { ...this.#state };
  }

  /** Publishes now, then keeps refreshing (every refresh interval; after a failure, again soon, backing off to a minute). */
  async start(port?: number): Promise<void> {
    if (port !== undefined) this.#o.port = port;
    this.#stopped = false;
    await this.#attempt();
  }

  /** Publishes in every domain of the list (each its own 12294 or 12293), then the addresses; throws when any failed. */
  async publish(): Promise<void> {
    let failed: unknown = null;
    for (const d of this.#o.domains) {
      try {
        await this.#publishSrv(d);
        this.#event({ id: KMS_EVENT.published, domain: d.domain, fqdn: this.#o.fqdn });
      } catch (err) {
        failed ??= err;
        this.#event({ id: KMS_EVENT.publishFailed, domain: d.domain, fqdn: this.#o.fqdn, ...publishFailure(err) });
      }
    }
    try {
      if (failed) throw failed;
      if (this.#o.addresses.length > 0) await this.#publishAddresses();
      this.#state.lastPublished = new Date(this.#o.clock.now()).toISOString();
      this.#state.lastError = null;
      this.#o.logger?.info({ event: 'dns-published', eventId: KMS_EVENT.published, fqdn: this.#o.fqdn, domains: this.#o.domains, addresses: this.#o.addresses }, `published ${this.#o.fqdn} in DNS`);
    } catch (err) {
      this.#state.lastError = (err as Error).message;
      this.#o.logger?.warn({ event: 'dns-publish-failed', eventId: KMS_EVENT.publishFailed, fqdn: this.#o.fqdn, ...publishFailure(err), err: (err as Error).message }, 'DNS publishing failed; will retry');
      throw err;
    }
  }

  #event(e: { id: 12294; domain: string; fqdn: string } | { id: 12293; domain: string; fqdn: string; dnsError: string; hresult: string }): void {
    // Timed by the log's clock (the host's: lab time in a lab), not the publisher's (real time, for TSIG).
    this.#o.events?.record({ ...e, source: this.#o.source ?? this.#o.fqdn });
  }

  /** Stops refreshing; with `deregister`, removes this host's SRV and address records. */
  async stop(options: { deregister?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#state.nextRefresh = null;
    // A refresh still on the wire would otherwise land after the deregistration and bring the records back.
    await this.#inFlight;
    if (!options.deregister) return;
    for (const d of this.#o.domains) {
      const name = kmsSrvName(canonicalName(d.domain));
      const mine = (await this.#currentSrv(name)).filter((rr) => rr.data?.type === 'SRV' && canonicalName(rr.data.target) === this.#o.fqdn);
      if (mine.length) await this.#update(await this.#zoneOf(name), mine.map((rr) => ({ ...rr, class: CLASS.NONE, ttl: 0 })));
    }
    if (this.#o.addresses.length > 0) {
      await this.#update(await this.#zoneOf(this.#o.fqdn), this.#addressRecords().map((rr) => ({ ...rr, class: CLASS.NONE, ttl: 0 })));
    }
    this.#o.logger?.info({ event: 'dns-deregistered', fqdn: this.#o.fqdn }, `removed ${this.#o.fqdn} from DNS`);
  }

  #attempt(): Promise<void> {
    const attempt = this.publish().then(() => true, () => false).then((ok) => {
      this.#failures = ok ? 0 : this.#failures + 1;
      this.#inFlight = null;
      this.#schedule(ok ? (this.#o.refreshMs ?? TIME.DAY_MS) : retryDelayMs(this.#failures));
    });
    this.#inFlight = attempt;
    return attempt;
  }

  #schedule(ms: number): void {
    // A publish still in flight when the host stopped schedules nothing more.
    if (this.#stopped) return;
    this.#state.nextRefresh = new Date(this.#o.clock.now() + ms).toISOString();
    this.#timer = setTimeout(() => void this.#attempt(), ms);
    this.#timer.unref();
  }

  async #publishSrv(d: PublishDomain): Promise<void> {
    const name = kmsSrvName(canonicalName(d.domain));
    const ttl = this.#o.ttl ?? DEFAULT_SRV_TTL_S;
    const port = this.#port();
    const wanted: ResourceRecord = { name, type: TYPE.SRV, class: CLASS.IN, ttl, data: { type: 'SRV', priority: d.priority, weight: d.weight, port, target: this.#o.fqdn } };
    // Our own records with other priority, weight or port go; other hosts' records are never touched.
    const stale = (await this.#currentSrv(name)).filter(
      (rr) => rr.data?.type === 'SRV' && canonicalName(rr.data.target) === this.#o.fqdn && (rr.data.priority !== d.priority || rr.data.weight !== d.weight || rr.data.port !== port),
    );
    await this.#update(await this.#zoneOf(name), [...stale.map((rr) => ({ ...rr, class: CLASS.NONE, ttl: 0 })), wanted]);
  }

  async #publishAddresses(): Promise<void> {
    const zone = await this.#zoneOf(this.#o.fqdn);
    const deletes: ResourceRecord[] = [TYPE.A, TYPE.AAAA].map((type) => ({ name: this.#o.fqdn, type, class: CLASS.ANY, ttl: 0, data: null }));
    await this.#update(zone, [...deletes, ...this.#addressRecords()]);
  }

  #port(): number {
    if (!this.#o.port) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'DNS publishing needs the KMS port');
    return this.#o.port;
  }

  #addressRecords(): ResourceRecord[] {
    const ttl = this.#o.ttl ?? DEFAULT_SRV_TTL_S;
    return this.#o.addresses.map((address) => ({
      name: this.#o.fqdn, type: address.includes(':') ? TYPE.AAAA : TYPE.A, class: CLASS.IN, ttl,
      data: address.includes(':') ? { type: 'AAAA' as const, address } : { type: 'A' as const, address },
    }));
  }

  async #currentSrv(name: string): Promise<ResourceRecord[]> {
    const { answer } = await query(this.#o.dns, name, TYPE.SRV, { transport: 'tcp' });
    return answer.answers.filter((rr) => rr.type === TYPE.SRV && canonicalName(rr.name) === name);
  }

  /** The zone a name belongs to, the way nsupdate finds it: the SOA in the answer or authority section. */
  async #zoneOf(name: string): Promise<string> {
    const { answer } = await query(this.#o.dns, name, TYPE.SOA, { transport: 'tcp' });
    const soa = [...answer.answers, ...answer.authorities].find((rr) => rr.type === TYPE.SOA);
    if (!soa) {
      throw new KmsLabError('KMSLAB_CONNECTION_FAILED', `No zone for ${name} at DNS server ${this.#o.dns.host}:${this.#o.dns.port} (${rcodeName(answer.rcode)}, no SOA)`);
    }
    return canonicalName(soa.name);
  }

  #update(zone: string, records: ResourceRecord[]): Promise<void> {
    return updateZone(this.#o.dns, zone, records, this.#o.key, this.#o.clock.now());
  }
}
