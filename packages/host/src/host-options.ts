import type { AdminApp } from '@kmslab/server-kit';
import {
  Catalog,
  EventLog,
  DEFAULT_ACTIVATION_INTERVAL_MIN,
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_KMS_PORT,
  DEFAULT_RENEWAL_INTERVAL_MIN,
  MAX_CLOCK_SKEW_MS,
  KmsLabError,
  isValidInterval,
  realClock,
  type ClientView,
  type Clock,
  type HostStatus,
  type RequestView,
  type SettableClock,
} from '@kmslab/core';
import { adminTokenFor } from '@kmslab/server-kit';
import type { Logger } from 'pino';
import type { DnsPublisher } from './publish/dns-publisher.js';
import type { ActivationStore } from './store/store.js';

/** Everything a KMS host is started with; only hostId and store are required. */
export interface HostOptions {
  /** One logical KMS host; replicas with the same id share one count through the store. */
  hostId: string;
  store: ActivationStore;
  catalog?: Catalog;
  clock?: Clock;
  /** Lab runs only: the admin listener takes `PUT /lab/clock {"now": ms}` and sets this clock (use it as `clock` too). */
  clockControl?: SettableClock;
  logger?: Logger;
  /** Key group id (or its lab key); default: the catalog's newest server group. */
  keyGroup?: string;
  /** License pack ids (or lab keys), e.g. office-2013. */
  licensePacks?: readonly string[];
  /** Addresses to listen on; default dual-stack `::` (falls back to 0.0.0.0 without IPv6). */
  listen?: readonly string[];
  /** KMS port; 0 picks a free one. */
  port?: number;
  /** Admin HTTP listener `HOST:PORT` (`/status`, `/metrics`, `/healthz`); null turns it off. */
  admin?: string | null;
  /**
   * Bearer token the admin listener requires. Given: required on any address.
   * Not given: none on loopback; beyond loopback one is generated (`KmsHost.adminToken`).
   */
  adminToken?: string;
  /** Refuse every change on the admin listener (`PUT /lab/clock`) with 403. */
  adminReadOnly?: boolean;
  /** Names besides IP addresses and `localhost` that requests may address the admin listener by (a container's name, a proxy's). */
  adminAllowedHosts?: readonly string[];
  /**
   * More routes for the admin listener: the dashboard page (`kmslab host
   * start` serves it at `/`); a function is given the host before it
   * listens, for a page that reads the host itself.
   */
  adminPage?: AdminPage | ((host: HostReadings) => AdminPage | null) | null;
  activationIntervalMin?: number;
  renewalIntervalMin?: number;
  maxConnections?: number;
  /** A connection with nothing to say for this long is closed. */
  idleTimeoutMs?: number;
  /** On close, how long in-flight requests may take to finish. */
  drainTimeoutMs?: number;
  /** Client time further off than this is refused with 0xC004F06C (default 4 h; Infinity turns the check off). */
  maxClockSkewMs?: number;
  /** MAK keys the emulated activation authority knows, with the activations each allows. */
  makKeys?: ReadonlyArray<{ key: string; activations: number }>;
  /** DNS publishing (started with the host, stopped on close). */
  publisher?: DnsPublisher | null;
  /** On close, remove this host's records from DNS. */
  deregisterOnClose?: boolean;
  /**
   * The host's event log (`GET /events`): 12290 for every request, and its
   * publisher's 12293/12294 when it shares this log. Default: a new one of 1,000.
   */
  events?: EventLog;
}

export type ResolvedHostOptions = Required<Omit<HostOptions, 'logger' | 'admin' | 'adminToken' | 'publisher' | 'clockControl' | 'adminPage'>> & {
  adminPage: NonNullable<HostOptions['adminPage']> | null;
  clockControl: SettableClock | undefined;
  logger: Logger | undefined;
  admin: string | null;
  adminToken: { value: string; generated: boolean } | null;
  publisher: DnsPublisher | null;
};

/** What a page on the admin listener may read of its host (the dashboard's sources). */
export interface HostReadings {
  status(): Promise<HostStatus>;
  clients(): { perFamily: number; families: Record<string, ClientView[]> };
  requests(): { capacity: number; requests: RequestView[] };
  /** Its event log (12290, 12293, 12294), as `GET /events` serves it. */
  readonly events: EventLog;
}

/** More routes for an admin listener (the dashboard page): added beside its own, behind the same token and change rules. */
export interface AdminPage {
  /** Adds its routes to the listener's app before it listens. */
  routes(app: AdminApp): void;
}

const HOST_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function resolveHostOptions(o: HostOptions): ResolvedHostOptions {
  if (!HOST_ID.test(o.hostId)) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `Host id "${o.hostId}" must be 1-64 letters, digits, dots, dashes or underscores`);
  }
  const catalog = o.catalog ?? Catalog.load();
  const admin = o.admin === undefined ? DEFAULT_ADMIN_ADDRESS : o.admin;
  // DEVELOPERS.md "Secure by default": beyond loopback the admin listener needs a token.
  const adminToken = admin === null ? null : adminTokenFor(admin, o.adminToken);
  const activationIntervalMin = o.activationIntervalMin ?? DEFAULT_ACTIVATION_INTERVAL_MIN;
  const renewalIntervalMin = o.renewalIntervalMin ?? DEFAULT_RENEWAL_INTERVAL_MIN;
  for (const [name, v] of [['activation', activationIntervalMin], ['renewal', renewalIntervalMin]] as const) {
    if (!isValidInterval(v)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `The ${name} interval must be 15 to 43200 minutes (got ${v})`);
  }
  return {
    hostId: o.hostId,
    store: o.store,
    catalog,
    clock: o.clock ?? o.clockControl ?? realClock,
    clockControl: o.clockControl,
    logger: o.logger,
    events: o.events ?? new EventLog(1000, () => (o.clock ?? o.clockControl ?? realClock).now()),
    keyGroup: catalog.keyGroup(o.keyGroup ?? catalog.defaultKeyGroup).id,
    licensePacks: [...new Set((o.licensePacks ?? []).map((p) => catalog.licensePack(p).id))],
    // The same address twice is one listener (a repeated --listen), not a clash with itself.
    listen: o.listen?.length ? [...new Set(o.listen)] : ['::'],
    port: o.port ?? DEFAULT_KMS_PORT,
    admin,
    adminToken,
    adminReadOnly: o.adminReadOnly ?? false,
    adminAllowedHosts: o.adminAllowedHosts ?? [],
    adminPage: o.adminPage ?? null,
    activationIntervalMin,
    renewalIntervalMin,
    maxConnections: o.maxConnections ?? 10_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 60_000,
    drainTimeoutMs: o.drainTimeoutMs ?? 10_000,
    publisher: o.publisher ?? null,
    makKeys: o.makKeys ?? [],
    maxClockSkewMs: o.maxClockSkewMs ?? MAX_CLOCK_SKEW_MS,
    deregisterOnClose: o.deregisterOnClose ?? false,
  };
}
