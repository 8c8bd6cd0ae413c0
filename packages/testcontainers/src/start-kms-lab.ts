import { GenericContainer, Network, Wait, getContainerRuntimeClient, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { TYPE, generateTsigSecret, query } from '@kmslab/dns-wire';
import { KmsLabClientContainer, type StartedKmsLabClientContainer } from './client-container.js';
import { KmsLabDnsContainer, type StartedKmsLabDnsContainer } from './dns-container.js';
import { KmsLabHostContainer, type StartedKmsLabHostContainer } from './host-container.js';
import { KMSLAB_IMAGE, REDIS_IMAGE } from './images.js';
import { LoopbackPublishedContainer } from './loopback-ports.js';
import { REUSE_LABEL, reuseSecrets, reusedNetwork } from './reuse.js';
import { kmsSrvName, waitFor } from '@kmslab/core';

/** The zone, hosts, Redis and images of a lab in containers. */
export interface KmsLabOptions {
  /** The lab zone (default lab.test). */
  zone?: string;
  /** Hosts, each publishing `_vlmcs._tcp.<zone>` with its priority and weight (default one host, kms1). */
  hosts?: Array<{ name: string; priority?: number; weight?: number; keyGroup?: string; licensePacks?: string[] }>;
  /** Keep the hosts' counts in a Redis container (default: each host's memory store). */
  redis?: boolean;
  images?: { kmslab?: string; redis?: string };
  /**
   * Share one lab between test files (testcontainers' `withReuse`): the first
   * file to ask for this name starts it, later files (and later runs) get the
   * same containers while their options are the same; `stop()` leaves it
   * running and `removeReusedLab(name)` removes it (a global teardown).
   * Counts, faults and the query log carry over from file to file
   * (docs/testing.md "Reuse").
   */
  reuse?: string;
}

/** One SRV record as the lab DNS serves it. */
export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** A host container as the tests reach it. */
export interface KmsLabHost {
  name: string;
  fqdn: string;
  /** The KMS port as the tests reach it. */
  kms: { host: string; port: number };
  adminUrl: string;
  /** Headers the admin listener needs (its bearer token). */
  adminHeaders: Record<string, string>;
  /** The address other containers on the lab network use. */
  ip: string;
  container: StartedKmsLabHostContainer;
}

/** A lab in containers: DNS (with its test harness), hosts, Redis, client machines. */
export interface KmsLab {
  network: StartedNetwork;
  zone: string;
  /**
   * The DNS server as the tests reach it (TCP), its address on the lab network
   * (UDP and TCP 53), and its test harness: faults and the query log.
   */
  dns: {
    host: string;
    port: number;
    ip: string;
    container: StartedKmsLabDnsContainer;
    addFault: StartedKmsLabDnsContainer['addFault'];
    removeFault: StartedKmsLabDnsContainer['removeFault'];
    clearFaults: StartedKmsLabDnsContainer['clearFaults'];
    queries: StartedKmsLabDnsContainer['queries'];
    waitForQuery: StartedKmsLabDnsContainer['waitForQuery'];
  };
  hosts: KmsLabHost[];
  /** Redis as the tests reach it, when `redis: true`. */
  redisUrl: string | null;
  /** The `_vlmcs._tcp` SRV records the DNS server holds now. */
  resolveSrv(): Promise<SrvRecord[]>;
  /** A client machine on the lab network that finds hosts through the lab DNS only. */
  startClient(): Promise<StartedKmsLabClientContainer>;
  stop(): Promise<void>;
}

/**
 * A whole lab in containers: the DNS server, optionally Redis, and hosts that
 * publish themselves into the DNS by signed dynamic update (one TSIG key per
 * host, granted only its own name). Resolves once every host is healthy and
 * its SRV record is in the DNS.
 */
export async function startKmsLab(options: KmsLabOptions = {}): Promise<KmsLab> {
  const zone = (options.zone ?? 'lab.test').replace(/\.$/, '');
  const hostSpecs = options.hosts ?? [{ name: 'kms1' }];
  const kmslabImage = options.images?.kmslab ?? KMSLAB_IMAGE;
  const reuse = options.reuse;
  const secrets = reuse === undefined ? null : reuseSecrets(reuse);
  const network = reuse === undefined ? await new Network().start() : await reusedNetwork(reuse);
  // A reused lab's containers outlive this file: they are made reusable and labelled, and stop() leaves them (client machines go).
  const shared = <C extends GenericContainer>(c: C): C => (reuse === undefined ? c : c.withReuse().withLabels({ [REUSE_LABEL]: reuse }));
  const started: StartedTestContainer[] = [];
  // A fixture's containers hold nothing a test still needs once it stops them (their counts and Redis go
  // with them): all at once, each killed and removed in one call (docker rm -f), without the graceful drain
  // a real host gets (a host would first try to tell a DNS server that is stopping too, and wait for it).
  const stop = async () => {
    const docker = await getContainerRuntimeClient();
    await Promise.all(started.splice(0).map((c) => docker.container.getById(c.getId()).remove({ force: true, v: true }).catch(() => c.stop({ timeout: 0 }).catch(() => {}))));
    if (reuse === undefined) await network.stop().catch(() => {});
  };
  const keep = (c: StartedTestContainer) => {
    if (reuse === undefined) started.push(c);
    return c;
  };
  try {
    const keys = hostSpecs.map((h) => ({ h, key: `${h.name}:hmac-sha256:${secrets ? secrets.tsig(h.name) : generateTsigSecret()}` }));
    const dnsContainer = shared(new KmsLabDnsContainer(kmslabImage)).withNetwork(network).withNetworkAliases('dns').withZone(zone);
    if (secrets) dnsContainer.withAdminToken(secrets.token('dns'));
    for (const { h, key } of keys) dnsContainer.withTsigKey(`${key}:host=${h.name}.${zone}`);
    // Everything starts at once. A host on Redis keeps trying to reach it while it starts (--redis-wait), and
    // hosts publish to the DNS container by its network alias: one that is not up yet refuses them at once,
    // and they try again a quarter second later (the publisher's backoff), so nobody waits for another here.
    const dnsStarted = dnsContainer.start().then((c) => (keep(c), c));
    const redisStarted = options.redis
      ? shared(new LoopbackPublishedContainer(options.images?.redis ?? REDIS_IMAGE)).withNetwork(network).withNetworkAliases('redis').withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/)).start().then((c) => (keep(c), c))
      : Promise.resolve(null);
    const hostsStarted = Promise.all(keys.map(async ({ h, key }): Promise<KmsLabHost> => {
      const fqdn = `${h.name}.${zone}`;
      const c = shared(new KmsLabHostContainer(kmslabImage)).withNetwork(network).withNetworkAliases(h.name).withHostId(h.name)
        .withPublish({ dns: 'dns:53', tsigKey: key, fqdn, domains: [`${zone},${h.priority ?? 0},${h.weight ?? 0}`] });
      if (h.keyGroup) c.withKeyGroup(h.keyGroup);
      for (const p of h.licensePacks ?? []) c.withLicensePack(p);
      if (options.redis) c.withRedis('redis://redis:6379');
      if (secrets) c.withAdminToken(secrets.token(h.name));
      const host = await c.start();
      keep(host);
      return { name: h.name, fqdn, kms: host.kms, adminUrl: host.adminUrl, adminHeaders: host.adminHeaders, ip: host.getIpAddress(network.getName()), container: host };
    }));
    const [dns, redis, hosts] = await Promise.all([dnsStarted, redisStarted, hostsStarted]).catch(async (err: unknown) => {
      // A container is in `started` once its start resolves: let every start settle before stop() runs.
      await Promise.allSettled([dnsStarted, redisStarted, hostsStarted]);
      throw err;
    });
    const dnsIp = dns.getIpAddress(network.getName());

    const resolveSrv = async (): Promise<SrvRecord[]> => {
      const { answer } = await query(dns.target, kmsSrvName(zone), TYPE.SRV, { transport: 'tcp' });
      return answer.answers.flatMap((rr) => (rr.data?.type === 'SRV' ? [{ priority: rr.data.priority, weight: rr.data.weight, port: rr.data.port, target: rr.data.target.replace(/\.$/, '') }] : []));
    };
    await waitFor(async () => (await resolveSrv()).length >= hosts.length, {
      timeoutMs: 30_000,
      everyMs: 100,
      timedOut: async () => new Error(`not every host published its SRV record into ${zone} within 30 s: ${JSON.stringify(await resolveSrv())}`),
    });
    return {
      network,
      zone,
      dns: {
        ...dns.target,
        ip: dnsIp,
        container: dns,
        addFault: (f) => dns.addFault(f),
        removeFault: (id) => dns.removeFault(id),
        clearFaults: () => dns.clearFaults(),
        queries: (filter) => dns.queries(filter),
        waitForQuery: (name, type, o) => dns.waitForQuery(name, type, o),
      },
      hosts,
      redisUrl: redis ? `redis://${redis.getHost()}:${redis.getMappedPort(6379)}` : null,
      resolveSrv,
      startClient: async () => {
        const client = await new KmsLabClientContainer(`${dnsIp}:53`, zone, kmslabImage).withNetwork(network).start();
        started.push(client);
        return client;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

