import {
  DEFAULT_KMS_PORT, ERROR_CODES, formatHostPort, parseHostPort, KmsConnection, KmsLabError, toKmsLabError,
  type Clock, type ErrorCode,
} from '@kmslab/core';
import type { DnsTarget } from '@kmslab/dns-wire';
import type { ClientState } from './client-state.js';
import { discoverHosts, type DiscoveryStep } from './discovery.js';
import type { Resolver } from './resolver.js';
import type { ActivationOutcome, DiscoveredBy } from './activation-outcome.js';
import { afterAttempt, ensureInstalled, statusAt } from './lifecycle.js';
import type { SelectionMode } from './srv-order.js';

/** Failures that mean "try the next host" and, if all fail so, 0xC004F074. */
const UNREACHABLE = new Set<ErrorCode>(['KMSLAB_CONNECTION_FAILED', 'KMSLAB_TIMEOUT', 'KMSLAB_HOST_UNAVAILABLE', 'KMSLAB_SHUTTING_DOWN', 'KMSLAB_MALFORMED_FRAME', 'KMSLAB_FOREIGN_PROTOCOL']);

/** What one activation attempt needs: the client state, the product, a clock, where to look the host up. */
export interface ActivateOptions {
  state: ClientState;
  productId: string;
  clock: Clock;
  /** Where SRV lookups go (one server, several in turn, or a Resolver); required unless a manual host is set. */
  dns?: DnsTarget | readonly DnsTarget[] | Resolver | undefined;
  domains: readonly string[];
  random: () => number;
  /** The machine's name the host sees (its FQDN); default none. */
  fqdn?: string;
  mode?: SelectionMode;
  renewal?: boolean;
  connectTimeoutMs?: number;
  onStep?: (step: DiscoveryStep | { step: 'connect'; text: string }) => void;
}


/**
 * One activation attempt as a KMS client makes it (kms-reference.md
 * "Discovery"): a manual host alone when set; otherwise the cached host
 * first, then DNS candidates in order, each until one answers. The state is
 * updated (cache, license, intervals); the caller saves it.
 */
export async function activateOnce(o: ActivateOptions): Promise<ActivationOutcome> {
  const tried: ActivationOutcome['tried'] = [];
  // A host that answered with a refusal (0xC004F042, 0xC004F06C…) is reported as such if no other host licenses.
  let refusal = null as KmsLabError | null;
  const step = (text: string) => o.onStep?.({ step: 'connect', text });
  const attempt: Attempt = async (host, port, by) => {
    const where = formatHostPort(host, port);
    try {
      const conn = await KmsConnection.connect({ host, port, connectTimeoutMs: o.connectTimeoutMs ?? 2000, requestTimeoutMs: 5000 });
      try {
        if (o.state.makKey) {
          const mak = await conn.activateMak({ cmid: o.state.cmid, productId: o.productId, clientTime: o.clock.now(), key: o.state.makKey });
          step(`${where}: MAK activation, ${mak.remaining} left on the key`);
          return { response: null, mak, errorCode: null, message: null, host: where, address: where, discoveredBy: by, tried };
        }
        const response = await conn.activate({
          cmid: o.state.cmid, productId: o.productId, fqdn: o.fqdn ?? '', clientTime: o.clock.now(),
          kind: o.renewal ? 'renewal' : 'activation', licenseStatus: o.state.licenseStatus,
        });
        step(`${where}: count ${response.count}, ${response.licensed ? 'licensed' : `not licensed (${response.errorCode})`}`);
        return { response, errorCode: response.errorCode, message: response.errorCode ? ERROR_CODES[response.errorCode].message : null, host: where, address: where, discoveredBy: by, tried };
      } finally {
        conn.close();
      }
    } catch (err) {
      const e = toKmsLabError(err);
      if (!UNREACHABLE.has(e.code)) refusal = e;
      step(`${where}: ${e.code} ${e.message}`);
      tried.push({ host: where, discoveredBy: by, error: `${e.code}: ${e.message}` });
      return null;
    }
  };

  ensureInstalled(o.state, o.clock);
  o.state.licenseStatus = statusAt(o.state, o.clock.now());
  const outcome = (await reachHost(o, attempt, tried)) ?? failedOutcome(refusal, tried);
  if (outcome.response || outcome.mak) applyToState(o, outcome);
  // Whatever came of it, the next contact is scheduled here, once (lifecycle.ts).
  afterAttempt(o.state, outcome, o.clock.now());
  return outcome;
}

