/**
 * `lastUsedAt` of key records: the store's value (written at most once per key per
 * `usage.lastUsedIntervalMs`, in its own structure, never through the record) merged with this
 * process's latest use not yet flushed (docs/architecture.md, Usage).
 */
import type { KeyStore } from '../store/interface.ts'
import type { UsageRecorder } from './usage-recorder.ts'

/** When each key was last used, epoch ms, or `null`; in the order of `ids`. */
export type LastUsedReader = (ids: readonly string[]) => Promise<(number | null)[]>

export function createLastUsedReader(store: KeyStore, recorder: UsageRecorder | null): LastUsedReader {
  return async function lastUsedOf(ids) {
    if (ids.length === 0) return []
    const stored = await store.lastUsed(ids)
    return ids.map((id, index) => {
      const written = stored[index] ?? null
      const pending = recorder?.pendingLastUsed(id)
      return pending !== undefined && (written === null || pending > written) ? pending : written
    })
  }
}
