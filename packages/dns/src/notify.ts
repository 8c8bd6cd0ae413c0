import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { KmsLabError, parseHostPort } from '@kmslab/core';
import { CLASS, OPCODE, RCODE, TYPE, decodeMessage, emptyMessage, encodeMessage, rcodeName, signRequest, type DnsTarget, type Message, type TsigKey } from '@kmslab/dns-wire';
import type { Logger } from 'pino';
import { sameAddress } from './harness/fault-rule.js';
import { literalAddress } from './literal-address.js';
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
 *
 * NOTIFYs leave from one socket per address family, bound when the first
 * target is known: a change's NOTIFY is sent in the same turn as the change,
 * before the update's own answer, not after a new socket is bound (the
 * secondary's transfer starts that much sooner); answers are matched by id
 * and by the address they come from.
 */
export class Notifier {
  readonly #pending = new Map<string, { cancelled: boolean }>();
  readonly #targets: DnsTarget[];
  readonly #sockets = new Map<'udp4' | 'udp6', Socket>();
  readonly #waiting = new Map<number, { from: DnsTarget; settle: (answer: Message | Error) => void }>();
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
  ) {
    this.#targets = [...o.targets];
    for (const t of o.targets) this.#socket(t);
  }

  get targets(): readonly DnsTarget[] {
    return this.#targets;
  }

  /** One more secondary to tell of every change from now on (a secondary started after its primary, on a port of its own choosing). */
  addTarget(target: DnsTarget): void {
    this.#targets.push(target);
    this.#socket(target);
  }

  /** Sends NOTIFY for the zone as it is now to every secondary (not awaited by the update that changed it). */
  notify(zone: Zone): Promise<NotifyOutcome[]> {
    if (this.#closed) return Promise.resolve([]);
    return Promise.all(this.#targets.map((t) => this.#notifyOne(t, zone.origin, zone.soa)));
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
      const msg = emptyMessage(this.#freeId());
      msg.opcode = OPCODE.NOTIFY;
      msg.aa = true;
      msg.questions = [{ name: origin, type: TYPE.SOA, class: CLASS.IN }];
      msg.answers = [soa];
      const bytes = this.o.key ? signRequest(msg, this.o.key, this.o.now()).bytes : encodeMessage(msg);
      try {
        const answer = await this.#exchange(target, bytes);
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
    for (const w of this.#waiting.values()) w.settle(new KmsLabError('KMSLAB_TIMEOUT', 'closed'));
    for (const s of this.#sockets.values()) s.close();
    this.#sockets.clear();
  }

  /** The socket NOTIFYs to `target` leave from, made (and bound to any port) on first use. */
  #socket(target: DnsTarget): Socket {
    const family = isIP(target.host) === 6 || target.host.includes(':') ? 'udp6' : 'udp4';
    let socket = this.#sockets.get(family);
    if (!socket) {
      socket = createSocket({ type: family, lookup: literalAddress });
      socket.on('error', (err) => this.o.logger?.warn({ event: 'notify-socket', err }, 'NOTIFY socket error'));
      socket.on('message', (raw, from) => {
        const waiting = raw.length >= 2 ? this.#waiting.get(raw.readUInt16BE(0)) : undefined;
        // Only the secondary asked answers for it (an address and port check, as a resolver's; a target given by name, by port).
        if (!waiting || from.port !== waiting.from.port || (isIP(waiting.from.host) !== 0 && !sameAddress(from.address, waiting.from.host))) return;
        try {
          waiting.settle(decodeMessage(raw));
        } catch (err) {
          waiting.settle(new KmsLabError('KMSLAB_MALFORMED_FRAME', `Unreadable NOTIFY answer from ${from.address}:${from.port}: ${(err as Error).message}`));
        }
      });
      socket.bind(0);
      socket.unref();
      this.#sockets.set(family, socket);
    }
    return socket;
  }

  /** An id no NOTIFY waiting for its answer has. */
  #freeId(): number {
    for (;;) {
      const id = Math.floor(Math.random() * 0x10000);
      if (!this.#waiting.has(id)) return id;
    }
  }

  /** Sends `bytes` to `target` and waits up to ANSWER_WAIT_MS for the answer with its id. */
  #exchange(target: DnsTarget, bytes: Buffer): Promise<Message> {
    const id = bytes.readUInt16BE(0);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => settle(new KmsLabError('KMSLAB_TIMEOUT', `${target.host}:${target.port} did not answer the NOTIFY within ${ANSWER_WAIT_MS} ms`)), ANSWER_WAIT_MS);
      timer.unref();
      const settle = (answer: Message | Error) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        if (answer instanceof Error) reject(answer);
        else resolve(answer);
      };
      this.#waiting.set(id, { from: target, settle });
      this.#socket(target).send(bytes, target.port, target.host, (err) => {
        if (err) settle(new KmsLabError('KMSLAB_CONNECTION_FAILED', `NOTIFY to ${target.host}:${target.port}: ${err.message}`, { cause: err }));
      });
    });
  }
}
