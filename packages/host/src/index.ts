export { KmsHost, type HostStatus } from './host.js';
export type { HostOptions } from './host-options.js';
export type { ListenAddress } from './kms-listener.js';
export type { ActivationStore, CountedRequest, FamilyStats, RefusedRequest } from './store/store.js';
export { FamilyRecords } from './store/family-records.js';
export { MemoryStore, type MemoryStoreOptions } from './store/memory-store.js';
export { RedisStore, type Durability, type RedisStoreOptions, type RedisTopology } from './store/redis-store.js';
export { openStore, type StoreConfig } from './store/open-store.js';
export { DnsPublisher, type PublishDomain, type PublisherOptions, type PublishState } from './publish/dns-publisher.js';
