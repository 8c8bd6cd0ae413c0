/**
 * The lab's own thread (`startLab({ worker: true })`): the same in-process
 * lab, started here, answering the test's thread by messages — calls that
 * return promises by id, the synchronous ones (faults, the query log) through
 * shared memory the caller waits on (sync-call.ts). The lab clock's offset is
 * shared memory too, so `lab.clock.advance` in the test moves it here at once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FaultRule, QueryFilter } from '@kmslab/dns';
import { LabTime } from './lab-time.js';
import { startLabInProcess, type LabOptions } from './start-lab.js';
import { answerSync, errorToWire, type SyncBuffers } from './sync-call.js';

interface Data {
  options: LabOptions;
  clock: { kind: 'virtual' | 'real'; start: number; offset: SharedArrayBuffer };
  sync: SyncBuffers;
}

const { options, clock, sync } = workerData as Data;
const port = parentPort!;

/** A rule crossed threads by structured clone: its network's bytes arrive as a Uint8Array, the index wants a Buffer. */
function revive(rule: FaultRule): FaultRule {
  return rule.fromNet ? { ...rule, fromNet: { ...rule.fromNet, bytes: Buffer.from(rule.fromNet.bytes) } } : rule;
}

try {
  const lab = await startLabInProcess(options, new LabTime(clock.kind, clock.start, clock.offset));
  const hostView = (i: number) => ({ address: lab.hosts[i]!.address, adminUrl: lab.hosts[i]!.adminUrl, running: lab.hosts[i]!.running });
  const synchronous: Record<string, (...args: never[]) => unknown> = {
    'faults.add': (rule: FaultRule) => lab.dnsServer.faults.add(revive(rule)),
    'faults.remove': (id: string) => lab.dnsServer.faults.remove(id),
    'faults.clear': () => lab.dnsServer.faults.clear(),
    'faults.list': () => lab.dnsServer.faults.list(),
    'faults.size': () => lab.dnsServer.faults.size,
    'queryLog.find': (filter: QueryFilter) => lab.dnsServer.queryLog?.find(filter) ?? [],
    'queryLog.total': () => lab.dnsServer.queryLog?.total ?? 0,
    delayedAnswers: () => lab.dnsServer.delayedAnswers,
    grantDns: (group: string, hosts: readonly string[], name: string) => lab.grantDns(group, hosts, name),
    serials: () => lab.serials(),
  };
  const asynchronous: Record<string, (...args: never[]) => Promise<unknown>> = {
    activate: (request: Parameters<typeof lab.activate>[0]) => lab.activate(request),
    'host.start': async (i: number) => {
      await lab.hosts[i]!.start();
      return hostView(i);
    },
    'host.stop': async (i: number) => {
      await lab.hosts[i]!.stop();
      return hostView(i);
    },
    'host.status': (i: number) => lab.hosts[i]!.status(),
    'host.republish': (i: number) => lab.hosts[i]!.republish(),
    scavenge: (o: { dryRun?: boolean }) => lab.scavenge(o),
    stop: () => lab.stop(),
  };
  port.on('message', (m: { sync?: boolean; id?: number; method: string; args: never[] }) => {
    if (m.sync) return answerSync(sync, () => synchronous[m.method]!(...m.args));
    asynchronous[m.method]!(...m.args).then(
      (value) => port.postMessage({ id: m.id, ok: true, value }),
      (err: unknown) => port.postMessage({ id: m.id, ok: false, error: errorToWire(err) }),
    );
  });
  port.postMessage({ ready: true, zone: lab.zone, dns: lab.dns, secondaries: lab.secondaries, queryLog: lab.dnsServer.queryLog !== null, hosts: lab.hosts.map((h, i) => ({ name: h.name, fqdn: h.fqdn, options: h.options, ...hostView(i) })) });
} catch (err) {
  port.postMessage({ ready: false, error: errorToWire(err) });
}