type Attempt = (host: string, port: number, by: DiscoveredBy) => Promise<ActivationOutcome | null>;

/**
 * The hosts a client tries, in its order: a manual host alone when set;
 * otherwise the cached host, then what DNS gives. The first that answers
 * ends it; null when none did; DNS giving no host is its own outcome.
 */
async function reachHost(o: ActivateOptions, attempt: Attempt, tried: ActivationOutcome['tried']): Promise<ActivationOutcome | null> {
  if (o.state.manualHost) {
    const { host, port } = parseHostPort(o.state.manualHost, { defaultPort: DEFAULT_KMS_PORT, what: 'The KMS host' });
    return attempt(host, port, 'manual');
  }
  if (o.state.hostCaching && o.state.cachedHost) {
    const { host, port } = parseHostPort(o.state.cachedHost, { defaultPort: DEFAULT_KMS_PORT, what: 'The cached KMS host' });
    const cached = await attempt(host, port, 'cache');
    if (cached) {
      if (o.state.cachedHostName) cached.host = o.state.cachedHostName;
      return cached;
    }
  }
  if (!o.dns) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'No KMS host set and no DNS server to ask: use set-host or --dns');
  const found = await discoverHosts({ dns: o.dns, domains: o.domains, random: o.random, mode: o.mode, onStep: o.onStep });
  // DNS gave no host (NXDOMAIN, no records, SERVFAIL, no answer…): an outcome like any other, retried on schedule.
  if (!found.ok) return { response: null, errorCode: found.errorCode, message: found.message, host: null, discoveredBy: null, tried };
  for (const c of found.candidates) {
    for (const address of c.addresses.length ? c.addresses : [c.target]) {
      const outcome = await attempt(address, c.port, 'dns');
      if (outcome) {
        outcome.host = formatHostPort(c.target, c.port);
        return outcome;
      }
    }
  }
  return null;
}

/** No host answered: a host's refusal (0xC004F042, 0xC004F06C…) when one refused, else 0xC004F074 with what was tried. */
function failedOutcome(refusal: KmsLabError | null, tried: ActivationOutcome['tried']): ActivationOutcome {
  if (refusal) return { response: null, errorCode: refusal.code, message: refusal.message, host: null, discoveredBy: null, tried };
  const list = tried.map((t) => `${t.host} (${t.discoveredBy}): ${t.error}`).join('; ');
  return { response: null, errorCode: '0xC004F074', message: `${ERROR_CODES['0xC004F074'].message}; tried ${list || 'nothing'}`, host: null, discoveredBy: null, tried };
}

function applyToState(o: ActivateOptions, outcome: ActivationOutcome): void {
  const now = o.clock.now();
  o.state.productId = o.productId;
  if (outcome.mak) {
    o.state.lastContact = { at: new Date(now).toISOString(), host: outcome.host, discoveredBy: outcome.discoveredBy, count: null, errorCode: null };
    return;
  }
  const r = outcome.response!;
  if (o.state.hostCaching && outcome.discoveredBy !== 'manual') {
    o.state.cachedHost = outcome.address ?? outcome.host;
    o.state.cachedHostName = outcome.host;
  }
  // The client takes the host's intervals after its first answer (kms-reference.md "Client timing").
  o.state.activationIntervalMin = r.activationIntervalMin;
  o.state.renewalIntervalMin = r.renewalIntervalMin;
  o.state.lastContact = { at: new Date(now).toISOString(), host: outcome.host, discoveredBy: outcome.discoveredBy, count: r.count, errorCode: r.errorCode };
}
