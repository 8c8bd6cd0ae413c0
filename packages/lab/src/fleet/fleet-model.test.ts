import { describe, expect, test } from 'vitest';
import { Catalog } from '@kmslab/core';
import { Simulation } from '../simulation.js';
import { DEFAULT_FLEET_MIX, planFleet, type FleetPlan } from './fleet-plan.js';
import { runFleet, type FleetContact } from './fleet-model.js';

const DAY = 1440;

/** A small fleet with distinct contact minutes (joins 3 min apart, all below 120), so contact order is unambiguous. */
function smallPlan(): FleetPlan {
  const catalog = Catalog.load();
  const n = 36;
  const plan: FleetPlan = {
    products: DEFAULT_FLEET_MIX.map((m) => catalog.product(m.product)),
    joinAt: new Float64Array(n).map((_, i) => i * 3),
    leaveAt: new Float64Array(n).fill(Number.POSITIVE_INFINITY),
    product: new Uint8Array(n).map((_, i) => (i % 6 === 5 ? 1 : i % 6 === 4 ? 2 : 0)),
    hosts: 2,
    outages: [{ host: 0, from: 20 * DAY + 1, to: 23 * DAY + 1 }],
    hostCaching: true,
    minutes: 45 * DAY,
  };
  plan.leaveAt[7] = 10 * DAY + 1;
  plan.leaveAt[11] = 12 * DAY + 2;
  return plan;
}

describe('fleet model', () => {
  test('contact for contact, the model matches the real host and client code (Simulation), outage and failover included', { timeout: 120_000 }, async () => {
    const plan = smallPlan();
    const model: FleetContact[] = [];
    runFleet(plan, { onContact: (c) => model.push(c) });

    await using sim = new Simulation();
    await sim.useDns('lab.test');
    for (let h = 0; h < plan.hosts; h++) await sim.startHost({ name: `kms${h}`, priority: h * 10, licensePacks: ['office-2013'] });
    for (let i = 0; i < plan.joinAt.length; i++) {
      sim.addClient(`c${i}`, plan.products[plan.product[i]!]!.id, plan.joinAt[i]!, { dns: true });
      if (Number.isFinite(plan.leaveAt[i])) sim.removeClient(`c${i}`, plan.leaveAt[i]!);
    }
    const outage = plan.outages[0]!;
    await sim.runUntil(outage.from);
    await sim.stopHost('kms0');
    await sim.runUntil(outage.to);
    await sim.restartHost('kms0');
    await sim.runUntil(plan.minutes);

    const real = sim.timeline.map((e) => ({ minute: e.minute, client: Number(e.client.slice(1)), host: e.host ? Number(sim.hostAt(e.host)!.name.slice('kms'.length)) : -1, count: e.count, licensed: e.licensed }));
    expect(real.length).toBeGreaterThan(250);
    expect(model.map((c) => ({ ...c, minute: Math.round(c.minute) }))).toEqual(real);
    // The outage mattered: some contacts went to the backup host, and both families reached their thresholds.
    expect(real.some((c) => c.host === 1)).toBe(true);
    expect(real.filter((c) => c.licensed).length).toBeGreaterThan(200);
  });

  test('100,000 clients over 180 days: every joined client licensed or gone, counts capped at 50, outage traffic on the backup', () => {
    const r = runFleet(planFleet({ clients: 100_000, seed: 7 }));
    const s = r.summary as { finalStates: Record<string, number>; requestsByHost: Record<string, number>; failovers: number; unanswered: number };
    expect(s.finalStates.licensed! + s.finalStates.left!).toBe(100_000);
    expect(s.finalStates.left).toBeGreaterThan(9_000);
    expect(s.unanswered).toBe(0);
    expect(s.failovers).toBeGreaterThan(10_000);
    const windows = r.counts.find((c) => c.host === 'host-0' && c.family === 'windows')!;
    expect(Math.max(...windows.points.map((p) => p[1]))).toBe(50);
    const backup = r.requests.find((q) => q.host === 'host-1')!.perHour;
    expect(backup.slice(0, 60 * 24).reduce((a, b) => a + b, 0)).toBe(0); // nobody needs the backup before the outage
    expect(backup.slice(60 * 24, 63 * 24).reduce((a, b) => a + b, 0)).toBeGreaterThan(10_000);
    expect(r.states.series.licensed.length).toBe(180 * 24 + 1);
  });

  test('the same seed gives the same run', () => {
    const a = runFleet(planFleet({ clients: 2_000, seed: 3 })).summary;
    const b = runFleet(planFleet({ clients: 2_000, seed: 3 })).summary;
    const c = runFleet(planFleet({ clients: 2_000, seed: 4 })).summary;
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });
});
