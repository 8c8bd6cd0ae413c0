import type { LicenseStatus } from './license-status.js';

/**
 * The events a KMS host and its clients write to the Windows event log
 * (Volume Activation technical reference, "Windows Event Log", ff793440;
 * kms-reference.md "Publishing in Active Directory DNS"), as kmslab records
 * them: the same ids, the fields Windows puts in each. `hresult` is `0x0` for
 * success, else the code a Windows machine logs (0xC004F038, 0xC004F074,
 * 0x8007232D…). Times are ISO strings; `seq` is the event's place in the log
 * that recorded it.
 */
export type KmsEvent = RequestSentEvent | AnswerProcessedEvent | RequestServedEvent | PublishFailedEvent | PublishedEvent;

/** The ids, by what they mean. */
export const KMS_EVENT = {
  /** Client: an activation request was sent (or could not be). */
  requestSent: 12288,
  /** Client: the host's answer was processed. */
  answerProcessed: 12289,
  /** Host: one per request it answered. */
  requestServed: 12290,
  /** Host: publishing in DNS failed in a domain. */
  publishFailed: 12293,
  /** Host: published in DNS in a domain. */
  published: 12294,
} as const;

/** What every event carries. */
export interface EventBase {
  seq: number;
  time: string;
  /** Who logged it: a host id, or a client's machine name. */
  source: string;
}

/** 12288, on the client: HRESULT, server:port, CMID, client time, license status, time to expiration, activation ID, N-policy. */
export interface RequestSentEvent extends EventBase {
  id: 12288;
  hresult: string;
  server: string;
  cmid: string;
  clientTime: string;
  licenseStatus: LicenseStatus;
  /** Minutes until the license (or grace) runs out; 0 when it has. */
  timeToExpirationMin: number;
  /** The product asked for (Windows logs its activation id; kmslab its product id). */
  activationId: string;
  /** N-policy: the count the product needs (its threshold). */
  minimumCount: number;
}

/** 12289, on the client: HRESULT, activated, current count, activation and renewal intervals, client time. */
export interface AnswerProcessedEvent extends EventBase {
  id: 12289;
  hresult: string;
  activated: boolean;
  currentCount: number;
  activationIntervalMin: number;
  renewalIntervalMin: number;
  clientTime: string;
}

/** 12290, on the host, per request: minimum count, CMID, client time, license state, time to expiration, the answer. */
export interface RequestServedEvent extends EventBase {
  id: 12290;
  hresult: string;
  minimumCount: number;
  /** The machine's name as it sent it. */
  fqdn: string;
  cmid: string;
  clientTime: string;
  licenseStatus: LicenseStatus;
  timeToExpirationMin: number;
  activationId: string;
  /** The count the host answered with; null when it refused before counting. */
  currentCount: number | null;
  peer: string;
}

/** 12293, on the host: publishing to DNS in a domain failed — the HRESULT and the DNS error the update got. */
export interface PublishFailedEvent extends EventBase {
  id: 12293;
  hresult: string;
  domain: string;
  fqdn: string;
  /** `REFUSED`, `NOTAUTH`, `BADKEY`, `BADSIG`, `BADTIME`, `timeout`, `connection refused`… */
  dnsError: string;
}

/** 12294, on the host: published in DNS in a domain. */
export interface PublishedEvent extends EventBase {
  id: 12294;
  domain: string;
  fqdn: string;
}

/**
 * An event before a log has given it its place and time (`at`, ms; now unless
 * it says). A `clientTime` may be given as ms: it becomes ISO text when read,
 * so a host's request path does not format a date per request.
 */
export type NewKmsEvent = Unplaced<KmsEvent>;
/** Distributes over the union, so each event keeps its own fields. */
type Unplaced<E> = E extends unknown ? Omit<E, 'seq' | 'time' | 'clientTime'> & ('clientTime' extends keyof E ? { clientTime: string | number } : unknown) & { at?: number } : never;
/** How the ring keeps one: its time as a number, made into text only when someone reads it. */
type Kept = Omit<KmsEvent, 'time'> & { at: number };

/**
 * The last events of one host or client, in order, for `GET /events` and its
 * stream: a ring of `capacity` (older ones go), with followers told of each
 * new one. Recording is cheap enough for a host's request path: the object
 * the caller made is kept as it is, and its time becomes text only when read.
 */
export class EventLog {
  /** Slot `seq % capacity` holds event `seq` while it is among the newest `capacity`. */
  readonly #ring: Array<Kept | undefined>;
  readonly #followers = new Set<(e: KmsEvent) => void>();
  #seq = 0;

  /** `lastSeq`: where numbering goes on from (a log continued from a file: the file's last `seq`). */
  constructor(
    readonly capacity = 1000,
    private readonly now: () => number = Date.now,
    lastSeq = 0,
  ) {
    this.#ring = new Array(capacity);
    this.#seq = lastSeq;
  }

  /** Records an event (the object becomes the log's: do not change it after). */
  record(event: NewKmsEvent): void {
    const e = event as unknown as Kept;
    e.seq = ++this.#seq;
    e.at ??= this.now();
    this.#ring[e.seq % this.capacity] = e;
    if (this.#followers.size) {
      const out = placed(e);
      for (const f of this.#followers) f(out);
    }
  }

  /** The `seq` of the newest event, 0 before any. */
  get last(): number {
    return this.#seq;
  }

  /** The events after `seq` (all it holds without one), oldest first, at most `limit` of the newest. */
  after(seq = 0, limit = this.capacity): KmsEvent[] {
    const oldest = Math.max(1, this.#seq - this.capacity + 1);
    const from = Math.max(seq + 1, oldest, this.#seq - Math.max(0, Math.min(limit, this.capacity)) + 1);
    const out: KmsEvent[] = [];
    for (let n = from; n <= this.#seq; n++) out.push(placed(this.#ring[n % this.capacity]!));
    return out;
  }

  /** Calls `fn` with every event from now on; returns the unsubscribe. */
  follow(fn: (e: KmsEvent) => void): () => void {
    this.#followers.add(fn);
    return () => this.#followers.delete(fn);
  }
}

/** An event as readers get it: `time` (and a `clientTime` kept as ms) as ISO text, no `at`. */
function placed(e: Kept): KmsEvent {
  const { at, ...rest } = e as Kept & { clientTime?: string | number };
  if (typeof rest.clientTime === 'number') rest.clientTime = isoTime(rest.clientTime);
  return { ...rest, time: new Date(at).toISOString() } as KmsEvent;
}

/** ms as ISO text; a value no date holds (a hostile frame's client time) as its number. */
function isoTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
