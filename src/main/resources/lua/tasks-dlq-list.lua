-- The DLQ entries, newest first, and the replay marks, read in one step.
-- KEYS[1] DLQ list, KEYS[2] replay marks hash; ARGV[1] N
-- Returns {entries, {id1, mark1, id2, mark2, ...}}.
return {redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1), redis.call('HGETALL', KEYS[2])}
