import { LabClock } from '@kmslab/core';
import type { Simulation } from '@kmslab/lab';

/** Lab time may reach `at` once the clock says so: woken by its timer, or at once by a jump, a new speed or a resume. */
function until(clock: LabClock, at: number): Promise<void> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      clearTimeout(timer);
      const left = at - clock.now();
      if (left <= 0) {
        off();
        resolve();
        return;
      }
      const delay = clock.realDelay(left);
      timer = delay === null ? undefined : setTimeout(check, Math.min(Math.ceil(delay), 2 ** 31 - 1));
    };
    const off = clock.onChange(check);
    check();
  });
}

/**
 * `kmslab lab run … --dashboard HOST:PORT`: the run paced by a lab clock at
 * `speed` times real time (pause, speed and jumps from the page), its hosts,
 * clients and timeline on the dashboard while it runs and after.
 */
export function runDashboard(listen: string, speed: number) {
  let served: { close(): Promise<void> } | null = null;
  let ready: Promise<void> = Promise.resolve();
  let clock: LabClock | null = null;
  const onSimulation = (sim: Simulation) => {
    const lab = (clock = new LabClock(speed, Date.now, sim.clock.now()));
    ready = (async () => {
      const { DashboardServer } = await import('@kmslab/dashboard');
      const start = sim.clock.now();
      const d = await DashboardServer.start({
        listen,
        hosts: () => sim.hosts.map((h) => ({ url: h.name, status: () => h.status(), clients: async () => (await h.activity())?.clients, requests: async () => (await h.activity())?.requests })),
        lab: {
          clock: lab,
          fleet: () => sim.fleet(),
          attempts: () => sim.timeline.slice(-100).reverse().map((e) => ({ time: new Date(start + e.minute * 60_000).toISOString(), client: e.client, product: e.product, host: e.host, licensed: e.licensed, errorCode: e.errorCode, count: e.count })),
        },
      });
      served = d;
      process.stderr.write(`kmslab: the run on the dashboard at ${d.url}/ (lab time × ${speed}: pause, speed up or jump there)\n`);
    })();
  };
  const pace = async (at: number) => {
    await ready;
    if (clock) await until(clock, at);
  };
  const close = async () => {
    await ready.catch(() => {});
    await served?.close();
  };
  return { onSimulation, pace, close };
}
