import {
  ACTIVATION_VALIDITY_MS,
  KMS_EVENT,
  KmsLabError,
  TIME,
  toKmsLabError,
  type ActivationRequest,
  type ActivationResponse,
  type MakRequest,
  type MakResponse,
  type Product,
} from '@kmslab/core';
import type { Logger } from 'pino';
import type { HostMetrics } from './metrics.js';
import type { ResolvedHostOptions } from './host-options.js';
import { RecentActivity } from './recent-activity.js';

const VALIDITY_MIN = ACTIVATION_VALIDITY_MS / TIME.MINUTE_MS;

/**
 * Answers one activation request as a KMS host does: refuse what this host
 * cannot activate or a request whose time is off, count the client, and tell
 * it whether the count reached its product's threshold.
 */
export class ActivationService {
  readonly #o: ResolvedHostOptions;
  readonly #metrics: HostMetrics;
  readonly #license: { keyGroup: string; licensePacks: readonly string[] };
  /** Bindings are serialised once by pino, so the per-request event pays only for its own fields. */
  readonly #log: Logger | undefined;
  /** The clients and requests this replica saw lately (`GET /clients`, `GET /requests`). */
  readonly recent = new RecentActivity();

  constructor(options: ResolvedHostOptions, metrics: HostMetrics) {
    this.#o = options;
    this.#metrics = metrics;
    this.#license = { keyGroup: options.keyGroup, licensePacks: options.licensePacks };
    this.#log = options.logger?.child({ event: 'activation-request' });
  }

