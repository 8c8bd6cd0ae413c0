import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsLabError, makeOwnDir, parseUserJson, replaceFileSync, type LicenseStatus } from '@kmslab/core';

/** What a KMS client keeps between runs (what `slmgr /dli` shows). */
export interface ClientState {
  /** Client machine id: created once, kept for good (kms-reference.md "Counting"). */
  cmid: string;
  productId: string | null;
  /** `HOST[:PORT]` set by hand (`slmgr /skms`); wins over DNS. */
  manualHost: string | null;
  /** A domain pinned for discovery (`slmgr /skms-domain`); otherwise the search list. */
  domain: string | null;
  /** Host caching (on by default, `/ckhc` turns it off): the last host that answered, tried first. */
  hostCaching: boolean;
  cachedHost: string | null;
  /** The name the cached host was found under (`target:port` from its SRV record). */
  cachedHostName: string | null;
  licenseStatus: LicenseStatus;
  /** ISO time the license runs out (180 days after the last success). */
  licensedUntil: string | null;
  lastContact: { at: string; host: string | null; discoveredBy: string | null; count: number | null; errorCode: string | null } | null;
  activationIntervalMin: number | null;
  renewalIntervalMin: number | null;
  /** A multiple activation key set with `client set-key --mak`: the client activates with it instead of KMS. */
  makKey: string | null;
  /** Lifecycle (see lifecycle.ts): install time, end of the initial grace, next contact. */
  installedAt: string | null;
  graceUntil: string | null;
  nextContactAt: string | null;
}

const FILE = 'client.json';

/** A new client machine: a fresh CMID, initial grace, host caching on. */
export function newClientState(): ClientState {
  return {
    cmid: randomUUID(), productId: null, manualHost: null, domain: null, hostCaching: true, cachedHost: null, cachedHostName: null,
    licenseStatus: 'initial-grace', licensedUntil: null, lastContact: null, activationIntervalMin: null, renewalIntervalMin: null,
    makKey: null, installedAt: null, graceUntil: null, nextContactAt: null,
  };
}

/** Reads the state in `dir`, creating a new client (new CMID) the first time. */
export function loadClientState(dir: string): ClientState {
  const path = join(dir, FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return newClientState();
    throw new KmsLabError('KMSLAB_STORE_CORRUPT', `${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: err });
  }
  return { ...newClientState(), ...(parseUserJson(text, path, 'KMSLAB_STORE_CORRUPT') as Partial<ClientState>) };
}

/** Writes the state atomically; a folder that cannot be written is a one-line KMSLAB_INVALID_ARGUMENT. */
export function saveClientState(dir: string, state: ClientState): void {
  const path = join(dir, FILE);
  try {
    makeOwnDir(dir);
    // Whole or not at all, and never through a link planted at the temporary name (durable-file.ts).
    replaceFileSync(path, `${JSON.stringify(state, null, 2)}\n`, { durable: false });
  } catch (err) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `The client state folder ${dir} cannot be written (${(err as NodeJS.ErrnoException).code ?? 'write failed'}); pass --state-dir DIR or set KMSLAB_CLIENT_STATE`, { cause: err });
  }
}
