import { readFileSync } from 'node:fs';

/** What a KMS client takes from this machine's resolver configuration. */
export interface ResolverConfig {
  /** `nameserver` lines, in order. */
  nameservers: string[];
  /** The DNS suffix search list, primary domain first (`domain`, then `search`). */
  searchList: string[];
  /** `options timeout:N` (seconds), `attempts:N`, `rotate` (resolv.conf(5)). */
  timeoutMs?: number;
  attempts?: number;
  rotate?: boolean;
}

/** Reads resolv.conf (the last `domain` and `search` lines win, as in the resolver); a missing file is an empty config. */
export function readResolvConf(path = '/etc/resolv.conf'): ResolverConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return { nameservers: [], searchList: [] };
  }
  let domain: string | undefined;
  let search: string[] = [];
  const nameservers: string[] = [];
  const options: Pick<ResolverConfig, 'timeoutMs' | 'attempts' | 'rotate'> = {};
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === 'domain' && values[0]) domain = values[0];
    if (key === 'search') search = values;
    if (key === 'nameserver' && values[0]) nameservers.push(values[0]);
    if (key === 'options') {
      for (const v of values) {
        const [name, n] = v.split(':');
        // The resolver's own bounds (resolv.conf(5)): timeout at most 30 s, attempts at most 5.
        if (name === 'timeout' && /^\d+$/.test(n ?? '')) options.timeoutMs = Math.min(Math.max(Number(n), 1), 30) * 1000;
        if (name === 'attempts' && /^\d+$/.test(n ?? '')) options.attempts = Math.min(Math.max(Number(n), 1), 5);
        if (name === 'rotate') options.rotate = true;
      }
    }
  }
  const list = [...(domain ? [domain] : []), ...search].map((d) => d.replace(/\.$/, '').toLowerCase()).filter((d) => d && d !== '.');
  return { nameservers, searchList: [...new Set(list)], ...options };
}

/** A KMS client queries `_vlmcs._tcp.` under each of these in turn. */
export function systemSearchList(path?: string): string[] {
  return readResolvConf(path).searchList;
}

/** The first configured DNS server. */
export function systemNameserver(path?: string): { host: string; port: number } | undefined {
  const host = readResolvConf(path).nameservers[0];
  return host ? { host, port: 53 } : undefined;
}

/** Every configured DNS server with the resolver's options, as the system's stub resolver would use them. */
export function systemResolver(path?: string): { servers: Array<{ host: string; port: number }>; timeoutMs?: number; attempts?: number; rotate?: boolean } {
  const c = readResolvConf(path);
  return { servers: c.nameservers.map((host) => ({ host, port: 53 })), ...(c.timeoutMs && { timeoutMs: c.timeoutMs }), ...(c.attempts && { attempts: c.attempts }), ...(c.rotate && { rotate: true }) };
}
