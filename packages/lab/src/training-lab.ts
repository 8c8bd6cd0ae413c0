import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { DEFAULT_ADMIN_ADDRESS, DEFAULT_KMS_PORT, DataDirLock, LICENSE_STATUS_NAMES, LabClock, TIME, formatHostPort, parseHostPort, realClock, seededRandom, type LicenseStatus } from '@kmslab/core';
import { adminTokenFor } from '@kmslab/server-kit';
import { activateOnce, newClientState, runAgent, type ClientState } from '@kmslab/client';
import { parseFaultRule, parseKeyPolicy, startDnsService } from '@kmslab/dns';
import { freePort } from './live/free-port.js';
import { generateTsigSecret, parseTsigKey } from '@kmslab/dns-wire';
import { startHostService, type AdminPage, type KmsHost } from '@kmslab/host';
import type { Logger } from 'pino';

/** What `kmslab up` starts. */
export interface TrainingLabOptions {
  zone?: string;
  /** DNS port on loopback and the machine's addresses (default 8053: no root needed, no clash with a system resolver). */
  dnsPort?: number;
  /** KMS port of the first host; further hosts take the next ports. */
  kmsPort?: number;
  hosts?: number;
  /** Admin listener of the first host; further hosts take the next ports. */
  admin?: string;
  /** Simulated clients running the KMS client schedule against the lab. */
  clients?: number;
  /** Time runs this many times faster for hosts and simulated clients. */
  timeScale?: number;
  dataDir?: string;
  listen?: string[];
  seed?: number;
  /** The lab DNS server's admin listener (query log, faults; docs/admin-api.md); null: none. Default 127.0.0.1:8054. */
  dnsAdmin?: string | null;
  /** DNS fault rules on from the start (docs/dns-faults.md), before any client's first lookup. */
  faults?: readonly string[];
  /**
   * kmslab DNS secondaries of the lab's DNS (docs/secondaries.md), on the
   * ports after it: each told of every change by NOTIFY, following by IXFR.
   * The simulated clients are spread across all the servers.
   */
  secondaries?: number;
  /** Its token (beyond loopback one is made up when none is given). */
  adminToken?: string;
  /** Names besides IP addresses and `localhost` that requests may address the admin listeners by. */
  adminAllowedHosts?: readonly string[];
  /** More routes on the first host's admin listener: the dashboard page for the whole lab (`kmslab up`). */
  adminPage?: AdminPage;
  logger?: Logger;
}

/** One attempt of a simulated client, as the lab's recent-attempts view shows it. */
export interface LabAttempt {
  /** Lab time. */
  time: string;
  client: string;
  product: string;
  /** The host that answered (`kms1.lab.test:1688`), or null when none was reached. */
  host: string | null;
  licensed: boolean;
  /** The error code a Windows client would show (0xC004F038, 0x8007232A…), or null when licensed. */
  errorCode: string | null;
  count: number | null;
}

/** A running `kmslab up`: its DNS, hosts, clients and clock. */
export interface TrainingLab extends AsyncDisposable {
  zone: string;
  dnsPort: number;
  hosts: KmsHost[];
  clients: ClientState[];
  /** Pause, speed and jumps from the dashboard. */
  clock: LabClock;
  /** The lab's secondaries' DNS ports (`secondaries`), in order. */
  secondaryPorts: number[];
  /** The DNS admin listener's URL and token, when there is one. */
  dnsAdmin: { url: string; token: string | null; generated: boolean } | null;
  /** What each host's store held at start (an earlier `kmslab up` in the same data dir): its count, requests and folder. */
  restored: Array<{ host: string; count: number; requests: number; from: string }>;
  /** The simulated clients' last attempts, newest first (at most 200). */
  attempts(): LabAttempt[];
  /** How many simulated clients are in each license state now. */
  fleet(): Record<LicenseStatus, number>;
  close(): Promise<void>;
}

/** Attempts kept for the recent-attempts view. */
const ATTEMPTS_KEPT = 200;

