/**
 * Redis Cluster slots, so a batch of commands can be split into one pipeline per node (ioredis
 * refuses a cluster pipeline whose keys live on different nodes). `hashSlot` is Redis's own rule:
 * CRC16 (XMODEM) of the key's hash tag — the part between the first `{` and the next `}`, when
 * not empty — or of the whole key, modulo 16384.
 */
import type { Cluster } from 'ioredis'
import type { RedisClient } from './command-guard.ts'

const TABLE = new Uint16Array(256)
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[byte] = crc
}

function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

export function hashSlot(key: string): number {
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) key = key.slice(open + 1, close)
  }
  return crc16(Buffer.from(key, 'utf8')) % 16384
}

function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true
}

/**
 * Groups `items` by the node serving their key (`keyOf`); on a single node, one group. A slot
 * whose owner is not known yet gets a group of its own (ioredis then routes it).
 */
export function groupByNode<T>(client: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!isCluster(client)) return items.length === 0 ? [] : [[...items]]
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const slot = hashSlot(keyOf(item))
    const node = client.slots[slot]?.join(',') ?? `slot:${slot}`
    const group = groups.get(node)
    if (group === undefined) groups.set(node, [item])
    else group.push(item)
  }
  return [...groups.values()]
}
