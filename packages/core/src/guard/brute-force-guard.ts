/**
 * The brute-force guard of a keyward instance, shared by all of its `apiKeyAuth` middleware
 * (docs/architecture.md, "Brute-force guard"). It counts failed attempts — keys presented that do
 * not work — per client network (an IPv4 address, an IPv6 /64), and after `points` of them within
 * `duration` blocks the network for `blockDuration`: its requests are refused before any lookup.
 *
 * - An attempt with a key id this process has not seen verified is counted *before* its lookup (as
 *   in flight) and refunded when it verifies, so however many arrive at once, at most `points`
 *   distinct made-up ids per network reach the store.
 * - A key id verified here before keeps working from a blocked network (a NAT shared with an
 *   attacker): it goes on to verify, and a failure still counts. This gives a guesser nothing —
 *   ids are public (in every key, in logs and events), and the ≈190-bit secret cannot be guessed
 *   however many tries are allowed; the guard is there to keep made-up ids off the store.
 * - Everything on the request path is synchronous and in memory. With a store that has a
 *   `sharedGuard` (Redis), failures are also counted there and blocks reach every process, but
 *   only failing requests cause store traffic, after their answer is decided — and only from a
 *   network's second failure in this process: a scan of one-off addresses costs the store nothing
 *   (no command, no key), at the price of one unshared failure per network per process.
 */
import type { GuardBlockedEvent, KeywardEmitter } from '../events.ts'
import { clientNetwork } from '../networks.ts'
import type { GuardBlock, KeyStore, SharedGuardState } from '../store/interface.ts'
import { OUTCOMES, type ProblemCode } from '../verify-codes.ts'
import { AddressTable } from './address-table.ts'
import type { ResolvedBruteForceOptions } from './options.ts'
import { VerifiedIds } from './verified-ids.ts'

export type { GuardBlock }

/** What `admit` decided for one request. */
export interface GuardAttempt {
  /** More than 0: refuse the request (429) without a lookup; retry after this many ms. */
  readonly blockedMs: number
}

/**
 * `keyward.guard`. The HTTP layer calls `admit` before verifying a request's key and `settle` with
 * the outcome; an admin API lists and lifts blocks.
 */
export interface BruteForceGuard {
  /** False when the keyward was created with `bruteForce: false`. */
  readonly enabled: boolean
  /** Client networks remembered in this process (counted or blocked); at most `maxAddresses`. */
  readonly size: number
  /** Milliseconds `address`'s network stays blocked in this process, or 0. */
  blockedFor(address: string): number
  /** The blocks in force (in every process, with a shared store), soonest ending first. */
  blocks(): Promise<GuardBlock[]>
  /**
   * Lifts the block of `address`'s network (an address, or a `network` from `blocks()`) and its
   * failure count — in every process, with a shared store. `true` when it was blocked.
   */
  unblock(address: string): Promise<boolean>
  /**
   * For HTTP adapters, before verifying: `keyId` is the id in the presented token (`null` when it
   * has none). Synchronous. When `blockedMs` is 0, call `settle` once the outcome is known.
   */
  admit(address: string, keyId: string | null): GuardAttempt
  /** For HTTP adapters: the outcome of an admitted attempt (`'VALID'` or the failure's code). */
  settle(attempt: GuardAttempt, code: ProblemCode | 'VALID'): void
  /** Stops hearing the shared store. */
  close(): void
}

/** Refused because `points` unverified ids are already in flight: they will be answered shortly. */
const IN_FLIGHT_RETRY_MS = 1000
/** Key ids remembered as verified in this process (two generations; ~60 bytes each). */
const VERIFIED_IDS = 10_000
/** A network's failures in this process reach the shared count from this many on. */
const SHARE_FROM = 2
/** Longest client address text counted as given when it is not an IP address. */
const MAX_ADDRESS_LENGTH = 128
/** Networks whose last shared announcement is remembered (past this, the memory starts over). */
const SEQUENCES_KEPT = 100_000
/** Addresses whose network is remembered: clients repeat, and parsing IPv6 is the costly part. */
const RECENT_ADDRESSES = 1024

