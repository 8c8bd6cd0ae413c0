import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { TIME, VirtualClock } from '@kmslab/core';
import { activateOnce, newClientState, runAgentVirtual, statusAt, type ClientState } from '@kmslab/client';
import { startHost, TestClient } from './support/kms-host.js';

const HOUR = 3_600_000;
const PRODUCT = 'windows-server-2016-standard'; // threshold 5

function agent(state: ClientState, clock: VirtualClock, contacts: number[], results: string[] = []) {
  return {
    state, clock,
    // A dead host costs the client's SYN retries (about 2 s) on the virtual clock, as in the lab.
    attempt: () => activateOnce({ state, productId: PRODUCT, clock, domains: [], random: Math.random, wait: async (ms) => void clock.advance(ms) }),
    onAttempt: (outcome: Awaited<ReturnType<typeof activateOnce>> | null) => {
      contacts.push(clock.now());
      results.push(outcome?.response ? `count ${outcome.response.count}` : (outcome?.errorCode ?? 'error'));
    },
  };
}

describe('client lifecycle on the virtual clock (kms-reference.md "Client timing")', () => {
  test('an unlicensed client retries every 2 h until the count reaches its threshold, then renews every 7 days', async () => {
    const clock = new VirtualClock();
    const t0 = clock.now();
    await using host = await startHost({ kind: 'memory' }, { clock });
    await using others = await TestClient.connect(host.port, clock);
    const state = { ...newClientState(), manualHost: `127.0.0.1:${host.port}` };
    const contacts: number[] = [];
    const results: string[] = [];
    const a = agent(state, clock, contacts, results);
    // Between the client's contacts, one more machine asks every 2 h.
    for (let i = 0; i < 4; i++) {
      await runAgentVirtual(a, clock.now());
      await others.activate(PRODUCT, randomUUID());
      clock.advance(HOUR);
    }
    await runAgentVirtual(a, t0 + 30 * TIME.DAY_MS);
    expect(results.slice(0, 5)).toEqual(['count 1', 'count 3', 'count 5', 'count 5', 'count 5']);
    expect(contacts.slice(0, 3).map((t) => (t - t0) / HOUR)).toEqual([0, 2, 4]);
    // Licensed at the third contact (count 5 ≥ 5), then every 10,080 min.
    expect(contacts.slice(2, 7).map((t) => (t - contacts[2]!) / TIME.DAY_MS)).toEqual([0, 7, 14, 21, 28]);
    expect(state.licenseStatus).toBe('licensed');
  });

  test('a licensed client cut off from every host keeps its license for 180 days, retrying every 2 h, then expires', async () => {
    const clock = new VirtualClock();
    const host = await startHost({ kind: 'memory' }, { clock });
    {
      await using others = await TestClient.connect(host.port, clock);
      for (let i = 0; i < 4; i++) await others.activate(PRODUCT, randomUUID());
    }
    const state = { ...newClientState(), manualHost: `127.0.0.1:${host.port}` };
    const contacts: number[] = [];
    const a = agent(state, clock, contacts);
    await runAgentVirtual(a, clock.now());
    expect(state.licenseStatus).toBe('licensed');
    const licensedAt = clock.now();
    await host.close(); // every host gone

    await runAgentVirtual(a, licensedAt + 179 * TIME.DAY_MS);
    expect(statusAt(state, clock.now())).toBe('licensed');
    const failed = contacts.slice(1);
    // The renewal that failed, then every 2 h — each failed attempt also spending its ~2 s on the dead host.
    expect((failed[0]! - licensedAt) / TIME.DAY_MS).toBeCloseTo(7, 4);
    expect(new Set(failed.slice(1).map((t, i) => Math.round((t - failed[i]!) / 1000)))).toEqual(new Set([2 * 3600 + 2]));
    await runAgentVirtual(a, licensedAt + 181 * TIME.DAY_MS);
    expect(statusAt(state, clock.now())).toBe('notification');
    expect(state.licenseStatus).toBe('notification');
  });

  test('the initial grace runs out after 30 days without activation: notification', async () => {
    const clock = new VirtualClock();
    await using host = await startHost({ kind: 'memory' }, { clock });
    const state = { ...newClientState(), manualHost: `127.0.0.1:${host.port}` };
    const a = agent(state, clock, []);
    await runAgentVirtual(a, clock.now() + 29 * TIME.DAY_MS);
    expect(state.licenseStatus).toBe('initial-grace');
    await runAgentVirtual(a, clock.now() + 2 * TIME.DAY_MS);
    expect(state.licenseStatus).toBe('notification');
  });
});
