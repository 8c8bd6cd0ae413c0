import { DnsServer, parseZoneFile, Zone, ZoneSet } from '@kmslab/dns';

export const LAB_ZONE = `
$ORIGIN lab.test.
$TTL 3600
@        IN SOA ns.lab.test. hostmaster.lab.test. ( 2026010101 3600 600 604800 300 )
         IN NS  ns
ns       IN A   127.0.0.1
_vlmcs._tcp  600 IN SRV 0 0 1688 kms1
_vlmcs._tcp  600 IN SRV 10 0 1688 kms2.lab.test.
kms1     IN A    127.0.0.11
kms1     IN AAAA fd00::11
kms2     IN A    127.0.0.12
alias    IN CNAME kms1
outside  IN CNAME www.example.com.
note     IN TXT  "kmslab lab zone" "second string"
`;

/** A DNS server on free loopback ports (IPv4 and IPv6) serving `zoneText`. */
export async function startDns(zoneText = LAB_ZONE, extra: (zones: ZoneSet) => void = () => {}): Promise<DnsServer> {
  const { origin, records } = parseZoneFile(zoneText);
  const zones = new ZoneSet();
  zones.add(Zone.of(origin, records));
  extra(zones);
  return DnsServer.start({ zones, listen: ['127.0.0.1', '::1'], port: 0 });
}
