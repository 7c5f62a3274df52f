/**
 * The change feed: every record write publishes `<origin> <c|u> <id> <version>` from inside its
 * script, and every store subscribes on a connection of its own. A store hears other processes'
 * changes within a pub/sub hop and drops them from its cache. Pub/sub is at-most-once, so the feed
 * also watches a version counter: a skipped version, a counter that stops being reached, a
 * reconnect or a cluster node leaving all mean notices may have been lost, and the cache starts
 * over (`onFlush`). While the subscription is down, `subscribed` is false and the cache must not
 * be trusted. `confirmedAt` is the latest moment up to which every notice is known to have been
 * heard — it advances with each gap check that finds none missing, so a connection that looks
 * alive but carries nothing (a network black hole) stops confirming the cache as soon as a check
 * fails (docs/architecture.md, "Stores").
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

/** Another channel carried on the feed's connection (e.g. the shared guard's). */
export interface FeedChannel {
  /** A message published on the channel. */
  message(text: string): void
  /** The subscription is (again) in place: messages sent while it was not were missed. */
  subscribed(): void
}

export class ChangeFeed {
  /** Identifies this store's own notices, so it does not act on them twice. */
  private readonly origin = randomBytes(9).toString('base64url')
  private readonly subscriber: RedisClient
  private isSubscribed = false
  /** Highest notice version heard since (re)subscribing; `null` until the baseline is known. */
  private seenVersion: number | null = null
  private versionAtLastCheck: number | null = null
  /** When the previous gap check was sent: what a passing check confirms up to. */
  private lastCheckSentAt = 0
  private confirmedUpTo = 0
  private readonly gapTimer: NodeJS.Timeout
  private resubscribeTimer: NodeJS.Timeout | undefined
  private closed = false
  /** Further channels on the same connection, resubscribed with it. */
  private readonly channels = new Map<string, FeedChannel>()

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
   * Epoch ms up to which this store is known to have heard every change notice: a cached record
   * read before it and not invalidated is known to have been current then.
   */
  get confirmedAt(): number {
    return this.isSubscribed ? this.confirmedUpTo : 0
  }

  /**
   * The notice for a write, to which the script appends ` <version>`: `c` created (drop negative
   * entries), `u` changed (drop and notify), `o` an owner changed (`id` is its digest).
   */
  message(kind: 'c' | 'u' | 'o', id: string): string {
    return `${this.origin} ${kind} ${id}`
  }

  /**
   * Subscribes `channel` too, on the feed's connection: kept across reconnects, and
   * `handler.subscribed` runs each time the subscription is (re)made. Returns unsubscribe.
   */
  listen(channel: string, handler: FeedChannel): () => void {
    this.channels.set(channel, handler)
    // Subscribed already (or subscribing without it): add it now; otherwise the next subscribe does.
    if (this.subscriber.status === 'ready') {
      this.subscriber.subscribe(channel).then(
        () => handler.subscribed(),
        () => {},
      )
    }
    return () => {
      if (this.channels.get(channel) !== handler) return
      this.channels.delete(channel)
      if (this.subscriber.status === 'ready') this.subscriber.unsubscribe(channel).catch(() => {})
    }
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
        .subscribe(channel, ...this.channels.keys())
        .then(async () => {
          if (this.closed || current !== attempt || subscriber.status !== 'ready') return
          for (const handler of this.channels.values()) handler.subscribed()
          this.handlers.flush()
          this.isSubscribed = true
          this.versionAtLastCheck = null
          // The cache is empty: nothing in it predates the subscription.
          this.confirmedUpTo = Date.now()
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
      if (from !== channel) {
        this.channels.get(from)?.message(message)
        return
      }
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
    const sentAt = Date.now()
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
    } else if (expected !== null) {
      // Every notice sent before the previous check has been heard.
      this.confirmedUpTo = Math.max(this.confirmedUpTo, this.lastCheckSentAt)
    }
    this.versionAtLastCheck = version
    this.lastCheckSentAt = sentAt
  }
}
