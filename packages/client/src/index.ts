export { activateOnce, type ActivateOptions, type ActivationOutcome, type DiscoveredBy } from './activate.js';
export { DNS_ERROR_CODES, discoverHosts, dnsErrorCode, type Candidate, type DiscoveryStep, type DiscoverOptions, type DnsErrorCode, type DomainOutcome } from './discovery.js';
export { loadClientState, newClientState, saveClientState, type ClientState } from './client-state.js';
export { orderSrv, type SelectionMode, type SrvTarget } from './srv-order.js';
export { seededRandom } from '@kmslab/core';
export { readResolvConf, systemNameserver, systemSearchList, type ResolverConfig } from './resolv-conf.js';
export { diagnoseDiscovery, type DiscoveryReport, type HostCheck } from './diagnose.js';
export { afterAttempt, dueIn, ensureInstalled, statusAt } from './lifecycle.js';
export { runAgent, runAgentVirtual, type AgentOptions } from './agent.js';
