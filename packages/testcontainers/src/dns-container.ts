import { randomBytes } from 'node:crypto';
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers';
import { waitFor, type LoggedQuery } from '@kmslab/core';
import { TYPE, query } from '@kmslab/dns-wire';
import { DnsAnswerWaitStrategy } from './dns-answer-wait.js';
import { KMSLAB_IMAGE } from './images.js';
import { dockerHostNames, publishOnLoopbackWhenLocal } from './loopback-ports.js';

/** The admin listener's port inside the container (queries, faults). */
const ADMIN_PORT = 8054;

/** A fault rule's fields (docs/dns-faults.md), as `kmslab dns fault add` takes them. */
export interface DnsFault {
  name: string;
  type?: string;
  action: string;
  probability?: number;
  every?: number;
  count?: number;
  from?: string;
  transport?: 'udp' | 'tcp';
  until?: string;
}

export type { LoggedQuery } from '@kmslab/core';

/**
 * `kmslab dns start` in a container: authoritative for `zone`, dynamic update
 * with TSIG keys, and the test harness (query log, faults) on its admin
 * listener, reached through a token (random unless `withAdminToken`). With a
 * local Docker daemon the ports are published on 127.0.0.1 only.
 */
export class KmsLabDnsContainer extends GenericContainer {
  #zone = 'lab.test';
  readonly #keys: string[] = [];
  readonly #faults: string[] = [];
  #secure = false;
  /** `--group` and `--grant` as `kmslab dns start` takes them. */
  readonly #grantFlags: string[] = [];
  #aging: { intervals: string; period?: string | undefined } | null = null;
  /** `--notify` and `--allow-transfer` as `kmslab dns start` takes them. */
  readonly #replicationFlags: string[] = [];
  #secondaryOf: { primary: string; key?: string | undefined } | null = null;
  #adminToken = randomBytes(24).toString('base64url');

  constructor(image = KMSLAB_IMAGE) {
    super(image);
    // TCP only from the tests: testcontainers keeps one protocol per port number.
    // Containers on the network use UDP as usual.
    this.withExposedPorts('53/tcp', ADMIN_PORT);
  }

  withZone(zone: string): this {
    this.#zone = zone.replace(/\.$/, '');
    return this;
  }

  /** `NAME:ALG:SECRET[:GRANTS]`, as `kmslab dns start --tsig-key` takes it; repeatable. */
  withTsigKey(key: string): this {
    this.#keys.push(key);
    return this;
  }

  /** The admin listener's bearer token (at least 16 characters; default: a random one). */
  withAdminToken(token: string): this {
    this.#adminToken = token;
    return this;
  }

  /** A fault on from the start, in the `--fault` form (`NAME[/TYPE]=ACTION,…`); repeatable. */
  withFault(rule: string): this {
    this.#faults.push(rule);
    return this;
  }

  /** Makes the zone secure-only, as an AD-integrated zone (docs/secure-zones.md): each name owned by the key that created it. */
  withSecureZone(): this {
    this.#secure = true;
    return this;
  }

  /** A group of TSIG keys, granted on names with `withGrant` (or `grant` once started). */
  withGroup(group: string, keys: readonly string[]): this {
    this.#grantFlags.push('--group', `${group}=${keys.join(',')}`);
    return this;
  }

  /** The group's keys may change `name` whoever owns it. */
  withGrant(name: string, group: string): this {
    this.#grantFlags.push('--grant', `${name}=${group}`);
    return this;
  }

  /** Ages the zone's dynamic records, `NOREFRESH/REFRESH` (e.g. `7d/7d`), with a scavenging pass every `period` (default 7d). */
  withAging(intervals: string, period?: string): this {
    this.#aging = { intervals, period };
    return this;
  }

  /** Sends NOTIFY (RFC 1996) to `target`, `HOST[:PORT]` (a secondary's network alias, port 53 by default), on every change; repeatable. */
  withNotify(target: string): this {
    this.#replicationFlags.push('--notify', target);
    return this;
  }

  /** Lets secondaries in `cidr` (the Docker network's subnet, say) transfer the zone without a key; repeatable. */
  withAllowTransfer(cidr: string): this {
    this.#replicationFlags.push('--allow-transfer', cidr);
    return this;
  }

  /**
   * Follows the zone from `primary`, `HOST[:PORT]` (another DNS container's
   * network alias, a BIND server), as its secondary instead of serving it
   * (docs/secondaries.md): AXFR at start, IXFR on the primary's NOTIFY and
   * SOA refresh; `key` signs the transfers with a key given by
   * `withTsigKey(…:transfer)`.
   */
  withSecondaryOf(primary: string, options: { key?: string } = {}): this {
    this.#secondaryOf = { primary, key: options.key };
    return this;
  }

