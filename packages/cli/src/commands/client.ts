import { hostname } from 'node:os';
import { join } from 'node:path';
import { clientEventLog, readClientEvents } from '../client-events.js';
import { Command, Option } from 'commander';
import { Catalog, KmsLabError, realClock, parseHostPort, DEFAULT_KMS_PORT, type EventLog } from '@kmslab/core';
import { collect, intOption, profileOption } from '../options.js';
import { ADMIN_TOKEN_ENV, adminTokenFrom, printGeneratedToken, type AdminTokenFlags } from '../admin-token.js';
import { formatEvent } from './events.js';
import { withEnvironment } from '../help/layout.js';
import { dnsResolver } from '../dns-servers.js';
import { printJson } from '../output.js';
import type { ActivationOutcome } from '@kmslab/client';

interface Common {
  stateDir: string;
  json?: boolean;
}

interface ActivateFlags extends Common {
  product?: string;
  dns?: string[];
  domain?: string[];
  selection: 'rfc2782' | 'random';
  profile: 'windows' | 'plain';
  seed?: string;
  renew?: boolean;
}

export const defaultStateDir = () => process.env.KMSLAB_CLIENT_STATE ?? join('.kmslab', 'client');

function withCommon(c: Command): Command {
  withEnvironment(c, { KMSLAB_CLIENT_STATE: 'the state folder when --state-dir is not given' });
  return c.option('--state-dir <dir>', 'where the client keeps its CMID and state', defaultStateDir()).option('--json', 'print JSON');
}

async function lib() {
  return import('@kmslab/client');
}

function discoveryOptions(c: Command): Command {
  return withCommon(c)
    .option('--product <id>', 'the installed product (kept in the state)')
    .option('--dns <host:port>', 'DNS server for the SRV lookup, repeatable: each asked in turn (default: the nameservers of /etc/resolv.conf with its options)', collect)
    .option('--domain <domain>', 'domain to search, repeatable (default: the pinned domain, else the DNS suffix search list)', collect)
    .addOption(new Option('--selection <mode>', 'how to order SRV records').choices(['rfc2782', 'random']).default('rfc2782'))
    .addOption(profileOption())
    .option('--seed <n>', 'seed for the weighted choice (repeatable runs)');
}


/** The state and one-attempt function both `activate` and `run` use. */
async function prepare(o: ActivateFlags) {
  const { activateOnce, loadClientState, saveClientState, seededRandom, systemSearchList } = await lib();
  const state = loadClientState(o.stateDir);
  // Kept before any host hears of it: a state dir that cannot be written fails here, before a
  // fresh CMID is counted and then forgotten (every run would be another machine).
  saveClientState(o.stateDir, state);
  const productId = o.product ?? state.productId;
  if (!productId) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'No product: pass --product ID once (it is kept in the state)');
  const product = Catalog.load().product(productId);
  const domains = o.domain ?? (state.domain ? [state.domain] : systemSearchList());
  // The pinned domain is a lookup domain (KeyManagementServiceLookupDomain): a Windows client asks only there, no locator first.
  const lookupDomain = o.domain === undefined && state.domain !== null;
  const dns = await dnsResolver(o.dns);
  const random = o.seed === undefined ? Math.random : seededRandom(Number(o.seed));
  // Events 12288/12289 go to the state folder (kmslab client events), as a Windows client's go to its event log.
  const events = clientEventLog(o.stateDir);
  const attempt = (renewal = false): Promise<ActivationOutcome> =>
    activateOnce({ state, productId: product.id, clock: realClock, dns, domains, lookupDomain, profile: o.profile, mode: o.selection, renewal, random, events: { record: (e) => events.record(e), source: hostname() } });
  return { state, product, attempt, events };
}

function activateCommand(): Command {
  return discoveryOptions(new Command('activate').description('activate now, like slmgr /ato: manual host, else cached host, else _vlmcs._tcp SRV lookup'))
    .option('--renew', 'send a renewal')
    .action(async (o: ActivateFlags) => {
      const { saveClientState, activationResult } = await lib();
      const { state, product, attempt } = await prepare(o);
      const result = activationResult(await attempt(o.renew), product, state.cmid);
      saveClientState(o.stateDir, state);
      if (o.json) printJson(result);
      else if (result.licensed) process.stdout.write(`${product.id}: licensed by ${result.host} (${result.discoveredBy}), count ${result.count}\n`);
      else process.stdout.write(`${product.id}: not licensed (${result.errorCode}: ${result.message})${result.host ? ` from ${result.host} (${result.discoveredBy})` : ''}\n`);
      process.exitCode = result.licensed ? 0 : 2;
    });
}

