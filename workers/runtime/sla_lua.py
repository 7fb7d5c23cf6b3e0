"""Lua scripts behind SlaStore: every clock transition and the event it emits happen in one atomic step.

Layout under `<prefix>:sla:{<prefix>:items}:` (item ids escaped as in redis_queue_lua; the hash tag of the work
items, so a Redis Cluster keeps them in one slot). Every script gets the keys it touches in KEYS: the item, the
index, the outbox and the sequence (CLAIM_DUE: the items its caller read from the index, checked again inside).
  item:<id>  hash   tenant, escalate_to, and per clock k: k:state (running|paused|stopped), k:clock, k:due, k:warn,
                    k:warned, k:breached, k:remaining / k:warn_remaining (while paused), k:stopped_at;
                    off:<topic>:<partition> = the last source offset applied to this item (redeliveries are skipped)
  due        zset   the index of SLA deadlines: member "<clock>|warning|<id>" or "<clock>|breach|<id>", score = epoch s
  outbox     hash   event id -> JSON of an event claimed but not yet acknowledged by Kafka
  seq        string counter giving outbox entries their order
Times are epoch seconds as decimal strings; "now" always comes from the caller's Clock, never from Redis.
"""

from __future__ import annotations

_PRELUDE = """
local INDEX, OUTBOX, SEQ = KEYS[1], KEYS[2], KEYS[3]
local CLOCKS = {'first_response', 'resolution'}
local KEEP_STOPPED_S = 30 * 24 * 3600
local function esc(s)
  return (string.gsub(s, '[%%:]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
local function member(id, k, ev) return k .. '|' .. ev .. '|' .. id end
local function num(x) return string.format('%.6f', x) end
local function unindex(id, k) redis.call('ZREM', INDEX, member(id, k, 'warning'), member(id, k, 'breach')) end
local function emit(eid, kind, id, tenant, k, at, due, to, cause)
  local entry = cjson.encode({id = eid, kind = kind, item = id, tenant = tenant, clock = k, at = at, due = due,
                              escalate_to = to or '', cause = cause, seq = redis.call('INCR', SEQ)})
  redis.call('HSETNX', OUTBOX, eid, entry)
end
local function event_id(tenant, id, k, kind) return esc(tenant) .. ':' .. esc(id) .. ':' .. k .. ':' .. kind end
-- true when this source record was applied to the item already (Kafka redelivers after a crash)
local function seen(key, src, off)
  if src == '' then return false end
  local last = redis.call('HGET', key, 'off:' .. src)
  if last and tonumber(last) >= tonumber(off) then return true end
  redis.call('HSET', key, 'off:' .. src, off)
  return false
end
local function index_running(key, id, k)
  local h = redis.call('HMGET', key, k .. ':due', k .. ':warn', k .. ':warned', k .. ':breached')
  if h[2] and h[2] ~= '' and h[3] ~= '1' and h[4] ~= '1' and tonumber(h[2]) < tonumber(h[1]) then
    redis.call('ZADD', INDEX, h[2], member(id, k, 'warning'))
  end
  if h[4] ~= '1' then redis.call('ZADD', INDEX, h[1], member(id, k, 'breach')) end
end
local function expire_when_stopped(key)
  for _, k in ipairs(CLOCKS) do
    local s = redis.call('HGET', key, k .. ':state')
    if s == 'running' or s == 'paused' then return end
  end
  redis.call('EXPIRE', key, KEEP_STOPPED_S)
end
"""

# KEYS: index, outbox, seq, item.
# ARGV: prefix, id, tenant, escalate_to, src, offset, then per clock: kind, clock type, due, warn ('' = none).
# Starts clocks the item does not have yet; an existing clock is never reset. Returns how many started.
START = _PRELUDE + """
local id, tenant = ARGV[2], ARGV[3]
local key = KEYS[4]
if seen(key, ARGV[5], ARGV[6]) then return 0 end
redis.call('HSET', key, 'tenant', tenant)
if ARGV[4] ~= '' then redis.call('HSETNX', key, 'escalate_to', ARGV[4]) end
local started = 0
for i = 7, #ARGV, 4 do
  local k = ARGV[i]
  if redis.call('HEXISTS', key, k .. ':state') == 0 then
    redis.call('HSET', key, k .. ':state', 'running', k .. ':clock', ARGV[i + 1], k .. ':due', ARGV[i + 2],
               k .. ':warn', ARGV[i + 3])
    index_running(key, id, k)
    started = started + 1
  end
end
return started
"""

# KEYS: index, outbox, seq, item.
# ARGV: prefix, id, src, offset, now, then optionally per clock: kind, due, warn (computed by the caller in
# business time). The customer answered: paused clocks run again with the time they had left (calendar time
# unless the caller gave the clock's new due and warn times).
RESUME = _PRELUDE + """
local id, now = ARGV[2], tonumber(ARGV[5])
local key = KEYS[4]
if redis.call('EXISTS', key) == 0 or seen(key, ARGV[3], ARGV[4]) then return 0 end
local given = {}
for i = 6, #ARGV, 3 do given[ARGV[i]] = {ARGV[i + 1], ARGV[i + 2]} end
local resumed = 0
for _, k in ipairs(CLOCKS) do
  local h = redis.call('HMGET', key, k .. ':state', k .. ':remaining', k .. ':warn_remaining')
  if h[1] == 'paused' then
    local due, warn = num(now + tonumber(h[2])), ''
    if h[3] and h[3] ~= '' then warn = num(now + tonumber(h[3])) end
    if given[k] then due, warn = given[k][1], given[k][2] end
    redis.call('HSET', key, k .. ':state', 'running', k .. ':due', due, k .. ':warn', warn)
    redis.call('HDEL', key, k .. ':remaining', k .. ':warn_remaining', k .. ':paused_at')
    index_running(key, id, k)
    resumed = resumed + 1
  end
end
return resumed
"""

