/**
 * Abuse-signal state on Redis (docs/architecture.md, "Abuse signals"): the `AbuseState` of `RedisStore`.
 * A process's tally becomes one script call per hash-tag scope (`abuse-layout.ts`) — INCRBY for
 * counters, SADD + SCARD for sets, HINCRBY on a key's minute hash with the baseline summed in the
 * same call — pipelined, one pipeline per cluster node; claims are `SET NX PX`, so whichever process
 * sets a window's claim first emits its signal; histories are capped lists (`LPUSH`, `LTRIM`) with a
 * TTL. Every key expires with its window, its baseline span or its history's retention.
 */
import { StoreError } from '@keyward/core'
import type {
  AbuseEvent,
  AbuseHistoryLimits,
  AbuseHistoryQuery,
  AbuseState,
  AbuseTally,
  AbuseTallyResult,
  AbuseWindow,
} from '@keyward/core/store'
import { type AbuseLayout, isStorableSubject } from './abuse-layout.ts'
import { ABUSE_TALLY_SCRIPT } from './abuse-scripts.ts'
import { groupByNode } from './cluster-slots.ts'
import type { CommandGuard, RedisClient } from './command-guard.ts'

type Argument = string | number

interface AbuseCommands {
  keywardAbuseTally(numberOfKeys: number, ...args: Argument[]): unknown
}

/** One scope's script call: its keys and arguments, and where its replies go. */
interface ScopeCall {
  keys: string[]
  args: Argument[]
  /** Takes this operation's replies from `replies` at `offset`; answers how many it took. */
  answers: ((replies: number[], offset: number) => number)[]
}

/** Relative TTL for something kept until `expiresAt` (keyward's clock), never below 1 ms. */
const ttlOf = (expiresAt: number, now: number) => Math.max(1, expiresAt - now)

export class RedisAbuse implements AbuseState {
  constructor(
    private readonly client: RedisClient,
    private readonly guard: CommandGuard,
    private readonly layout: AbuseLayout,
  ) {
    client.defineCommand('keywardAbuseTally', { lua: ABUSE_TALLY_SCRIPT })
  }

  async tally(tally: AbuseTally): Promise<AbuseTallyResult> {
    const { now } = tally
    const result: AbuseTallyResult = {
      counts: tally.counts.map(() => 0),
      sets: tally.sets.map(() => 0),
      rates: tally.rates.map(() => ({ total: 0, baseline: null })),
    }
    const scopes = new Map<string, ScopeCall>()
    const callOf = (subject: string) => {
      const scope = this.layout.scope(subject)
      let call = scopes.get(scope)
      if (call === undefined) {
        call = { keys: [], args: [], answers: [] }
        scopes.set(scope, call)
      }
      return call
    }
    tally.counts.forEach((count, index) => {
      const call = callOf(count.subject)
      call.keys.push(this.layout.counter(count))
      call.args.push('c', ttlOf(count.expiresAt, now), count.amount)
      call.answers.push((replies, offset) => {
        result.counts[index] = Number(replies[offset])
        return 1
      })
    })
    tally.sets.forEach((set, index) => {
      if (set.members.length === 0) return
      const call = callOf(set.subject)
      call.keys.push(this.layout.set(set))
      call.args.push('s', ttlOf(set.expiresAt, now), set.members.length, ...set.members)
      call.answers.push((replies, offset) => {
        result.sets[index] = Number(replies[offset])
        return 1
      })
    })
    tally.rates.forEach((rate, index) => {
      if (!isStorableSubject(rate.keyId)) return
      const call = callOf(rate.keyId)
      call.keys.push(this.layout.rate(rate.keyId))
      call.args.push('r', ttlOf(rate.expiresAt, now), rate.minute, rate.amount, rate.baselineFrom ?? '')
      call.answers.push((replies, offset) => {
        const baseline = Number(replies[offset + 1])
        result.rates[index] = { total: Number(replies[offset]), baseline: baseline < 0 ? null : baseline }
        return 2
      })
    })

    const calls = [...scopes.values()]
    await this.inPipelines(
      'abuse tally',
      calls,
      (call) => call.keys[0]!,
      (pipeline, call) => {
        ;(pipeline as unknown as AbuseCommands).keywardAbuseTally(
          call.keys.length,
          ...call.keys,
          ...call.args,
        )
      },
      (call, reply) => {
        const replies = reply as number[]
        let offset = 0
        for (const answer of call.answers) offset += answer(replies, offset)
      },
    )
    return result
  }

  async claim(windows: readonly AbuseWindow[], now: number): Promise<boolean[]> {
    const won = windows.map(() => false)
    const claims = windows.map((window, index) => ({
      key: this.layout.claim(window),
      ttl: ttlOf(window.expiresAt, now),
      index,
    }))
    await this.inPipelines(
      'abuse claim',
      claims,
      (claim) => claim.key,
      (pipeline, claim) => {
        pipeline.set(claim.key, '1', 'PX', claim.ttl, 'NX')
      },
      (claim, reply) => {
        won[claim.index] = reply === 'OK'
      },
    )
    return won
  }

  async remember(event: AbuseEvent, limits: AbuseHistoryLimits, _now: number): Promise<void> {
    const json = JSON.stringify(event)
    const lists = [this.layout.history(null)]
    if ('keyId' in event && isStorableSubject(event.keyId)) lists.push(this.layout.history(event.keyId))
    await this.inPipelines(
      'abuse history',
      lists,
      (list) => list,
      (pipeline, list) => {
        pipeline
          .lpush(list, json)
          .ltrim(list, 0, limits.size - 1)
          .pexpire(list, limits.retentionMs)
      },
    )
  }

  async recent(query: AbuseHistoryQuery): Promise<AbuseEvent[]> {
    if (query.keyId !== null && !isStorableSubject(query.keyId)) return []
    const list = this.layout.history(query.keyId)
    const entries = await this.guard.run('abuse history', () => this.client.lrange(list, 0, query.limit - 1))
    return entries
      .map((entry) => JSON.parse(entry) as AbuseEvent)
      .filter((event) => event.timestamp >= query.since)
  }

  /**
   * Sends `items` in one pipeline per node (`keyOf` decides it), each item's commands added by
   * `send`; `receive` gets each command's reply (the last one of an item). Rejects with a
   * `StoreError` once every pipeline has settled, if any failed.
   */
  private async inPipelines<T>(
    operation: string,
    items: readonly T[],
    keyOf: (item: T) => string,
    send: (pipeline: ReturnType<RedisClient['pipeline']>, item: T) => void,
    receive?: (item: T, reply: unknown) => void,
  ): Promise<void> {
    const outcomes = await Promise.allSettled(
      groupByNode(this.client, items, keyOf).map((group) =>
        this.guard.run(operation, async () => {
          const pipeline = this.client.pipeline()
          const ends: number[] = []
          for (const item of group) {
            send(pipeline, item)
            ends.push(pipeline.length)
          }
          const replies = (await pipeline.exec()) ?? []
          for (const [error] of replies) if (error) throw error
          if (receive === undefined) return
          group.forEach((item, index) => {
            receive(item, replies[ends[index]! - 1]?.[1])
          })
        }),
      ),
    )
    const failed = outcomes.find((outcome) => outcome.status === 'rejected')
    if (failed !== undefined) {
      const cause = (failed as PromiseRejectedResult).reason
      throw cause instanceof StoreError
        ? cause
        : new StoreError(`keyward: Redis ${operation} failed`, { cause })
    }
  }
}
