import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsLabError, TIME, kmsSrvName, waitFor, type Clock, type EventLog } from '@kmslab/core';
import { parseFaultRule, presentRData, startDnsService, type DnsServer, type DnsService, type Zone } from '@kmslab/dns';
import { DnsPublisher } from '@kmslab/host';
import { CLASS, TYPE, canonicalName, generateTsigSecret, parseTsigKey, query, updateZone, type DnsTarget, type ResourceRecord } from '@kmslab/dns-wire';
import { startKmslabProcess, type KmslabProcess } from './live/kmslab-process.js';

/** The lab's DNS: the zone clients search, holding `_vlmcs._tcp` SRV records for the hosts. */
export interface LabDns {
  /** The zone's name, canonical (`lab.test.`). */
  readonly zone: string;
  /** Where clients send their queries. */
  readonly target: DnsTarget;
  /** Every DNS server of the lab: `target`, then its secondaries (in-process, `secondaries`). */
  readonly servers?: DnsTarget[];
  /** A host started: it is in DNS once this resolves (in-process: added; live: the host published itself). */
  hostStarted(name: string, port: number, priority: number, weight: number): Promise<void>;
  /** Removes every `_vlmcs._tcp` SRV record of the zone; returns them for restoreSrv. */
  removeSrv(): Promise<ResourceRecord[]>;
  /** Puts back what removeSrv removed. */
  restoreSrv(records: readonly ResourceRecord[]): Promise<void>;
  /** Switches a fault rule on (docs/dns-faults.md); resolves with its id for removeFault. */
  addFault(rule: string): Promise<string>;
  /** Switches the fault rule with that id off. */
  removeFault(id: string): Promise<void>;
  /** Stops the server and removes what it kept. */
  close(): Promise<void>;
  /** The host went down: it no longer refreshes its records (they stay, as a retired host's do). */
  hostStopped?(name: string): void;
  /** Publishing and scavenging due at the lab's time: each host's refresh or retry, a scavenging pass. */
  tick?(): Promise<void>;
  /** Grants a group of hosts' keys on a name of the secure zone (an admin's "Change the Default DNS Permissions"). */
  grant?(group: string, hosts: readonly string[], name: string): void;
}

/** How an in-process lab DNS is run: on the lab's clock; a secure zone, aging, or both, make hosts publish themselves. */
export interface InProcessDnsOptions {
  /** The lab's clock (TSIG times, record timestamps, scavenging). */
  clock: Clock;
  /** Where hosts' 12293/12294 go (the lab's Windows event log). */
  events?: EventLog | undefined;
  /** Told what happened, for the timeline: a host refused or published, records scavenged. */
  note?: ((label: string) => void) | undefined;
  /** The zone is secure-only (docs/secure-zones.md): each host publishes with its own key and owns what it creates. */
  secure?: boolean | undefined;
  /** Aging for the zone, `NOREFRESH/REFRESH` (e.g. `7d/7d`), and the scavenging period (default 7d). */
  aging?: { intervals: string; scavengePeriod?: string | undefined } | undefined;
  /**
   * Secondaries of the lab DNS (a branch site's DNS servers): each takes the
   * zone at start, then only by its SOA refresh (every hour in the lab zone)
   * on the lab clock — no NOTIFY, as a server in another site learns a
   * change only when replication reaches it.
   */
  secondaries?: number | undefined;
}

/** A host publishing itself on the lab's schedule: a refresh a day, a retry an hour after a failure. */
interface LabPublisher {
  publisher: DnsPublisher;
  running: boolean;
  nextAt: number;
  /** Whether its last attempt succeeded (null before the first): the timeline notes each change. */
  ok: boolean | null;
}

/** A KMS host re-registers every 24 h (kms-reference.md "Discovery"); after a refusal, the lab's host tries again each hour. */
const REFRESH_MS = TIME.DAY_MS;
const RETRY_MS = 60 * TIME.MINUTE_MS;


/**
 * `@kmslab/dns` in this process, on the lab's clock. Hosts are added to the
 * zone directly, as if they had published — or, in a secure or aging zone,
 * publish themselves as a KMS host does (signed updates with a key of their
 * own, a refresh a day), so ownership and timestamps apply.
 */
export class InProcessDns implements LabDns {
  readonly #publishers = new Map<string, LabPublisher>();

  private constructor(
    readonly zone: string,
    private readonly service: DnsService,
    private readonly z: Zone,
    private readonly o: InProcessDnsOptions,
    /** The secondaries (`secondaries`), in order. */
    private readonly secondaries: readonly DnsService[] = [],
  ) {}

