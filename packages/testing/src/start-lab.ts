import { Catalog, seededRandom } from '@kmslab/core';
import { activateOnce, activationResult, newClientState, type ActivationResult, type ClientState } from '@kmslab/client';
import { DnsServer, ZoneSet, defaultZone, parseKeyPolicy, type FaultSet, type QueryLog } from '@kmslab/dns';
import { generateTsigSecret, parseTsigKey } from '@kmslab/dns-wire';
import { LocalLabHost, type LabHost, type LabHostOptions } from './lab-host.js';
import { LabTime } from './lab-time.js';
import { startWorkerLab } from './worker-lab.js';

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
  /** Stops everything and releases every port. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A KMS/DNS lab inside the calling process, on free loopback ports: the lab
 * DNS, hosts that publish themselves into it (RFC 2136 with TSIG, as a real
 * host does), clients that discover them by SRV — the same code kmslab runs
 * everywhere, ready in milliseconds.
 *
 *   await using lab = await startLab({ hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }] });
 */
export async function startLab(options: LabOptions = {}): Promise<Lab> {
  return options.worker ? startWorkerLab(options) : startLabInProcess(options, new LabTime(options.clock ?? 'virtual'));
}

/** The lab in this thread (a lab's worker starts one of these too, on a clock shared with the test's thread). */
export async function startLabInProcess(options: LabOptions, time: LabTime): Promise<Lab & { readonly dnsServer: DnsServer }> {
  const zone = options.zone ?? 'lab.test';
  const hostOptions = options.hosts?.length ? options.hosts : [{ name: 'kms1' }];
  const secret = generateTsigSecret();
  const zones = new ZoneSet();
  zones.add(defaultZone(zone));
  const dnsServer = await DnsServer.start({
    zones, listen: ['127.0.0.1'], port: 0,
    // One key for the lab's hosts, granted the zone: the lab trusts its own hosts.
    keys: [parseKeyPolicy(`kmslab-lab:hmac-sha256:${secret}:zone`)],
  });
  const key = parseTsigKey(`kmslab-lab:hmac-sha256:${secret}`);
  const redisUrl = typeof options.store === 'object' ? options.store.redisUrl : null;
  const hosts = hostOptions.map((h) => new LocalLabHost(h, { zone, dnsPort: dnsServer.port, key, time, redisUrl }));
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
      await dnsServer.close();
    })());
  try {
    await Promise.all(hosts.map((h) => h.start()));
  } catch (err) {
    await stop();
    throw err;
  }
  const catalog = Catalog.load();
  const random = seededRandom(options.seed ?? 1);
  const machines = new Map<string, ClientState>();
  let made = 0;
  const activate = async (r: LabActivation): Promise<ActivationResult> => {
    const product = catalog.product(r.product);
    let state = r.cmid ? machines.get(r.cmid) : undefined;
    if (!state) {
      state = newClientState();
      if (r.cmid) state.cmid = r.cmid;
      machines.set(state.cmid, state);
    }
    const machine = r.machine ?? `client-${++made}.${zone}`;
    const outcome = await activateOnce({ state, productId: product.id, clock: time, dns: { host: '127.0.0.1', port: dnsServer.port }, domains: [zone], random, renewal: r.renew, fqdn: machine });
    return activationResult(outcome, product, state.cmid);
  };
  return { zone, dns: { host: '127.0.0.1', port: dnsServer.port }, dnsServer, hosts, clock: time, activate, stop, [Symbol.asyncDispose]: stop };
}