  async handle(req: ActivationRequest, peer: string): Promise<ActivationResponse> {
    const { catalog, clock, store } = this.#o;
    const now = clock.now();
    const product = catalog.findProduct(req.productId);
    if (!product) return this.#refuse(req, peer, undefined, new KmsLabError('KMSLAB_UNKNOWN_PRODUCT', `Unknown product "${req.productId}"`));
    // 4-hour limit: kms-reference.md "Client timing".
    const skew = req.clientTime - now;
    if (Math.abs(skew) > this.#o.maxClockSkewMs) {
      const hours = (skew / 3_600_000).toFixed(1);
      return this.#refuse(req, peer, product, new KmsLabError('0xC004F06C', `The client's time is ${hours} h off the host's; the limit is 4 h`));
    }
    if (!catalog.canActivate(this.#license, product)) {
      const needs = product.licensePack ? `license pack ${product.licensePack}` : `a key group covering ${product.keyGroup}`;
      return this.#refuse(req, peer, product, new KmsLabError('0xC004F042', `This host (key group ${this.#license.keyGroup}) cannot activate ${product.id}; it needs ${needs}`));
    }

    let count: number;
    try {
      count = await store.record({ family: product.family, cmid: req.cmid, now, threshold: product.threshold, licenseStatus: req.licenseStatus });
    } catch (err) {
      const e = toKmsLabError(err, 'KMSLAB_HOST_UNAVAILABLE');
      this.#metrics.request(product.family, e.code);
      this.recent.saw(req, product.family, e.code, null, now, null, peer);
      this.#log?.warn({ cmid: req.cmid, product: product.id, outcome: 'error', errorCode: e.code, err: e.message }, 'store unavailable');
      throw e;
    }
    const licensed = count >= product.threshold;
    const response: ActivationResponse = {
      errorCode: licensed ? null : '0xC004F038',
      licensed,
      count,
      threshold: product.threshold,
      family: product.family,
      activationIntervalMin: this.#o.activationIntervalMin,
      renewalIntervalMin: this.#o.renewalIntervalMin,
      validityMin: licensed ? VALIDITY_MIN : 0,
      hostId: this.#o.hostId,
      hostTime: now,
    };
    this.#metrics.request(product.family, response.errorCode ?? 'licensed');
    this.recent.saw(req, product.family, response.errorCode ?? 'licensed', count, now, (licensed ? this.#o.renewalIntervalMin : this.#o.activationIntervalMin) * TIME.MINUTE_MS, peer);
    // The fields of a KMS host's per-request event (kms-reference.md "What a host shows").
    this.#served(req, peer, product, response.errorCode ?? '0x0', count, licensed ? VALIDITY_MIN : 0, now);
    this.#log?.info(
      {
        eventId: KMS_EVENT.requestServed,
        cmid: req.cmid,
        fqdn: req.fqdn,
        product: product.id,
        family: product.family,
        kind: req.kind,
        clientStatus: req.licenseStatus,
        count,
        threshold: product.threshold,
        outcome: licensed ? 'licensed' : 'count-insufficient',
        errorCode: response.errorCode,
        expiresInMin: licensed ? VALIDITY_MIN : this.#o.activationIntervalMin,
        peer,
      },
      'activation request',
    );
    return response;
  }

  /** The emulated activation authority: a MAK activates a client whatever the count (kms-reference.md "Roles"). */
  async handleMak(req: MakRequest, peer: string): Promise<MakResponse> {
    const { catalog, clock, store, makKeys } = this.#o;
    const product = catalog.findProduct(req.productId);
    const refuse = (err: KmsLabError): never => {
      this.#metrics.request(product?.family ?? 'unknown', err.code);
      this.#log?.info({ event: 'mak-activation', cmid: req.cmid, product: req.productId, outcome: 'refused', errorCode: err.code, peer }, err.message);
      throw err;
    };
    if (!product) refuse(new KmsLabError('KMSLAB_UNKNOWN_PRODUCT', `Unknown product "${req.productId}"`));
    if (Math.abs(req.clientTime - clock.now()) > this.#o.maxClockSkewMs) refuse(new KmsLabError('0xC004F06C'));
    const key = makKeys.find((k) => k.key === req.key);
    if (!key) refuse(new KmsLabError('KMSLAB_MAK_INVALID'));
    let remaining: number | null;
    try {
      remaining = await store.consumeMak(key!.key, req.cmid, key!.activations);
    } catch (err) {
      throw toKmsLabError(err, 'KMSLAB_HOST_UNAVAILABLE');
    }
    if (remaining === null) refuse(new KmsLabError('KMSLAB_MAK_EXHAUSTED', `MAK ${key!.key} has no activations left (${key!.activations} used)`));
    this.#metrics.request(product!.family, 'mak');
    this.#log?.info({ event: 'mak-activation', cmid: req.cmid, product: product!.id, outcome: 'licensed', remaining, peer }, 'MAK activation');
    return { remaining: remaining!, hostId: this.#o.hostId };
  }

  #refuse(req: ActivationRequest, peer: string, product: Product | undefined, err: KmsLabError): never {
    const family = product?.family ?? 'unknown';
    this.#metrics.request(family, err.code);
    this.recent.saw(req, family, err.code, null, this.#o.clock.now(), null, peer);
    if (product) {
      // Statistics only; a store outage must not turn a refusal into another error.
      this.#o.store.recordRefused({ family, licenseStatus: req.licenseStatus }).catch(() => {});
    }
    this.#served(req, peer, product, err.code, null, 0, this.#o.clock.now());
    this.#log?.info(
      { eventId: KMS_EVENT.requestServed, cmid: req.cmid, fqdn: req.fqdn, product: req.productId, family, outcome: 'refused', errorCode: err.code, peer },
      err.message,
    );
    throw err;
  }

  /**
   * Event 12290, one per request answered (kms-reference.md "Host events"):
   * what the client asked and what it got. The time to expiration is what the
   * answer grants (kmslab's protocol does not carry the client's own).
   */
  #served(req: ActivationRequest, peer: string, product: Product | undefined, hresult: string, count: number | null, expiresInMin: number, now: number): void {
    this.#o.events.record({
      id: KMS_EVENT.requestServed, source: this.#o.hostId, at: now, hresult, minimumCount: product?.threshold ?? 0, fqdn: req.fqdn, cmid: req.cmid,
      clientTime: req.clientTime, licenseStatus: req.licenseStatus, timeToExpirationMin: expiresInMin, activationId: req.productId,
      currentCount: count, peer,
    });
  }
}
