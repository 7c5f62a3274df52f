/**
 * `RedisStore.sharedGuard`: the brute-force guard's state shared by every process on one Redis and
 * key prefix (docs/architecture.md, "Brute-force guard"). Failed attempts are counted per client
 * network in a key that expires with its window; blocks live in one sorted set scored by their end
 * and are announced on a pub/sub channel carried by the change feed's connection, so every process
 * copies them into its local block list and a process that (re)subscribes reads the ones in force.
 * Only failing requests reach Redis: the guard answers everyone else from memory.
 */
import type { GuardBlock, SharedGuardListener, SharedGuardState } from '@keyward/core/store'
import type { ChangeFeed } from './change-feed.ts'
import type { CommandGuard, RedisClient } from './command-guard.ts'
import { BLOCK_SCRIPT, FAILURE_SCRIPT, UNBLOCK_SCRIPT } from './guard-scripts.ts'
import type { KeyLayout } from './key-layout.ts'

interface GuardScripts {
  keywardGuardFailure(key: string, failures: string, windowMs: string): Promise<number>
  keywardGuardBlock(
    key: string,
    sequence: string,
    network: string,
    until: string,
    now: string,
    channel: string,
  ): Promise<number>
  keywardGuardUnblock(
    key: string,
    sequence: string,
    network: string,
    now: string,
    channel: string,
  ): Promise<[number, number]>
}

export class RedisSharedGuard implements SharedGuardState {
  private readonly scripts: GuardScripts
  private readonly listeners = new Set<SharedGuardListener>()
  private stopListening: (() => void) | null = null

  constructor(
    private readonly client: RedisClient,
    private readonly guard: CommandGuard,
    private readonly layout: KeyLayout,
    private readonly feed: ChangeFeed,
  ) {
    client.defineCommand('keywardGuardFailure', { lua: FAILURE_SCRIPT, numberOfKeys: 1 })
    client.defineCommand('keywardGuardBlock', { lua: BLOCK_SCRIPT, numberOfKeys: 2 })
    client.defineCommand('keywardGuardUnblock', { lua: UNBLOCK_SCRIPT, numberOfKeys: 2 })
    this.scripts = client as unknown as GuardScripts
  }

  addFailure(network: string, failures: number, windowMs: number): Promise<number> {
    return this.guard.run('guard failure', () =>
      this.scripts.keywardGuardFailure(
        this.layout.guardFailures(network),
        String(failures),
        String(windowMs),
      ),
    )
  }

  async block(network: string, until: number, now: number): Promise<number> {
    const reply = await this.guard.run('guard block', () =>
      this.scripts.keywardGuardBlock(
        this.layout.guardBlocks(),
        this.layout.guardSequence(),
        network,
        String(until),
        String(now),
        this.layout.guardChannel(),
      ),
    )
    return Number(reply)
  }

  async unblock(network: string): Promise<{ wasBlocked: boolean; sequence: number }> {
    const [was, sequence] = await this.guard.run('guard unblock', () =>
      this.scripts.keywardGuardUnblock(
        this.layout.guardBlocks(),
        this.layout.guardSequence(),
        network,
        String(Date.now()),
        this.layout.guardChannel(),
      ),
    )
    // The count lives in its own key (its own slot on a cluster): cleared after the block.
    await this.guard.run('guard unblock', () => this.client.del(this.layout.guardFailures(network)))
    return { wasBlocked: was === 1, sequence: Number(sequence) }
  }

  async blocks(now: number, limit: number): Promise<GuardBlock[]> {
    const flat = await this.guard.run('guard blocks', () =>
      this.client.zrangebyscore(
        this.layout.guardBlocks(),
        `(${now}`,
        '+inf',
        'WITHSCORES',
        'LIMIT',
        0,
        limit,
      ),
    )
    const blocks: GuardBlock[] = []
    for (let index = 0; index + 1 < flat.length; index += 2) {
      blocks.push({ network: flat[index] as string, until: Number(flat[index + 1]) })
    }
    return blocks
  }

  watch(listener: SharedGuardListener): () => void {
    this.listeners.add(listener)
    this.stopListening ??= this.feed.listen(this.layout.guardChannel(), {
      message: (text) => this.heard(text),
      subscribed: () => {
        for (const each of this.listeners) each.resync()
      },
    })
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size > 0) return
      this.stopListening?.()
      this.stopListening = null
    }
  }

  /**
   * `b <sequence> <until> <network>` or `u <sequence> <network>`; the network is last, as it may
   * hold any text.
   */
  private heard(text: string): void {
    const kind = text.slice(0, 2)
    if (kind !== 'b ' && kind !== 'u ') return
    const afterSequence = text.indexOf(' ', 2)
    const sequence = Number(text.slice(2, afterSequence))
    if (afterSequence === -1 || !Number.isSafeInteger(sequence)) return
    if (kind === 'b ') {
      const afterUntil = text.indexOf(' ', afterSequence + 1)
      const until = Number(text.slice(afterSequence + 1, afterUntil))
      const network = text.slice(afterUntil + 1)
      if (afterUntil === -1 || !Number.isSafeInteger(until) || network === '') return
      for (const listener of this.listeners) listener.blocked(network, until, sequence)
    } else {
      const network = text.slice(afterSequence + 1)
      if (network === '') return
      for (const listener of this.listeners) listener.unblocked(network, sequence)
    }
  }
}
