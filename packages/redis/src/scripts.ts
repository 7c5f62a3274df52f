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
redis.call('SET', KEYS[1], ARGV[1])
local seq = redis.call('INCR', KEYS[3])
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
export const DELETE_SCRIPT = `
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
 * Mirrors \`spendFrom\` in @keyward/core's credits.ts: refill (top up to the amount, never lower,
 * once per whole elapsed interval), then take \`cost\` only if that many remain.
 * KEYS: pool. ARGV: cost, now. Returns nil without a pool, else { spent 0|1, remaining, nextRefillAt|-1, refilledAt }.
 */
export const SPEND_SCRIPT = `
local state = redis.call('HMGET', KEYS[1], 'r', 't', 'a', 'i')
if not state[1] then return nil end
local remaining = tonumber(state[1])
local refilledAt = tonumber(state[2])
local amount = tonumber(state[3])
local interval = tonumber(state[4])
local cost = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
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
  redis.call('HSET', KEYS[1], 'r', string.format('%d', remaining), 't', string.format('%d', refilledAt))
end
local nextRefillAt = -1
if interval > 0 then nextRefillAt = refilledAt + interval end
return { spent, string.format('%d', remaining), string.format('%d', nextRefillAt), string.format('%d', refilledAt) }
`

/** KEYS: pool. ARGV: onlyIfAbsent (1|0), remaining, refilledAt, amount, interval. 1 = written. */
export const WRITE_POOL_SCRIPT = `
if ARGV[1] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[2], 't', ARGV[3], 'a', ARGV[4], 'i', ARGV[5])
return 1
`
