-- Queues a task whose attempt failed again, after a pause: while it waits it sits in the delayed set (scored by
-- when it may run), its status queued and the attempt's error kept; claims and reapers move it to the queue when
-- due. Only the holder of the lease does this: if the lease was reaped, the task is already queued again.
-- KEYS[1] queue list, KEYS[2] processing zset, KEYS[3] delayed zset; ARGV[1] task hash key, ARGV[2] task id,
-- ARGV[3] error JSON, ARGV[4] pause ms
-- Returns 1 when the task was queued again, 0 when this worker no longer held it.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZREM', KEYS[2], ARGV[2]) == 0 then
  return 0
end
redis.call('HSET', ARGV[1], 'status', 'queued', 'error', ARGV[3], 'updated', now)
local pause = tonumber(ARGV[4])
if pause > 0 then
  redis.call('ZADD', KEYS[3], now + pause, ARGV[2])
else
  redis.call('LPUSH', KEYS[1], ARGV[2])
end
return 1
