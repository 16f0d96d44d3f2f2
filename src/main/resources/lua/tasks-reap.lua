-- Puts tasks whose lease ran out (their instance died or hangs) back at the front of the queue, to be claimed
-- next (the claim counts the new attempt), and retries whose pause is over at its back. Runs on every instance;
-- each expired lease is reaped once.
-- KEYS[1] queue list, KEYS[2] processing zset, KEYS[3] delayed zset; ARGV[1] most tasks per run, ARGV[2] prefix
-- of task hash keys
-- Returns the number of tasks put back in the queue.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local requeued = 0
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(expired) do
  redis.call('ZREM', KEYS[2], id)
  local key = ARGV[2] .. id
  if redis.call('HGET', key, 'status') == 'running' then
    redis.call('HSET', key, 'status', 'queued', 'updated', now)
    redis.call('RPUSH', KEYS[1], id)
    requeued = requeued + 1
  end
end
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
  requeued = requeued + 1
end
return requeued
