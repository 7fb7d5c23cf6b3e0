"""Lua scripts behind RedisWorkQueue: each runs atomically inside Redis, so claims never race.

Every key a script touches comes in KEYS (named by RedisWorkQueue under the items' hash tag, so one slot on a
Redis Cluster). Keys that depend on what is stored are named from what the caller read just before: an item's
index keys from its stored tenant and queue (passed in ARGV too; a script answers MOVED, changing nothing, when
they changed in between, and the caller reads again), the items a claim may pop from the head of the ready set.
`escape` (from redis_keys, kept here for its importers) makes ids safe inside key names.
"""

from __future__ import annotations

from channels.sinks.redis_keys import escape

__all__ = ["escape"]


_LUA_PRELUDE = """
-- the index keys of an item were named from the tenant and queue it had when the caller read it
local function moved(h_t, h_q, t, q) return h_t and (h_t ~= t or h_q ~= q) end
"""

# Single-item scripts: KEYS: item, then its ready, queue and tenant index keys (by the stored tenant and queue).
# ARGV: item id, stored tenant, stored queue (as read by the caller), then the script's own arguments.
_ITEM_PRELUDE = _LUA_PRELUDE + """
local key, id = KEYS[1], ARGV[1]
local function unindex()
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
end
"""

# KEYS: tenants set, then per item: item, queue, tenant, ready, queues (of the tenant) keys, and the ready, queue
# and tenant keys of the tenant and queue it is stored with. ARGV: resolved_ttl, then per item: id, tenant, queue,
# due, json, state, assignee, expect, stored tenant, stored queue.
# expect: '' writes unconditionally, 'new' only if the item does not exist (its stored tenant and queue are not
# checked: the caller does not read them), a number only if the item's revision
# is that number (compare-and-set against a concurrent writer), '!' and a number the same but with the given state
# and assignee written as they are (an agent's reassignment). Every write raises the revision by one.
# Returns the ids not written because of `expect`.
UPSERT = _LUA_PRELUDE + """
local ttl = tonumber(ARGV[1])
local skipped = {}
for i = 2, #ARGV, 10 do
  -- a 'new' write of a stored item changes nothing, so its index keys are not needed (the caller names none)
  if ARGV[i + 7] ~= 'new' then
    local found = redis.call('HMGET', KEYS[2 + (i - 2) / 10 * 8], 'tenant', 'queue')
    if moved(found[1], found[2], ARGV[i + 8], ARGV[i + 9]) then return 'MOVED' end
  end
end
local was = {}  -- id -> where its current three index keys start in KEYS
for i = 2, #ARGV, 10 do
  local k = 1 + (i - 2) / 10 * 8
  if not was[ARGV[i]] then was[ARGV[i]] = k + 6 end
end
for i = 2, #ARGV, 10 do
  local k = 1 + (i - 2) / 10 * 8
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
    if old[1] and (old[1] ~= t or old[2] ~= q) then
      local w = was[id]
      for j = w, w + 2 do redis.call('ZREM', KEYS[j], id) end
    end
    was[id] = k + 2
    -- the same write again (a replay) leaves the revision alone
    local same = old[6] == json and old[1] == t and old[2] == q and old[7] == due and old[3] == state
      and (old[4] or '') == assignee
    redis.call('HSET', key, 'json', json, 'tenant', t, 'queue', q, 'due', due, 'state', state, 'assignee', assignee,
               'rev', same and rev or math.max(rev, 0) + 1)
    if state == 'resolved' then
      for j = 2, 4 do redis.call('ZREM', KEYS[k + j], id) end
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

# KEYS: the ready set, then the items at its head as the caller read them. ARGV: agent, then those items' ids.
# Returns {id, json}, nil when nothing is claimable, or MOVED when the head holds an item the caller did not read.
CLAIM_NEXT = _LUA_PRELUDE + """
local rk = KEYS[1]
local read = {}
for i = 2, #ARGV do read[ARGV[i]] = i end
while true do
  local id = redis.call('ZRANGE', rk, 0, 0)[1]
  if not id then return false end
  if not read[id] then return 'MOVED' end
  redis.call('ZREM', rk, id)
  local key = KEYS[read[id]]
  local h = redis.call('HMGET', key, 'json', 'state')
  if h[1] and (h[2] == 'open' or h[2] == 'escalated') then
    redis.call('HSET', key, 'state', 'claimed', 'assignee', ARGV[1])
    return {id, h[1]}
  end
end
"""

# ARGV (after the item's): agent. Returns the item json or nil when it is not open (or escalated).
CLAIM_ITEM = _ITEM_PRELUDE + """
local h = redis.call('HMGET', key, 'json', 'tenant', 'queue', 'state')
if moved(h[2], h[3], ARGV[2], ARGV[3]) then return 'MOVED' end
if not h[1] or (h[4] ~= 'open' and h[4] ~= 'escalated') then return false end
redis.call('ZREM', KEYS[2], id)
redis.call('HSET', key, 'state', 'claimed', 'assignee', ARGV[4])
return h[1]
"""

# Returns 1 when the item now waits for the customer (kept by its assignee, if any, but off the claimable set).
# The state it had is kept to come back to; the revision moves (merges re-read it).
WAIT_CUSTOMER = _ITEM_PRELUDE + """
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state')
if moved(h[1], h[2], ARGV[2], ARGV[3]) then return 'MOVED' end
if not h[1] or h[3] == 'resolved' or h[3] == 'waiting_customer' then return 0 end
redis.call('HSET', key, 'state', 'waiting_customer', 'wait_from', h[3])
redis.call('HINCRBY', key, 'rev', 1)
redis.call('ZREM', KEYS[2], id)
return 1
"""

# Returns 1 when a waiting item is worked on again, in the state it had before.
END_WAIT = _ITEM_PRELUDE + """
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'wait_from', 'due', 'assignee')
if moved(h[1], h[2], ARGV[2], ARGV[3]) then return 'MOVED' end
if h[3] ~= 'waiting_customer' then return 0 end
local state = h[4] or 'open'
if state == 'claimed' and (not h[6] or h[6] == '') then state = 'open' end
redis.call('HSET', key, 'state', state)
redis.call('HDEL', key, 'wait_from')
redis.call('HINCRBY', key, 'rev', 1)
if state == 'open' or state == 'escalated' then redis.call('ZADD', KEYS[2], h[5], id) end
return 1
"""

# ARGV (after the item's): agent. Returns 1 when the agent's claim was given back.
RELEASE = _ITEM_PRELUDE + """
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'assignee', 'due')
if moved(h[1], h[2], ARGV[2], ARGV[3]) then return 'MOVED' end
if h[3] ~= 'claimed' or h[4] ~= ARGV[4] then return 0 end
redis.call('HSET', key, 'state', 'open', 'assignee', '')
redis.call('ZADD', KEYS[2], h[5], id)
return 1
"""

# ARGV (after the item's): agent, ttl, resolved at (epoch seconds; the retention job counts from it). Returns 1
# when resolved; refuses items claimed by someone else.
RESOLVE = _ITEM_PRELUDE + """
local h = redis.call('HMGET', key, 'tenant', 'queue', 'state', 'assignee')
if moved(h[1], h[2], ARGV[2], ARGV[3]) then return 'MOVED' end
if not h[1] or h[3] == 'resolved' then return 0 end
if h[3] == 'claimed' and h[4] ~= ARGV[4] then return 0 end
redis.call('HSET', key, 'state', 'resolved', 'assignee', ARGV[4], 'resolved_at', ARGV[6])
unindex()
redis.call('EXPIRE', key, tonumber(ARGV[5]))
return 1
"""