class Attempt implements GuardAttempt {
  constructor(
    readonly blockedMs: number,
    readonly address: string,
    readonly keyId: string | null,
    /** Computed when needed: the fast path of a verified id never parses the address. */
    public network: string | null,
    /** True when this attempt holds an in-flight slot of `network` for `keyId`. */
    readonly inFlight: boolean,
  ) {}
}

const refused = (blockedMs: number): GuardAttempt => ({ blockedMs })

const DISABLED: BruteForceGuard = Object.freeze({
  enabled: false,
  size: 0,
  blockedFor: () => 0,
  blocks: async () => [],
  unblock: async () => false,
  admit: (address: string, keyId: string | null) => new Attempt(0, address, keyId, null, false),
  settle: () => {},
  close: () => {},
})

export interface GuardContext {
  store: KeyStore
  events: KeywardEmitter
  now: () => number
}

/** The guard for `createKeyward`'s resolved `bruteForce` option (`null`: turned off). */
export function createBruteForceGuard(
  options: ResolvedBruteForceOptions | null,
  context: GuardContext,
): BruteForceGuard {
  return options === null ? DISABLED : new InProcessGuard(options, context)
}

class InProcessGuard implements BruteForceGuard {
  readonly enabled = true
  private readonly table: AddressTable
  private readonly verified = new VerifiedIds(VERIFIED_IDS)
  private readonly recentNetworks = new Map<string, string>()
  /** The last shared announcement heard per network, so an older one arriving late is ignored. */
  private readonly sequences = new Map<string, number>()
  private readonly shared: SharedGuardState | null
  private readonly events: KeywardEmitter
  private readonly now: () => number
  private readonly stopWatching: () => void

  constructor(
    private readonly options: ResolvedBruteForceOptions,
    context: GuardContext,
  ) {
    this.table = new AddressTable(options.maxAddresses, options.durationMs)
    this.events = context.events
    this.now = context.now
    this.shared = context.store.sharedGuard ?? null
    this.stopWatching =
      this.shared?.watch({
        blocked: (network, until, sequence) => {
          if (this.newer(network, sequence)) this.table.block(network, until, this.now())
        },
        unblocked: (network, sequence) => {
          if (this.newer(network, sequence)) this.table.unblock(network, this.now())
        },
        resync: () => this.resync(),
      }) ?? (() => {})
  }

  get size(): number {
    return this.table.size
  }

  blockedFor(address: string): number {
    if (this.table.size === 0) return 0
    const now = this.now()
    const until = this.table.blockedUntil(this.networkOf(address), now)
    return until === 0 ? 0 : until - now
  }

  async blocks(): Promise<GuardBlock[]> {
    const now = this.now()
    const local = this.table.listBlocks(now)
    if (this.shared === null) return local
    const merged = new Map<string, number>()
    for (const { network, until } of [
      ...local,
      ...(await this.shared.blocks(now, this.options.maxAddresses)),
    ]) {
      merged.set(network, Math.max(until, merged.get(network) ?? 0))
    }
    return [...merged].map(([network, until]) => ({ network, until })).sort((a, b) => a.until - b.until)
  }

  async unblock(address: string): Promise<boolean> {
    const network = this.networkOf(address)
    const local = this.table.unblock(network, this.now())
    if (this.shared === null) return local
    const { wasBlocked, sequence } = await this.shared.unblock(network)
    // A block announced before this unblock may have been heard meanwhile: it is older, undo it.
    this.newer(network, sequence)
    this.table.unblock(network, this.now())
    return wasBlocked || local
  }

  /**
   * Notes the sequence number of a shared block or unblock of `network`; true when it is newer
   * than any heard so far, i.e. when it may take effect here.
   */
  private newer(network: string, sequence: number): boolean {
    const last = this.sequences.get(network) ?? 0
    if (sequence <= last) return false
    if (this.sequences.size >= SEQUENCES_KEPT) this.sequences.clear()
    this.sequences.set(network, sequence)
    return true
  }