# KEYS: index, outbox, seq, item.
# ARGV: prefix, id, src, offset, now, action (reply|resolve|wait_customer|escalate|request_info), escalation event id,
# escalate_to, pause ('1': a request_info also pauses the clocks). Other actions (note, reassign) only mark the
# record applied. Returns how many events were put in the outbox (-1 when the record was applied before).
ACTION = _PRELUDE + """
local id, now, action = ARGV[2], tonumber(ARGV[5]), ARGV[6]
local key = KEYS[4]
if redis.call('EXISTS', key) == 0 then return 0 end
if seen(key, ARGV[3], ARGV[4]) then return -1 end
local tenant = redis.call('HGET', key, 'tenant')
local emitted = 0
local function current_due(k)
  local h = redis.call('HMGET', key, k .. ':state', k .. ':due', k .. ':remaining')
  if h[1] == 'paused' then return num(now + tonumber(h[3])) end
  return h[2]
end
local function stop(k)
  local h = redis.call('HMGET', key, k .. ':state', k .. ':breached')
  if h[1] ~= 'running' and h[1] ~= 'paused' then return end
  local due = current_due(k)
  redis.call('HSET', key, k .. ':state', 'stopped', k .. ':stopped_at', ARGV[5])
  redis.call('HDEL', key, k .. ':remaining', k .. ':warn_remaining', k .. ':paused_at')
  unindex(id, k)
  if h[2] ~= '1' then
    emit(event_id(tenant, id, k, 'met'), 'met', id, tenant, k, ARGV[5], due, nil, '')
    emitted = emitted + 1
  end
end
local function pause(k)
  local h = redis.call('HMGET', key, k .. ':state', k .. ':due', k .. ':warn', k .. ':warned')
  if h[1] ~= 'running' then return end
  local warn_left = ''
  if h[3] and h[3] ~= '' and h[4] ~= '1' then warn_left = num(math.max(0, tonumber(h[3]) - now)) end
  redis.call('HSET', key, k .. ':state', 'paused', k .. ':paused_at', ARGV[5],
             k .. ':remaining', num(math.max(0, tonumber(h[2]) - now)), k .. ':warn_remaining', warn_left)
  unindex(id, k)
end
if action == 'reply' then
  stop('first_response')
elseif action == 'resolve' then
  for _, k in ipairs(CLOCKS) do stop(k) end
elseif action == 'wait_customer' then
  for _, k in ipairs(CLOCKS) do pause(k) end
elseif action == 'request_info' then
  stop('first_response')  -- asking the customer is an answer
  if ARGV[9] == '1' then for _, k in ipairs(CLOCKS) do pause(k) end end
elseif action == 'escalate' then
  local to = ARGV[8]
  if to == '' then to = redis.call('HGET', key, 'escalate_to') or '' end
  if to ~= '' then
    local clock, fallback = nil, nil
    for _, k in ipairs(CLOCKS) do
      local s = redis.call('HGET', key, k .. ':state')
      if s and not fallback then fallback = k end
      if (s == 'running' or s == 'paused') and not clock then clock = k end
    end
    clock = clock or fallback or 'first_response'
    emit(ARGV[7], 'escalated', id, tenant, clock, ARGV[5], current_due(clock) or ARGV[5], to, 'agent')
    emitted = 1
  end
end
expire_when_stopped(key)
return emitted
"""

# KEYS: index, outbox, seq, then the item of each entry. ARGV: prefix, now, then entries the caller read from the
# index. Moves those still in the index and due by `now` into the outbox, marking the clock, and on a breach with an
# escalation queue also the escalation. Returns how many index entries were taken.
CLAIM_DUE = _PRELUDE + """
local now = ARGV[2]
local taken = 0
for i = 3, #ARGV do
  local m, key = ARGV[i], KEYS[i + 1]
  local score = redis.call('ZSCORE', INDEX, m)
  local k, ev, id = string.match(m, '^([^|]+)|([^|]+)|(.*)$')
  local h = {}
  if score and tonumber(score) <= tonumber(now) then
    taken = taken + 1
    redis.call('ZREM', INDEX, m)
    h = redis.call('HMGET', key, 'tenant', k .. ':state', k .. ':warned', k .. ':breached', k .. ':due',
                   k .. ':warn', 'escalate_to')
  end
  if h[2] == 'running' then
    local tenant = h[1]
    if ev == 'warning' and h[3] ~= '1' and h[4] ~= '1' then
      redis.call('HSET', key, k .. ':warned', '1')
      emit(event_id(tenant, id, k, 'warning'), 'warning', id, tenant, k, h[6], h[5], nil, '')
    elseif ev == 'breach' and h[4] ~= '1' then
      redis.call('HSET', key, k .. ':breached', '1')
      redis.call('ZREM', INDEX, member(id, k, 'warning'))
      local to = h[7] or ''
      emit(event_id(tenant, id, k, 'breach'), 'breach', id, tenant, k, h[5], h[5], to, '')
      if to ~= '' then
        emit(event_id(tenant, id, k, 'escalated'), 'escalated', id, tenant, k, now, h[5], to, 'breach')
      end
    end
  end
end
return taken
"""
