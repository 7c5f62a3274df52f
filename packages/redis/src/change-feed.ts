/**
 * The change feed: every record write publishes `<origin> <c|u> <id> <version>` from inside its
 * script, and every store subscribes on a connection of its own. A store hears other processes'
 * changes within a pub/sub hop and drops them from its cache. Pub/sub is at-most-once, so the feed
 * also watches a version counter: a skipped version, a counter that stops being reached, a
 * reconnect or a cluster node leaving all mean notices may have been lost, and the cache starts
 * over (`onFlush`). While the subscription is down, `subscribed` is false and the cache must not
 * be trusted.
 */
import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import type { CommandGuard, RedisClient } from './command-guard.ts'
import { isStorableId, type KeyLayout } from './key-layout.ts'

export interface ChangeFeedHandlers {
  /** Another process created `id`: forget any cached "unknown". */
  created(id: string): void
  /** Another process changed `id`: drop it and tell the listeners. */
  changed(id: string): void
  /** Another process changed the owner with this digest: drop it. */
  ownerChanged(digest: string): void
  /** Notices may have been lost: drop everything cached. */
  flush(): void
}

export class ChangeFeed {
  /** Identifies this store's own notices, so it does not act on them twice. */
  private readonly origin = randomBytes(9).toString('base64url')
  private readonly subscriber: RedisClient
  private isSubscribed = false
  /** Highest notice version heard since (re)subscribing; `null` until the baseline is known. */
  private seenVersion: number | null = null
  private versionAtLastCheck: number | null = null
  private readonly gapTimer: NodeJS.Timeout
  private resubscribeTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    client: RedisClient,
    private readonly guard: CommandGuard,
    private readonly layout: KeyLayout,
    private readonly handlers: ChangeFeedHandlers,
    gapCheckMs: number,
  ) {
    this.subscriber = this.start(client)
    this.gapTimer = setInterval(() => this.checkForGaps(client), gapCheckMs)
    this.gapTimer.unref()
  }

  /** True while notices are flowing: only then may cached records be trusted. */
  get subscribed(): boolean {
    return this.isSubscribed
  }

  /**
   * The notice for a write, to which the script appends ` <version>`: `c` created (drop negative
   * entries), `u` changed (drop and notify), `o` an owner changed (`id` is its digest).
   */
  message(kind: 'c' | 'u' | 'o', id: string): string {
    return `${this.origin} ${kind} ${id}`
  }

  close(): void {
    this.closed = true
    clearTimeout(this.resubscribeTimer)
    clearInterval(this.gapTimer)
    this.subscriber.removeAllListeners('message')
    // The subscriber is ours: disconnect, not quit, so closing never waits on an unreachable server.
    this.subscriber.disconnect()
  }

  private start(client: RedisClient): RedisClient {
    // One call per class: ioredis 6 made each `duplicate` generic, and a union of those is not callable.
    const subscriber: RedisClient = client.isCluster
      ? (client as Cluster).duplicate()
      : (client as Redis).duplicate()
    const channel = this.layout.channel()
    let attempt = 0
    const lost = () => {
      this.isSubscribed = false
      this.seenVersion = null
    }
    // (Re)subscribes, then starts from an empty cache: invalidations sent while the subscription
    // was away are lost. Only the latest attempt may declare the cache trustworthy again.
    const subscribe = () => {
      const current = ++attempt
      lost()
      subscriber
        .subscribe(channel)
        .then(async () => {
          if (this.closed || current !== attempt || subscriber.status !== 'ready') return
          this.handlers.flush()
          this.isSubscribed = true
          this.versionAtLastCheck = null
          // Notices from here on are heard; the version now is the baseline to detect gaps from.
          const version = Number(await this.guard.run('subscribe', () => client.get(this.layout.version())))
          if (current === attempt && this.isSubscribed)
            this.seenVersion = Math.max(this.seenVersion ?? 0, version)
        })
        .catch(() => {
          if (this.closed || current !== attempt) return
          this.resubscribeTimer = setTimeout(subscribe, 200)
          this.resubscribeTimer.unref()
        })
    }
    // Without an 'error' listener ioredis would emit unhandled errors during an outage.
    subscriber.on('error', () => {})
    subscriber.on('close', lost)
    subscriber.on('end', lost)
    subscriber.on('reconnecting', lost)
    subscriber.on('ready', subscribe)
    // On a cluster, the connection that carries the subscription moves to another node when its
    // node leaves, without a new 'ready': treat every topology change as a possible gap.
    subscriber.on('-node', () => {
      lost()
      // After ioredis has picked the subscription's new node (it reacts to the same event).
      setImmediate(() => {
        if (!this.closed && subscriber.status === 'ready') subscribe()
      })
    })
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return
      const [origin, kind, id, versionText] = message.split(' ')
      if (id === undefined || !isStorableId(id)) return
      this.heard(Number(versionText))
      if (origin === this.origin) return
      if (kind === 'c') this.handlers.created(id)
      else if (kind === 'o') this.handlers.ownerChanged(id)
      else this.handlers.changed(id)
    })
    if (subscriber.status === 'wait') subscriber.connect().catch(() => {})
    return subscriber
  }

  /** Notes a notice's version; one that skips a number means notices were lost: flush. */
  private heard(version: number): void {
    if (!Number.isSafeInteger(version) || this.seenVersion === null) return
    if (version > this.seenVersion + 1) this.handlers.flush()
    if (version > this.seenVersion) this.seenVersion = version
  }

  /**
   * A notice can vanish (a cluster node leaves, a connection dies silently) without any later
   * notice to reveal the gap. So the version counter is read every `gapCheckMs`; if the notices
   * heard have not reached what it said one period ago, some were lost, and the cache starts over.
   */
  private async checkForGaps(client: RedisClient): Promise<void> {
    if (!this.isSubscribed || this.seenVersion === null) return
    let version: number
    try {
      version = Number(await this.guard.run('version check', () => client.get(this.layout.version())))
    } catch {
      return
    }
    if (this.seenVersion === null) return
    const expected = this.versionAtLastCheck
    if (version < this.seenVersion) {
      // The counter went backwards: Redis lost its data (flushed, restored from an old snapshot).
      this.handlers.flush()
      this.seenVersion = version
    } else if (expected !== null && this.seenVersion < expected) {
      this.handlers.flush()
      this.seenVersion = expected
    }
    this.versionAtLastCheck = version
  }
}
