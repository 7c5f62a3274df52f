/**
 * How core's HTTP layer reaches the bare verify pipeline's `verifyNow` (see `Verifier`):
 * `http/authenticator.ts` uses it while `keyward.verify` is that pipeline (no wrapper attached,
 * not replaced), so an authenticated request whose key is cached makes no promise up to the
 * middleware. A non-enumerable property of the keyward, not part of the `Keyward` type; a module
 * of its own, so the adapter entry does not import `createKeyward`.
 */
import type { VerifyOptions, VerifyResult } from '../types.ts'

export const IMMEDIATE_VERIFY: unique symbol = Symbol('keyward.immediateVerify')

/** What `IMMEDIATE_VERIFY` holds. */
export interface ImmediateVerify {
  /** The bare `verify`: `now` stands in for `keyward.verify` only while the two are the same. */
  bare: (token: string | null | undefined, options?: VerifyOptions) => Promise<VerifyResult>
  /** The pipeline's answer: a value when nothing needed I/O, else its promise. */
  now: (token: string | null | undefined, options?: VerifyOptions) => VerifyResult | Promise<VerifyResult>
}
