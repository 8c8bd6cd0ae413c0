import { readFileSync } from 'node:fs';

/** What a KMS client takes from this machine's resolver configuration. */
export interface ResolverConfig {
  /** `nameserver` lines, in order. */
  nameservers: string[];
  /** The DNS suffix search list, primary domain first (`domain`, then `search`). */
  searchList: string[];
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
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === 'domain' && values[0]) domain = values[0];
    if (key === 'search') search = values;
    if (key === 'nameserver' && values[0]) nameservers.push(values[0]);
  }
  const list = [...(domain ? [domain] : []), ...search].map((d) => d.replace(/\.$/, '').toLowerCase()).filter((d) => d && d !== '.');
  return { nameservers, searchList: [...new Set(list)] };
}

/** A KMS client queries `_vlmcs._tcp.` under each of these in turn. */
export function systemSearchList(path?: string): string[] {
  return readResolvConf(path).searchList;
}

/** The first configured DNS server, the one a KMS client asks. */
export function systemNameserver(path?: string): { host: string; port: number } | undefined {
  const host = readResolvConf(path).nameservers[0];
  return host ? { host, port: 53 } : undefined;
}
