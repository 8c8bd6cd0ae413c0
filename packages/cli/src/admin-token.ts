import { KmsLabError, formatHostPort, parseHostPort } from '@kmslab/core';
import type { Command } from 'commander';
import { withEnvironment } from './help/layout.js';
import { secretFrom } from './secrets.js';

/**
 * `--admin` as a URL (`http://127.0.0.1:9688`) or `HOST:PORT`, for every
 * command that talks to an admin listener; a wildcard listen address is
 * reached on loopback.
 */
export function adminBase(value: string): string {
  if (/^https?:\/\//.test(value)) return value.replace(/\/+$/, '');
  const { host, port } = parseHostPort(value, { what: '--admin' });
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${formatHostPort(h, port)}`;
}

/** Why a request to an admin listener failed, in words a user can act on. */
export function adminUnreachable(base: string, err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? ((err as Error).name === 'TimeoutError' ? 'TimeoutError' : (cause?.message ?? (err as Error).message));
  const why = code === 'ECONNREFUSED' ? 'connection refused: no host listens there' : code === 'TimeoutError' ? 'no answer within 5 s' : code;
  return `No kmslab admin listener answers at ${base} (${why}); start a host with \`kmslab host start\`, or pass --admin for the one you started`;
}

/**
 * One request to the admin listener at `base`, with the token when one is
 * known, and the two one-line errors every command shares: nothing answers
 * (KMSLAB_CONNECTION_FAILED, said by `unreachable`) and the listener wants
 * its token (401). Any other status is the caller's to read.
 */
export async function adminFetch(base: string, url: string | URL, o: AdminTokenFlags, init: RequestInit = {}, unreachable = adminUnreachable): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...adminHeaders(o), ...(init.headers as Record<string, string> | undefined) } });
  } catch (err) {
    throw new KmsLabError('KMSLAB_CONNECTION_FAILED', unreachable(base, err));
  }
  if (res.status === 401) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${base} needs its admin token: pass --admin-token TOKEN or set KMSLAB_ADMIN_TOKEN`);
  return res;
}

/** The flags every command that takes an admin token has. */
export interface AdminTokenFlags {
  adminToken?: string | undefined;
  adminTokenFile?: string | undefined;
}

/**
 * `--admin-token`, `--admin-token-file`, KMSLAB_ADMIN_TOKEN or
 * KMSLAB_ADMIN_TOKEN_FILE (an empty variable counts as unset). The file and
 * variable forms keep the token out of `ps`, which every user of the machine
 * can read.
 */
export function adminTokenFrom(o: AdminTokenFlags): string | undefined {
  return secretFrom({ flag: o.adminToken, file: o.adminTokenFile, option: '--admin-token', variable: 'KMSLAB_ADMIN_TOKEN', what: 'admin token' });
}

/** `Authorization` for admin requests when a token is known. */
export function adminHeaders(o: AdminTokenFlags): Record<string, string> {
  const token = adminTokenFrom(o);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The help lines of the token's flags and variables. */
export const ADMIN_TOKEN_ENV = {
  KMSLAB_ADMIN_TOKEN: 'the admin token, when no --admin-token(-file) is set',
  KMSLAB_ADMIN_TOKEN_FILE: 'a file holding it (as --admin-token-file)',
};

/**
 * The flags of a command that asks an admin listener: `--admin` (its
 * description; a default, or required), `--admin-token`, `--admin-token-file`,
 * and the token's variables in the help (with the command's `otherVariables`, one list).
 */
export function askingAdmin(cmd: Command, admin: { description: string; default?: string; required?: boolean }, otherVariables: Record<string, string> = {}): Command {
  const c = withEnvironment(cmd, { ...otherVariables, ...ADMIN_TOKEN_ENV });
  if (admin.required) c.requiredOption('--admin <url|host:port>', admin.description);
  else c.option('--admin <url|host:port>', admin.description, admin.default);
  return c
    .option('--admin-token <token>', "the admin listener's token (env KMSLAB_ADMIN_TOKEN)")
    .option('--admin-token-file <file>', 'read the admin token from FILE (keeps it out of ps; env KMSLAB_ADMIN_TOKEN_FILE)');
}

/**
 * A generated token is shown once, on stderr and outside the log stream:
 * logs are collected and kept, and a token must never be in them.
 */
export function printGeneratedToken(adminUrl: string, token: string): void {
  process.stderr.write(
    `kmslab: the admin listener ${adminUrl} is reachable beyond loopback, so it needs this token: Authorization: Bearer ${token}\n` +
      'kmslab: it is shown only now; choose your own with --admin-token-file FILE or KMSLAB_ADMIN_TOKEN\n',
  );
}
