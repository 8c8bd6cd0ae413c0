import type { LicenseStatus } from './license-status.js';
import type { Family } from './catalog/types.js';
import type { ErrorCode } from './errors.js';

/**
 * The JSON users' scripts read — a client's activation result and what the
 * admin listeners answer (docs/admin-api.md, docs/dns-faults.md) — declared
 * once, here, for the code that makes it (@kmslab/client, @kmslab/host,
 * @kmslab/dns), the container modules that read it (@kmslab/testcontainers)
 * and the dashboard that shows it. Types only: nothing here runs.
 */

// ---- an activation: `kmslab activate --json`, `kmslab client activate --json`, `lab.activate()`, a container client's `activate()`

/** How the client found the host it talked to. */
export type DiscoveredBy = 'manual' | 'cache' | 'dns';

/** What one activation attempt came to, as users' scripts read it. */
export interface ActivationResult {
  licensed: boolean;
  count: number | null;
  /** `kms` (a host's count), `mak` (the client's MAK), or null when nothing answered. */
  activatedBy: 'kms' | 'mak' | null;
  makRemaining: number | null;
  threshold: number;
  /** The code a Windows client would show (0xC004F038, 0x8007232A…), null when licensed. */
  errorCode: ErrorCode | null;
  message: string | null;
  host: string | null;
  discoveredBy: DiscoveredBy | null;
  product: string;
  cmid: string;
  /** The hosts tried before one answered (or all of them), and why each failed. */
  tried: Array<{ host: string; discoveredBy: DiscoveredBy; error: string }>;
  /** The application family the answering host counted the product in; null when no host answered by count. */
  family: string | null;
  /** The answering host's id (as `slmgr /dlv` names the KMS machine); null when no host answered by count. */
  hostId: string | null;
  /** The intervals the host told the client to use from now on (minutes); null when no host answered by count. */
  activationIntervalMin: number | null;
  renewalIntervalMin: number | null;
}

// ---- a KMS host's admin listener: /status, /clients, /requests

/** What `slmgr /dlv` shows per application on a KMS host (kms-reference.md "What a host shows"). */
export interface FamilyStats {
  currentCount: number;
  totalRequests: number;
  failedRequests: number;
  requestsByStatus: Record<LicenseStatus, number>;
}

/** Who asked for what, and what this host answered: the fields a client and a request view share. */
export interface SeenRequest {
  cmid: string;
  /** The machine's name as it sent it (its FQDN). */
  machine: string;
  product: string;
  family: string;
  /** What the client reported about itself when it asked. */
  licenseStatus: LicenseStatus;
  /** `licensed`, or the error code of the answer. */
  answer: string;
}

/** A client as the host last saw it (what `GET /clients` lists, per family); `answer` is the last one. */
export interface ClientView extends SeenRequest {
  firstContact: string;
  lastContact: string;
  contacts: number;
  /** When it should be back: the renewal interval after a licensed answer, the activation interval otherwise. */
  nextContact: string;
}

/** One request and its answer (what `GET /requests` lists, newest first). */
export interface RequestView extends SeenRequest {
  time: string;
  count: number | null;
  peer: string;
}

/** An address the KMS port listens on. */
export interface ListenAddress {
  address: string;
  port: number;
  family: string;
}

/** A domain to publish in, with the SRV priority and weight there (DnsDomainPublishList: "domain, priority, weight"). */
export interface PublishDomain {
  domain: string;
  priority: number;
  weight: number;
}

/** What a publishing host registered, when, and its last error. */
export interface PublishState {
  enabled: boolean;
  fqdn: string;
  domains: PublishDomain[];
  lastPublished: string | null;
  lastError: string | null;
  nextRefresh: string | null;
}

/** `/status`: what `slmgr /dlv` shows on a KMS host, per family, plus this replica's own figures. */
export interface HostStatus {
  hostId: string;
  software: string;
  startedAt: string;
  time: string;
  kms: { port: number; addresses: ListenAddress[] };
  keyGroup: { id: string; name: string };
  licensePacks: Array<{ id: string; name: string }>;
  activationIntervalMin: number;
  renewalIntervalMin: number;
  dnsPublishing: boolean;
  /** Present when publishing: what was registered, when, and the last error. */
  publishing?: PublishState;
  store: { kind: string; healthy: boolean; error?: string };
  families: Record<Family, FamilyStats>;
  replica: { pid: number; requestsServed: number; connections: number; realKmsClients: number };
}

// ---- the DNS server's admin listener: /queries, /faults, /zones

/** One query or update as the server received and answered it (the query log). */
export interface QueryLogEntry {
  /** Its place in the log since the server started (1, 2, …): `before=` and `after=` page by it. */
  seq: number;
  /** When it arrived (ms since the epoch); JSON forms add `time` as ISO. */
  at: number;
  client: { address: string; port: number };
  transport: 'udp' | 'tcp';
  id: number;
  /** `query`, `update`, `transfer`, or what else the server made of it (`malformed`, `notimp`…). */
  kind: string;
  qname: string | null;
  qtype: string | null;
  flags: { rd: boolean; ednsSize: number | null; do: boolean };
  /** The answer's rcode name, or null when nothing was sent (dropped). */
  rcode: string | null;
  answers: number;
  tc: boolean;
  latencyMs: number;
  /** The fault applied (`servfail`, `delay:500`…) and its rule id, or null. */
  fault: { id: string; action: string } | null;
  /** The TSIG key of a signed update or transfer. */
  key: string | null;
  /** An update's: why it was not applied (`not-owner`, `replay`, `fault`, `tsig`, the policy's reason), null when it was. */
  reason?: string | null;
}

/** A query log entry as `GET /queries` and `/queries/stream` send it: `time` (ISO) first, then the rest. */
export type LoggedQuery = QueryLogEntry & { time: string };

/** A fault as `GET /faults` and `kmslab dns fault list` show it. */
export interface FaultView {
  id: string;
  rule: string;
  name: string;
  type: number | null;
  action: string;
  probability: number | null;
  every: number | null;
  count: number | null;
  from: string | null;
  transport: 'udp' | 'tcp' | null;
  until: string | null;
  matched: number;
  applied: number;
}

/** A zone as `GET /zones` shows it: its serial and the KMS SRV records at `_vlmcs._tcp.<origin>`. */
export interface ZoneView {
  origin: string;
  serial: number;
  /**
   * The `_vlmcs._tcp` SRV records; `refreshedAt` (ISO) when a dynamic update
   * last refreshed the record (aging), null for a static one; `owner` the key
   * that owns the name in a secure zone, else null.
   */
  srv: { name: string; ttl: number; priority: number; weight: number; port: number; target: string; refreshedAt?: string | null; owner?: string | null }[];
  /** The zone's aging intervals (ms), or null when it does not age. */
  aging?: { noRefreshMs: number; refreshMs: number } | null;
  /** The zone's secondaries (this server's NOTIFY targets) and the serial each answers now (null: no answer). */
  replicas?: Array<{ server: string; serial: number | null }>;
  /** For a zone this server follows from a primary: where from, the serial it holds, its last refresh and error, and whether it expired (SERVFAIL). */
  secondary?: { zone: string; primary: string; serial: number | null; lastRefresh: string | null; lastError: string | null; expired: boolean };
}
