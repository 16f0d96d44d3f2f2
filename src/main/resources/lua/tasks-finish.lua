-- Records a task's end (done or failed) and lets its state expire after the TTL. Also takes the id out of the
-- queue and the delayed set, in case a lease ran out while the task was finishing and the reaper put it back.
-- KEYS[1] queue list, KEYS[2] processing zset, KEYS[3] delayed zset; ARGV[1] task hash key, ARGV[2] task id,
-- ARGV[3] status, ARGV[4] result JSON ('' for none), ARGV[5] error JSON ('' for none), ARGV[6] TTL seconds
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('LREM', KEYS[1], 0, ARGV[2])
redis.call('HSET', ARGV[1], 'status', ARGV[3], 'result', ARGV[4], 'error', ARGV[5], 'updated', now)
redis.call('EXPIRE', ARGV[1], tonumber(ARGV[6]))
return 1