  static async start(zone: string, o: InProcessDnsOptions = { clock: { now: () => Date.now() } }): Promise<InProcessDns> {
    // As `kmslab dns start` runs it (one service entry), with no data dir: a simulation starts empty.
    const service = await startDnsService({
      zones: [zone], dataDir: null, listen: ['127.0.0.1'], port: 0, now: () => o.clock.now(),
      secure: o.secure ? { zones: [zone] } : undefined,
      aging: o.aging ? { zones: [`${zone}=${o.aging.intervals}`], scavengePeriod: o.aging.scavengePeriod } : undefined,
      // Its secondaries transfer unsigned from loopback, as AD lets its replication partners: once hosts publish
      // with keys of their own (a secure or aging zone), an unsigned transfer from anywhere else is refused.
      ...(o.secondaries && { replication: { allowTransfer: ['127.0.0.0/8'] } }),
    });
    const z = service.server.zones.list()[0]!;
    const secondaries: DnsService[] = [];
    try {
      for (let i = 0; i < (o.secondaries ?? 0); i++) {
        secondaries.push(await startDnsService({ dataDir: null, listen: ['127.0.0.1'], port: 0, now: () => o.clock.now(), queryLog: { size: 0 }, secondary: { zones: [`${z.origin}@127.0.0.1:${service.server.port}`], clockTimers: true } }));
      }
    } catch (err) {
      for (const s of secondaries) await s.close();
      await service.close();
      throw err;
    }
    return new InProcessDns(z.origin, service, z, o, secondaries);
  }

  /** Where clients of each server send their queries: the lab DNS, then each secondary. */
  get servers(): DnsTarget[] {
    return [this.target, ...this.secondaries.map((s) => ({ host: '127.0.0.1', port: s.server.port }))];
  }


  /** Hosts publish themselves (a secure or an aging zone) rather than being added. */
  get #publishing(): boolean {
    return Boolean(this.o.secure || this.o.aging);
  }

  async #publish(name: string, p: LabPublisher): Promise<void> {
    const now = this.o.clock.now();
    const ok = await p.publisher.publish().then(() => true, () => false);
    p.nextAt = now + (ok ? REFRESH_MS : RETRY_MS);
    if (ok !== p.ok) this.o.note?.(ok ? `${name} published in DNS (12294)` : `${name} cannot publish in DNS: ${p.publisher.state.lastError ?? 'failed'} (12293)`);
    p.ok = ok;
  }

  hostStopped(name: string): void {
    const p = this.#publishers.get(name);
    if (p) p.running = false;
  }

  async tick(): Promise<void> {
    const now = this.o.clock.now();
    for (const [name, p] of this.#publishers) if (p.running && p.nextAt <= now) await this.#publish(name, p);
    for (const r of this.server.scavengeIfDue()) this.o.note?.(`scavenged: ${r.record.name} ${presentRData(r.record.data)} (last refreshed ${Math.round((now - r.refreshedAt) / TIME.DAY_MS)} days ago)`);
    for (const [i, s] of this.secondaries.entries()) {
      for (const followed of s.server.secondaries) {
        const before = followed.state().serial;
        await followed.refreshIfDue();
        const after = followed.state().serial;
        if (after !== before) this.o.note?.(`secondary ${i + 1} took in serial ${after} (it had ${before}) at its SOA refresh`);
      }
    }
  }

  grant(group: string, hosts: readonly string[], name: string): void {
    this.server.ownership.update({ groups: { [group]: [...hosts] }, grants: { [canonicalName(name)]: [group] } });
    this.o.note?.(`granted ${group} (${hosts.join(', ')}) on ${canonicalName(name)}`);
  }

  private get server(): DnsServer {
    return this.service.server;
  }

  get target(): DnsTarget {
    return { host: '127.0.0.1', port: this.server.port };
  }

  async hostStarted(name: string, port: number, priority: number, weight: number): Promise<void> {
    const fqdn = `${name}.${this.zone}`;
    if (this.#publishing) {
      let p = this.#publishers.get(name);
      if (!p) {
        const key = parseTsigKey(`${name}:hmac-sha256:${generateTsigSecret()}`);
        this.server.addKey({ key, grants: [{ kind: 'host', name: fqdn }] });
        const publisher = new DnsPublisher({
          dns: this.target, key, fqdn, addresses: ['127.0.0.1'], port, domains: [{ domain: this.zone, priority, weight }], clock: this.o.clock, events: this.o.events, source: name,
        });
        this.#publishers.set(name, (p = { publisher, running: true, nextAt: 0, ok: null }));
      }
      p.running = true;
      await this.#publish(name, p);
      return;
    }
    const srv = this.z.rrset(kmsSrvName(this.zone), TYPE.SRV)?.records ?? [];
    if (srv.some((r) => r.type === 'SRV' && canonicalName(r.target) === fqdn && r.port === port)) return;
    this.z.add({ name: kmsSrvName(this.zone), type: TYPE.SRV, class: CLASS.IN, ttl: 600, data: { type: 'SRV', priority, weight, port, target: fqdn } });
    this.z.add({ name: fqdn, type: TYPE.A, class: CLASS.IN, ttl: 600, data: { type: 'A', address: '127.0.0.1' } });
  }

  async removeSrv(): Promise<ResourceRecord[]> {
    const name = kmsSrvName(this.zone);
    const set = this.z.rrset(name, TYPE.SRV);
    const removed = (set?.records ?? []).map((data) => ({ name, type: TYPE.SRV, class: CLASS.IN, ttl: set!.ttl, data }));
    this.z.delete(name, TYPE.SRV);
    return removed;
  }

  async restoreSrv(records: readonly ResourceRecord[]): Promise<void> {
    for (const rr of records) this.z.add(rr);
  }

  async addFault(rule: string): Promise<string> {
    return this.server.faults.add(parseFaultRule(rule, Date.now())).id;
  }

  async removeFault(id: string): Promise<void> {
    this.server.faults.remove(id);
  }

  async close(): Promise<void> {
    for (const s of this.secondaries) await s.close();
    await this.service.close();
  }
}

