/**
 * The Lua scripts `RedisStore` runs. Each touches keys of one hash tag only, so it is atomic on a
 * single node and on a cluster. Writers publish the change from inside the script, so a write and
 * its invalidation never come apart; each notice carries the next value of a version counter, so a
 * subscriber can tell when it missed one. Record JSON is compared and replaced as opaque strings:
 * merging happens in JavaScript (cjson would turn `[]` into `{}` and round large numbers).
 */

/**
 * Keeps the index of when records stopped being usable (`ends`, scored by revocation or expiry,
 * whichever is first), which `purge` reads. ARGV[i] is the end in epoch ms, or '' for none.
 */
const SET_END = `
local function setEnd(ends, id, at)
  if at == '' then redis.call('ZREM', ends, id) else redis.call('ZADD', ends, at, id) end
end
`

/**
 * KEYS: record, owner, sequence, version, ends. ARGV: envelope, id, channel, message, end.
 * 1 = created, 0 = id taken.
 */
export const CREATE_SCRIPT: string = `${SET_END}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
-- The sequence first: a script stopped by an error keeps what it already wrote, so nothing may
-- be written before the last command that can fail.
local seq = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], seq, ARGV[2])
setEnd(KEYS[5], ARGV[2], ARGV[5])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. redis.call('INCR', KEYS[4]))
return 1
`

/**
 * KEYS: record, version, ends. ARGV: expected, next, channel, message, id, end.
 * 1 = replaced, 0 = changed meanwhile, -1 = none.
 */
export const REPLACE_SCRIPT: string = `${SET_END}
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
setEnd(KEYS[3], ARGV[5], ARGV[6])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. redis.call('INCR', KEYS[2]))
return 1
`

/**
 * KEYS: record, owner, version, ends. ARGV: expected, id, channel, message.
 * 1 = deleted, 0 = changed meanwhile, -1 = none.
 */
export const DELETE_SCRIPT: string = `
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. redis.call('INCR', KEYS[3]))
return 1
`

/**
 * KEYS: old record, successor record, successor's owner, sequence, version, ends.
 * ARGV: expected old, next old, successor envelope, successor id, channel, message, old id,
 * old end, successor end.
 * 1 = rotated, 0 = old changed meanwhile, -1 = no old record, -2 = successor id taken.
 */
export const ROTATE_SCRIPT: string = `${SET_END}
local current = redis.call('GET', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return -2 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
local seq = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[3], seq, ARGV[4])
setEnd(KEYS[6], ARGV[7], ARGV[8])
setEnd(KEYS[6], ARGV[4], ARGV[9])
redis.call('PUBLISH', ARGV[5], ARGV[6] .. ' ' .. redis.call('INCR', KEYS[5]))
return 1
`

/**
 * The credit spend, a Lua twin of \`spendFrom\` in @keyward/core's credits.ts: refill (top up to
 * the amount, never lower, once per whole elapsed interval), then take \`cost\` only if that many
 * remain. Returns nil without a pool, else { spent 0|1, remaining, nextRefillAt|-1, refilledAt }.
 */
const SPEND = `
local function spend(pool, cost, now)
  local state = redis.call('HMGET', pool, 'r', 't', 'a', 'i')
  if not state[1] then return nil end
  local remaining = tonumber(state[1])
  local refilledAt = tonumber(state[2])
  local amount = tonumber(state[3])
  local interval = tonumber(state[4])
  local changed = false
  if interval > 0 and now >= refilledAt + interval then
    local periods = math.floor((now - refilledAt) / interval)
    if amount > remaining then remaining = amount end
    refilledAt = refilledAt + periods * interval
    changed = true
  end
  local spent = 0
  if remaining >= cost then
    spent = 1
    if cost > 0 then
      remaining = remaining - cost
      changed = true
    end
  end
  if changed then
    redis.call('HSET', pool, 'r', string.format('%d', remaining), 't', string.format('%d', refilledAt))
  end
  local nextRefillAt = -1
  if interval > 0 then nextRefillAt = refilledAt + interval end
  return { spent, string.format('%d', remaining), string.format('%d', nextRefillAt), string.format('%d', refilledAt) }
end
`

/**
 * One request's whole charge, atomically, on one slot (every key shares the owner's hash tag):
 * a point from each fixed-window counter (rate-limiter-flexible's semantics: the window starts
 * with the first point, a rejected point still counts, `blockDuration` extends the window once
 * the limit is passed); when any counter rejects, the others get their point back and no credit
 * is spent; otherwise \`cost\` credits from the pool.
 * KEYS: the n counters, then the pool (when cost ≥ 0). ARGV: now, cost (-1: no credits), n, then
 * per counter: points, window ms, block ms.
 * Returns { limited 0|1, { consumed, ttl ms } per counter, spend reply (see SPEND) }.
 */
export const CHARGE_SCRIPT: string = `${SPEND}
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local counters = {}
local limited = 0
for i = 1, n do
  local base = 3 + (i - 1) * 3
  local points = tonumber(ARGV[base + 1])
  local window = tonumber(ARGV[base + 2])
  local block = tonumber(ARGV[base + 3])
  redis.call('SET', KEYS[i], 0, 'PX', window, 'NX')
  local consumed = redis.call('INCR', KEYS[i])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[i], window)
    ttl = window
  end
  if consumed > points then
    limited = 1
    if block > 0 and consumed == points + 1 then
      redis.call('PEXPIRE', KEYS[i], block)
      ttl = block
    end
  end
  counters[#counters + 1] = consumed
  counters[#counters + 1] = ttl
end
if limited == 1 then
  for i = 1, n do
    if counters[2 * i - 1] <= tonumber(ARGV[3 + (i - 1) * 3 + 1]) then redis.call('DECR', KEYS[i]) end
  end
  return { 1, counters }
end
if cost < 0 then return { 0, counters } end
return { 0, counters, spend(KEYS[n + 1], cost, now) }
`

/**
 * Local-first counters reconciled in a batch: adds each counter's pending points and reads back the
 * total and the window left. KEYS: counters. ARGV: per counter: points to add, window ms.
 * Returns { total, ttl ms } per counter.
 */
export const SYNC_SCRIPT: string = `
local out = {}
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  redis.call('SET', KEYS[i], 0, 'PX', window, 'NX')
  local total = redis.call('INCRBY', KEYS[i], tonumber(ARGV[2 * i - 1]))
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[i], window)
    ttl = window
  end
  out[#out + 1] = total
  out[#out + 1] = ttl
end
return out
`

/**
 * An owner record write, compare-and-set, published like key writes. KEYS: owner record, version.
 * ARGV: expected ('*': whatever is there), next ('': delete), channel, message.
 * 1 = written, 0 = changed meanwhile, -1 = none (when a value was expected).
 */
export const OWNER_SCRIPT: string = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] ~= '*' then
  if not current then return -1 end
  if current ~= ARGV[1] then return 0 end
end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4] .. ' ' .. redis.call('INCR', KEYS[2]))
return 1
`

/** KEYS: pool. ARGV: onlyIfAbsent (1|0), remaining, refilledAt, amount, interval. 1 = written. */
export const WRITE_POOL_SCRIPT: string = `
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[2], 't', ARGV[3], 'a', ARGV[4], 'i', ARGV[5])
return 1
`
