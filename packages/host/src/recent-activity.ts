import type { ActivationRequest, ClientView, RequestView } from '@kmslab/core';

export type { ClientView, RequestView, SeenRequest } from '@kmslab/core';

/** Kept as it came (the decoded request is there anyway); the view with its ISO time is made when read. */
interface RequestRecord {
  at: number;
  req: ActivationRequest;
  family: string;
  answer: string;
  count: number | null;
  peer: string;
}

/** A client view with its times as numbers: the ISO forms are made when read. */
type ClientRecord = Omit<ClientView, 'firstContact' | 'lastContact' | 'nextContact'> & { first: number; last: number; next: number };

/**
 * What this replica saw lately, in memory (a restart starts it empty; the
 * counts themselves are the store's): per family the 50 clients heard from
 * most recently, as a KMS host keeps them, and a ring of the last requests
 * with their answers. A request costs a map update and a slot overwritten.
 */
export class RecentActivity {
  readonly perFamily: number;
  readonly capacity: number;
  readonly #clients = new Map<string, Map<string, ClientRecord>>();
  readonly #ring: Array<RequestRecord | undefined>;
  #next = 0;

  constructor(options: { perFamily?: number; requests?: number } = {}) {
    this.perFamily = options.perFamily ?? 50;
    this.capacity = options.requests ?? 200;
    this.#ring = new Array(this.capacity);
  }

  /** A request was answered (or refused): `answer` is `licensed` or the error code; the client is recorded only when counted. */
  saw(req: ActivationRequest, family: string, answer: string, count: number | null, now: number, nextInMs: number | null, peer: string): void {
    this.#ring[this.#next] = { at: now, req, family, answer, count, peer };
    this.#next = (this.#next + 1) % this.capacity;
    if (nextInMs === null) return;
    let byCmid = this.#clients.get(family);
    if (!byCmid) this.#clients.set(family, (byCmid = new Map()));
    const seen = byCmid.get(req.cmid);
    // Map order is contact order: a client heard from again moves to the end, the first one out is the oldest.
    if (seen) byCmid.delete(req.cmid);
    const r: ClientRecord = seen ?? { cmid: req.cmid, machine: req.fqdn, product: req.productId, family, licenseStatus: req.licenseStatus, answer, first: now, last: now, contacts: 0, next: now };
    r.machine = req.fqdn;
    r.product = req.productId;
    r.licenseStatus = req.licenseStatus;
    r.answer = answer;
    r.last = now;
    r.contacts++;
    r.next = now + nextInMs;
    byCmid.set(req.cmid, r);
    if (byCmid.size > this.perFamily) byCmid.delete(byCmid.keys().next().value!);
  }

  /** Per family, most recent contact first. */
  clients(): Record<string, ClientView[]> {
    const out: Record<string, ClientView[]> = {};
    for (const [family, byCmid] of this.#clients) {
      out[family] = [...byCmid.values()].reverse().map((r) => ({
        cmid: r.cmid, machine: r.machine, product: r.product, family: r.family, licenseStatus: r.licenseStatus, answer: r.answer,
        firstContact: new Date(r.first).toISOString(), lastContact: new Date(r.last).toISOString(), contacts: r.contacts, nextContact: new Date(r.next).toISOString(),
      }));
    }
    return out;
  }

  /** Newest first. */
  requests(): RequestView[] {
    const out: RequestView[] = [];
    for (let i = 1; i <= this.capacity; i++) {
      const r = this.#ring[(this.#next - i + this.capacity) % this.capacity];
      if (!r) break;
      out.push({ time: new Date(r.at).toISOString(), cmid: r.req.cmid, machine: r.req.fqdn, product: r.req.productId, family: r.family, licenseStatus: r.req.licenseStatus, answer: r.answer, count: r.count, peer: r.peer });
    }
    return out;
  }
}
