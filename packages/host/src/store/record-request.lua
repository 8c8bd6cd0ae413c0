-- Counts one request atomically (kms-reference.md "Counting").
-- KEYS[1] client records (sorted set: CMID -> last contact ms)
-- KEYS[2] statistics (hash)
-- ARGV: now, window start, max records, CMID, threshold, status field
-- Both keys carry the same hash tag, so a Redis Cluster keeps them in one slot.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
-- GT: a replica with a slightly slower clock never moves a record back in time.
redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[4])
local n = redis.call('ZCARD', KEYS[1])
local max = tonumber(ARGV[3])
if n > max then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
  n = max
end
redis.call('HINCRBY', KEYS[2], 'total', 1)
redis.call('HINCRBY', KEYS[2], ARGV[6], 1)
if n < tonumber(ARGV[5]) then
  redis.call('HINCRBY', KEYS[2], 'failed', 1)
end
return n
