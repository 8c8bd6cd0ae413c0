/**
 * pnpm bench:fixtures — what a test pays for a lab, measured in one run:
 * start, first activation and stop of the in-process lab (@kmslab/testing,
 * two hosts) and of the container lab (@kmslab/testcontainers startKmsLab,
 * two hosts and Redis), beside a plain Redis testcontainer started and
 * stopped the same way, and what a later test file pays for a reused
 * container lab (`reuse`), and Docker's own floor for the lab's start and
 * stop: the same images, network and published ports, running `sleep`,
 * started in parallel and removed the same way (what no fixture of this
 * shape can beat on this daemon).
 * Medians of --runs N (default 20 in process, 3 in containers). Issue
 * "Test fixtures": in process ready ≤ 100 ms, stopped ≤ 50 ms; containers
 * ready ≤ 3 s, stopped ≤ 1 s, activate ≤ 0.5 s.
 */
import { parseArgs } from 'node:util';
import { GenericContainer, Network, Wait, getContainerRuntimeClient } from 'testcontainers';
import { startLab } from '@kmslab/testing';
import { KMSLAB_IMAGE, REDIS_IMAGE, removeReusedLab, startKmsLab } from '@kmslab/testcontainers';
import { median, printTable, stamp, writeResults, type Row } from './report.js';

const { values } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: { runs: { type: 'string', default: '20' }, 'container-runs': { type: 'string', default: '3' } } });
const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
};

type Phases = { start: number[]; activate: number[]; stop: number[] };
const phases = (): Phases => ({ start: [], activate: [], stop: [] });

const inProcess = phases();
await (await startLab()).stop(); // modules loaded, JIT warm: what a test file after the first pays
for (let i = 0; i < Number(values.runs); i++) {
  const [lab, start] = await timed(() => startLab({ hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }] }));
  const [, activate] = await timed(() => lab.activate({ product: 'windows-10-pro' }));
  const [, stop] = await timed(() => lab.stop());
  inProcess.start.push(start);
  inProcess.activate.push(activate);
  inProcess.stop.push(stop);
}

const containers = phases();
const redis = phases();
for (let i = 0; i < Number(values['container-runs']); i++) {
  const [lab, start] = await timed(() => startKmsLab({ hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }], redis: true }));
  const client = await lab.startClient();
  const [, activate] = await timed(() => client.activate('windows-10-pro'));
  await client.stop();
  const [, stop] = await timed(() => lab.stop());
  containers.start.push(start);
  containers.activate.push(activate);
  containers.stop.push(stop);
  const [r, rStart] = await timed(() => new GenericContainer(REDIS_IMAGE).withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/)).start());
  const [, rStop] = await timed(() => r.stop());
  redis.start.push(rStart);
  redis.stop.push(rStop);
}

// Docker's floor: the lab's shape (DNS 53/tcp + admin, two hosts 1688 + admin, Redis 6379, one network)
// as `sleep` containers, removed at once with the same call, then the network: the daemon's own cost of
// tearing down that many endpoints and port mappings, which the container lab's stop() pays too.
const floor: number[] = [];
const floorStart: number[] = [];
/** A floor container published like the lab's on a local daemon: on 127.0.0.1 only (one mapping per port, not one per address family). */
class LoopbackSleeper extends GenericContainer {
  override start() {
    const bindings = Object.values(this.hostConfig.PortBindings ?? {}) as Array<Array<{ HostIp?: string }>>;
    for (const b of bindings.flat()) b.HostIp = '127.0.0.1';
    return super.start();
  }
}
const docker = await getContainerRuntimeClient();
for (let i = 0; i < Number(values['container-runs']); i++) {
  const network = await new Network().start();
  const shapes: Array<[string, number[]]> = [[KMSLAB_IMAGE, [53, 8054]], [KMSLAB_IMAGE, [1688, 9688]], [KMSLAB_IMAGE, [1688, 9688]], [REDIS_IMAGE, [6379]]];
  const [started, start] = await timed(() => Promise.all(shapes.map(([image, ports], n) => new LoopbackSleeper(image).withEntrypoint(['sleep', 'infinity']).withCommand([]).withNetwork(network).withNetworkAliases(`c${n}`).withExposedPorts(...ports).withWaitStrategy(Wait.forSuccessfulCommand('true')).start())));
  floorStart.push(start);
  const [, stop] = await timed(async () => {
    await Promise.all(started.map((c) => docker.container.getById(c.getId()).remove({ force: true, v: true })));
    await network.stop();
  });
  floor.push(stop);
}

// A reused lab (startKmsLab({ reuse })): the first file pays the start above; what each later file pays.
const reused = phases();
const reuse = `bench-${process.pid}`;
const labOptions = { hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }], redis: true, reuse };
try {
  await (await startKmsLab(labOptions)).stop();
  for (let i = 0; i < Number(values['container-runs']); i++) {
    const [lab, start] = await timed(() => startKmsLab(labOptions));
    const [, stop] = await timed(() => lab.stop());
    reused.start.push(start);
    reused.stop.push(stop);
  }
} finally {
  await removeReusedLab(reuse);
}

const ms = (xs: number[]) => +median(xs).toFixed(1);
const rows: Row[] = [
  { measure: 'fixtures: in-process lab ready ms (2 hosts)', kmslab: ms(inProcess.start), anchor: ms(redis.start), anchorName: 'Redis testcontainer start', ratio: median(inProcess.start) / median(redis.start), target: '≤ 100 ms' },
  { measure: 'fixtures: in-process lab first activation ms', kmslab: ms(inProcess.activate), anchor: Number.NaN, anchorName: '—', ratio: Number.NaN, target: '(context)' },
  { measure: 'fixtures: in-process lab stopped ms', kmslab: ms(inProcess.stop), anchor: ms(redis.stop), anchorName: 'Redis testcontainer stop', ratio: median(inProcess.stop) / median(redis.stop), target: '≤ 50 ms' },
  { measure: 'fixtures: container lab ready ms (2 hosts + Redis)', kmslab: ms(containers.start), anchor: ms(redis.start), anchorName: 'Redis testcontainer start', ratio: median(containers.start) / median(redis.start), target: '≤ 3,000 ms' },
  { measure: 'fixtures: container lab ready ms, against Docker\'s floor', kmslab: ms(containers.start), anchor: ms(floorStart), anchorName: 'same shape as sleep', ratio: median(containers.start) / median(floorStart), target: '(context)' },
  { measure: 'fixtures: container lab client.activate() ms', kmslab: ms(containers.activate), anchor: Number.NaN, anchorName: '—', ratio: Number.NaN, target: '≤ 500 ms' },
  { measure: 'fixtures: container lab stopped ms', kmslab: ms(containers.stop), anchor: ms(redis.stop), anchorName: 'Redis testcontainer stop', ratio: median(containers.stop) / median(redis.stop), target: '≤ 1,000 ms' },
  { measure: 'fixtures: container lab stopped ms, against Docker\'s floor', kmslab: ms(containers.stop), anchor: ms(floor), anchorName: 'same shape as sleep', ratio: median(containers.stop) / median(floor), target: '(context)' },
  { measure: 'fixtures: reused container lab ready ms (a later test file)', kmslab: ms(reused.start), anchor: ms(redis.start), anchorName: 'Redis testcontainer start', ratio: median(reused.start) / median(redis.start), target: '(context)' },
];
printTable(rows);
writeResults(`fixtures-${stamp()}`, { node: process.version, inProcess, containers, reused, redis, floor, floorStart, rows });
