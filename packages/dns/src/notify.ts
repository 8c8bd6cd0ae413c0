import { KmsLabError, parseHostPort } from '@kmslab/core';
import { CLASS, OPCODE, RCODE, TYPE, emptyMessage, encodeMessage, exchangeUdp, rcodeName, signRequest, type DnsTarget, type TsigKey } from '@kmslab/dns-wire';
import type { Logger } from 'pino';
import type { Zone } from './zone/zone.js';

/** How often a NOTIFY is sent before the secondary is given up on for this change, and the wait for each answer (RFC 1996 §3.6). */
const TRIES = 5;
const ANSWER_WAIT_MS = 2000;

/** `--notify HOST[:PORT]` (port 53 by default). */
export function parseNotifyTarget(text: string): DnsTarget {
  return parseHostPort(text, { defaultPort: 53, what: '--notify' });
}

/** What became of one NOTIFY: acknowledged (and by which rcode), or not after every try. */
export interface NotifyOutcome {
  target: string;
  zone: string;
  serial: number;
  acknowledged: boolean;
  rcode: string | null;
  tries: number;
}

/**
 * NOTIFY (RFC 1996) to each secondary on every change of a zone: opcode
 * NOTIFY, AA, the zone's SOA as the question and in the answer section (the
 * new serial, §3.7), TSIG-signed when a key is given. Each is resent until
 * the secondary answers, at most five times two seconds apart (§3.6); a
 * newer change of the same zone supersedes a pending one. `drop` (the
 * `notify-drop` fault) skips the send, as a lost packet would.
 */
export class Notifier {
  readonly #pending = new Map<string, { cancelled: boolean }>();
  #closed = false;

  constructor(
    private readonly o: {
      targets: readonly DnsTarget[];
      key?: TsigKey | null | undefined;
      now: () => number;
      logger?: Logger | undefined;
      /** A `notify-drop` fault on the zone: this NOTIFY is not sent. */
      drop?: ((zone: string) => boolean) | undefined;
      onOutcome?: ((o: NotifyOutcome) => void) | undefined;
    },
  ) {}

  get targets(): readonly DnsTarget[] {
    return this.o.targets;
  }

  /** Sends NOTIFY for the zone as it is now to every secondary (not awaited by the update that changed it). */
  notify(zone: Zone): Promise<NotifyOutcome[]> {
    if (this.#closed) return Promise.resolve([]);
    return Promise.all(this.o.targets.map((t) => this.#notifyOne(t, zone.origin, zone.soa)));
  }

  async #notifyOne(target: DnsTarget, origin: string, soa: Zone['soa']): Promise<NotifyOutcome> {
    const where = `${target.host}:${target.port}`;
    const key = `${where} ${origin}`;
    const previous = this.#pending.get(key);
    if (previous) previous.cancelled = true;
    const mine = { cancelled: false };
    this.#pending.set(key, mine);
    const serial = (soa.data as { serial: number }).serial;
    const outcome: NotifyOutcome = { target: where, zone: origin, serial, acknowledged: false, rcode: null, tries: 0 };
    for (let i = 0; i < TRIES && !mine.cancelled && !this.#closed; i++) {
      outcome.tries++;
      if (this.o.drop?.(origin)) {
        this.o.logger?.info({ event: 'notify-dropped', zone: origin, serial, target: where }, 'NOTIFY dropped by a fault');
        break;
      }
      const msg = emptyMessage(Math.floor(Math.random() * 0x10000));
      msg.opcode = OPCODE.NOTIFY;
      msg.aa = true;
      msg.questions = [{ name: origin, type: TYPE.SOA, class: CLASS.IN }];
      msg.answers = [soa];
      const bytes = this.o.key ? signRequest(msg, this.o.key, this.o.now()).bytes : encodeMessage(msg);
      try {
        const answer = await exchangeUdp({ ...target, timeoutMs: ANSWER_WAIT_MS }, bytes);
        outcome.acknowledged = answer.rcode === RCODE.NOERROR;
        outcome.rcode = rcodeName(answer.rcode);
        break;
      } catch (err) {
        if (!(err instanceof KmsLabError) || err.code !== 'KMSLAB_TIMEOUT') {
          // Nothing listens there (yet): wait as for a lost answer, then try again.
          await new Promise((r) => setTimeout(r, ANSWER_WAIT_MS).unref());
        }
      }
    }
    if (this.#pending.get(key) === mine) this.#pending.delete(key);
    this.o.logger?.info({ event: 'notify', ...outcome }, outcome.acknowledged ? `NOTIFY ${origin} serial ${serial} to ${where}: ${outcome.rcode}` : `NOTIFY ${origin} serial ${serial} to ${where}: no answer`);
    this.o.onOutcome?.(outcome);
    return outcome;
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#pending.values()) p.cancelled = true;
  }
}
