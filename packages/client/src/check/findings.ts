/**
 * What `kmslab discover --check` can find, each with a stable id
 * (docs/discover-check.md lists them): scripts and CI jobs match on the id,
 * never on the wording.
 */
export type FindingId =
  | 'no-domain'
  | 'no-srv'
  | 'srv-in-unasked-domain'
  | 'target-cname'
  | 'target-no-address'
  | 'target-unreachable'
  | 'servers-disagree'
  | 'case-differs'
  | 'truncated-tcp-fails'
  | 'no-preference'
  | 'port-not-1688'
  | 'ttl-long';

/** An error stops (or slows, or misleads) a Windows client's discovery; a warning is a setup that works today and will hurt later. */
export type Severity = 'error' | 'warning';

/** One problem found: which, where, what a Windows client experiences, how to fix it. */
export interface Finding {
  id: FindingId;
  severity: Severity;
  /** The domain it was found in (null: not one domain's, e.g. no domain at all). */
  domain: string | null;
  /** What it is about: a record, a target, a server. */
  subject: string;
  /** What was seen. */
  detail: string;
  /** What a Windows client would experience because of it. */
  client: string;
  /** How to fix it. */
  fix: string;
}

/** Each finding's title and fix as docs/discover-check.md gives them (the detail and the client's experience are the case's own). */
export const FINDINGS: Readonly<Record<FindingId, { title: string; fix: string }>> = {
  'no-domain': {
    title: 'no domain to ask',
    fix: 'give the machine a primary DNS suffix or a connection-specific suffix (DHCP option 15, resolv.conf search), or pin a lookup domain (slmgr /skms-domain, kmslab client set-domain)',
  },
  'no-srv': {
    title: 'no _VLMCS._TCP SRV records where the client asks',
    fix: 'let the KMS host publish itself (DNS publishing on, dynamic updates allowed for it), or add the record by hand: _vlmcs._tcp.DOMAIN SRV 0 0 1688 HOST',
  },
  'srv-in-unasked-domain': {
    title: 'SRV records only in a domain the client does not ask',
    fix: 'publish in the domain the clients ask (the host\'s DnsDomainPublishList), or point the clients at this one (lookup domain, suffix search list)',
  },
  'target-cname': {
    title: 'SRV target is an alias (CNAME)',
    fix: 'point the SRV record at the host\'s own name, the one with the A/AAAA record (RFC 2782: the target must not be an alias)',
  },
  'target-no-address': {
    title: 'SRV target has no A/AAAA record',
    fix: 'add the host\'s A (or AAAA) record, or correct the target name in the SRV record',
  },
  'target-unreachable': {
    title: 'SRV target does not accept a connection on its port',
    fix: 'remove the record of a retired host (or let aging and scavenging remove it), open the port in the firewall, or start the service',
  },
  'servers-disagree': {
    title: 'the client\'s DNS servers answer differently',
    fix: 'wait for (or force) replication between the DNS servers, or give every view (split horizon) the same KMS records',
  },
  'case-differs': {
    title: '_VLMCS._TCP (what Windows sends) and _vlmcs._tcp are answered differently',
    fix: 'make the filter, proxy or server on the DNS path compare names case-insensitively (RFC 4343)',
  },
  'truncated-tcp-fails': {
    title: 'the answer is too large for UDP and DNS over TCP fails',
    fix: 'allow DNS over TCP (port 53/tcp) on the path to the DNS server, or publish fewer records',
  },
  'no-preference': {
    title: 'every record at one priority with weight 0',
    fix: 'give the hosts weights (or priorities) to say which to prefer, as DnsDomainPublishList\'s "domain, priority, weight" does',
  },
  'port-not-1688': {
    title: 'SRV port other than 1688',
    fix: 'fine when the host listens there (KeyManagementServiceListeningPort) and firewalls allow it; otherwise publish 1688',
  },
  'ttl-long': {
    title: 'TTL that keeps a retired host in caches for a day or more',
    fix: 'publish the SRV record with a TTL of an hour or less, so a removed host leaves resolvers\' caches soon',
  },
};

/** What the findings come to: 0 none, 1 warnings only, 2 any error (the exit code of `kmslab discover --check`). */
export function exitCodeOf(findings: readonly Finding[]): 0 | 1 | 2 {
  if (findings.some((f) => f.severity === 'error')) return 2;
  return findings.length > 0 ? 1 : 0;
}