/** Products the simulated fleet runs: mostly client OS, some servers (thresholds 25 and 5). */
const FLEET = ['windows-10-enterprise', 'windows-10-pro', 'windows-7-enterprise', 'windows-10-enterprise', 'windows-server-2016-standard'];

/**
 * `kmslab up`: a whole lab in one process for a classroom — kmslab's DNS for
 * the lab zone, KMS hosts (memory store, kept in the data dir) that publish
 * themselves in it by signed dynamic update with host-only grants, and
 * optionally simulated clients that find the hosts through that DNS, on a
 * clock that may run faster than real time.
 */
export async function startTrainingLab(o: TrainingLabOptions = {}): Promise<TrainingLab> {
  const zoneName = o.zone ?? 'lab.test';
  const hostCount = o.hosts ?? 1;
  const clock = new LabClock(o.timeScale ?? 1);
  const keys = Array.from({ length: hostCount }, (_, i) => `kms${i + 1}:hmac-sha256:${generateTsigSecret()}`);
  // Checked before anything starts: a bad rule is one line, and nothing listens.
  const faults = (o.faults ?? []).map((rule) => parseFaultRule(rule, Date.now()));
  if (o.dnsAdmin) parseHostPort(o.dnsAdmin, { allowPortZero: true, what: 'The DNS admin address' });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  const dataDir = o.dataDir ?? join('.kmslab', 'up');
  // One lab per data dir: a second `kmslab up` on it is refused before it reads or starts anything.
  const lock = DataDirLock.acquire(dataDir, 'kmslab up', (message) => o.logger?.warn({ event: 'data-dir-lock' }, message));
  closers.push(async () => lock.release());
  try {
    // The lab's DNS as `kmslab dns start` runs it (one service entry); hosts re-publish at start, so no journal.
    const adminAddress = o.dnsAdmin === undefined ? '127.0.0.1:8054' : o.dnsAdmin;
    const adminToken = adminAddress === null ? null : adminTokenFor(adminAddress, o.adminToken);
    // Secondaries on the ports after the primary's (any free ones when it takes any): picked first, for its NOTIFY.
    const dnsPort = o.dnsPort ?? 8053;
    const secondaryPorts: number[] = [];
    for (let i = 1; i <= (o.secondaries ?? 0); i++) secondaryPorts.push(dnsPort === 0 ? await freePort() : dnsPort + i);
    const service = await startDnsService({
      zones: [zoneName], dataDir: null, listen: o.listen, port: dnsPort, logger: o.logger, faults,
      replication: secondaryPorts.length ? { notify: secondaryPorts.map((p) => `127.0.0.1:${p}`), allowTransfer: ['127.0.0.0/8', '::1/128'] } : undefined,
      keys: keys.map((k, i) => parseKeyPolicy(`${k}:host=kms${i + 1}.${zoneName}`)),
      admin: adminAddress === null ? null : { listen: adminAddress, token: adminToken?.value, allowedHosts: o.adminAllowedHosts },
    });
    closers.push(() => service.close());
    const dns = service.server;
    for (const port of secondaryPorts) {
      const secondary = await startDnsService({ dataDir: null, listen: ['127.0.0.1'], port, logger: o.logger, queryLog: { size: 0 }, secondary: { zones: [`${zoneName}@127.0.0.1:${dns.port}`] } });
      closers.push(() => secondary.close());
    }
    // Each simulated client asks one of the lab's DNS servers: the primary or a secondary, in turn.
    const dnsServers = [dns.port, ...secondaryPorts];
    const dnsAdmin: TrainingLab['dnsAdmin'] = service.adminUrl === null ? null : { url: service.adminUrl, token: adminToken?.value ?? null, generated: adminToken?.generated ?? false };
    const hosts: KmsHost[] = [];
    const restored: TrainingLab['restored'] = [];
    const admin = parseHostPort(o.admin ?? DEFAULT_ADMIN_ADDRESS, { allowPortZero: true, what: 'The admin address' });
    for (let i = 0; i < hostCount; i++) {
      const hostId = `kms${i + 1}`;
      const from = join(dataDir, hostId);
      // Each host as `kmslab host start` runs it (one service entry): its memory store kept in the lab's data dir.
      const { host, carried } = await startHostService({
        hostId,
        store: { kind: 'memory', dataDir: from, onWarning: (message) => o.logger?.warn({ event: 'journal-repaired', host: hostId }, message) },
        publish: {
          dns: { host: '127.0.0.1', port: dns.port }, key: parseTsigKey(keys[i]!), fqdn: `${hostId}.${zoneName}`, addresses: ['127.0.0.1'],
          domains: [{ domain: zoneName, priority: i * 10, weight: 0 }],
          // TSIG signatures carry wall-clock time the DNS server checks (300 s fudge): real time, even in a time-scaled lab.
          clock: realClock,
        },
        clock, logger: o.logger, listen: o.listen,
        port: (o.kmsPort ?? DEFAULT_KMS_PORT) === 0 ? 0 : (o.kmsPort ?? DEFAULT_KMS_PORT) + i,
        admin: formatHostPort(admin.host, admin.port === 0 ? 0 : admin.port + i),
        deregisterOnClose: true, adminAllowedHosts: o.adminAllowedHosts,
        ...(i === 0 && o.adminPage && { adminPage: o.adminPage }),
        // Lab time runs faster, pauses and jumps (the dashboard): a client on real time (a real machine, the CLI)
        // would be hours "off" and the 4-hour rule would refuse it, so a classroom lab does not check.
        maxClockSkewMs: Number.POSITIVE_INFINITY,
      });
      if (carried.requests > 0) restored.push({ host: hostId, ...carried, from });
      closers.push(() => host.close());
      hosts.push(host);
    }
    const clients: ClientState[] = [];
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every simulated client waits on it
    const running: Promise<void>[] = [];
    const random = seededRandom(o.seed ?? 1);
    const attempts: LabAttempt[] = [];
    // Machines join over the first lab hour, not all in the same millisecond; a big fleet over longer
    // (2 lab seconds a machine), so one process is not asked for more first contacts at once than it can make.
    const joinOverMs = Math.max(TIME.DAY_MS / 24, (o.clients ?? 0) * 2000);
    for (let i = 0; i < (o.clients ?? 0); i++) {
      const state = newClientState();
      state.installedAt = new Date(clock.now()).toISOString();
      state.graceUntil = new Date(clock.now() + 30 * TIME.DAY_MS).toISOString();
      state.nextContactAt = new Date(clock.now() + random() * joinOverMs).toISOString();
      clients.push(state);
      const productId = FLEET[i % FLEET.length]!;
      const name = `client${String(i + 1).padStart(3, '0')}.${zoneName}`;
      running.push(runAgent({
        state, clock,
        attempt: () => activateOnce({ state, productId, clock, dns: { host: '127.0.0.1', port: dnsServers[i % dnsServers.length]! }, domains: [zoneName], random, fqdn: name }),
        onAttempt: (outcome) => {
          attempts.unshift({
            time: new Date(clock.now()).toISOString(), client: name, product: productId, host: outcome?.host ?? null,
            licensed: outcome?.response?.licensed ?? false, errorCode: outcome ? outcome.errorCode : 'KMSLAB_INTERNAL', count: outcome?.response?.count ?? null,
          });
          if (attempts.length > ATTEMPTS_KEPT) attempts.length = ATTEMPTS_KEPT;
        },
      }, stop.signal));
    }
    closers.push(async () => {
      stop.abort();
      await Promise.all(running);
    });
    const fleet = () => {
      const counts = Object.fromEntries(LICENSE_STATUS_NAMES.map((n) => [n, 0])) as Record<LicenseStatus, number>;
      for (const c of clients) counts[c.licenseStatus]++;
      return counts;
    };
    return { zone: zoneName, dnsPort: dns.port, secondaryPorts, hosts, clients, clock, dnsAdmin, restored, attempts: () => attempts, fleet, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close();
    throw err;
  }
}
