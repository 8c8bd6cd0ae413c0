import { ERROR_CODES, KMS_EVENT, formatHostPort, KmsLabError, toKmsLabError, type ErrorCode, type LicenseStatus, type NewKmsEvent } from '@kmslab/core';
import type { ActivationOutcome, DiscoveredBy } from './activation-outcome.js';
import { connectOnce, type HostConnector, type HostTimeouts } from './host-connect.js';

/**
 * Failures that mean "this host did not answer, try the next" and, when every
 * host failed so, 0xC004F074 ("the KMS server could not be contacted"): a
 * Windows client reports a dead port, a timeout and a service that is not KMS
 * alike (kms-reference.md "Error codes kmslab uses", "Which host a client tries").
 */
const UNREACHABLE = new Set<ErrorCode>(['KMSLAB_CONNECTION_FAILED', 'KMSLAB_TIMEOUT', 'KMSLAB_HOST_UNAVAILABLE', 'KMSLAB_SHUTTING_DOWN', 'KMSLAB_MALFORMED_FRAME', 'KMSLAB_FOREIGN_PROTOCOL']);

/** What a client sends a host: who it is, what it asks for, and what it says about itself. */
export interface HostRequest {
  /** The client machine id (a UUID). */
  cmid: string;
  /** A product id from the catalog (`kmslab products`). */
  productId: string;
  /** The machine's name the host sees (its FQDN). */
  fqdn: string;
  /** The client's clock, ms since the epoch. */
  clientTime: number;
  /** A renewal (a licensed client's periodic contact) rather than an activation. */
  renewal: boolean;
  /** What the client reports about its own license when it asks. */
  licenseStatus: LicenseStatus;
  /** Set when the client holds a MAK: it activates with the key, not by count. */
  makKey?: string | null | undefined;
  /** For its events (12288): minutes left on its license or grace, and the count its product needs (N-policy). */
  timeToExpirationMin?: number | undefined;
  minimumCount?: number | undefined;
}

/** Where a client's events go (12288 per request, 12289 per answer), and the machine name they carry. */
export interface ClientEvents {
  /** Takes each event as it happens (an `EventLog`'s `record`, a file, a test's array). */
  record(event: NewKmsEvent): void;
  /** The machine name the events carry (Windows: the computer's name). */
  source: string;
}

/**
 * The hosts one activation attempt asks, in turn, and what came of each: the
 * first answer is the outcome; when none answered, `failed()` is — a host's
 * refusal (0xC004F042, 0xC004F06C…) when one refused, else 0xC004F074 with
 * every host tried and why. One rule for `kmslab activate` (one host) and a
 * client's attempt (cache, then DNS candidates).
 */
export class HostAttempts {
  readonly tried: ActivationOutcome['tried'] = [];
  #refusal: KmsLabError | null = null;

  constructor(
    private readonly onStep: (text: string) => void = () => {},
    private readonly events: ClientEvents | null = null,
    /** How a host is connected to: once, or with a Windows client's SYN retries (host-connect.ts). */
    private readonly connect: HostConnector = connectOnce,
  ) {}

  /** Asks one host; its outcome when it answered, null when it failed (recorded for `failed()`). */
  async ask(host: string, port: number, by: DiscoveredBy, request: HostRequest, timeouts: HostTimeouts): Promise<ActivationOutcome | null> {
    const where = formatHostPort(host, port);
    try {
      const conn = await this.connect(host, port, timeouts);
      try {
        if (request.makKey) {
          const mak = await conn.activateMak({ cmid: request.cmid, productId: request.productId, clientTime: request.clientTime, key: request.makKey });
          this.onStep(`${where}: MAK activation, ${mak.remaining} left on the key`);
          return { response: null, mak, errorCode: null, message: null, host: where, address: where, discoveredBy: by, tried: this.tried };
        }
        const response = await conn.activate({
          cmid: request.cmid, productId: request.productId, fqdn: request.fqdn, clientTime: request.clientTime,
          kind: request.renewal ? 'renewal' : 'activation', licenseStatus: request.licenseStatus,
        });
        this.#sent(where, request, '0x0');
        this.events?.record({
          id: KMS_EVENT.answerProcessed, source: this.events.source, hresult: response.errorCode ?? '0x0', activated: response.licensed, currentCount: response.count,
          activationIntervalMin: response.activationIntervalMin, renewalIntervalMin: response.renewalIntervalMin, clientTime: request.clientTime,
        });
        this.onStep(`${where}: count ${response.count}, ${response.licensed ? 'licensed' : `not licensed (${response.errorCode})`}`);
        const message = response.errorCode ? ERROR_CODES[response.errorCode].message : null;
        return { response, errorCode: response.errorCode, message, host: where, address: where, discoveredBy: by, tried: this.tried };
      } finally {
        conn.close();
      }
    } catch (err) {
      const e = toKmsLabError(err);
      // A request the client itself got wrong is not a host's failure: it goes to the caller as thrown.
      if (e.code === 'KMSLAB_INVALID_ARGUMENT') throw e;
      if (!UNREACHABLE.has(e.code)) this.#refusal = e;
      // A host that answered with a refusal got the request; one that could not be reached did not (0xC004F074).
      if (!request.makKey) this.#sent(where, request, UNREACHABLE.has(e.code) ? '0xC004F074' : e.code);
      this.onStep(`${where}: ${e.code} ${e.message}`);
      this.tried.push({ host: where, discoveredBy: by, error: `${e.code}: ${e.message}` });
      return null;
    }
  }

  /** Event 12288: the request, and whether it went out (0x0) or why not. */
  #sent(server: string, r: HostRequest, hresult: string): void {
    this.events?.record({
      id: KMS_EVENT.requestSent, source: this.events.source, hresult, server, cmid: r.cmid, clientTime: r.clientTime,
      licenseStatus: r.licenseStatus, timeToExpirationMin: r.timeToExpirationMin ?? 0, activationId: r.productId, minimumCount: r.minimumCount ?? 0,
    });
  }

  /** The outcome when no host answered. */
  failed(): ActivationOutcome {
    if (this.#refusal) return { response: null, errorCode: this.#refusal.code, message: this.#refusal.message, host: null, discoveredBy: null, tried: this.tried };
    const list = this.tried.map((t) => `${t.host} (${t.discoveredBy}): ${t.error}`).join('; ');
    return { response: null, errorCode: '0xC004F074', message: `${ERROR_CODES['0xC004F074'].message}; tried ${list || 'nothing'}`, host: null, discoveredBy: null, tried: this.tried };
  }
}

/**
 * One request to one named host, as `kmslab activate` sends it: no discovery,
 * no client state; the same outcome (and the same 0xC004F074 rule) as a
 * client's attempt.
 */
export async function askHost(host: string, port: number, request: HostRequest, timeouts: HostTimeouts): Promise<ActivationOutcome> {
  const attempts = new HostAttempts();
  return (await attempts.ask(host, port, 'manual', request, timeouts)) ?? attempts.failed();
}
