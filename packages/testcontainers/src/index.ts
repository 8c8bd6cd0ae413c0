// First: on a Node that the installed testcontainers does not run on, one line instead of its crash on import.
import './node-check.js';
export { KmsLabDnsContainer, StartedKmsLabDnsContainer, type DnsFault, type LoggedQuery } from './dns-container.js';
export { KmsLabHostContainer, StartedKmsLabHostContainer, type PublishOptions } from './host-container.js';
export { KmsLabClientContainer, StartedKmsLabClientContainer, type ClientActivation } from './client-container.js';
export { DnsAnswerWaitStrategy } from './dns-answer-wait.js';
export { removeReusedLab } from './reuse.js';
export { startKmsLab, type KmsLab, type KmsLabHost, type KmsLabOptions, type SrvRecord } from './start-kms-lab.js';
export { KMSLAB_IMAGE, REDIS_IMAGE } from './images.js';