function runCommand(): Command {
  return withEnvironment(discoveryOptions(new Command('run').description('run as a KMS client does: retry every activation interval, renew every renewal interval, until stopped')), ADMIN_TOKEN_ENV)
    .option('--admin <host:port>', 'an admin listener for the agent: GET /events (its 12288/12289 events, JSON or server-sent) and /healthz; off unless given')
    .option('--admin-token <token>', 'the token it requires (env KMSLAB_ADMIN_TOKEN; beyond loopback one is generated when none is given)')
    .option('--admin-token-file <file>', 'read the admin token from FILE (keeps it out of ps; env KMSLAB_ADMIN_TOKEN_FILE)')
    .action(async (o: ActivateFlags & AdminTokenFlags & { admin?: string }) => {
      const { runAgent, saveClientState, activationResult } = await lib();
      const { state, product, attempt, events } = await prepare(o);
      const stop = new AbortController();
      process.once('SIGTERM', () => stop.abort());
      process.once('SIGINT', () => stop.abort());
      const admin = o.admin ? await agentAdmin(o.admin, adminTokenFrom(o), events) : null;
      if (admin) process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), event: 'ready', admin: admin.url })}\n`);
      await runAgent({
        state, clock: realClock,
        attempt: () => attempt(state.licenseStatus === 'licensed'),
        onAttempt: (outcome) => {
          saveClientState(o.stateDir, state);
          const line = outcome ? activationResult(outcome, product, state.cmid) : { licensed: false, errorCode: 'error' };
          process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), status: state.licenseStatus, nextContact: state.nextContactAt, ...line })}\n`);
        },
      }, stop.signal);
      await admin?.close();
    });
}

/** The agent's admin listener: its events (GET /events) and /healthz, behind the same rules as every kmslab admin listener. */
async function agentAdmin(address: string, given: string | undefined, events: EventLog): Promise<{ url: string; close: () => Promise<void> }> {
  const { adminTokenFor, createAdminApp, eventRoutes, listenAdmin, sendJson } = await import('@kmslab/server-kit');
  const token = adminTokenFor(address, given);
  const app = createAdminApp({ token: token?.value, notFound: 'Try /events or /healthz' });
  eventRoutes(app, events);
  app.get('/healthz', async (_req, reply) => sendJson(reply, 200, { ok: true }));
  const url = await listenAdmin(app, address, 'client admin listener');
  if (token?.generated) printGeneratedToken(url, token.value);
  return { url, close: () => app.close() };
}

function eventsCommand(): Command {
  return withCommon(new Command('events').description("the client's events, as Windows logs them: 12288 per request sent, 12289 per answer processed"))
    .option('--after <seq>', 'only events after this one', intOption('--after', 0, Number.MAX_SAFE_INTEGER), 0)
    .action((o: Common & { after: number }) => {
      const events = readClientEvents(o.stateDir).filter((e) => e.seq > o.after);
      if (o.json) for (const e of events) process.stdout.write(`${JSON.stringify(e)}\n`);
      else process.stdout.write(events.length ? `${events.map(formatEvent).join('\n')}\n` : 'no events yet\n');
    });
}

/** The client's state after a change, one line: what it does now, and how to undo it (a change carries over to every later run). */
export function clientStateLine(s: import('@kmslab/client').ClientState): string {
  const how = s.makKey
    ? `activates with the MAK ${s.makKey} (kmslab client set-key --kms goes back to KMS)`
    : s.manualHost
      ? `asks ${s.manualHost} only (kmslab client clear-host: find hosts by DNS again)`
      : `finds KMS hosts by DNS in ${s.domain ?? 'the search list'}${s.hostCaching ? `, the last one that answered first${s.cachedHost ? ` (${s.cachedHostName ?? s.cachedHost})` : ''}` : ', host caching off'}`;
  return `client ${s.cmid}: ${how}; license ${s.licenseStatus}`;
}

