-- Claims the oldest queued task: moves its id from the queue into the processing set with a lease deadline
-- (Redis time + lease), counts the attempt and marks it running, all at once, so no two workers get one task
-- and a worker that dies leaves a lease that runs out (tasks-reap.lua) instead of a lost task. Retries whose
-- pause is over join the queue first.
-- KEYS[1] queue list, KEYS[2] processing zset, KEYS[3] delayed zset; ARGV[1] lease ms, ARGV[2] prefix of task
-- hash keys
-- Returns {id, attempts, spec JSON}, or false when the queue is empty.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 16)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('LPUSH', KEYS[1], id)
end
for _ = 1, 16 do
  local id = redis.call('RPOP', KEYS[1])
  if not id then
    return false
  end
  local key = ARGV[2] .. id
  local fields = redis.call('HMGET', key, 'task', 'status')
  -- an id whose hash expired, or a task that finished meanwhile (a late worker of a lost lease), is dropped
  if fields[1] and fields[2] == 'queued' then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), id)
    local attempts = redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSET', key, 'status', 'running', 'updated', now)
    return {id, attempts, fields[1]}
  end
end
return false
