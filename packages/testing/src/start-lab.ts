import { Catalog, KmsLabError, seededRandom } from '@kmslab/core';
import { activateOnce, activationResult, newClientState, type ActivationResult, type ClientState } from '@kmslab/client';
import { parseKeyPolicy, presentRData, startDnsService, type DnsServer, type DnsService } from '@kmslab/dns';
import { generateTsigSecret, parseTsigKey, typeName } from '@kmslab/dns-wire';
import { LocalLabHost } from './lab-host.js';
import { LabTime } from './lab-time.js';
import { startWorkerLab } from './worker-lab.js';
import type { Lab, LabActivation, LabOptions, LabScavenged } from './lab.js';

export type { Lab, LabActivation, LabDns, LabOptions, LabScavenged } from './lab.js';

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
  // One key for the lab's hosts, granted the zone (the lab trusts its own hosts); in a secure zone each host its own, named after it.
  const keyNames = options.secure ? hostOptions.map((h) => h.name) : ['kmslab-lab'];
  const aging = options.aging === true ? {} : options.aging || null;
  const secondaryCount = options.secondaries ?? 0;
  if (!Number.isInteger(secondaryCount) || secondaryCount < 0 || secondaryCount > 16) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `secondaries: 0 to 16 (got ${options.secondaries})`);
  // The lab's DNS as `kmslab dns start` runs it (one service entry), with no data dir: a test's lab starts empty.
  // On the lab clock: records age in lab time, and the hosts sign their updates with it too (TSIG's time check).
  const dns = await startDnsService({
    zones: [zone], dataDir: null, listen: ['127.0.0.1'], port: 0, now: () => time.now(),
    keys: keyNames.map((k) => parseKeyPolicy(`${k}:hmac-sha256:${secret}:zone`)),
    secure: options.secure ? { zones: [zone] } : undefined,
    aging: aging ? { zones: [`${zone}=${aging.noRefresh ?? '7d'}/${aging.refresh ?? '7d'}`], scavengePeriod: aging.scavengePeriod, manualPasses: true } : undefined,
    replication: secondaryCount ? { allowTransfer: ['127.0.0.0/8'] } : undefined,
  });
  const dnsServer = dns.server;
  const secondaries: DnsService[] = [];
  const keyOf = (i: number) => parseTsigKey(`${keyNames[options.secure ? i : 0]}:hmac-sha256:${secret}`);
  const redisUrl = typeof options.store === 'object' ? options.store.redisUrl : null;
  const hosts = hostOptions.map((h, i) => new LocalLabHost(h, { zone, dnsPort: dnsServer.port, key: keyOf(i), time, redisUrl }));
  const grantDns = (group: string, names: readonly string[], name: string) => {
    dnsServer.ownership.update({ groups: { [group]: [...names] }, grants: { [name]: [group] } });
  };
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
      await Promise.all(secondaries.map((s) => s.close()));
      await dns.close();
    })());
  try {
    // Secondaries before the hosts: each takes the empty zone, then follows every host's update by NOTIFY and IXFR.
    // Each on a port of its own (0: no race for a port picked beforehand), then told of changes as `--notify` would.
    for (let i = 0; i < secondaryCount; i++) {
      const secondary = await startDnsService({ dataDir: null, listen: ['127.0.0.1'], port: 0, queryLog: { size: 0 }, secondary: { zones: [`${zone}@127.0.0.1:${dnsServer.port}`] } });
      secondaries.push(secondary);
      dnsServer.notifyAlso({ host: '127.0.0.1', port: secondary.server.port });
    }
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
  const serials = () => ({ primary: dnsServer.zones.get(zone)!.serial, secondaries: secondaries.map((s) => s.server.zones.get(zone)?.serial ?? null) });
  const scavenge = async (o: { dryRun?: boolean } = {}): Promise<LabScavenged[]> => {
    if (!aging) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'lab.scavenge(): start the lab with aging (startLab({ aging: true }))');
    // The refreshes a running host made on the days the clock skipped: one now stands for them (its timestamp moves once past no-refresh).
    await Promise.all(hosts.filter((h) => h.running).map((h) => h.republish()));
    return dnsServer.scavenge(o).map((r) => ({ name: r.record.name, type: typeName(r.record.type), data: presentRData(r.record.data), refreshedAt: r.refreshedAt }));
  };
  const secondaryAddresses = secondaries.map((s) => ({ host: '127.0.0.1', port: s.server.port }));
  return { zone, dns: { host: '127.0.0.1', port: dnsServer.port }, dnsServer, hosts, clock: time, activate, grantDns, secondaries: secondaryAddresses, serials, scavenge, stop, [Symbol.asyncDispose]: stop };
}
