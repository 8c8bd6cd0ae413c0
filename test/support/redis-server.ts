import { RedisServer } from '@kmslab/lab/live';

export { RedisServer, requireRedisServer } from '@kmslab/lab/live';

/**
 * Redis for tests that only need one to talk to: `REDIS_URL` when set (tests
 * use host ids of their own, so a shared Redis is fine), else a redis-server
 * of our own. Tests that stop and restart Redis always start their own.
 */
export async function redisForTest(): Promise<{ url: string } & AsyncDisposable> {
  const external = process.env.REDIS_URL;
  if (external) return { url: external, async [Symbol.asyncDispose]() {} };
  return RedisServer.start();
}

