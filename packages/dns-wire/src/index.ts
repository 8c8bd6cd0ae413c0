export * from './constants.js';
export type * from './message.js';
export { emptyMessage } from './message.js';
export { decodeMessage } from './decode.js';
export { encodeMessage, ipv6Bytes, SERVER_UDP_SIZE, type EncodeOptions } from './encode.js';
export { canonicalName, isSubdomain, nameLabels } from './name.js';
export { dnsWireError } from './wire-error.js';
export { generateTsigSecret, parseTsigKey, signRequest, signResponse, verifyRequest, verifyResponse, tsigErrorName, TSIG_ERROR, type TsigData, type TsigKey, type Verified } from './tsig.js';
export { exchangeTcp, exchangeUdp, query, sendUpdate, updateZone, type DnsTarget } from './dns-client.js';
