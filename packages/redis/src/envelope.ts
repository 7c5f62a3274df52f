/**
 * How a key record is written in Redis: a JSON envelope `{ r: record, p: pool }`, where `p` is the
 * id of the credit pool the key spends from (its own id, or after a rotation its predecessor's).
 * Also the opaque cursors of `listByOwner`, which carry an owner-index score.
 */
import { StoreError } from '@keyward/core'
import type { StoredKey } from '@keyward/core/store'

export interface Envelope {
  r: StoredKey
  /** Pool id: the key's own id, or, after a rotation, the pool its predecessor used. */
  p: string
}

export function parseEnvelope(raw: string): Envelope {
  let value: Envelope
  try {
    value = JSON.parse(raw) as Envelope
  } catch {
    throw new StoreError('keyward: unreadable key record in Redis')
  }
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.p !== 'string' ||
    typeof value.r !== 'object'
  ) {
    throw new StoreError('keyward: unreadable key record in Redis')
  }
  return value
}

export function encodeCursor(score: string): string {
  return Buffer.from(`s:${score}`, 'utf8').toString('base64url')
}

/** The score a cursor carries, or `null` for anything this store did not make. */
export function decodeCursor(cursor: string): string | null {
  if (typeof cursor !== 'string' || cursor.length > 64) return null
  const text = Buffer.from(cursor, 'base64url').toString('utf8')
  const match = /^s:(\d{1,16})$/.exec(text)
  return match?.[1] ?? null
}
