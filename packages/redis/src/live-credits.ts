/**
 * A cached key or owner record whose credits keep moving. Every strict charge with credits tells
 * this process the pool's new balance; copying the record for each one gave `verify` a new object
 * per request, so everything it remembers per record (the key's view, its limits, its allowlist)
 * was rebuilt on every request of a key with credits. Here the record stays the object Redis gave
 * (what `peek` returns to the hot path, which reads only whether there is a pool and how it
 * refills), and the balance sits beside it until someone asks for the record as it is now.
 */
import type { StoredCredits } from '@keyward/core/store'

export class LiveCredits<T extends { credits: StoredCredits | null }> {
  private remaining: number
  private refilledAt: number
  /** `record` with the live balance, built when asked for and kept until the balance moves. */
  private withBalance: T | null = null

  constructor(
    /** The record as read from Redis; the same object for as long as it is cached. */
    readonly record: T,
    /** When the balance was last read from the pool or reported by a charge here, epoch ms. */
    public creditsReadAt: number = Date.now(),
  ) {
    this.remaining = record.credits?.remaining ?? 0
    this.refilledAt = record.credits?.refilledAt ?? 0
  }

  /** The pool holds `remaining`, last refilled at `refilledAt` (a read, or a charge's answer). */
  update(remaining: number, refilledAt: number): void {
    this.creditsReadAt = Date.now()
    if (remaining === this.remaining && refilledAt === this.refilledAt) return
    this.remaining = remaining
    this.refilledAt = refilledAt
    this.withBalance = null
  }

  /** The record with the balance as last heard: `record` itself while that is unchanged. */
  current(): T {
    const credits = this.record.credits
    if (
      credits === null ||
      (credits.remaining === this.remaining && credits.refilledAt === this.refilledAt)
    ) {
      return this.record
    }
    if (this.withBalance === null) {
      this.withBalance = {
        ...this.record,
        credits: { ...credits, remaining: this.remaining, refilledAt: this.refilledAt },
      }
    }
    return this.withBalance
  }
}
