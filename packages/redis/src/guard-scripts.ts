/**
 * The Lua scripts of the shared brute-force guard (`shared-guard.ts`). Each touches one key, so it
 * is atomic on a single node and on a cluster; blocks are announced from inside the script, so a
 * block and its notice never come apart.
 */

/** KEYS: failure counter. ARGV: failures, window ms. The failures in the window, these included. */
export const FAILURE_SCRIPT: string = `
local failures = redis.call('INCRBY', KEYS[1], ARGV[1])
if failures == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return failures
`

/**
 * KEYS: blocks, sequence. ARGV: network, until, now, channel. Drops ended blocks, then blocks
 * `network` unless it already is, and announces it: `b <sequence> <until> <network>`. Returns the
 * announcement's sequence number, 0 when it was blocked already (nothing announced).
 */
export const BLOCK_SCRIPT: string = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current and tonumber(current) > tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local sequence = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], 'b ' .. sequence .. ' ' .. ARGV[2] .. ' ' .. ARGV[1])
return sequence
`

/**
 * KEYS: blocks, sequence. ARGV: network, now, channel. Announces `u <sequence> <network>`.
 * Returns { 1 if it was blocked else 0, sequence }.
 */
export const UNBLOCK_SCRIPT: string = `
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
local sequence = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], 'u ' .. sequence .. ' ' .. ARGV[1])
local was = 0
if current and tonumber(current) > tonumber(ARGV[2]) then was = 1 end
return { was, sequence }
`
