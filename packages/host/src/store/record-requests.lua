-- Counts a batch of requests for one host and family atomically, in order,
-- exactly as if each had been sent alone (kms-reference.md "Counting").
-- KEYS[1] client records (sorted set: CMID -> last contact ms)
-- KEYS[2] statistics (hash)
-- ARGV[1] window length (ms), ARGV[2] max records,
-- then per request: now, CMID, threshold, status field.
-- Returns the count after each request.
-- Both keys carry the same hash tag, so a Redis Cluster keeps them in one slot.
local window = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local counts = {}
local failed = 0
local byStatus = {}
local expiredAt = nil
for i = 3, #ARGV, 4 do
  local now = tonumber(ARGV[i])
  if now ~= expiredAt then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - window))
    expiredAt = now
  end
  -- GT: a replica with a slightly slower clock never moves a record back in time.
  redis.call('ZADD', KEYS[1], 'GT', ARGV[i], ARGV[i + 1])
  local n = redis.call('ZCARD', KEYS[1])
  if n > max then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - max - 1)
    n = max
  end
  counts[#counts + 1] = n
  if n < tonumber(ARGV[i + 2]) then failed = failed + 1 end
  byStatus[ARGV[i + 3]] = (byStatus[ARGV[i + 3]] or 0) + 1
end
redis.call('HINCRBY', KEYS[2], 'total', #counts)
if failed > 0 then redis.call('HINCRBY', KEYS[2], 'failed', failed) end
for status, c in pairs(byStatus) do redis.call('HINCRBY', KEYS[2], status, c) end
return counts
