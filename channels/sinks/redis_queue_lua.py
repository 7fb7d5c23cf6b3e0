"""Lua scripts behind RedisWorkQueue: each runs atomically inside Redis, so claims never race.

Every key a script knows before it runs comes in KEYS (named by RedisWorkQueue). ARGV[1] is the key base
`<prefix>:wq:{<prefix>:items}:`, from which a script names the keys it only finds out about inside (the index
of an item's stored tenant and queue, the item popped from a ready set): they carry the same hash tag, so on a
Redis Cluster they sit in the slot of the declared keys. Redis runs that, but documents only declared keys as
supported; a claim or an index move that must read the item first cannot declare them without losing atomicity.
`escape` must match `_LUA_PRELUDE.esc`.
"""

from __future__ import annotations

from channels.sinks.redis_keys import escape

__all__ = ["escape"]


_LUA_PRELUDE = """
local P = ARGV[1]
local function esc(s)
  return (string.gsub(s, '[%%:]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
local function item_key(id) return P .. 'item:' .. esc(id) end
local function ready_key(t, q) return P .. 'ready:' .. esc(t) .. ':' .. esc(q) end
local function queue_key(t, q) return P .. 'queue:' .. esc(t) .. ':' .. esc(q) end
local function tenant_key(t) return P .. 'tenant:' .. esc(t) end
local function unindex(id, t, q)
  redis.call('ZREM', ready_key(t, q), id)
  redis.call('ZREM', queue_key(t, q), id)
  redis.call('ZREM', tenant_key(t), id)
end
"""

# KEYS: tenants set, then per item: item, queue, tenant, ready, queues (of the tenant) keys.
# ARGV: base, resolved_ttl, then per item: id, tenant, queue, due, json, state, assignee, expect.
# expect: '' writes unconditionally, 'new' only if the item does not exist, a number only if the item's revision
# is that number (compare-and-set against a concurrent writer), '!' and a number the same but with the given state
# and assignee written as they are (an agent's reassignment). Every write raises the revision by one.
# Returns the ids not written because of `expect`.
UPSERT = _LUA_PRELUDE + """
local ttl = tonumber(ARGV[2])
local skipped = {}
for i = 3, #ARGV, 8 do
  local k = 1 + (i - 3) / 8 * 5
  local id, t, q, due, json = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local state, assignee, expect = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local force = string.sub(expect, 1, 1) == '!'
  if force then expect = string.sub(expect, 2) end
  local key = KEYS[k + 1]
  local old = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'assignee', 'rev', 'json', 'due')
  local rev = tonumber(old[5]) or (old[1] and 0 or -1)
  if (expect == 'new' and old[1]) or (expect ~= '' and expect ~= 'new' and tonumber(expect) ~= rev) then
    table.insert(skipped, id)
  else
    -- agents' claims and resolutions win over whatever routing sends again
    if not force and (old[3] == 'claimed' or old[3] == 'resolved') then
      state = old[3]
      assignee = old[4] or ''
    end
    if old[1] and (old[1] ~= t or old[2] ~= q) then unindex(id, old[1], old[2]) end
    -- the same write again (a replay) leaves the revision alone
    local same = old[6] == json and old[1] == t and old[2] == q and old[7] == due and old[3] == state
      and (old[4] or '') == assignee
    redis.call('HSET', key, 'json', json, 'tenant', t, 'queue', q, 'due', due, 'state', state, 'assignee', assignee,
               'rev', same and rev or math.max(rev, 0) + 1)
    if state == 'resolved' then
      unindex(id, t, q)
      if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ttl) end
    else
      redis.call('ZADD', KEYS[k + 2], due, id)
      redis.call('ZADD', KEYS[k + 3], due, id)
      if state == 'open' or state == 'escalated' then
        redis.call('ZADD', KEYS[k + 4], due, id)
      else
        redis.call('ZREM', KEYS[k + 4], id)
      end
      redis.call('SADD', KEYS[k + 5], q)
      redis.call('SADD', KEYS[1], t)
    end
  end
end
return skipped
"""