function stateCommand(name: string, description: string, change: (state: import('@kmslab/client').ClientState, arg: string | undefined) => void, argName?: string): Command {
  const c = withCommon(new Command(name).description(description));
  if (argName) c.argument(argName);
  return c.action(async (...args: unknown[]) => {
    const arg = argName ? (args[0] as string) : undefined;
    const o = (argName ? args[1] : args[0]) as Common;
    const { loadClientState, saveClientState } = await lib();
    const state = loadClientState(o.stateDir);
    change(state, arg);
    saveClientState(o.stateDir, state);
    if (o.json) printJson(state);
    else process.stdout.write(`${clientStateLine(state)}\n`);
  });
}

export function clientCommand(): Command {
  const client = new Command('client').description('a KMS client: discovery, activation and its state, like slmgr');
  client.addCommand(activateCommand());
  client.addCommand(runCommand());
  client.addCommand(eventsCommand());
  client.addCommand(
    withCommon(new Command('status').description('show the client state, like slmgr /dli')).action(async (o: Common) => {
      const { loadClientState } = await lib();
      const s = loadClientState(o.stateDir);
      if (o.json) return printJson(s);
      const lines = [
        `Client Machine ID (CMID): ${s.cmid}`,
        `Product: ${s.productId ?? 'not set'}`,
        `License status: ${s.licenseStatus}${s.licensedUntil ? `, until ${s.licensedUntil}` : ''}`,
        `KMS machine name: ${s.manualHost ? `${s.manualHost} (registered by hand)` : s.cachedHost ? `${s.cachedHostName ?? s.cachedHost} (from DNS, cached)` : 'from DNS'}`,
        `KMS host caching: ${s.hostCaching ? 'enabled' : 'disabled'}`,
        `Discovery domain: ${s.domain ?? 'DNS suffix search list'}`,
        `Activation interval: ${s.activationIntervalMin ?? 120} minutes; renewal interval: ${s.renewalIntervalMin ?? 10080} minutes`,
        `Next contact: ${s.makKey && s.licenseStatus === 'licensed' ? 'none (MAK activation)' : (s.nextContactAt ?? 'now')}`,
        `Last contact: ${s.lastContact ? `${s.lastContact.at} ${s.lastContact.host ?? '-'} (${s.lastContact.discoveredBy ?? '-'}), count ${s.lastContact.count ?? '-'}, ${s.lastContact.errorCode ?? 'licensed'}` : 'never'}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }),
  );
  client.addCommand(stateCommand('set-host', 'use this KMS host only, like slmgr /skms HOST[:PORT]', (s, a) => {
    parseHostPort(a!, { defaultPort: DEFAULT_KMS_PORT, what: 'The KMS host' });
    s.manualHost = a!;
  }, '<host[:port]>'));
  client.addCommand(
    withCommon(new Command('set-key').description('switch to MAK activation with a lab multiple activation key (like slmgr /ipk MAK), or back to KMS (like slmgr /ipk with a KMS client key)'))
      .option('--mak <key>', 'the MAK (KMSLAB-MAK-…); the host serving as activation authority must know it')
      .option('--kms', 'back to KMS activation (forget the MAK)')
      .action(async (o: Common & { mak?: string; kms?: boolean }) => {
        if ((o.mak === undefined) === (o.kms === undefined)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'Give --mak KEY or --kms');
        if (o.mak !== undefined && !/^KMSLAB-MAK-[A-Z0-9-]+$/.test(o.mak)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `"${o.mak}" is not a lab MAK (KMSLAB-MAK-…); kmslab never takes Microsoft keys`);
        const { loadClientState, saveClientState } = await lib();
        const state = loadClientState(o.stateDir);
        state.makKey = o.mak ?? null;
        state.nextContactAt = null;
        saveClientState(o.stateDir, state);
        if (o.json) printJson(state);
        else process.stdout.write(`${clientStateLine(state)}\n`);
      }),
  );
  client.addCommand(stateCommand('clear-host', 'go back to DNS discovery, like slmgr /ckms', (s) => (s.manualHost = null)));
  client.addCommand(stateCommand('set-domain', 'search this domain only, like slmgr /skms-domain', (s, a) => (s.domain = a!.replace(/\.$/, '')), '<domain>'));
  client.addCommand(stateCommand('host-caching', 'turn host caching on or off, like slmgr /skhc and /ckhc', (s, a) => {
    if (a !== 'on' && a !== 'off') throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'host-caching takes on or off');
    s.hostCaching = a === 'on';
    if (!s.hostCaching) {
      s.cachedHost = null;
      s.cachedHostName = null;
    }
  }, '<on|off>'));
  return client;
}
