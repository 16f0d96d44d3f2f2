-- Caravan: the two token buckets of one API key (requests, tokens), checked and taken in one atomic step, so
-- that N gateway instances sharing this Redis enforce one limit. dev.caravan.limits.MemoryBuckets is the same
-- arithmetic in memory; keep the two in step.
--
-- KEYS[1]  request bucket (caravan:rl:req:<key id>)      KEYS[2]  token bucket (caravan:rl:tok:<key id>)
-- KEYS[3]  reservations held (caravan:rl:res:<key id>): a sorted set, member "<hold id>:<tokens>", score = the
--          Redis time (ms) its lease ends
-- ARGV[1]  request capacity (burst; 0 = no request limit)  ARGV[2]  requests per minute (refill)
-- ARGV[3]  token capacity (0 = no token limit)             ARGV[4]  tokens per minute (refill)
-- ARGV[5]  tokens to take (negative: give back)
-- ARGV[6]  "1" admission: take one request and ARGV[5] tokens, or refuse and take nothing; with a hold ARGV[8],
--              record it in KEYS[3] under a lease of ARGV[7] ms
--          "0" settlement: move the token bucket by ARGV[5], never refuse (it may go below zero: a debt); with a
--              hold ARGV[8] of ARGV[9] tokens: release it; if its lease already ran out (it was given back whole),
--              charge what was used (ARGV[5] + ARGV[9]) instead
--          "2" renewal: extend the leases of the holds ARGV[8..] that are still held by ARGV[7] ms
-- Returns {refused (0 none, 1 requests, 2 tokens), request level, token level, ms until admissible}.
--
-- A hold whose lease ran out (its gateway instance died mid-request, kill -9) is given back whole by the next
-- call for the key, so one crash cannot keep a key's tokens: the instances that live renew theirs.
--
-- A bucket is a hash {t = level, at = ms of the last update}; it refills lazily when touched, and expires once
-- it would be full again (an absent bucket is a full one). Time is this server's (TIME), never a gateway's:
-- instances with skewed clocks still agree.

if redis.replicate_commands then redis.replicate_commands() end -- needed before Redis 5 (writes after TIME)

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000

local function level(key, capacity, per_ms)
  local state = redis.call('HMGET', key, 't', 'at')
  local tokens, at = tonumber(state[1]), tonumber(state[2])
  if tokens == nil or at == nil then
    return capacity
  end
  if now > at then
    tokens = tokens + (now - at) * per_ms
  end
  return math.min(capacity, tokens)
end

-- the holds outlive the bucket they may refund (an absent bucket is full: nothing left to give back to)
local function keep_holds(millis)
  if redis.call('PTTL', KEYS[3]) < millis then
    redis.call('PEXPIRE', KEYS[3], millis)
  end
end

local function store(key, tokens, capacity, per_ms)
  redis.call('HSET', key, 't', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) / per_ms) + 1000)
end

local request_capacity, request_per_ms = tonumber(ARGV[1]), tonumber(ARGV[2]) / 60000
local token_capacity, token_per_ms = tonumber(ARGV[3]), tonumber(ARGV[4]) / 60000
local cost = tonumber(ARGV[5])
local mode = ARGV[6]
local admission = mode == '1'
local lease = tonumber(ARGV[7]) or 0

if mode == '2' then
  for i = 8, #ARGV do
    redis.call('ZADD', KEYS[3], 'XX', now + lease, ARGV[i])
  end
  keep_holds(lease * 2 + 1000)
  return {0, '0', '0', 0}
end

-- holds whose lease ran out come back to the bucket (a bounded batch per call)
local refund = 0
if token_capacity > 0 then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)
  for _, member in ipairs(expired) do
    refund = refund + (tonumber(string.match(member, ':(%-?%d+)$')) or 0)
    redis.call('ZREM', KEYS[3], member)
  end
end

if mode == '0' and ARGV[8] then
  if redis.call('ZREM', KEYS[3], ARGV[8]) == 0 then
    cost = cost + tonumber(ARGV[9]) -- given back whole when its lease ran out: now charge the usage
  end
end

local requests = 0
if admission and request_capacity > 0 then
  requests = level(KEYS[1], request_capacity, request_per_ms)
end
local tokens = 0
if token_capacity > 0 then
  tokens = math.min(token_capacity, level(KEYS[2], token_capacity, token_per_ms) + refund)
end

local refused, wait = 0, 0
if admission then
  if request_capacity > 0 and requests < 1 then
    refused, wait = 1, (1 - requests) / request_per_ms
  end
  -- a reservation larger than the bucket waits for a full bucket, then runs into debt: never refused for good
  local need = math.min(cost, token_capacity)
  if token_capacity > 0 and tokens < need then
    local token_wait = (need - tokens) / token_per_ms
    if token_wait > wait then
      wait = token_wait
    end
    if refused == 0 then
      refused = 2
    end
  end
end

if refused == 0 then
  if admission and request_capacity > 0 then
    requests = requests - 1
    store(KEYS[1], requests, request_capacity, request_per_ms)
  end
  if token_capacity > 0 and (cost ~= 0 or refund > 0) then
    tokens = math.min(token_capacity, tokens - cost)
    store(KEYS[2], tokens, token_capacity, token_per_ms)
  end
  if admission and ARGV[8] and token_capacity > 0 and cost > 0 then
    redis.call('ZADD', KEYS[3], now + lease, ARGV[8] .. ':' .. ARGV[5])
    keep_holds(math.max(lease * 2, math.ceil((token_capacity - tokens) / token_per_ms)) + 1000)
  end
elseif refund > 0 then
  store(KEYS[2], tokens, token_capacity, token_per_ms)
end

return {refused, string.format('%.17g', requests), string.format('%.17g', tokens), math.ceil(wait)}