# KEYS: the ready set. ARGV: base, tenant, queue, agent. Returns {id, json} or nil.
CLAIM_NEXT = _LUA_PRELUDE + """
local rk = KEYS[1]
while true do
  local popped = redis.call('ZPOPMIN', rk)
  if #popped == 0 then return false end
  local id = popped[1]
  local key = item_key(id)
  local h = redis.call('HMGET', key, 'json', 'state')
  if h[1] and (h[2] == 'open' or h[2] == 'escalated') then
    redis.call('HSET', key, 'state', 'claimed', 'assignee', ARGV[4])
    return {id, h[1]}
  end
end
"""

# KEYS: the item. ARGV: base, item id, agent. Returns the item json or nil when it is not open (or escalated).
CLAIM_ITEM = _LUA_PRELUDE + """
local key = KEYS[1]
local h = redis.call('HMGET', key, 'json', 'tenant', 'queue', 'state')
if not h[1] or (h[4] ~= 'open' and h[4] ~= 'escalated') then return false end
redis.call('ZREM', ready_key(h[2], h[3]), ARGV[2])
redis.call('HSET', key, 'state', 'claimed', 'assignee', ARGV[3])
return h[1]
"""

# KEYS: the item. ARGV: base, item id. Returns 1 when the item now waits for the customer (kept by its assignee, if
# any, but off the claimable set). The state it had is kept to come back to; the revision moves (merges re-read it).
WAIT_CUSTOMER = _LUA_PRELUDE + """
local key = KEYS[1]
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state')
if not h[1] or h[3] == 'resolved' or h[3] == 'waiting_customer' then return 0 end
redis.call('HSET', key, 'state', 'waiting_customer', 'wait_from', h[3])
redis.call('HINCRBY', key, 'rev', 1)
redis.call('ZREM', ready_key(h[1], h[2]), ARGV[2])
return 1
"""

# KEYS: the item. ARGV: base, item id. Returns 1 when a waiting item is worked on again, in the state it had before.
END_WAIT = _LUA_PRELUDE + """
local key = KEYS[1]
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'wait_from', 'due', 'assignee')
if h[3] ~= 'waiting_customer' then return 0 end
local state = h[4] or 'open'
if state == 'claimed' and (not h[6] or h[6] == '') then state = 'open' end
redis.call('HSET', key, 'state', state)
redis.call('HDEL', key, 'wait_from')
redis.call('HINCRBY', key, 'rev', 1)
if state == 'open' or state == 'escalated' then redis.call('ZADD', ready_key(h[1], h[2]), h[5], ARGV[2]) end
return 1
"""

# KEYS: the item. ARGV: base, item id, agent. Returns 1 when the agent's claim was given back.
RELEASE = _LUA_PRELUDE + """
local key = KEYS[1]
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'assignee', 'due')
if h[3] ~= 'claimed' or h[4] ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'state', 'open', 'assignee', '')
redis.call('ZADD', ready_key(h[1], h[2]), h[5], ARGV[2])
return 1
"""

# KEYS: the item. ARGV: base, item id, agent, ttl, resolved at (epoch seconds; the retention job counts from it).
# Returns 1 when resolved; refuses items claimed by someone else.
RESOLVE = _LUA_PRELUDE + """
local key = KEYS[1]
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'assignee')
if not h[1] or h[3] == 'resolved' then return 0 end
if h[3] == 'claimed' and h[4] ~= ARGV[3] then return 0 end
redis.call('HSET', key, 'state', 'resolved', 'assignee', ARGV[3], 'resolved_at', ARGV[5])
unindex(ARGV[2], h[1], h[2])
redis.call('EXPIRE', key, tonumber(ARGV[4]))
return 1
"""
