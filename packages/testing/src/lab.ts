import type { ActivationResult } from '@kmslab/client';
import type { FaultSet, QueryLog } from '@kmslab/dns';
import type { LabHost, LabHostOptions } from './lab-host.js';
import type { LabTime } from './lab-time.js';

/** What `startLab` starts. */
export interface LabOptions {
  /** The lab's DNS zone (default `lab.test`): hosts publish `_vlmcs._tcp.<zone>` there. */
  zone?: string;
  /** The KMS hosts (default one, `kms1`, priority 0). */
  hosts?: readonly LabHostOptions[];
  /** Where the hosts count: in memory (default), or a Redis (`{ redisUrl }`, one key space per host name). */
  store?: 'memory' | { redisUrl: string };
  /** `virtual` (default: time moves only with `lab.clock.advance`) or `real`. */
  clock?: 'virtual' | 'real';
  /** Seed for SRV weighting in the lab's clients. */
  seed?: number;
  /**
   * The zone is secure-only, as an AD-integrated zone is (docs/secure-zones.md):
   * each host publishes with a key of its own and owns the names it creates,
   * so a second host's SRV record is refused until `lab.grantDns` grants a
   * group of hosts on `_vlmcs._tcp.<zone>`. Default false (one key for all).
   */
  secure?: boolean;
  /**
   * Aging and scavenging on the lab zone, on the lab clock, as Windows DNS
   * does it (docs/secure-zones.md): `true` for Windows' defaults (no-refresh
   * 7 days, refresh 7 days, a pass every 7 days), or the intervals as
   * durations. `lab.scavenge()` runs a pass; hosts refresh their records as
   * running hosts do daily, a stopped host's records age.
   */
  aging?: boolean | { noRefresh?: string; refresh?: string; scavengePeriod?: string };
  /**
   * kmslab DNS secondaries of the lab's DNS (docs/secondaries.md), each on a
   * free loopback port, following it by NOTIFY and IXFR: `lab.secondaries`
   * lists them, `lab.serials()` tells which change each has. Default 0.
   */
  secondaries?: number;
  /**
   * Run the lab in a worker thread of its own (default false: in this
   * thread). The same API; the lab keeps answering while this thread blocks
   * — a test that runs a program with `spawnSync` or `execFileSync('dig', …)`
   * needs it, since the in-thread lab answers on the event loop those block.
   */
  worker?: boolean;
}

/**
 * The lab's DNS server as a test drives it: its port, the faults switched on
 * at run time, the query log (docs/dns-faults.md). In a lab in this thread it
 * is the DnsServer itself; in a worker, the same calls reach it there.
 */
export interface LabDns {
  readonly port: number;
  readonly faults: Pick<FaultSet, 'add' | 'remove' | 'clear' | 'list' | 'size'>;
  readonly queryLog: Pick<QueryLog, 'find' | 'total'> | null;
  /** Answers a `delay` fault holds now. */
  readonly delayedAnswers: number;
}

/** A record a scavenging pass removed (or, with `dryRun`, would remove), and when it was last refreshed (lab time, ms since the epoch). */
export interface LabScavenged {
  name: string;
  type: string;
  data: string;
  refreshedAt: number;
}

/** One activation by a client of the lab, as `kmslab client activate` takes it. */
export interface LabActivation {
  product: string;
  /** The same CMID again is the same machine (its state, its cached host); none: a new machine. */
  cmid?: string;
  /** Its name as the host logs it (default `client-N.<zone>`). */
  machine?: string;
  renew?: boolean;
}

/** A running lab: where its DNS is, its hosts, its clock, a client, and the DNS test harness. */
export interface Lab extends AsyncDisposable {
  readonly zone: string;
  /** The lab DNS (UDP and TCP) on loopback: point the program under test here. */
  readonly dns: { host: string; port: number };
  /** The DNS server: its faults and query log (docs/dns-faults.md). */
  readonly dnsServer: LabDns;
  readonly hosts: readonly LabHost[];
  readonly clock: LabTime;
  /** A client machine of the lab finding a host through the lab DNS: the object `kmslab client activate --json` prints. */
  activate(request: LabActivation): Promise<ActivationResult>;
  /** Grants a group of the lab's hosts (by name) on a name of a secure zone (`secure: true`), as `kmslab dns grant` does. */
  grantDns(group: string, hosts: readonly string[], name: string): void;
  /** The lab DNS's secondaries (`secondaries: N`) on loopback, in order: point a client at one to ask it. */
  readonly secondaries: ReadonlyArray<{ host: string; port: number }>;
  /** The zone's SOA serial on the lab DNS and on each secondary (null before its first transfer): which change each server has. */
  serials(): { primary: number; secondaries: Array<number | null> };
  /**
   * A scavenging pass now (`aging`), as `kmslab dns scavenge` runs one, on
   * the lab clock. Running hosts refresh their records first, as a live host
   * refreshes daily; a stopped host's records keep the timestamp of its last
   * refresh, and go once it is older than no-refresh + refresh.
   */
  scavenge(options?: { dryRun?: boolean }): Promise<LabScavenged[]>;
  /** Stops everything and releases every port. Safe to call twice. */
  stop(): Promise<void>;
}
