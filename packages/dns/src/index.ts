export { DnsServer, type DnsServerOptions } from './dns-server.js';
export { handleMessage, type Transport, type ServerContext } from './handle-message.js';
export { answerQuery } from './answer-query.js';
export { parseKeyPolicy, type KeyPolicy, type Grant } from './update/policy.js';
export { applyUpdate } from './update/apply-update.js';
export { Zone, type Lookup, type RRset } from './zone/zone.js';
export { ZoneSet } from './zone/zone-set.js';
export { parseZoneFile, readZoneFile } from './zone/zone-file.js';
export { defaultZone } from './zone/default-zone.js';
export { ZoneJournal } from './zone/zone-journal.js';
export { presentRecord, presentRData } from './zone/presentation.js';
export { transferZone } from './transfer-client.js';
export { loadDnsConfig, type DnsConfig } from './dns-config.js';
// The wire layer, for users of the server who build or read messages.
export * from '@kmslab/dns-wire';
