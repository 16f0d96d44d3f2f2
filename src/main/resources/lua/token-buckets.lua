-- Caravan: the two token buckets of one API key (requests, tokens), checked and taken in one atomic step, so
-- that N gateway instances sharing this Redis enforce one limit. dev.caravan.limits.MemoryBuckets is the same
-- arithmetic in memory; keep the two in step.
--
-- KEYS[1]  request bucket (caravan:rl:req:<key id>)      KEYS[2]  token bucket (caravan:rl:tok:<key id>)
-- ARGV[1]  request capacity (burst; 0 = no request limit)  ARGV[2]  requests per minute (refill)
-- ARGV[3]  token capacity (0 = no token limit)             ARGV[4]  tokens per minute (refill)
-- ARGV[5]  tokens to take (negative: give back)
-- ARGV[6]  "1" admission: take one request and ARGV[5] tokens, or refuse and take nothing
--          "0" settlement: move the token bucket by ARGV[5], never refuse (it may go below zero: a debt)
-- Returns {refused (0 none, 1 requests, 2 tokens), request level, token level, ms until admissible}.
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

local function store(key, tokens, capacity, per_ms)
  redis.call('HSET', key, 't', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
  redis.call('PEXPIRE', key, math.ceil((capacity - tokens) / per_ms) + 1000)
end

local request_capacity, request_per_ms = tonumber(ARGV[1]), tonumber(ARGV[2]) / 60000
local token_capacity, token_per_ms = tonumber(ARGV[3]), tonumber(ARGV[4]) / 60000
local cost = tonumber(ARGV[5])
local admission = ARGV[6] == '1'

local requests = 0
if admission and request_capacity > 0 then
  requests = level(KEYS[1], request_capacity, request_per_ms)
end
local tokens = 0
if token_capacity > 0 then
  tokens = level(KEYS[2], token_capacity, token_per_ms)
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
  if token_capacity > 0 and cost ~= 0 then
    tokens = math.min(token_capacity, tokens - cost)
    store(KEYS[2], tokens, token_capacity, token_per_ms)
  end
end

return {refused, string.format('%.17g', requests), string.format('%.17g', tokens), math.ceil(wait)}
