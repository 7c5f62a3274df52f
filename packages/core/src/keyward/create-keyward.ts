/**
 * `createKeyward`: validates the options once, then wires the key manager (`keys.*`), the verify
 * pipeline, usage recording and queries (`usage.*`) and the event emitter around one `KeyStore`.
 */
import { KeywardEmitter } from '../events.ts'
import type { Environment } from '../key-format.ts'
import type { KeyStore } from '../store/interface.ts'
import type { VerifyOptions, VerifyResult } from '../types.ts'
import { createLastUsedReader } from '../usage/last-used.ts'
import { createUsageApi, type KeywardUsage } from '../usage/usage-queries.ts'
import { UsageRecorder } from '../usage/usage-recorder.ts'
import { createKeyManager, type KeyManager } from './key-manager.ts'
import { type KeywardOptions, resolveOptions } from './options.ts'
import { createVerificationReporter, type ReportVerification } from './verification-reporter.ts'
import { createVerify } from './verify.ts'

export interface Keyward {
  readonly prefix: string
  readonly environment: Environment
  readonly store: KeyStore
  readonly keys: KeyManager
  readonly events: KeywardEmitter
  /** Usage per key, owner and installation: `get`, `top`, `flush`, `stats`. */
  readonly usage: KeywardUsage
  /** Checks a presented key; never throws for a bad key (see `VerifyResult`). */
  verify(token: string | null | undefined, options?: VerifyOptions): Promise<VerifyResult>
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
  let closed = false
  return {
    prefix: config.prefix,
    environment: config.environment,
    store,
    keys: createKeyManager(config, events, createLastUsedReader(store, recorder)),
    events,
    usage: createUsageApi(store, config.usage, now, recorder),
    verify: createVerify(config, report),
    recordVerification: report,
    now,
    async close() {
      if (closed) return
      closed = true
      // Pending usage goes out first, while the store and the `usage.*` listeners are still there.
      await recorder?.close()
      events.removeAll()
      await store.close()
    },
  }
}
