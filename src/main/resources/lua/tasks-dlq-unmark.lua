-- Takes back a replay mark whose task could not be enqueued, if it is still that task's mark.
-- KEYS[1] replay marks hash; ARGV[1] entry id, ARGV[2] the task id the mark names
local mark = redis.call('HGET', KEYS[1], ARGV[1])
if mark and string.find(mark, '"replay_task_id":"' .. ARGV[2] .. '"', 1, true) then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
