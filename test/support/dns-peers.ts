import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@kmslab/lab/live';
import { requireTool } from './dns-tools.js';
import { stopChild } from './process-group.js';

/**
 * Real DNS servers other than BIND (Debian's knot, dnsmasq, unbound), each
 * in the foreground on a free loopback port with a config of the test's
 * making in a temp folder; ready when the server's own log says so (never a
 * sleep), stopped and its folder removed on dispose.
 */
export class DnsPeer implements AsyncDisposable {
  #out = '';
  private constructor(
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    private readonly proc: ChildProcess,
  ) {}

  /** `host:port`, as `--dns` takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  logs(): string {
    return this.#out;
  }

  static async start(
    name: string, tool: string, args: (port: number, dir: string) => string[], ready: RegExp,
    files: (port: number, dir: string) => Record<string, string> = () => ({}), at: { port?: number; dir?: string } = {},
  ): Promise<DnsPeer> {
    requireTool(tool);
    const port = at.port ?? (await freePort());
    const dir = at.dir ?? mkdtempSync(join(tmpdir(), `kmslab-${name}-`));
    for (const [file, text] of Object.entries(files(port, dir))) writeFileSync(join(dir, file), text);
    const proc = spawn(tool, args(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
    const peer = new DnsPeer(name, port, dir, proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${name} did not start in 15 s:\n${peer.#out}`)), 15_000);
      const fail = (err: Error) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        reject(err);
      };
      const onData = (d: Buffer) => {
        peer.#out += d;
        if (ready.test(peer.#out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      proc.once('exit', (code) => fail(new Error(`${name} exited ${code}:\n${peer.#out}`)));
    });
    return peer;
  }

  /** Stops the server and keeps its folder, for a restart on the same port and folder. */
  async stop(): Promise<void> {
    this.proc.removeAllListeners('exit');
    await stopChild(this.proc);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Knot DNS serving each zone from its text (`$ORIGIN` in the text, or the key's name as origin). */
export function startKnot(zones: Record<string, string>): Promise<DnsPeer> {
  const conf = (port: number, dir: string) =>
    [
      'server:', `  listen: 127.0.0.1@${port}`, `  rundir: "${dir}"`,
      'log:', '  - target: stderr', '    any: info',
      'database:', `  storage: "${dir}"`,
      'template:', '  - id: default', `    storage: "${dir}"`, '    file: "%s.zone"', '    semantic-checks: off',
      'zone:', ...Object.keys(zones).map((z) => `  - domain: ${z}`),
    ].join('\n') + '\n';
  return DnsPeer.start('knot', 'knotd', (_, dir) => ['-c', join(dir, 'knot.conf')], /server started/, (port, dir) => ({
    'knot.conf': conf(port, dir),
    ...Object.fromEntries(Object.entries(zones).map(([z, text]) => [`${z}.zone`, text])),
  }));
}

/** dnsmasq with these options beside a loopback-only, no-upstream, no-DHCP set-up. */
export function startDnsmasq(options: readonly string[]): Promise<DnsPeer> {
  return DnsPeer.start('dnsmasq', 'dnsmasq', (port, dir) => [
    '--keep-in-foreground', '--log-facility=-', '--no-resolv', '--no-hosts', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    `--pid-file=${join(dir, 'dnsmasq.pid')}`, '--user=root', ...options,
  ], /started, version/);
}

/** Unbound as a client's resolver: each zone a stub to the given loopback server. */
export function startUnbound(stubs: ReadonlyArray<{ zone: string; port: number }>): Promise<DnsPeer> {
  const conf = (port: number, dir: string) =>
    [
      'server:', '  interface: 127.0.0.1', `  port: ${port}`, '  do-ip6: no', '  chroot: ""', '  username: ""', `  directory: "${dir}"`, `  pidfile: "${join(dir, 'unbound.pid')}"`,
      '  use-syslog: no', '  logfile: ""', '  verbosity: 1', '  do-not-query-localhost: no', '  module-config: "iterator"', '  qname-minimisation: no',
      '  access-control: 127.0.0.0/8 allow',
      // `.test` is one of Unbound's default local zones (RFC 6761): answered by itself unless told otherwise.
      ...stubs.map((s) => `  local-zone: "${s.zone.split('.').at(-1)}." nodefault`),
      ...stubs.flatMap((s) => ['stub-zone:', `  name: "${s.zone}"`, `  stub-addr: 127.0.0.1@${s.port}`]),
    ].join('\n') + '\n';
  return DnsPeer.start('unbound', 'unbound', (_, dir) => ['-d', '-c', join(dir, 'unbound.conf')], /start of service/, (port, dir) => ({ 'unbound.conf': conf(port, dir) }));
}

/** Knot DNS as a secondary of `primary` (NOTIFY accepted from it), on `at.port` when given; keeps its zone in its folder. */
export function startKnotSecondary(zone: string, primary: { host: string; port: number }, at: { port?: number; dir?: string } = {}): Promise<DnsPeer> {
  const conf = (port: number, dir: string) =>
    [
      'server:', `  listen: 127.0.0.1@${port}`, `  rundir: "${dir}"`,
      'log:', '  - target: stderr', '    any: info',
      'database:', `  storage: "${dir}"`,
      'remote:', '  - id: primary', `    address: ${primary.host}@${primary.port}`,
      'acl:', '  - id: from_primary', `    address: ${primary.host}`, '    action: notify',
      'template:', '  - id: default', `    storage: "${dir}"`, '    file: "%s.zone"',
      'zone:', `  - domain: ${zone}`, '    master: primary', '    acl: from_primary',
    ].join('\n') + '\n';
  return DnsPeer.start('knot', 'knotd', (_, dir) => ['-c', join(dir, 'knot.conf')], /server started/, (port, dir) => ({ 'knot.conf': conf(port, dir) }), at);
}

/** NSD as a secondary of `primary` (NOTIFY accepted from it), logging to its output. */
export function startNsdSecondary(zone: string, primary: { host: string; port: number }, at: { port?: number; dir?: string } = {}): Promise<DnsPeer> {
  const conf = (port: number, dir: string) =>
    [
      'server:', `  ip-address: 127.0.0.1@${port}`, `  zonesdir: "${dir}"`, '  database: ""', `  pidfile: "${join(dir, 'nsd.pid')}"`,
      `  xfrdfile: "${join(dir, 'xfrd.state')}"`, `  zonelistfile: "${join(dir, 'zone.list')}"`, '  username: ""', '  chroot: ""', '  verbosity: 2',
      'remote-control:', '  control-enable: no',
      'zone:', `  name: ${zone}`, `  zonefile: "${zone}.zone"`, `  request-xfr: ${primary.host}@${primary.port} NOKEY`, `  allow-notify: ${primary.host} NOKEY`,
    ].join('\n') + '\n';
  return DnsPeer.start('nsd', 'nsd', (_, dir) => ['-d', '-c', join(dir, 'nsd.conf')], /nsd started/, (port, dir) => ({ 'nsd.conf': conf(port, dir) }), at);
}

/** Knot DNS as a primary of `zone` (its text), taking dynamic updates signed with `key` and telling the secondary on `notifyPort`. */
export function startKnotPrimary(zone: string, text: string, key: { name: string; secret: string }, notifyPort: number): Promise<DnsPeer> {
  const conf = (port: number, dir: string) =>
    [
      'server:', `  listen: 127.0.0.1@${port}`, `  rundir: "${dir}"`,
      'log:', '  - target: stderr', '    any: info',
      'database:', `  storage: "${dir}"`,
      'key:', `  - id: ${key.name}`, '    algorithm: hmac-sha256', `    secret: ${key.secret}`,
      'remote:', '  - id: secondary', `    address: 127.0.0.1@${notifyPort}`,
      'acl:', '  - id: update', `    key: ${key.name}`, '    action: update', '  - id: transfer', '    address: 127.0.0.1', '    action: transfer',
      'template:', '  - id: default', `    storage: "${dir}"`, '    file: "%s.zone"',
      'zone:', `  - domain: ${zone}`, '    acl: [update, transfer]', '    notify: secondary',
    ].join('\n') + '\n';
  return DnsPeer.start('knot', 'knotd', (_, dir) => ['-c', join(dir, 'knot.conf')], /server started/, (port, dir) => ({ 'knot.conf': conf(port, dir), [`${zone}.zone`]: text }));
}
