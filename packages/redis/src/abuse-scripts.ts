/**
 * The Lua script of abuse signals on Redis (docs/architecture.md, "Abuse signals"). It touches one
 * hash-tag slot, so it runs unchanged on a cluster.
 */

/**
 * Adds one process's observations to the state of one slot and answers the totals.
 * KEYS: one per operation, in order. ARGV, per operation: its kind and TTL in ms (a TTL only ever
 * grows), then
 * - `c` (counter), amount → answers the counter;
 * - `s` (set), member count, members → answers the set's size;
 * - `r` (a key's requests per minute, a hash minute → count), minute, amount, baseline start (`''`
 *   for none) → answers the minute's count, then the sum of the minutes in [start, minute) (or -1),
 *   and forgets minutes before the start.
 */
export const ABUSE_TALLY_SCRIPT = `
local replies = {}
local at = 1
local function expire(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
for index = 1, #KEYS do
  local key = KEYS[index]
  local kind = ARGV[at]
  local ttl = tonumber(ARGV[at + 1])
  if kind == 'c' then
    replies[#replies + 1] = redis.call('INCRBY', key, ARGV[at + 2])
    at = at + 3
  elseif kind == 's' then
    local count = tonumber(ARGV[at + 2])
    redis.call('SADD', key, unpack(ARGV, at + 3, at + 2 + count))
    replies[#replies + 1] = redis.call('SCARD', key)
    at = at + 3 + count
  else
    local minute = tonumber(ARGV[at + 2])
    replies[#replies + 1] = redis.call('HINCRBY', key, ARGV[at + 2], ARGV[at + 3])
    local from = ARGV[at + 4]
    if from == '' then
      replies[#replies + 1] = -1
    else
      from = tonumber(from)
      local sum = 0
      local fields = redis.call('HGETALL', key)
      for field = 1, #fields, 2 do
        local start = tonumber(fields[field])
        if start < from then
          redis.call('HDEL', key, fields[field])
        elseif start < minute then
          sum = sum + tonumber(fields[field + 1])
        end
      end
      replies[#replies + 1] = sum
    end
    at = at + 5
  end
  expire(key, ttl)
end
return replies
`
