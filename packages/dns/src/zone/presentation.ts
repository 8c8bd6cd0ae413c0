
/** Record data in master-file form (what `dig` prints and a zone file holds). */
export function presentRData(d: RData | null): string {
  if (!d) return '';
  switch (d.type) {
    case 'A':
    case 'AAAA':
      return d.address;
    case 'NS':
    case 'CNAME':
    case 'PTR':
      return `${d.target}.`;
    case 'SOA':
      return `${d.mname}. ${d.rname}. ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${d.target}.`;
    case 'TXT':
      return d.texts.map((t) => JSON.stringify(t)).join(' ');
    case 'TSIG':
      return `${d.algorithm}. ${d.timeSigned} ${d.fudge}`;
    case 'RAW':
      return `\\# ${d.raw.length} ${d.raw.toString('hex')}`;
  }
}

/** A record in master-file form. */
export function presentRecord(rr: ResourceRecord): string {
  return `${rr.name}.\t${rr.ttl}\tIN\t${typeName(rr.type)}\t${presentRData(rr.data)}`;
}import { typeName, type RData, type ResourceRecord } from '@kmslab/dns-wire';

