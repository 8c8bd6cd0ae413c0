import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StartedNetwork, getContainerRuntimeClient } from 'testcontainers';
import { KmsLabError } from '@kmslab/core';

/** The label every container and the network of a reused lab carry: its name. */
export const REUSE_LABEL = 'org.kmslab.reuse';

const NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `reuse name "${name}" must be 1-63 lower-case letters, digits, dots, dashes or underscores`);
}

/**
 * Where reused labs keep their secrets: a folder only this user can enter
 * ($XDG_RUNTIME_DIR/kmslab, else ~/.cache/kmslab, mode 0700). Not /tmp, where
 * another user could make the file first and so choose every secret.
 */
export function reuseSecretDir(): string {
  const base = process.env.XDG_RUNTIME_DIR || process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = join(base, 'kmslab');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || !ownedByMe(st.uid) || (st.mode & 0o077) !== 0) {
    throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${dir} must be a folder of yours that no one else can enter (chmod 700 ${dir}) to keep reused labs' secrets`);
  }
  return dir;
}

const secretFile = (name: string) => join(reuseSecretDir(), `reuse-${name}.secret`);
const ownedByMe = (uid: number) => typeof process.getuid !== 'function' || uid === process.getuid();

/** The secret in `file`, read without following a link; a file someone else owns, or others may read, is refused. */
function readSecret(file: string, name: string): string {
  const untrusted = () => new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${file} is not a file of yours that only you can read: its secret cannot be trusted; remove it (removeReusedLab("${name}") does)`);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw untrusted();
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || !ownedByMe(st.uid) || (st.mode & 0o077) !== 0) throw untrusted();
    const buf = Buffer.alloc(64);
    return buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0)).trim();
  } finally {
    closeSync(fd);
  }
}

/**
 * A reused lab's secrets: testcontainers reuses a container only when it
 * would be created exactly as before, so the TSIG secrets and admin tokens of
 * a lab shared by test files cannot be new each time. They derive from one
 * random secret per lab name, made once in a file only this user can read
 * (the first test file to start the lab writes it; the others read it).
 */
export function reuseSecrets(name: string): { tsig(host: string): string; token(listener: string): string } {
  checkName(name);
  const file = secretFile(name);
  let secret = randomBytes(32).toString('base64url');
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, secret);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Another file made it a moment ago: wait for its few bytes (43 characters) rather than read it half written.
    const until = Date.now() + 2000;
    do secret = readSecret(file, name);
    while (secret.length < 43 && Date.now() < until);
    if (secret.length < 43) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `${file} does not hold a reused lab's secret: remove it (removeReusedLab("${name}") does)`);
  }
  const derive = (what: string) => createHmac('sha256', secret).update(what).digest();
  return { tsig: (host) => derive(`tsig:${host}`).toString('base64'), token: (listener) => derive(`admin:${listener}`).toString('base64url') };
}

/** The lab's own network, `kmslab-reuse-NAME`: found, or made once (two test files racing to make it both end up on one). */
export async function reusedNetwork(name: string): Promise<StartedNetwork> {
  checkName(name);
  const client = await getContainerRuntimeClient();
  const docker = client.container.dockerode;
  const networkName = `kmslab-reuse-${name}`;
  const find = async () => (await docker.listNetworks({ filters: { name: [networkName] } })).find((n) => n.Name === networkName);
  let found = await find();
  if (!found) {
    await docker.createNetwork({ Name: networkName, Driver: 'bridge', CheckDuplicate: true, Labels: { [REUSE_LABEL]: name } }).catch(() => {});
    found = await find();
  }
  if (!found) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', `cannot make the Docker network ${networkName} for the reused lab "${name}"`);
  return new StartedNetwork(client, networkName, docker.getNetwork(found.Id));
}

/**
 * Removes a reused lab: its containers, its network and its secret (a global
 * teardown calls it once every test file is done; the next run starts afresh).
 */
export async function removeReusedLab(name: string): Promise<void> {
  checkName(name);
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const containers = await docker.listContainers({ all: true, filters: { label: [`${REUSE_LABEL}=${name}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
  const networks = await docker.listNetworks({ filters: { label: [`${REUSE_LABEL}=${name}`] } });
  await Promise.all(networks.map((n) => docker.getNetwork(n.Id).remove().catch(() => {})));
  rmSync(secretFile(name), { force: true });
}
