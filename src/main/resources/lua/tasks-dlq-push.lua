-- Adds a dead letter at the head of the DLQ list and keeps only the newest N; the replay marks of the entries that
-- fall off go with them.
-- KEYS[1] DLQ list, KEYS[2] replay marks hash (entry id -> mark JSON); ARGV[1] entry JSON, ARGV[2] N
local n = tonumber(ARGV[2])
redis.call('LPUSH', KEYS[1], ARGV[1])
for _, item in ipairs(redis.call('LRANGE', KEYS[1], n, -1)) do
  local id = string.match(item, '^{"id":"([^"]+)"')
  if id then
    redis.call('HDEL', KEYS[2], id)
  end
end
redis.call('LTRIM', KEYS[1], 0, n - 1)
return 1
