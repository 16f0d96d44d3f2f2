-- Accepts a task: its hash (spec, status, attempts) and its id at the back of the queue, in one step.
-- KEYS[1] queue list; ARGV[1] task hash key, ARGV[2] task id, ARGV[3] spec JSON, ARGV[4] queue limit (0 = none)
-- Returns 1, or 0 when the queue is full.
local limit = tonumber(ARGV[4])
if limit > 0 and redis.call('LLEN', KEYS[1]) >= limit then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', ARGV[1], 'task', ARGV[3], 'status', 'queued', 'attempts', 0, 'created', now, 'updated', now)
redis.call('LPUSH', KEYS[1], ARGV[2])
return 1
