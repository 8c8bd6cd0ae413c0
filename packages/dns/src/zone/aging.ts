import { KmsLabError, TIME, parseDurationMs } from '@kmslab/core';
import { TYPE, canonicalName, type ResourceRecord } from '@kmslab/dns-wire';
import { rdataKey, type Zone } from './zone.js';

/** A zone's aging intervals (Windows DNS: no-refresh and refresh, 7 days each by default). */
export interface AgingRule {
  noRefreshMs: number;
  refreshMs: number;
}

/** What a scavenging pass removed (or, dry, would remove): each stale record and when it was last refreshed. */
export interface ScavengedRecord {
  zone: string;
  record: ResourceRecord;
  refreshedAt: number;
}

/** Windows DNS's default aging intervals: no-refresh 7 days, refresh 7 days. */
export const DEFAULT_AGING: AgingRule = { noRefreshMs: 7 * TIME.DAY_MS, refreshMs: 7 * TIME.DAY_MS };
/** Windows DNS's default scavenging period: a pass every 7 days. */
export const DEFAULT_SCAVENGE_PERIOD_MS = 7 * TIME.DAY_MS;

/**
 * Aging and scavenging as the Windows DNS server does them (kms-reference.md
 * "Publishing in Active Directory DNS"): a record added by dynamic update
 * carries a timestamp, static ones (zone file, admin API) none; a refresh
 * inside the no-refresh interval leaves the timestamp alone (so replication
 * is not flooded); a record not refreshed for no-refresh + refresh is stale,
 * and the next scavenging pass deletes it. Off unless a zone is given
 * intervals (`--aging lab.test=7d/7d`), as in Windows.
 */
export class Aging {
  readonly #rules = new Map<string, AgingRule>();

  constructor(
    rules: Readonly<Record<string, AgingRule>> = {},
    /** How often a scavenging pass runs (`--scavenge-period`). */
    readonly periodMs: number = DEFAULT_SCAVENGE_PERIOD_MS,
  ) {
    for (const [zone, rule] of Object.entries(rules)) this.#rules.set(canonicalName(zone), rule);
  }

  /** Any zone aging? (Scavenging passes run only then.) */
  get active(): boolean {
    return this.#rules.size > 0;
  }

  rule(zone: string): AgingRule | null {
    return this.#rules.get(canonicalName(zone)) ?? null;
  }

  /** Every aging zone and its intervals. */
  rules(): Array<[zone: string, rule: AgingRule]> {
    return [...this.#rules];
  }

  /**
   * Timestamps after a dynamic update applied to `after`: a record it added
   * gets `now`; one it refreshed (it was there) gets `now` only once the
   * no-refresh interval has passed. True when a timestamp changed.
   */
  stampUpdate(before: Zone, after: Zone, added: readonly ResourceRecord[], now: number): boolean {
    const rule = this.rule(after.origin) ?? DEFAULT_AGING;
    let touched = false;
    for (const rr of added) {
      if (rr.type === TYPE.SOA || !rr.data) continue;
      const was = before.rrset(rr.name, rr.type)?.records.some((d) => rdataKey(d) === rdataKey(rr.data!)) ?? false;
      const stamp = after.stamp(rr.name, rr.type, rr.data);
      // A record that came from the zone file and is now refreshed dynamically becomes dynamic (Windows does the same).
      if (!was || stamp === null || now - stamp >= rule.noRefreshMs) {
        if (stamp !== now) touched = true;
        after.setStamp(rr.name, rr.type, rr.data, now);
      }
    }
    return touched;
  }

  /** The stale records of an aging zone at `now` (not refreshed for no-refresh + refresh). */
  stale(zone: Zone, now: number): ScavengedRecord[] {
    const rule = this.rule(zone.origin);
    if (!rule) return [];
    return zone.stamped().filter((s) => now - s.at >= rule.noRefreshMs + rule.refreshMs).map((s) => ({ zone: zone.origin, record: s.record, refreshedAt: s.at }));
  }
}

/** `--aging ZONE=NOREFRESH/REFRESH`, e.g. `lab.test=7d/7d` (durations as `10m`, `6h`, `7d`). */
export function parseAging(text: string): { zone: string; rule: AgingRule } {
  const m = /^([^=]+)=([^/]+)\/(.+)$/.exec(text.trim());
  const noRefreshMs = m ? parseDurationMs(m[2]!) : null;
  const refreshMs = m ? parseDurationMs(m[3]!) : null;
  if (!m || noRefreshMs === null || refreshMs === null || noRefreshMs + refreshMs <= 0 || noRefreshMs + refreshMs > 3650 * TIME.DAY_MS) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--aging "${text.slice(0, 80)}": must be ZONE=NOREFRESH/REFRESH with durations such as 7d/7d (together at most 3650d)`);
  }
  return { zone: canonicalName(m[1]!), rule: { noRefreshMs, refreshMs } };
}

/** `--scavenge-period 7d`: a duration of 1 minute to 3650 days. */
export function parseScavengePeriod(text: string): number {
  const ms = parseDurationMs(text.trim());
  if (ms === null || ms < TIME.MINUTE_MS || ms > 3650 * TIME.DAY_MS) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `--scavenge-period "${text.slice(0, 40)}": must be a duration from 1m to 3650d, such as 7d`);
  return ms;
}