/**
 * `kmslab dns start` in its own process with a TSIG key; hosts publish
 * themselves into it (RFC 2136), and the runner removes and restores SRV
 * records by signed updates too, as an administrator with nsupdate would.
 */
export class ProcessDns implements LabDns {
  private constructor(
    readonly zone: string,
    private proc: KmslabProcess,
    readonly tsigKey: string,
    private readonly dataDir: string,
    private readonly kmslab: readonly string[],
  ) {}

  static async start(kmslab: readonly string[], zone: string): Promise<ProcessDns> {
    const tsigKey = `lab-admin:hmac-sha256:${generateTsigSecret()}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'kmslab-live-dns-'));
    const proc = await startKmslabProcess(kmslab, ProcessDns.#args(zone, tsigKey, dataDir));
    return new ProcessDns(canonicalName(zone), proc, tsigKey, dataDir, kmslab);
  }

  static #args(zone: string, tsigKey: string, dataDir: string): string[] {
    // The admin listener on loopback (no token there): the runner switches faults through it.
    return ['dns', 'start', '--zone', zone, '--tsig-key', tsigKey, '--data-dir', dataDir, '--admin', '127.0.0.1:0', '--log-level', 'warn'];
  }

  /** Stops the server for `downMs`, then starts it again on the same port with the records it kept (its data dir). */
  async restart(downMs = 0): Promise<void> {
    const port = this.proc.port;
    await this.proc.stop();
    await new Promise((r) => setTimeout(r, downMs));
    this.proc = await startKmslabProcess(this.kmslab, [...ProcessDns.#args(this.zone, this.tsigKey, this.dataDir), '--listen', '127.0.0.1', '--port', String(port)]);
  }

  get target(): DnsTarget {
    return { host: '127.0.0.1', port: this.proc.port };
  }

  get server(): string {
    return `127.0.0.1:${this.proc.port}`;
  }

  async hostStarted(name: string, port: number): Promise<void> {
    const fqdn = `${name}.${this.zone}`;
    const published = (rr: ResourceRecord) => rr.data?.type === 'SRV' && canonicalName(rr.data.target) === fqdn && rr.data.port === port;
    await waitFor(async () => (await this.#srv()).some(published), {
      timeoutMs: 15_000,
      everyMs: 25,
      timedOut: () => new KmsLabError('KMSLAB_CONNECTION_FAILED', `host ${name} did not publish its SRV record within 15 s`),
    });
  }

  async removeSrv(): Promise<ResourceRecord[]> {
    const records = await this.#srv();
    if (records.length) await this.#update(records.map((rr) => ({ ...rr, class: CLASS.NONE, ttl: 0 })));
    return records;
  }

  async restoreSrv(records: readonly ResourceRecord[]): Promise<void> {
    if (records.length) await this.#update([...records]);
  }

  async addFault(rule: string): Promise<string> {
    const res = await fetch(`${this.proc.adminUrl}/faults`, { method: 'POST', body: JSON.stringify({ rule }) });
    if (res.status !== 201) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', (await res.text()).trim());
    return ((await res.json()) as { id: string }).id;
  }

  async removeFault(id: string): Promise<void> {
    await fetch(`${this.proc.adminUrl}/faults/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  async close(): Promise<void> {
    await this.proc.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  async #srv(): Promise<ResourceRecord[]> {
    const { answer } = await query(this.target, kmsSrvName(this.zone), TYPE.SRV);
    return answer.answers.filter((rr) => rr.type === TYPE.SRV);
  }

  #update(records: ResourceRecord[]): Promise<void> {
    return updateZone(this.target, this.zone, records, parseTsigKey(this.tsigKey), Date.now());
  }
}
