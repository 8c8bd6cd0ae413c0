import { KmsLabError, formatHostPort } from '@kmslab/core';
import { RCODE, query, rcodeName, type DnsTarget, type Message } from '@kmslab/dns-wire';

/** The resolver part of resolv.conf (resolv.conf(5) "options timeout: attempts: rotate"). */
export interface ResolverSettings {
  servers: readonly DnsTarget[];
  /** Per try, each server (resolv.conf default 5 s; kmslab's 2 s). */
  timeoutMs?: number;
  /** Rounds over all servers (default 2). */
  attempts?: number;
  /** Start each lookup at the next server instead of the first. */
  rotate?: boolean;
}

/** One try at one server, for `discover` to show who answered what. */
export interface ServerTry {
  server: string;
  result: string;
}

/**
 * Asks each DNS server in turn, as a stub resolver does: an answer that is
 * final (NOERROR, NXDOMAIN) ends the lookup; SERVFAIL, REFUSED and silence
 * go on to the next server, round after round up to `attempts`. When none
 * gives a final answer, the last answer is returned (or, when no server
 * answered at all, a timeout is thrown).
 */
export class Resolver {
  readonly #s: Required<Omit<ResolverSettings, 'servers'>> & { servers: readonly DnsTarget[] };
  #next = 0;

  constructor(settings: ResolverSettings) {
    if (settings.servers.length === 0) throw new KmsLabError('KMSLAB_INVALID_ARGUMENT', 'No DNS server: give --dns HOST[:PORT] or a nameserver in /etc/resolv.conf');
    this.#s = { timeoutMs: 2000, attempts: 2, rotate: false, ...settings };
  }

  get servers(): readonly DnsTarget[] {
    return this.#s.servers;
  }

  async lookup(name: string, type: number, onTry?: (t: ServerTry) => void): Promise<{ answer: Message; server: DnsTarget }> {
    const { servers, attempts, rotate, timeoutMs } = this.#s;
    const start = rotate ? this.#next++ % servers.length : 0;
    let last: { answer: Message; server: DnsTarget } | null = null;
    const silent: string[] = [];
    for (let round = 0; round < attempts; round++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[(start + i) % servers.length]!;
        const where = formatHostPort(server.host, server.port);
        try {
          const { answer } = await query({ ...server, timeoutMs: server.timeoutMs ?? timeoutMs }, name, type);
          onTry?.({ server: where, result: rcodeName(answer.rcode) });
          last = { answer, server };
          if (answer.rcode === RCODE.NOERROR || answer.rcode === RCODE.NXDOMAIN) return last;
        } catch (err) {
          onTry?.({ server: where, result: `no answer (${(err as Error).message})` });
          silent.push(where);
        }
      }
    }
    if (last) return last;
    throw new KmsLabError('KMSLAB_TIMEOUT', `No DNS server answered ${name}: ${[...new Set(silent)].join(', ')} (${attempts} rounds, ${timeoutMs} ms each)`);
  }
}
