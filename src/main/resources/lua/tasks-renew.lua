-- Extends the leases of the tasks this instance is running; a lease already reaped is not brought back.
-- KEYS[1] processing zset; ARGV[1] lease ms, ARGV[2..] task ids. Returns how many leases were extended.
local t = redis.call('TIME')
local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', deadline, ARGV[i])
end
return renewed
