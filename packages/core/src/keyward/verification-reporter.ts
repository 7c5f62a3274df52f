/**
 * The one path every verification outcome takes — from `verify`, and from the HTTP layer for
 * requests it rejects before `verify` (no key, a value that cannot be one): count it for usage
 * and emit the `verification` event. One clock reading serves both.
 */
import { emitVerification, type KeywardEmitter } from '../events.ts'
import type { UsageOutcome } from '../usage/usage-model.ts'
import type { UsageRecorder } from '../usage/usage-recorder.ts'

/**
 * Reports one verification outcome. `keyId` is known once the token parsed, `ownerId` once its
 * secret matched; `cost` is the credits it spent; `at` (epoch ms) defaults to keyward's clock now —
 * pass a reading already taken to spare a second one.
 */
export type ReportVerification = ((
  code: UsageOutcome,
  keyId: string | null,
  ownerId: string | null,
  cost: number,
  at?: number,
  /**
   * Whether the outcome belongs in the key's own usage series. `false` for an id with no record:
   * the event still names the id, but made-up ids must not create storage (one series each).
   */
  knownKey?: boolean,
) => void) & {
  /** Credits spent on top of a request already reported (a nested `apiKeyAuth`): usage only. */
  credits(keyId: string, ownerId: string, cost: number): void
}

export function createVerificationReporter(
  events: KeywardEmitter,
  now: () => number,
  recorder: UsageRecorder | null,
): ReportVerification {
  if (recorder === null) {
    return Object.assign(
      function recordVerification(
        code: UsageOutcome,
        keyId: string | null,
        ownerId: string | null,
        cost: number,
        at?: number,
      ) {
        if (events.has('verification')) emitVerification(events, at ?? now(), code, keyId, ownerId, cost)
      },
      { credits() {} },
    )
  }
  return Object.assign(
    function recordVerification(
      code: UsageOutcome,
      keyId: string | null,
      ownerId: string | null,
      cost: number,
      at: number = now(),
      knownKey = true,
    ) {
      recorder.record(code, knownKey ? keyId : null, ownerId, cost, at)
      emitVerification(events, at, code, keyId, ownerId, cost)
    },
    {
      credits(keyId: string, ownerId: string, cost: number) {
        recorder.addCredits(keyId, ownerId, cost, now())
      },
    },
  )
}
