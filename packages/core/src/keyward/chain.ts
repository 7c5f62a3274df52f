/**
 * Rotation chains. A rotated key stays usable during its grace period, but it is no longer the key
 * the operator manages: its successor is. So a key in grace answers with the state of the newest
 * key of its chain (the head): revoking, disabling, narrowing the scopes or restricting the
 * networks of the head reaches every predecessor still in grace, and the whole chain spends one
 * rate-limit budget and one credit pool. See docs/architecture.md, "Rotation chains".
 */
import type { KeyStore } from '../store/interface.ts'
import type { StoredKey } from '../types.ts'

/** Rotations of one key that may be in grace at once; a longer chain is refused as corrupt. */
const MAX_CHAIN_HOPS = 16

/** The newest key of `record`'s chain (`record` itself when it was never rotated); `null` when gone. */
export async function chainHead(store: KeyStore, record: StoredKey): Promise<StoredKey | null> {
  let head = record
  for (let hop = 0; head.rotatedTo !== null; hop++) {
    if (hop === MAX_CHAIN_HOPS) return null
    const next = await store.get(head.rotatedTo)
    if (next === null) return null
    head = next
  }
  return head
}

/** The rate-limit identity of a chain: its first key's id (records written before chains had one use their own). */
export function chainIdOf(record: StoredKey): string {
  return record.chainId ?? record.id
}
