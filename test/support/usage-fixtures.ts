/**
 * Stores for usage tests: a `MemoryStore` whose usage writes can be made to fail (before applying,
 * or after applying with the reply lost), one that keeps a verification log, and a reader of the
 * installation series straight from the store (no flush in between).
 */
import { MemoryStore, StoreError } from '@keyward/core'
import type { UsageBatch, UsageLogEntry } from '@keyward/core/store'

/** How the next usage writes fail: not at all, before anything is applied, or after (reply lost). */
export type UsageFailure = 'none' | 'before' | 'after'

export class FlakyUsageStore extends MemoryStore {
  failure: UsageFailure = 'none'
  readonly batches: UsageBatch[] = []

  override async recordUsage(batch: UsageBatch): Promise<void> {
    if (this.failure === 'before') throw new StoreError('keyward: usage store down (test)')
    this.batches.push(batch)
    await super.recordUsage(batch)
    if (this.failure === 'after') throw new StoreError('keyward: usage reply lost (test)')
  }
}

export class LoggingStore extends FlakyUsageStore {
  override readonly usageLog: boolean = true
  readonly logged: UsageLogEntry[] = []

  override async recordUsage(batch: UsageBatch): Promise<void> {
    await super.recordUsage(batch)
    this.logged.push(...batch.verifications)
  }
}

/** Verifications in the store's installation series for the minute holding `at` (no flush). */
export async function storedMinute(store: MemoryStore, at: number): Promise<number> {
  const start = at - (at % 60_000)
  const [bucket] = await store.readUsage({
    series: { kind: 'installation' },
    granularity: 'minute',
    starts: [start],
    now: at,
  })
  return Object.values(bucket?.counts ?? {}).reduce((sum, count) => sum + count, 0)
}