  admit(address: string, keyId: string | null): GuardAttempt {
    const trusted = keyId !== null && this.verified.has(keyId)
    // The usual request: a key seen working before, while nobody is failing. No parsing, no Map.
    if (trusted && this.table.size === 0) return new Attempt(0, address, keyId, null, false)
    const network = this.networkOf(address)
    const now = this.now()
    const until = this.table.blockedUntil(network, now)
    if (until > 0 && !trusted) return refused(until - now)
    if (trusted || keyId === null) return new Attempt(0, address, keyId, network, false)

    // An id this process has not seen verified: it holds an in-flight slot until its answer.
    const counter = this.table.counter(network, now)
    const inFlight = counter.inFlight ?? new Map<string, number>()
    const sameId = inFlight.get(keyId)
    if (sameId === undefined && counter.failures + inFlight.size >= this.options.points) {
      this.table.release(network, counter)
      return refused(IN_FLIGHT_RETRY_MS)
    }
    // Requests with an id already in flight share its slot (and, in the store, its lookup).
    inFlight.set(keyId, (sameId ?? 0) + 1)
    counter.inFlight = inFlight
    return new Attempt(0, address, keyId, network, true)
  }

  settle(attempt: GuardAttempt, code: ProblemCode | 'VALID'): void {
    if (!(attempt instanceof Attempt) || attempt.blockedMs > 0) return
    if (attempt.inFlight) this.leave(attempt)
    if (code === 'VALID') {
      if (attempt.keyId !== null) this.verified.add(attempt.keyId)
      return
    }
    if (!OUTCOMES[code].failedAttempt) return
    attempt.network ??= this.networkOf(attempt.address)
    this.fail(attempt.network)
  }

  close(): void {
    this.stopWatching()
  }

  /** Gives back the attempt's in-flight slot (gone already if its counter was evicted). */
  private leave(attempt: Attempt): void {
    const network = attempt.network as string
    const counter = this.table.peek(network)
    const inFlight = counter?.inFlight
    if (counter === undefined || inFlight == null) return
    const left = (inFlight.get(attempt.keyId as string) ?? 1) - 1
    if (left > 0) inFlight.set(attempt.keyId as string, left)
    else inFlight.delete(attempt.keyId as string)
    if (inFlight.size === 0) counter.inFlight = null
    this.table.release(network, counter)
  }

  private fail(network: string): void {
    const now = this.now()
    if (this.table.blockedUntil(network, now) > 0) {
      // A verified id with a wrong secret from a blocked network: the block starts over.
      this.table.block(network, now + this.options.blockMs, now)
      return
    }
    const counter = this.table.counter(network, now)
    counter.failures++
    if (counter.failures >= this.options.points) this.block(network, counter.failures, now)
    else if (this.shared !== null && counter.failures >= SHARE_FROM) {
      this.share(network, counter.failures - counter.shared)
      counter.shared = counter.failures
    }
  }

  /** Adds `failures` to the shared count; blocks here (and so everywhere) if that is over. */
  private share(network: string, failures: number): void {
    const shared = this.shared
    if (shared === null) return
    shared.addFailure(network, failures, this.options.durationMs).then(
      (total) => {
        const now = this.now()
        if (total >= this.options.points && this.table.blockedUntil(network, now) === 0) {
          this.block(network, total, now)
        }
      },
      () => {
        // The store is unreachable: this process's own count still protects it.
      },
    )
  }

  private block(network: string, failures: number, now: number): void {
    const until = now + this.options.blockMs
    this.table.block(network, until, now)
    if (this.events.has('guard.blocked')) {
      const event: GuardBlockedEvent = { type: 'guard.blocked', network, until, failures, timestamp: now }
      this.events.emit('guard.blocked', event)
    }
    this.shared?.block(network, until, now).then(
      (sequence) => {
        if (sequence > 0) this.newer(network, sequence)
      },
      () => {},
    )
  }

  private resync(): void {
    const shared = this.shared
    if (shared === null) return
    const now = this.now()
    shared.blocks(now, this.options.maxAddresses).then(
      (blocks) => {
        for (const { network, until } of blocks) this.table.block(network, until, this.now())
      },
      () => {},
    )
  }

  private networkOf(address: string): string {
    let network = this.recentNetworks.get(address)
    if (network !== undefined) return network
    network = clientNetwork(address, this.options.ipv6Prefix) ?? address.slice(0, MAX_ADDRESS_LENGTH)
    if (this.recentNetworks.size >= RECENT_ADDRESSES) this.recentNetworks.clear()
    this.recentNetworks.set(address, network)
    return network
  }
}