  override async start(): Promise<StartedKmsLabDnsContainer> {
    const served = this.#secondaryOf
      ? ['--secondary', `${this.#zone}@${this.#secondaryOf.primary}`, ...(this.#secondaryOf.key ? ['--secondary-key', this.#secondaryOf.key] : [])]
      : ['--zone', this.#zone];
    this.withCommand([
      'dns', 'start', '--listen', '0.0.0.0', '--port', '53', ...served, '--admin', `0.0.0.0:${ADMIN_PORT}`, '--log-format', 'json', ...this.#replicationFlags,
      ...(await dockerHostNames()), ...this.#faults.flatMap((f) => ['--fault', f]),
      ...(this.#secure ? ['--secure-zone', this.#zone] : []), ...this.#grantFlags,
      ...(this.#aging ? ['--aging', `${this.#zone}=${this.#aging.intervals}`, ...(this.#aging.period ? ['--scavenge-period', this.#aging.period] : [])] : []),
    ]);
    // Secrets in the environment, not the command line, which the Docker host's `ps` shows every user.
    this.withEnvironment({ KMSLAB_ADMIN_TOKEN: this.#adminToken, ...(this.#keys.length && { KMSLAB_TSIG_KEY: this.#keys.join('\n') }) });
    this.withWaitStrategy(new DnsAnswerWaitStrategy(this.#zone));
    await publishOnLoopbackWhenLocal(this.hostConfig);
    return new StartedKmsLabDnsContainer(await super.start(), this.#zone, this.#adminToken);
  }
}

/** The lab DNS container: its address, its admin listener and its test harness. */
export class StartedKmsLabDnsContainer extends AbstractStartedContainer {
  constructor(
    started: StartedTestContainer,
    readonly zone: string,
    /** The admin listener's bearer token. */
    readonly adminToken: string,
  ) {
    super(started);
  }

  /** Where the tests reach the DNS server (TCP). */
  get target(): { host: string; port: number } {
    return { host: this.getHost(), port: this.getMappedPort(53, 'tcp') };
  }

  /** The DNS admin listener as the tests reach it (`/queries`, `/faults`, `/metrics`). */
  get adminUrl(): string {
    return `http://${this.getHost()}:${this.getMappedPort(ADMIN_PORT)}`;
  }

  async #admin(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${this.adminUrl}${path}`, { ...init, headers: { authorization: `Bearer ${this.adminToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    if (res.status >= 400) throw new Error(`kmslab DNS admin ${init.method ?? 'GET'} ${path}: ${res.status} ${(await res.text()).trim()}`);
    return res;
  }

  /** Switches a fault on (docs/dns-faults.md); resolves with its id. */
  async addFault(fault: DnsFault | string): Promise<string> {
    const body = typeof fault === 'string' ? { rule: fault } : fault;
    return ((await (await this.#admin('/faults', { method: 'POST', body: JSON.stringify(body) })).json()) as { id: string }).id;
  }

  /** Adds groups and grants (and secure zones) at run time, as `kmslab dns grant` does (POST /grants); resolves with the whole state. */
  async grant(change: { groups?: Record<string, string[]>; grants?: Record<string, string[]>; secureZones?: string[] }): Promise<{ secureZones: string[]; groups: Record<string, string[]>; grants: Record<string, string[]>; owners: Array<{ zone: string; name: string; owner: string; grantedTo: string[] }> }> {
    return (await this.#admin('/grants', { method: 'POST', body: JSON.stringify(change) })).json() as never;
  }

  /** The zone's SOA serial here (over TCP), or null while it has none to give (a secondary before its first transfer). */
  async serial(): Promise<number | null> {
    const { answer } = await query(this.target, this.zone, TYPE.SOA, { transport: 'tcp' });
    const soa = answer.answers.find((rr) => rr.type === TYPE.SOA)?.data as { serial: number } | undefined;
    return soa?.serial ?? null;
  }

  /** A scavenging pass now (POST /scavenge), or with `dryRun` what it would remove. */
  async scavenge(options: { dryRun?: boolean } = {}): Promise<Array<{ zone: string; name: string; type: string; data: string; refreshedAt: string }>> {
    return ((await (await this.#admin(`/scavenge${options.dryRun ? '?dryRun=1' : ''}`, { method: 'POST' })).json()) as { removed: never[] }).removed;
  }

  async removeFault(id: string): Promise<void> {
    await this.#admin(`/faults/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  async clearFaults(): Promise<void> {
    await this.#admin('/faults', { method: 'DELETE' });
  }

  /** The query log, filtered like `GET /queries` (name exact or `*.suffix`, type, since ms, limit). */
  async queries(filter: { name?: string; type?: string; since?: number; limit?: number } = {}): Promise<LoggedQuery[]> {
    const params = new URLSearchParams(Object.entries(filter).map(([k, v]): [string, string] => [k, String(v)]));
    return (await (await this.#admin(`/queries?${params}`)).json()) as LoggedQuery[];
  }

  /** Resolves with the first logged query for `name` (and `type`) — one already made, or the next; bounded by `timeoutMs`. */
  async waitForQuery(name: string, type?: string, options: { timeoutMs?: number } = {}): Promise<LoggedQuery> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return waitFor(async () => (await this.queries({ name, ...(type && { type }), limit: 1 }))[0], {
      timeoutMs,
      everyMs: 100,
      timedOut: () => new Error(`no ${type ?? ''} query for ${name} reached the kmslab DNS within ${timeoutMs} ms`),
    });
  }
}
