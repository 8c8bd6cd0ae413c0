import { KmsLabError, parseHostPort } from '@kmslab/core';
import { TYPE, canonicalName, query, type DnsTarget, type TsigKey } from '@kmslab/dns-wire';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { sameAddress } from './harness/fault-rule.js';
import { transferIncremental, transferZone } from './transfer-client.js';
import { serialGreater } from './zone/serial.js';
import type { ZoneSet } from './zone/zone-set.js';
import { Zone } from './zone/zone.js';

/** `--secondary ZONE@HOST[:PORT]`, e.g. `corp.test@192.0.2.53` (port 53 by default). */
export function parseSecondary(text: string): { zone: string; primary: DnsTarget } {
  const at = text.indexOf('@');
  if (at <= 0) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--secondary "${text.slice(0, 80)}": must be ZONE@HOST[:PORT], e.g. lab.test@127.0.0.1:5300`);
  return { zone: canonicalName(text.slice(0, at)), primary: parseHostPort(text.slice(at + 1), { defaultPort: 53, what: '--secondary' }) };
}

/** Before a first SOA says otherwise: try again after a minute, give up after a day (RFC 1035 §3.3.13 leaves them to the SOA). */
const DEFAULT_RETRY_S = 60;

/** What `GET /zones` and the dashboard show of a secondary zone. */
export interface SecondaryState {
  zone: string;
  primary: string;
  serial: number | null;
  lastRefresh: string | null;
  lastError: string | null;
  expired: boolean;
}

/**
 * One zone this server follows from a primary (RFC 1034 §4.3.5, RFC 1996):
 * transferred (AXFR, signed with the key when given) at start, then again
 * whenever the primary's SOA serial is greater — checked every SOA refresh,
 * every SOA retry after a failure, and at once on a NOTIFY from the primary
 * (from any other address it is refused). Until the first transfer, and once
 * no refresh succeeded for the SOA expire, its queries are SERVFAIL.
 */
export class SecondaryZone {
  #timer: NodeJS.Timeout | null = null;
  #serial: number | null = null;
  #lastSuccess: number | null = null;
  #lastError: string | null = null;
  #expired = false;
  #refreshing: Promise<void> | null = null;
  #closed = false;
  /** Where the primary's NOTIFY may come from: its address, or what its name resolved to at the last refresh. */
  #primaryAddresses: string[];
  /** When the next refresh is due (ms, the server's clock), with `clockTimers`. */
  #dueAt: number | null = null;
  readonly #timers: { refresh: number; retry: number; expire: number } = { refresh: DEFAULT_RETRY_S, retry: DEFAULT_RETRY_S, expire: 86_400 };

  constructor(
    readonly zone: string,
    readonly primary: DnsTarget,
    private readonly o: {
      zones: ZoneSet; key?: TsigKey | null | undefined; now: () => number; logger?: Logger | undefined; onChanged?: ((zone: Zone) => void) | undefined;
      /** SOA refresh and retry on `now`'s clock, run by `refreshIfDue()` (a lab on a virtual clock), not on real timers. */
      clockTimers?: boolean | undefined;
    },
  ) {
    o.zones.markUnavailable(zone);
    this.#primaryAddresses = [primary.host.replace(/^\[|\]$/g, '')];
  }

  state(): SecondaryState {
    return {
      zone: this.zone, primary: `${this.primary.host}:${this.primary.port}`, serial: this.#serial,
      lastRefresh: this.#lastSuccess === null ? null : new Date(this.#lastSuccess).toISOString(), lastError: this.#lastError, expired: this.#expired,
    };
  }

  /** The first refresh; later ones follow the SOA timers. */
  start(): Promise<void> {
    return this.refresh('start');
  }

  /** A NOTIFY for this zone: true (and a refresh) when it came from the primary's address (a primary given by name: an address it had at the last refresh). */
  notified(from: string): boolean {
    if (!this.#primaryAddresses.some((a) => sameAddress(a, from))) return false;
    void this.refresh('notify');
    return true;
  }

  /** The primary's addresses: itself when given as one, else what its name resolves to now (a container's name on a Docker network). */
  async #resolvePrimary(): Promise<void> {
    const host = this.primary.host.replace(/^\[|\]$/g, '');
    if (isIP(host)) return;
    try {
      const found = await lookup(host, { all: true });
      this.#primaryAddresses = found.map((a) => a.address);
    } catch {
      // Unresolvable now: the transfer below fails and says so; NOTIFYs wait for an address.
    }
  }

  refresh(reason: string): Promise<void> {
    this.#refreshing ??= this.#refresh(reason).finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #refresh(reason: string): Promise<void> {
    if (this.#closed) return;
    await this.#resolvePrimary();
    try {
      const { answer } = await query({ ...this.primary, timeoutMs: 5000 }, this.zone, TYPE.SOA, { transport: 'tcp' });
      const soa = answer.answers.find((rr) => rr.type === TYPE.SOA && canonicalName(rr.name) === this.zone)?.data as { serial: number; refresh: number; retry: number; expire: number } | undefined;
      if (!soa) throw new KmsLabError('KMSLAB_CONNECTION_FAILED', `${this.primary.host}:${this.primary.port} has no SOA for ${this.zone}`);
      if (this.#serial === null || serialGreater(soa.serial, this.#serial) || this.#expired) {
        const from = this.#serial;
        const { zone, how, records } = await this.#transfer();
        if (zone) {
          this.o.zones.add(zone);
          this.#serial = zone.serial;
          this.#expired = false;
          this.o.logger?.info({ event: 'secondary-transferred', zone: this.zone, primary: `${this.primary.host}:${this.primary.port}`, reason, how, fromSerial: from, serial: zone.serial, records }, `zone ${this.zone} transferred from its primary by ${how} (serial ${from ?? '-'} -> ${zone.serial}, ${records} records)`);
          this.o.onChanged?.(zone);
        }
      }
      Object.assign(this.#timers, { refresh: soa.refresh, retry: soa.retry, expire: soa.expire });
      this.#lastSuccess = this.o.now();
      this.#lastError = null;
      this.#schedule(this.#timers.refresh);
    } catch (err) {
      this.#lastError = (err as Error).message;
      const since = this.#lastSuccess;
      if (since !== null && !this.#expired && this.o.now() - since >= this.#timers.expire * 1000) {
        // RFC 1035 §3.3.13: past expire the data is no longer authoritative.
        this.#expired = true;
        this.o.zones.markUnavailable(this.zone);
        this.o.logger?.error({ event: 'secondary-expired', zone: this.zone, primary: `${this.primary.host}:${this.primary.port}` }, `zone ${this.zone} expired: no refresh from its primary for ${this.#timers.expire} s; answering SERVFAIL`);
      } else this.o.logger?.warn({ event: 'secondary-refresh-failed', zone: this.zone, reason, error: this.#lastError }, `refresh of ${this.zone} failed: ${this.#lastError}`);
      this.#schedule(this.#lastSuccess === null ? DEFAULT_RETRY_S : Math.min(this.#timers.retry, Math.max(1, this.#timers.expire - (this.o.now() - this.#lastSuccess) / 1000)));
    }
  }

  /**
   * The primary's zone as it is now: by IXFR from the serial held here
   * (RFC 1995: only what changed), or by AXFR before the first transfer,
   * past the expire, and when the primary answers the IXFR with the whole
   * zone; null when the IXFR says nothing changed after all.
   */
  async #transfer(): Promise<{ zone: Zone | null; how: 'IXFR' | 'AXFR'; records: number }> {
    const source = { host: this.primary.host, port: this.primary.port, zone: this.zone, key: this.o.key, nowMs: this.o.now() };
    const held = this.#expired ? null : this.o.zones.get(this.zone);
    if (this.#serial === null || !held) {
      const records = await transferZone(source);
      return { zone: Zone.of(this.zone, records), how: 'AXFR', records: records.length };
    }
    const answer = await transferIncremental({ ...source, have: held.soa });
    if (answer.kind === 'current') return { zone: null, how: 'IXFR', records: 1 };
    if (answer.kind === 'full') return { zone: Zone.of(this.zone, answer.records), how: 'AXFR', records: answer.records.length };
    if (answer.diffs[0]?.from !== held.serial) throw new KmsLabError('KMSLAB_DNS_MALFORMED', `IXFR of ${this.zone}: the changes start at serial ${answer.diffs[0]?.from}, this server holds ${held.serial}`);
    // Applied to a copy, served once whole; the copy keeps the history this server's own secondaries ask IXFR from.
    const zone = held.clone();
    const names = new Set<string>();
    for (const d of answer.diffs) {
      for (const rr of d.deleted) zone.delete(rr.name, rr.type, rr.data, { bumpSerial: false });
      for (const rr of d.added) zone.add(rr, { bumpSerial: false });
      for (const rr of [...d.deleted, ...d.added]) names.add(rr.name);
    }
    zone.add(answer.soa, { bumpSerial: false });
    zone.recordChangeFrom(held, names);
    return { zone, how: 'IXFR', records: answer.diffs.reduce((n, d) => n + d.deleted.length + d.added.length, 0) };
  }

  /** The refresh or retry due by now on the server's clock, if any (`clockTimers`); resolves when it is done. */
  refreshIfDue(): Promise<void> {
    if (this.#dueAt === null || this.o.now() < this.#dueAt) return Promise.resolve();
    this.#dueAt = null;
    return this.refresh('timer');
  }

  #schedule(seconds: number): void {
    if (this.#closed) return;
    if (this.o.clockTimers) {
      this.#dueAt = this.o.now() + Math.max(1, seconds) * 1000;
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refresh('timer'), Math.max(1, seconds) * 1000);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
