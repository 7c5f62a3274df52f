/**
 * `createKeyward`: validates the options once, then wires the key manager (`keys.*`), the verify
 * pipeline, the brute-force guard, usage recording, abuse monitoring and the event emitter around
 * one `KeyStore`.
 */
import { createAbuseApi, type KeywardAbuse } from '../abuse/abuse-api.ts'
import { AbuseMonitor } from '../abuse/abuse-monitor.ts'
import { KeywardEmitter } from '../events.ts'
import { type BruteForceGuard, createBruteForceGuard } from '../guard/brute-force-guard.ts'
import type { Environment } from '../key-format.ts'
import type { KeyStore } from '../store/interface.ts'
import { MemoryAbuse } from '../store/memory-abuse.ts'
import type { VerifiedKey, VerifyOptions, VerifyResult } from '../types.ts'
import { createLastUsedReader } from '../usage/last-used.ts'
import { createUsageApi, type KeywardUsage } from '../usage/usage-queries.ts'
import { UsageRecorder } from '../usage/usage-recorder.ts'
import { IMMEDIATE_VERIFY, type ImmediateVerify } from './immediate-verify.ts'
import { createKeyManager, type KeyManager } from './key-manager.ts'
import { type KeywardOptions, resolveOptions } from './options.ts'
import { createOwnerManager, type OwnerManager } from './owner-manager.ts'
import { createVerificationReporter, type ReportVerification } from './verification-reporter.ts'
import { createVerifier, type ExtendOptions } from './verify.ts'

const PURGE_INTERVAL_MS = 3_600_000

export interface Keyward {
  readonly prefix: string
  readonly environment: Environment
  readonly store: KeyStore
  readonly keys: KeyManager
  /** Owners: limits and a credit pool shared by all of an owner's keys. */
  readonly owners: OwnerManager
  readonly events: KeywardEmitter
  /**
   * The brute-force guard every `apiKeyAuth` of this instance shares: `blocks()` lists the client
   * networks blocked, `unblock(address)` lifts one (in every process, on a shared store).
   */
  readonly guard: BruteForceGuard
  /** Usage per key, owner and installation: `get`, `top`, `flush`, `stats`. */
  readonly usage: KeywardUsage
  /**
   * Abuse signals: `recent({ keyId, limit })` reads the latest `abuse` events back from the store;
   * `flush()` and `stats()` for this process's monitoring.
   */
  readonly abuse: KeywardAbuse
  /** Checks a presented key; never throws, whatever the input (see `VerifyResult`). */
  verify(token: string | null | undefined, options?: VerifyOptions): Promise<VerifyResult>
  /**
   * For metrics and tracing integrations: from now on `verify` runs through `wrapper(next)` (the
   * latest wrapper outermost). Returns a function that removes it. While no wrapper is attached,
   * `verify` is the bare pipeline, so an integration that is not used costs nothing. A wrapper must
   * return `next`'s result and must not throw.
   */
  wrapVerify(wrapper: VerifyWrapper): () => void
  /**
   * For a nested middleware: checks further `scopes` of a key this instance verified earlier in the
   * same request and spends `cost` more credits, without verifying again (no lookup, no rate-limit
   * point). A key this instance did not hand out is `INVALID_REQUEST`.
   */
  extend(key: VerifiedKey, options: ExtendOptions): Promise<VerifyResult>
  /**
   * Reports an outcome decided outside `verify` — the HTTP layer's `MISSING` and `MALFORMED` —
   * the way `verify` reports its own: counted for usage and emitted as a `verification` event.
   */
  recordVerification: ReportVerification
  /** The current time as keyward sees it (the injected clock). */
  now(): number
  /** Flushes pending usage, then releases the store and every listener. */
  close(): Promise<void>
}

/** The signature of `keyward.verify`. */
export type VerifyFunction = (
  token: string | null | undefined,
  options?: VerifyOptions,
) => Promise<VerifyResult>

/** Wraps `verify`, e.g. to time it: `(next) => async (token, options) => { …; return next(token, options) }`. */
export type VerifyWrapper = (next: VerifyFunction) => VerifyFunction

/**
 * Creates a keyward instance. Throws `ConfigError` for an invalid option.
 *
 * @example
 * const keyward = createKeyward({ prefix: 'acme', secret: process.env.KEYWARD_SECRET })
 * const { key } = await keyward.keys.create({ ownerId: 'org_42', scopes: ['orders:read'] })
 * const result = await keyward.verify(key, { scopes: 'orders:read' })
 */
export function createKeyward(options: KeywardOptions = {}): Keyward {
  const config = resolveOptions(options)
  const events = new KeywardEmitter()
  const { store, now } = config
  const recorder = config.usage.recording ? new UsageRecorder(store, config.usage, now, events) : null
  const report = createVerificationReporter(events, now, recorder)
  const keys = createKeyManager(config, events, createLastUsedReader(store, recorder))
  const guard = createBruteForceGuard(config.bruteForce, { store, events, now })
  // A store that is not shared may keep no abuse state of its own: this process is all there is.
  const abuseState = store.abuse ?? (store.shared ? null : new MemoryAbuse())
  const monitor =
    config.abuse.enabled && abuseState !== null
      ? new AbuseMonitor(config.abuse, abuseState, events, now, async (keyId, reason) => {
          const record = await store.get(keyId)
          if (record === null || record.disabled) return
          await keys.update(keyId, { disabled: true }, { actor: 'keyward:abuse', reason })
        })
      : null
  const verifier = createVerifier(config, report, monitor)
  // A client address the brute-force guard blocked is the `failed-burst` signal.
  if (monitor !== null) {
    events.on('guard.blocked', (block) => monitor.failedBurst(block.network, block.failures, block.until))
  }
  // Ended keys are deleted once past their retention; every process may run it, it is idempotent.
  const purgeTimer =
    config.keyRetentionMs === null
      ? undefined
      : setInterval(() => {
          keys.purge().catch((error: unknown) => events.emit('error', { error, event: 'purge' }))
        }, PURGE_INTERVAL_MS)
  purgeTimer?.unref()
  let closed = false
  const wrappers: VerifyWrapper[] = []
  const keyward: Keyward = {
    prefix: config.prefix,
    environment: config.environment,
    store: config.store,
    keys,
    owners: createOwnerManager(config, events),
    events,
    guard,
    usage: createUsageApi(store, config.usage, now, recorder),
    abuse: createAbuseApi(abuseState, config.abuse, now, monitor),
    verify: verifier.verify,
    wrapVerify(wrapper) {
      wrappers.push(wrapper)
      rewrap()
      return () => {
        const index = wrappers.indexOf(wrapper)
        if (index === -1) return
        wrappers.splice(index, 1)
        rewrap()
      }
    },
    extend: verifier.extend,
    recordVerification: report,
    now: config.now,
    async close() {
      if (closed) return
      closed = true
      clearInterval(purgeTimer)
      guard.close()
      // Pending usage and abuse observations go out first, while the store and the listeners are
      // still there.
      await recorder?.close()
      await monitor?.close()
      events.removeAll()
      await config.store.close()
    },
  }
  const immediate: ImmediateVerify = { bare: verifier.verify, now: verifier.verifyNow }
  Object.defineProperty(keyward, IMMEDIATE_VERIFY, { value: immediate })
  /** `verify` as the wrappers make it: the bare pipeline when there are none. */
  function rewrap(): void {
    keyward.verify = wrappers.reduce<VerifyFunction>((next, wrap) => wrap(next), verifier.verify)
  }
  return keyward
}
