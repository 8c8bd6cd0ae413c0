import { KmsLabError, parseHostPort } from '@kmslab/core';
import { TYPE, canonicalName, query, type DnsTarget, type TsigKey } from '@kmslab/dns-wire';
import type { Logger } from 'pino';
import { transferZone } from './transfer-client.js';
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
  readonly #timers: { refresh: number; retry: number; expire: number } = { refresh: DEFAULT_RETRY_S, retry: DEFAULT_RETRY_S, expire: 86_400 };

  constructor(
    readonly zone: string,
    readonly primary: DnsTarget,
    private readonly o: { zones: ZoneSet; key?: TsigKey | null | undefined; now: () => number; logger?: Logger | undefined; onChanged?: ((zone: Zone) => void) | undefined },
  ) {
    o.zones.markUnavailable(zone);
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

  /** A NOTIFY for this zone: true (and a refresh) when it came from the primary's address. */
  notified(from: string): boolean {
    if (from.replace(/^::ffff:/, '') !== this.primary.host.replace(/^\[|\]$/g, '')) return false;
    void this.refresh('notify');
    return true;
  }

  refresh(reason: string): Promise<void> {
    this.#refreshing ??= this.#refresh(reason).finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #refresh(reason: string): Promise<void> {
    if (this.#closed) return;
    try {
      const { answer } = await query({ ...this.primary, timeoutMs: 5000 }, this.zone, TYPE.SOA, { transport: 'tcp' });
      const soa = answer.answers.find((rr) => rr.type === TYPE.SOA && canonicalName(rr.name) === this.zone)?.data as { serial: number; refresh: number; retry: number; expire: number } | undefined;
      if (!soa) throw new KmsLabError('KMSLAB_CONNECTION_FAILED', `${this.primary.host}:${this.primary.port} has no SOA for ${this.zone}`);
      if (this.#serial === null || serialGreater(soa.serial, this.#serial) || this.#expired) {
        const records = await transferZone({ host: this.primary.host, port: this.primary.port, zone: this.zone, key: this.o.key, nowMs: this.o.now() });
        const zone = Zone.of(this.zone, records);
        this.o.zones.add(zone);
        const from = this.#serial;
        this.#serial = zone.serial;
        this.#expired = false;
        this.o.logger?.info({ event: 'secondary-transferred', zone: this.zone, primary: `${this.primary.host}:${this.primary.port}`, reason, fromSerial: from, serial: zone.serial, records: records.length }, `zone ${this.zone} transferred from its primary (serial ${zone.serial})`);
        this.o.onChanged?.(zone);
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

  #schedule(seconds: number): void {
    if (this.#closed) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refresh('timer'), Math.max(1, seconds) * 1000);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
