/**
 * Local-first rate limits (`{ points, duration, sync: { intervalMs } }`): counted in this process,
 * with no round trip on the request path, and reconciled with Redis in the background — every
 * `intervalMs`, in one script per owner slot, each counter's pending points are added to the shared
 * window and the window's total comes back. A process admits a request while the total it last
 * heard plus what it admitted since stays under the limit, so all processes together can overshoot
 * by what the others admit between two syncs: about processes × interval × rate (docs/redis.md,
 * "Local-first limits"). When Redis is unreachable, pending points are kept and sent later.
 */

import type { RateLimitState, ResolvedPolicy } from '@keyward/core/store'
import { LinkedMap, limitState } from '@keyward/core/store'
import type { CommandGuard } from './command-guard.ts'

interface Entry {
  key: string
  /** Counters of one group share a hash tag: one sync script per group. */
  group: string
  policy: ResolvedPolicy
  /** The window's total as Redis last reported it (this process's synced points included). */
  remote: number
  /** Points admitted here and not yet sent. */
  pending: number
  /** Points sent and not yet acknowledged. */
  inFlight: number
  /** Epoch ms when the window ends (as of the last sync, or a local guess). */
  resetAt: number
  /** Epoch ms of the last request; an idle, drained entry is dropped. */
  usedAt: number
}

type SyncScript = (...args: (string | number)[]) => Promise<unknown>

export interface LocalTake {
  allowed: boolean
  state: RateLimitState
}

export class LocalFirstLimits {
  // Least recently used first. A plain Map re-inserted on every take churned its hash table (a
  // rehash every few requests, which showed in profiles as garbage); LinkedMap moves a pointer.
  private readonly entries = new LinkedMap<string, Entry>()
  private readonly timers = new Map<number, NodeJS.Timeout>()
  private closed = false

  constructor(
    private readonly guard: CommandGuard,
    private readonly sync: SyncScript,
    /** Entries kept at most (least recently used go first): bounds memory. */
    private readonly maxEntries: number = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Admits or refuses one request against a local-first counter, synchronously. */
  take(key: string, group: string, policy: ResolvedPolicy): LocalTake {
    const at = this.now()
    const windowMs = policy.duration * 1000
    let entry = this.entries.get(key)
    if (entry === undefined) {
      // Room first, then the new counter: evicting after inserting could forget the new one itself
      // (it has nothing pending yet), leaving its points counted on an entry nobody syncs.
      if (this.entries.size >= this.maxEntries) this.evict(this.maxEntries - 1)
      entry = { key, group, policy, remote: 0, pending: 0, inFlight: 0, resetAt: at + windowMs, usedAt: at }
      this.entries.set(key, entry)
      this.schedule(policy.syncMs as number)
    } else {
      this.entries.touch(key)
    }
    entry.usedAt = at
    if (at >= entry.resetAt) {
      // The window ended: a new one starts; the next sync tells its real total and end.
      entry.remote = 0
      entry.resetAt = at + windowMs
    }
    const used = entry.remote + entry.pending + entry.inFlight
    const resetMs = entry.resetAt - at
    if (used >= policy.points) return { allowed: false, state: limitState(policy, 0, resetMs, true) }
    entry.pending++
    return { allowed: true, state: limitState(policy, policy.points - used - 1, resetMs, false) }
  }

  /** Gives back a point `take` admitted (another limit of the request refused it). */
  refund(key: string): void {
    const entry = this.entries.get(key)
    if (entry !== undefined && entry.pending > 0) entry.pending--
  }

  /** Sends every pending point now (e.g. before closing). */
  async flush(): Promise<void> {
    const intervals = new Set([...this.entries.entries()].map(([, entry]) => entry.policy.syncMs as number))
    await Promise.all([...intervals].map((interval) => this.reconcile(interval)))
  }

  close(): void {
    this.closed = true
    for (const timer of this.timers.values()) clearInterval(timer)
    this.timers.clear()
  }

  private schedule(intervalMs: number): void {
    if (this.closed || this.timers.has(intervalMs)) return
    const timer = setInterval(() => {
      this.reconcile(intervalMs).catch(() => {
        // Kept pending; the next tick tries again.
      })
    }, intervalMs)
    timer.unref()
    this.timers.set(intervalMs, timer)
  }

  /** Forgets counters, least recently used first, until at most `keep` are left. */
  private evict(keep: number): void {
    // Unsent points are dropped only when nothing else can go: memory stays bounded either way.
    const excess = this.entries.size - keep
    const drained: string[] = []
    for (const [key, entry] of this.entries.entries()) {
      if (drained.length >= excess) break
      if (entry.pending === 0 && entry.inFlight === 0) drained.push(key)
    }
    for (const key of drained) this.entries.delete(key)
    while (this.entries.size > keep) this.entries.shift()
  }

  /** One sync of every counter with this interval: pending points out, totals in. */
  private async reconcile(intervalMs: number): Promise<void> {
    const at = this.now()
    const groups = new Map<string, Entry[]>()
    const idle: string[] = []
    for (const [, entry] of this.entries.entries()) {
      if (entry.policy.syncMs !== intervalMs || entry.inFlight > 0) continue
      if (at >= entry.resetAt && at - entry.usedAt > intervalMs && entry.pending === 0) {
        idle.push(entry.key)
        continue
      }
      let group = groups.get(entry.group)
      if (group === undefined) {
        group = []
        groups.set(entry.group, group)
      }
      group.push(entry)
    }
    for (const key of idle) this.entries.delete(key)
    await Promise.all([...groups.values()].map((group) => this.send(group)))
  }

  private async send(group: Entry[]): Promise<void> {
    const args: (string | number)[] = [group.length]
    for (const entry of group) args.push(entry.key)
    for (const entry of group) {
      entry.inFlight = entry.pending
      entry.pending = 0
      args.push(entry.inFlight, entry.policy.duration * 1000)
    }
    let reply: number[]
    try {
      reply = (await this.guard.run('local-first sync', () => this.sync(...args))) as number[]
    } catch (error) {
      for (const entry of group) {
        entry.pending += entry.inFlight
        entry.inFlight = 0
      }
      throw error
    }
    const at = this.now()
    group.forEach((entry, index) => {
      entry.remote = Number(reply[2 * index])
      entry.resetAt = at + Number(reply[2 * index + 1])
      entry.inFlight = 0
    })
  }
}
