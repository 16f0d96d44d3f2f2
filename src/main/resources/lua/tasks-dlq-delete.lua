-- Removes a dead letter and its replay mark. Entries are written by the gateway with "id" first.
-- KEYS[1] DLQ list, KEYS[2] replay marks hash; ARGV[1] entry id
-- Returns 1, or 0 when there is no such entry.
local prefix = '{"id":"' .. ARGV[1] .. '"'
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.sub(item, 1, #prefix) == prefix then
    redis.call('LREM', KEYS[1], 1, item)
    redis.call('HDEL', KEYS[2], ARGV[1])
    return 1
  end
end
return 0
