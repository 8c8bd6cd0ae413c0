import { Catalog, seededRandom } from '@kmslab/core';
import { activateOnce, activationResult, newClientState, type ActivationResult, type ClientState } from '@kmslab/client';
import { parseKeyPolicy, startDnsService, type DnsServer } from '@kmslab/dns';
import { generateTsigSecret, parseTsigKey } from '@kmslab/dns-wire';
import { LocalLabHost } from './lab-host.js';
import { LabTime } from './lab-time.js';
import { startWorkerLab } from './worker-lab.js';
import type { Lab, LabActivation, LabOptions } from './lab.js';

export type { Lab, LabActivation, LabDns, LabOptions } from './lab.js';

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
  // The lab's DNS as `kmslab dns start` runs it (one service entry), with no data dir: a test's lab starts empty.
  const dns = await startDnsService({
    zones: [zone], dataDir: null, listen: ['127.0.0.1'], port: 0,
    keys: keyNames.map((k) => parseKeyPolicy(`${k}:hmac-sha256:${secret}:zone`)),
    secure: options.secure ? { zones: [zone] } : undefined,
  });
  const dnsServer = dns.server;
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
      await dns.close();
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
  return { zone, dns: { host: '127.0.0.1', port: dnsServer.port }, dnsServer, hosts, clock: time, activate, grantDns, stop, [Symbol.asyncDispose]: stop };
}
