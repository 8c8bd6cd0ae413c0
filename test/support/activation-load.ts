import { randomUUID } from 'node:crypto';
import { KmsConnection, type KmsLabError } from '@kmslab/core';

export interface LoadReport {
  /** Every CMID the host acknowledged (answered with a count), and when it last did. */
  acknowledged: Map<string, number>;
  errors: Map<string, number>;
  requests: number;
  /** Acknowledgements at or after `since` (set by the caller, e.g. the fault's time). */
  acknowledgedSince(since: number): number;
}

/**
 * Bounded load for fault tests: `connections` clients send activations for
 * CMIDs drawn from a fixed set (so the 50-record cap never evicts one) until
 * `durationMs` has passed or `maxRequests` were sent; `onTick` runs once, at
 * `faultAtMs`, while the load goes on.
 */
export async function activationLoad(o: {
  port: number;
  product: string;
  clients?: number;
  /** The CMIDs to use (default: `clients` new ones). */
  cmids?: string[];
  connections?: number;
  durationMs: number;
  maxRequests?: number;
  faultAtMs?: number;
  fault?: () => Promise<void>;
}): Promise<LoadReport> {
  const cmids = o.cmids ?? Array.from({ length: o.clients ?? 40 }, () => randomUUID());
  const acknowledged = new Map<string, number>();
  const ackTimes: number[] = [];
  const errors = new Map<string, number>();
  const end = Date.now() + o.durationMs;
  const max = o.maxRequests ?? 20_000;
  let requests = 0;
  const fault = o.fault ? new Promise<void>((resolve, reject) => setTimeout(() => o.fault!().then(resolve, reject), o.faultAtMs ?? 0)) : Promise.resolve();
  const worker = async (w: number) => {
    let conn: KmsConnection | null = null;
    for (let i = w; Date.now() < end && requests < max; i += o.connections ?? 8) {
      const cmid = cmids[i % cmids.length]!;
      requests++;
      try {
        conn ??= await KmsConnection.connect({ host: '127.0.0.1', port: o.port });
        const r = await conn.activate({ cmid, productId: o.product, fqdn: `${cmid.slice(0, 8)}.lab.test`, clientTime: Date.now(), kind: 'activation', licenseStatus: 'initial-grace' });
        if (r.count !== null) {
          acknowledged.set(cmid, Date.now());
          ackTimes.push(Date.now());
        }
      } catch (err) {
        const code = (err as KmsLabError).code ?? 'error';
        errors.set(code, (errors.get(code) ?? 0) + 1);
        if (code === 'KMSLAB_CONNECTION_FAILED' || code === 'KMSLAB_TIMEOUT') {
          conn?.close();
          conn = null;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    conn?.close();
  };
  await Promise.all([...Array.from({ length: o.connections ?? 8 }, (_, w) => worker(w)), fault]);
  return { acknowledged, errors, requests, acknowledgedSince: (since) => ackTimes.filter((t) => t >= since).length };
}
