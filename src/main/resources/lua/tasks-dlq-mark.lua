-- Marks a dead letter replayed, unless it was replayed before and the replay is not forced: check and mark in one
-- step, so two replays at once cannot both pass. Entries are written by the gateway with "id" first.
-- KEYS[1] DLQ list, KEYS[2] replay marks hash; ARGV[1] entry id, ARGV[2] mark JSON, ARGV[3] '1' to force
-- Returns {0} (no such entry), {1, entry, previous mark or ''} (marked) or {2, entry, previous mark} (refused).
local prefix = '{"id":"' .. ARGV[1] .. '"'
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if string.sub(item, 1, #prefix) == prefix then
    local previous = redis.call('HGET', KEYS[2], ARGV[1])
    if previous and ARGV[3] ~= '1' then
      return {2, item, previous}
    end
    redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
    return {1, item, previous or ''}
  end
end
return {0}
