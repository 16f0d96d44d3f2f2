-- Adds a dead letter at the head of the DLQ list and keeps only the newest N.
-- KEYS[1] DLQ list; ARGV[1] entry JSON, ARGV[2] N
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return 1
