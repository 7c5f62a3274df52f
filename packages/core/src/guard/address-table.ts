/**
 * The guard's memory (docs/architecture.md, "Brute-force guard"): per client network, the failed
 * attempts of its current window and the key ids it has in flight; and the networks blocked, with
 * when each block ends. Both are `LinkedMap`s in insertion order, which — windows and blocks having
 * fixed lengths, and an entry moving to the back when renewed — is also expiry order, so expired
 * entries are swept from the front at O(1) each. Together they hold at most `maxAddresses` networks: past
 * the cap, expired entries go first, then the oldest counts, and a live block only when nothing
 * else is left. The block list is never cleared wholesale.
 */
import { LinkedMap } from '../linked-map.ts'
import type { GuardBlock } from '../store/interface.ts'

export interface Counter {
  /** Failed attempts in the current window. */
  failures: number
  /** How many of them were added to the shared count (with a shared store). */
  shared: number
  /** When the current window ends, epoch ms. */
  windowEnd: number
  /** Key ids looked up right now for this network, with how many requests carry each. */
  inFlight: Map<string, number> | null
}

/** Entries swept from each front per insertion, so memory follows expiry even under the cap. */
const SWEEP_PER_INSERT = 2

export class AddressTable {
  private readonly counters = new LinkedMap<string, Counter>()
  private readonly blocks = new LinkedMap<string, number>()

  constructor(
    private readonly maxAddresses: number,
    private readonly windowMs: number,
  ) {}

  /** Networks remembered (counted or blocked). */
  get size(): number {
    return this.counters.size + this.blocks.size
  }

  /** When `network`'s block ends, or 0 when it is not blocked at `now`. */
  blockedUntil(network: string, now: number): number {
    if (this.blocks.size === 0) return 0
    const until = this.blocks.get(network)
    if (until === undefined) return 0
    if (until > now) return until
    this.blocks.delete(network)
    return 0
  }

  /** Blocks `network` until `until` (a later end wins); its count is dropped. */
  block(network: string, until: number, now: number): void {
    this.counters.delete(network)
    const current = this.blocks.get(network)
    if (current !== undefined && current >= until) return
    if (current === undefined) this.makeRoom(now)
    this.blocks.set(network, until)
  }

  /** Forgets `network`'s block and count; `true` when it was blocked. */
  unblock(network: string, now: number): boolean {
    this.counters.delete(network)
    const until = this.blocks.get(network)
    this.blocks.delete(network)
    return until !== undefined && until > now
  }

  /** `network`'s counter, if it has one (its window may have ended). */
  peek(network: string): Counter | undefined {
    return this.counters.size === 0 ? undefined : this.counters.get(network)
  }

  /** `network`'s counter for the window running at `now`, created (or restarted) as needed. */
  counter(network: string, now: number): Counter {
    let counter = this.counters.get(network)
    if (counter === undefined) {
      this.makeRoom(now)
      counter = { failures: 0, shared: 0, windowEnd: now + this.windowMs, inFlight: null }
      this.counters.set(network, counter)
    } else if (counter.windowEnd <= now) {
      counter.failures = 0
      counter.shared = 0
      counter.windowEnd = now + this.windowMs
      // To the back: the table stays in window-end order.
      this.counters.touch(network)
    }
    return counter
  }

  /** Drops `network`'s counter once it holds nothing: no failures, nothing in flight. */
  release(network: string, counter: Counter): void {
    if (counter.failures === 0 && counter.inFlight === null && this.counters.get(network) === counter) {
      this.counters.delete(network)
    }
  }

  /** The blocks in force at `now`, soonest ending first. */
  listBlocks(now: number): GuardBlock[] {
    const blocks: GuardBlock[] = []
    for (const [network, until] of this.blocks.entries()) if (until > now) blocks.push({ network, until })
    return blocks.sort((a, b) => a.until - b.until)
  }

  /** Sweeps expired entries off both fronts, then, at the cap, evicts until one more fits. */
  private makeRoom(now: number): void {
    this.sweep(now, SWEEP_PER_INSERT)
    if (this.size < this.maxAddresses) return
    this.sweep(now, Number.POSITIVE_INFINITY)
    while (this.size >= this.maxAddresses) {
      // A count is cheaper to lose than a block: it only restarts an attacker's window.
      if (this.counters.size > 0) this.counters.shift()
      else this.blocks.shift()
    }
  }

  private sweep(now: number, limit: number): void {
    for (let swept = 0; swept < limit; swept++) {
      const counter = this.counters.oldestValue()
      if (counter === undefined || counter.windowEnd > now) break
      this.counters.shift()
    }
    for (let swept = 0; swept < limit; swept++) {
      const until = this.blocks.oldestValue()
      if (until === undefined || until > now) break
      this.blocks.shift()
    }
  }
}
