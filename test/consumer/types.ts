// A user's TypeScript file over the public API of each package; compiled by test/consumer.test.ts
// under tsc --init defaults and strict consumer settings (exactOptionalPropertyTypes, nodenext, bundler).
import { Catalog, KmsLabError, parseHostPort, type ErrorCode, type Product } from '@kmslab/core';
import { TYPE, query, type DnsTarget } from '@kmslab/dns-wire';
import { DnsServer, ZoneSet, defaultZone, parseFaultRule, type FaultRule } from '@kmslab/dns';
import { KmsHost, MemoryStore, type HostStatus } from '@kmslab/host';
import { activateOnce, newClientState, type ActivationOutcome } from '@kmslab/client';
import { parseScenario, type ScenarioFile } from '@kmslab/lab';
import { RedisServer, type KmslabProcess } from '@kmslab/lab/live';
import { startKmsLab, type KmsLab } from '@kmslab/testcontainers';
import { startLab, labEnvironment, type Lab } from '@kmslab/testing';
import { DashboardServer } from '@kmslab/dashboard';

export async function useEverything(): Promise<void> {
  const products: Product[] = Catalog.load().products();
  const code: ErrorCode = new KmsLabError('KMSLAB_TIMEOUT').code;
  const target: DnsTarget = parseHostPort('127.0.0.1:53', { defaultPort: 53 });
  await query(target, '_vlmcs._tcp.lab.test', TYPE.SRV);
  const zones = new ZoneSet();
  zones.add(defaultZone('lab.test'));
  const dns = await DnsServer.start({ zones, listen: ['127.0.0.1'], port: 0 });
  const rule: FaultRule = parseFaultRule('_vlmcs._tcp.lab.test/SRV=servfail', Date.now());
  dns.faults.add(rule);
  const host = await KmsHost.start({ hostId: 'kms1', store: await MemoryStore.open(), listen: ['127.0.0.1'], port: 0, admin: null });
  const status: HostStatus = await host.status();
  const outcome: ActivationOutcome = await activateOnce({ state: newClientState(), productId: 'windows-10-pro', clock: { now: () => Date.now() }, dns: { host: '127.0.0.1', port: dns.port }, domains: ['lab.test'], random: Math.random });
  const redisUrl: string | null = process.env.REDIS ? (await RedisServer.start()).url : null;
  const proc: KmslabProcess | null = null;
  const scenario: ScenarioFile = parseScenario('name: x\nhosts:\n  - name: a\n', 'x.yaml');
  const lab: KmsLab | null = process.env.DOCKER ? await startKmsLab({ zone: 'lab.test' }) : null;
  const inProcess: Lab = await startLab({ hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }], clock: 'virtual' });
  inProcess.clock.advance('7d');
  const env: Record<string, string> = labEnvironment(inProcess);
  const page = await DashboardServer.start({ hosts: inProcess.hosts.map((h) => ({ url: h.adminUrl ?? '' })), listen: '127.0.0.1:0' });
  await page.close();
  await inProcess.stop();
  console.log(env.KMSLAB_DNS);
  await host.close();
  await dns.close();
  await lab?.stop();
  console.log(products.length, redisUrl, proc, code, status.hostId, outcome.errorCode, scenario.name);
}
