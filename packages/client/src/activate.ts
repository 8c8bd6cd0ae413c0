import { Catalog, DEFAULT_KMS_PORT, formatHostPort, parseHostPort, KmsLabError, type Clock } from '@kmslab/core';
import type { DnsTarget } from '@kmslab/dns-wire';
import type { ClientState } from './client-state.js';
import { discoverHosts, type DiscoveryStep } from './discovery.js';
import type { Resolver } from './resolver.js';
import type { ActivationOutcome, DiscoveredBy } from './activation-outcome.js';
import type { ClientProfile } from './client-profile.js';
import { HostAttempts, type ClientEvents } from './host-attempts.js';
import { connectOnce, windowsConnector } from './host-connect.js';
import { afterAttempt, ensureInstalled, minutesLeft, statusAt } from './lifecycle.js';
import type { SelectionMode } from './srv-order.js';

/** What one activation attempt needs: the client state, the product, a clock, where to look the host up. */
export interface ActivateOptions {
  state: ClientState;
  productId: string;
  clock: Clock;
  /** Where SRV lookups go (one server, several in turn, or a Resolver); required unless a manual host is set. */
  dns?: DnsTarget | readonly DnsTarget[] | Resolver | undefined;
  domains: readonly string[];
  /** The domains are a configured lookup domain, not DNS suffixes (discovery.ts): no locator query. */
  lookupDomain?: boolean | undefined;
  /** What goes on the wire while looking (client-profile.ts); default `windows`. */
  profile?: ClientProfile | undefined;
  /** The workgroup a Windows client's locator query names; default `WORKGROUP`. */
  workgroup?: string | undefined;
  /** Where its events go (12288 per request sent, 12289 per answer), as a Windows client logs them. */
  events?: ClientEvents | undefined;
  random: () => number;
  /** The machine's name the host sees (its FQDN); default none. */
  fqdn?: string;
  mode?: SelectionMode;
  renewal?: boolean;
  /** The `plain` profile's connect timeout per host (default 2,000 ms); the `windows` profile follows a Windows client's SYN retries (host-connect.ts). */
  connectTimeoutMs?: number;
  /**
   * How the client lets time pass between SYN retries to a host that does not
   * answer (`windows` profile): real time by default. The lab passes one that
   * moves its virtual clock, so a dead target costs lab time, as on Windows.
   */
  wait?: ((ms: number) => Promise<void>) | undefined;
  onStep?: (step: DiscoveryStep | { step: 'connect'; text: string }) => void;
}


/**
 * One activation attempt as a KMS client makes it (kms-reference.md
 * "Discovery"): a manual host alone when set; otherwise the cached host
 * first, then DNS candidates in order, each until one answers. The state is
 * updated (cache, license, intervals); the caller saves it.
 */
export async function activateOnce(o: ActivateOptions): Promise<ActivationOutcome> {
  const connector = (o.profile ?? 'windows') === 'windows' ? windowsConnector(o.wait) : connectOnce;
  const attempts = new HostAttempts((text) => o.onStep?.({ step: 'connect', text }), o.events ?? null, connector);
  const timeouts = { connectTimeoutMs: o.connectTimeoutMs ?? 2000, requestTimeoutMs: 5000 };
  ensureInstalled(o.state, o.clock);
  o.state.licenseStatus = statusAt(o.state, o.clock.now());
  const attempt: Attempt = (host, port, by) => {
    const now = o.clock.now();
    return attempts.ask(host, port, by, {
      cmid: o.state.cmid, productId: o.productId, fqdn: o.fqdn ?? '', clientTime: now,
      renewal: o.renewal ?? false, licenseStatus: o.state.licenseStatus, makKey: o.state.makKey,
      timeToExpirationMin: minutesLeft(o.state, now), minimumCount: thresholdOf(o.productId),
    }, timeouts);
  };
  const outcome = (await reachHost(o, attempt, attempts.tried)) ?? attempts.failed();
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
  const found = await discoverHosts({ dns: o.dns, domains: o.domains, lookupDomain: o.lookupDomain, profile: o.profile, workgroup: o.workgroup, random: o.random, mode: o.mode, onStep: o.onStep });
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

let builtin: Catalog | null = null;
/** The count a built-in product needs (its N-policy, in 12288); 0 for one only a user catalog knows. */
function thresholdOf(productId: string): number {
  builtin ??= Catalog.load();
  return builtin.findProduct(productId)?.threshold ?? 0;
}
