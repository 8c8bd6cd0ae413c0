export { RedisCluster } from './redis-cluster.js';
export { RedisSentinelSetup } from './redis-sentinel.js';
