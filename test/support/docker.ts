import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KMSLAB_IMAGE } from '@kmslab/testcontainers';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HOW_TO_GET =
  'Container tests need a Docker engine: install Docker (Debian: apt-get install docker.io) and start it, or on a machine without a registry run ../shared/ci/provision-docker.sh, then export TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 KMSLAB_REDIS_IMAGE=kmslab/redis:7 KMSLAB_NODE_IMAGE=kmslab/node:20.';

/** Docker answers, and the kmslab image exists (built from infra/docker/Dockerfile when missing). */
export function requireDockerAndImage(): void {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8' });
  if (info.error || info.status !== 0) throw new Error(`No Docker engine reachable (${(info.stderr || info.error?.message || '').trim().split('\n')[0]}). ${HOW_TO_GET}`);
  if (spawnSync('docker', ['image', 'inspect', KMSLAB_IMAGE], { stdio: 'ignore' }).status === 0) return;
  const nodeImage = process.env.KMSLAB_NODE_IMAGE ?? 'node:22-bookworm-slim';
  const build = spawnSync('docker', ['build', '--network', 'host', '-f', 'infra/docker/Dockerfile', '--build-arg', `NODE_IMAGE=${nodeImage}`, '-t', KMSLAB_IMAGE, '.'], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
  if (build.status !== 0) throw new Error(`Building ${KMSLAB_IMAGE} from infra/docker/Dockerfile (NODE_IMAGE=${nodeImage}) failed:\n${(build.stdout + build.stderr).slice(-2000)}\n${HOW_TO_GET}`);
}

/** Runs a command, returning its output; throws with the output when it exits with another code than `exitCodes` (default 0). */
export function sh(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; exitCodes?: number[] } = {}): string {
  const r = spawnSync(command, args, { cwd: options.cwd ?? REPO, env: options.env ?? process.env, encoding: 'utf8', timeout: options.timeoutMs ?? 300_000 });
  if (!(options.exitCodes ?? [0]).includes(r.status ?? -1)) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.error?.message}):\n${(r.stdout ?? '') + (r.stderr ?? '')}`.slice(-4000));
  return r.stdout;
}
