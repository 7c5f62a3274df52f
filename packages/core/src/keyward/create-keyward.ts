/**
 * `createKeyward`: validates the options once, then wires the key manager (`keys.*`), the verify
 * pipeline and the event emitter around one `KeyStore`.
 */
import { KeywardEmitter } from '../events.ts'
import type { Environment } from '../key-format.ts'
import type { KeyStore } from '../store/interface.ts'
import type { VerifyOptions, VerifyResult } from '../types.ts'
import { createKeyManager, type KeyManager } from './key-manager.ts'
import { type KeywardOptions, resolveOptions } from './options.ts'
import { createVerify } from './verify.ts'

export interface Keyward {
  readonly prefix: string
  readonly environment: Environment
  readonly store: KeyStore
  readonly keys: KeyManager
  readonly events: KeywardEmitter
  /** Checks a presented key; never throws for a bad key (see `VerifyResult`). */
  verify(token: string | null | undefined, options?: VerifyOptions): Promise<VerifyResult>
  /** The current time as keyward sees it (the injected clock). */
  now(): number
  /** Releases the store and every listener. */
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
  let closed = false
  return {
    prefix: config.prefix,
    environment: config.environment,
    store: config.store,
    keys: createKeyManager(config, events),
    events,
    verify: createVerify(config, events),
    now: config.now,
    async close() {
      if (closed) return
      closed = true
      events.removeAll()
      await config.store.close()
    },
  }
}
