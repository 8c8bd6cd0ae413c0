/** The lab zone every DNS bench serves: two hosts' SRV records and addresses, as a lab with two hosts publishes them. */
export const LAB_ZONE = `$ORIGIN lab.test.
$TTL 3600
@ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 604800 300
@ IN NS ns
ns IN A 127.0.0.1
_vlmcs._tcp 600 IN SRV 0 0 1688 kms1
_vlmcs._tcp 600 IN SRV 10 0 1688 kms2
kms1 IN A 127.0.0.11
kms2 IN A 127.0.0.12
`;
