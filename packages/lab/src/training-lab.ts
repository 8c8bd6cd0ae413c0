import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { DEFAULT_ADMIN_ADDRESS, DEFAULT_KMS_PORT, ScaledClock, TIME, formatHostPort, parseHostPort, realClock, seededRandom, type Clock } from '@kmslab/core';
import { activateOnce, newClientState, runAgent, type ClientState } from '@kmslab/client';
import { DnsServer, ZoneSet, defaultZone, parseKeyPolicy } from '@kmslab/dns';
import { generateTsigSecret, parseTsigKey } from '@kmslab/dns-wire';
import { DnsPublisher, KmsHost, MemoryStore } from '@kmslab/host';
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
  logger?: Logger;
}

/** A running `kmslab up`: its DNS, hosts, clients and clock. */
export interface TrainingLab extends AsyncDisposable {
  zone: string;
  dnsPort: number;
  hosts: KmsHost[];
  clients: ClientState[];
  clock: Clock;
  close(): Promise<void>;
}

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
  const clock = o.timeScale && o.timeScale !== 1 ? new ScaledClock(o.timeScale) : { now: () => Date.now() };
  const keys = Array.from({ length: hostCount }, (_, i) => `kms${i + 1}:hmac-sha256:${generateTsigSecret()}`);
  const zones = new ZoneSet();
  zones.add(defaultZone(zoneName));
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };
  try {
    const dns = await DnsServer.start({ zones, listen: o.listen, port: o.dnsPort ?? 8053, logger: o.logger, keys: keys.map((k, i) => parseKeyPolicy(`${k}:host=kms${i + 1}.${zoneName}`)) });
    closers.push(() => dns.close());
    const hosts: KmsHost[] = [];
    const admin = parseHostPort(o.admin ?? DEFAULT_ADMIN_ADDRESS, { allowPortZero: true, what: 'The admin address' });
    for (let i = 0; i < hostCount; i++) {
      const fqdn = `kms${i + 1}.${zoneName}`;
      const publisher = new DnsPublisher({
        dns: { host: '127.0.0.1', port: dns.port }, key: parseTsigKey(keys[i]!), fqdn, addresses: ['127.0.0.1'],
        // TSIG signatures carry wall-clock time the DNS server checks (300 s fudge): real time, even in a time-scaled lab.
        domains: [{ domain: zoneName, priority: i * 10, weight: 0 }], clock: realClock, logger: o.logger,
      });
      const host = await KmsHost.start({
        hostId: `kms${i + 1}`,
        store: await MemoryStore.open({ dataDir: join(o.dataDir ?? join('.kmslab', 'up'), `kms${i + 1}`) }),
        clock, logger: o.logger, listen: o.listen,
        port: (o.kmsPort ?? DEFAULT_KMS_PORT) === 0 ? 0 : (o.kmsPort ?? DEFAULT_KMS_PORT) + i,
        admin: formatHostPort(admin.host, admin.port === 0 ? 0 : admin.port + i),
        publisher, deregisterOnClose: true,
        // With lab time running faster, a client on real time (a real machine, the CLI) is hours "off":
        // the 4-hour rule would refuse it, so a time-scaled lab does not check.
        ...(o.timeScale && o.timeScale !== 1 ? { maxClockSkewMs: Number.POSITIVE_INFINITY } : {}),
      });
      closers.push(() => host.close());
      hosts.push(host);
    }
    const clients: ClientState[] = [];
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every simulated client waits on it
    const running: Promise<void>[] = [];
    const random = seededRandom(o.seed ?? 1);
    for (let i = 0; i < (o.clients ?? 0); i++) {
      const state = newClientState();
      // Machines join over the first lab hour, not all in the same millisecond.
      state.installedAt = new Date(clock.now()).toISOString();
      state.graceUntil = new Date(clock.now() + 30 * TIME.DAY_MS).toISOString();
      state.nextContactAt = new Date(clock.now() + random() * TIME.DAY_MS / 24).toISOString();
      clients.push(state);
      const productId = FLEET[i % FLEET.length]!;
      running.push(runAgent({
        state, clock, timeScale: o.timeScale,
        attempt: () => activateOnce({ state, productId, clock, dns: { host: '127.0.0.1', port: dns.port }, domains: [zoneName], random }),
      }, stop.signal));
    }
    closers.push(async () => {
      stop.abort();
      await Promise.all(running);
    });
    return { zone: zoneName, dnsPort: dns.port, hosts, clients, clock, close, [Symbol.asyncDispose]: close };
  } catch (err) {
    await close();
    throw err;
  }
}
