import { readFileSync } from 'node:fs';

/**
 * The DNS suffix search list of this machine, primary domain first, read
 * from resolv.conf (`domain` and `search` lines, the last of each wins as in
 * the resolver). A KMS client queries `_vlmcs._tcp.` under each in turn.
 */
export function systemSearchList(path = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  let domain: string | undefined;
  let search: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...values] = line.trim().split(/\s+/);
    if (key === 'domain' && values[0]) domain = values[0];
    if (key === 'search') search = values;
  }
  const list = [...(domain ? [domain] : []), ...search].map((d) => d.replace(/\.$/, '').toLowerCase()).filter((d) => d && d !== '.');
  return [...new Set(list)];
}
