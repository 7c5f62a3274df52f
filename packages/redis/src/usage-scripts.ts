/**
 * The Lua scripts of usage on Redis (docs/architecture.md, Usage). Each touches one hash-tag slot,
 * so it runs unchanged on a cluster.
 */

/**
 * Adds one batch's increments to the buckets of one slot, once per `(origin, sequence)`.
 * KEYS[1]: the slot's applied-marker hash (origin → highest sequence applied); KEYS[2..]: targets.
 * ARGV: origin, sequence, marker TTL ms, then per target: kind (`h` hash: HINCRBY field by n; `z`
 * sorted set: ZINCRBY member by n), TTL ms (≤ 0: already expired, skipped), pair count, pairs.
 * Returns 1 when applied, 0 when this batch had been applied already.
 */
export const USAGE_APPLY_SCRIPT = `
local seen = redis.call('HGET', KEYS[1], ARGV[1])
if seen and tonumber(seen) >= tonumber(ARGV[2]) then return 0 end
local at = 4
for index = 2, #KEYS do
  local key = KEYS[index]
  local kind = ARGV[at]
  local ttl = tonumber(ARGV[at + 1])
  local count = tonumber(ARGV[at + 2])
  at = at + 3
  if ttl > 0 then
    for _ = 1, count do
      if kind == 'h' then
        redis.call('HINCRBY', key, ARGV[at], ARGV[at + 1])
      else
        redis.call('ZINCRBY', key, ARGV[at + 1], ARGV[at])
      end
      at = at + 2
    end
    redis.call('PEXPIRE', key, ttl)
  else
    at = at + 2 * count
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

/** KEYS[1]: the last-used hash (key id → epoch ms). ARGV: id, at, id, at, …; keeps the later time. */
export const LAST_USED_SCRIPT = `
for index = 1, #ARGV, 2 do
  local current = redis.call('HGET', KEYS[1], ARGV[index])
  if not current or tonumber(current) < tonumber(ARGV[index + 1]) then
    redis.call('HSET', KEYS[1], ARGV[index], ARGV[index + 1])
  end
end
return 1
`

/**
 * Appends one batch's verifications to the stream, once per `(origin, sequence)`.
 * KEYS[1]: the stream; KEYS[2]: its applied marker (same slot). ARGV: origin, sequence, marker TTL
 * ms, MAXLEN, then keyId, ownerId, code, cost, timestamp per entry (`''` for no key or owner).
 */
export const USAGE_STREAM_SCRIPT = `
local seen = redis.call('HGET', KEYS[2], ARGV[1])
if seen and tonumber(seen) >= tonumber(ARGV[2]) then return 0 end
for index = 5, #ARGV, 5 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*',
    'keyId', ARGV[index], 'ownerId', ARGV[index + 1], 'code', ARGV[index + 2],
    'cost', ARGV[index + 3], 'timestamp', ARGV[index + 4])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`

/**
 * Ranks keys over buckets. KEYS[1..3]: scratch sets (requests, rejections, credits); then n ranking
 * sets per metric, in that order. ARGV: n, the metric ranked by (1–3), limit. The ranked metric is
 * summed negated, so an ascending ZRANGE gives the highest first and, among equals, the smallest
 * member (key id) first. Returns key id, requests, rejections, credits per ranked key.
 */
export const USAGE_RANK_SCRIPT = `
local n = tonumber(ARGV[1])
local by = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
for metric = 1, 3 do
  local scratch = KEYS[metric]
  redis.call('DEL', scratch)
  local weight = metric == by and -1 or 1
  local first = 4 + (metric - 1) * n
  local done = 0
  while done < n do
    local count = math.min(500, n - done)
    local args = { scratch, count + 1, scratch }
    for index = 1, count do args[#args + 1] = KEYS[first + done + index - 1] end
    args[#args + 1] = 'WEIGHTS'
    args[#args + 1] = 1
    for _ = 1, count do args[#args + 1] = weight end
    redis.call('ZUNIONSTORE', unpack(args))
    done = done + count
  end
end
local ranked = redis.call('ZRANGE', KEYS[by], 0, limit - 1)
local reply = {}
for _, member in ipairs(ranked) do
  reply[#reply + 1] = member
  for metric = 1, 3 do
    reply[#reply + 1] = redis.call('ZSCORE', KEYS[metric], member) or '0'
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return reply
`
