-- Puts a task whose attempt failed back at the end of the queue, with the attempt's error kept for GET /tasks/{id}.
-- Only the holder of the lease does: if the lease was reaped, the task is already queued (or running elsewhere).
-- KEYS[1] queue list, KEYS[2] processing zset; ARGV[1] task hash key, ARGV[2] task id, ARGV[3] error JSON
-- Returns 1 when the task was queued again, 0 when this worker no longer held it.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZREM', KEYS[2], ARGV[2]) == 0 then
  return 0
end
redis.call('HSET', ARGV[1], 'status', 'queued', 'error', ARGV[3], 'updated', now)
redis.call('LPUSH', KEYS[1], ARGV[2])
return 1
