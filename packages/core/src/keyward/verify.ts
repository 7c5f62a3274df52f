/**
 * The verify pipeline: options → shape/crc → lookup → secret → chain → disabled/revoked/expired →
 * environment → network → scopes → rate limits → credits (docs/architecture.md, "The path of a
 * request"). Each step either passes or ends the request with a `VerifyFailure`; every outcome is
 * a value — no input makes `verify` throw — and every outcome is reported exactly once (a
 * `verification` event and a usage count). `extend` serves a nested middleware on a request already verified: it checks more scopes
 * and spends more credits without verifying again.
 */
import type { AbuseObserver } from '../abuse/abuse-monitor.ts'
import { type Environment, environmentAt, idAt, keyPrefixLength } from '../key-format.ts'
import { NetworkAllowlist, parseCidr } from '../networks.ts'
import { toVerifiedKey } from '../records.ts'
import {
  isValidScope,
  missingScopes,
  requirementProblem,
  type ScopeRequirement,
  satisfies,
} from '../scopes.ts'
import type { ChargeRequest, ChargeResult, KeyChanges, LimitRequest } from '../store/interface.ts'
import type {
  InvalidRequestFailure,
  QuotaExceededFailure,
  RateLimitState,
  StoredKey,
  StoredOwner,
  VerifiedKey,
  VerifyFailure,
  VerifyOptions,
  VerifyResult,
  VerifySuccess,
} from '../types.ts'
import type { VerifyCode } from '../verify-codes.ts'
import { chainHead, chainIdOf } from './chain.ts'
import type { KeywardConfig } from './options.ts'
import type { ReportVerification } from './verification-reporter.ts'

/** What a nested middleware asks of a key verified earlier in the same request. */
export interface ExtendOptions {
  scopes?: ScopeRequirement
  /** Further credits to spend. @default 0 */
  cost?: number
}

export interface Verifier {
  verify(token: string | null | undefined, options?: VerifyOptions): Promise<VerifyResult>
  /**
   * `verify`, answered at once when nothing on the way needs I/O (a cached key and owner, a store
   * with `chargeNow`), else its promise; a throw comes back as a rejected promise. For the HTTP
   * layer, which then adds no promise of its own either.
   */
  verifyNow(token: string | null | undefined, options?: VerifyOptions): VerifyResult | Promise<VerifyResult>
  extend(key: VerifiedKey, options: ExtendOptions): Promise<VerifyResult>
}

interface Checked {
  scopes: ScopeRequirement | undefined
  cost: number | undefined
  clientAddress: string | undefined
}

/** A step's result: decided now, or once the store answers. */
type Outcome = VerifyResult | Promise<VerifyResult>

/** `verify` and `extend` always answer with a promise. */
function promised(outcome: Outcome): Promise<VerifyResult> {
  return outcome instanceof Promise ? outcome : Promise.resolve(outcome)
}

const NO_LIMITS: readonly LimitRequest[] = Object.freeze([])
const NOT_FOUND_RESULT: VerifyFailure = Object.freeze({ valid: false, code: 'NOT_FOUND' })
const NO_POOL = Object.freeze({ spent: false, remaining: 0, nextRefillAt: null })
const NO_OPTIONS: Checked = Object.freeze({ scopes: undefined, cost: undefined, clientAddress: undefined })
/** Requirement objects already found valid: the middleware passes the same one on every request. */
const validRequirements = new WeakSet<object>()

function invalid(field: InvalidRequestFailure['field']): InvalidRequestFailure {
  return { valid: false, code: 'INVALID_REQUEST', field }
}

function checkRequirement(requirement: unknown): boolean {
  if (typeof requirement === 'string') return isValidScope(requirement)
  if (requirement === null || typeof requirement !== 'object') return false
  if (validRequirements.has(requirement)) return true
  if (requirementProblem('scopes', requirement) !== null) return false
  validRequirements.add(requirement)
  return true
}

function isCost(cost: unknown): cost is number {
  return typeof cost === 'number' && Number.isSafeInteger(cost) && cost >= 0
}

/** Reads the caller's options without trusting them: a value, or the option at fault. */
function checkOptions(options: unknown): Checked | InvalidRequestFailure {
  if (options === undefined) return NO_OPTIONS
  if (options === null || typeof options !== 'object') return invalid('options')
  const { scopes, cost, clientAddress } = options as Record<string, unknown>
  if (scopes !== undefined && !checkRequirement(scopes)) return invalid('scopes')
  if (cost !== undefined && !isCost(cost)) return invalid('cost')
  if (clientAddress !== undefined && typeof clientAddress !== 'string') return invalid('clientAddress')
  return { scopes: scopes as ScopeRequirement | undefined, cost, clientAddress }
}

/** The state checks on a matched key and its chain's head that need no store. */
function stateCode(record: StoredKey, head: StoredKey, at: number): VerifyCode | null {
  if (record.disabled || head.disabled) return 'DISABLED'
  if (
    (record.revokedAt !== null && record.revokedAt <= at) ||
    (head.revokedAt !== null && head.revokedAt <= at)
  ) {
    return 'REVOKED'
  }
  if (
    (record.expiresAt !== null && record.expiresAt <= at) ||
    (head.expiresAt !== null && head.expiresAt <= at)
  ) {
    return 'EXPIRED'
  }
  return null
}

/**
 * The pipeline for one keyward instance. `abuse` hears a known id presented with a wrong secret and
 * every request of a usable key (docs/architecture.md, "Abuse signals"); it changes no outcome.
 */
export function createVerifier(
  config: KeywardConfig,
  report: ReportVerification,
  abuse: AbuseObserver | null = null,
): Verifier {
  const { prefix, environment, store, hasher, defaultPolicies, now } = config
  const limitsCache = new WeakMap<StoredKey, { owner: StoredOwner | null; limits: readonly LimitRequest[] }>()
  // Built once per stored record (stores return the same object until it changes).
  const allowlists = new WeakMap<StoredKey, NetworkAllowlist>()
  const chainViews = new WeakMap<StoredKey, { head: StoredKey; view: VerifiedKey }>()
  /** The head record behind each view handed out, for `extend`. */
  const heads = new WeakMap<VerifiedKey, StoredKey>()

  const fail = <F extends VerifyFailure>(failure: F, keyId: string | null, ownerId: string | null): F => {
    report(failure.code, keyId, ownerId, 0)
    return failure
  }

  const unavailable = (keyId: string | null, ownerId: string | null): VerifyFailure =>
    fail({ valid: false, code: 'UNAVAILABLE', retryAfterMs: config.unavailableRetryAfterMs }, keyId, ownerId)

  /** The view a request sees: the presented key's id and grace end, its chain head's everything else. */
  function viewOf(record: StoredKey, head: StoredKey): VerifiedKey {
    let view: VerifiedKey
    if (record === head) {
      view = toVerifiedKey(record)
    } else {
      const cached = chainViews.get(record)
      if (cached !== undefined && cached.head === head) {
        view = cached.view
      } else {
        view = toVerifiedKey({ ...head, id: record.id, expiresAt: record.expiresAt })
        chainViews.set(record, { head, view })
      }
    }
    if (heads.get(view) !== head) heads.set(view, head)
    return view
  }

  function allows(head: StoredKey, clientAddress: string | undefined): boolean {
    if (head.allowedNetworks === null) return true
    let allowlist = allowlists.get(head)
    if (allowlist === undefined) {
      const networks = head.allowedNetworks.map(parseCidr).filter((network) => network !== null)
      allowlist = new NetworkAllowlist(networks)
      allowlists.set(head, allowlist)
    }
    return allowlist.allows(clientAddress)
  }

  // Keys hashed under an older pepper move to the current one the first time they verify, so an
  // old pepper can be dropped from `secrets` once its keys have been seen. Best effort, once per id
  // at a time, off the request's path: a failed write only means it is tried again next time.
  const rehashing = new Set<string>()
  function rehash(record: StoredKey, token: string): void {
    if (rehashing.has(record.id)) return
    rehashing.add(record.id)
    const changes: KeyChanges = {
      hash: hasher.hash(token),
      pepperVersion: hasher.currentVersion,
      updatedAt: record.updatedAt,
    }
    store
      .update(record.id, changes)
      .catch(() => {})
      .finally(() => rehashing.delete(record.id))
  }

  /** The limits a request of `head` takes a point from: its own (or the default), then its owner's. */
  function limitsOf(head: StoredKey, owner: StoredOwner | null): readonly LimitRequest[] {
    const cached = limitsCache.get(head)
    if (cached !== undefined && cached.owner === owner) return cached.limits
    const limits: LimitRequest[] = []
    for (const policy of head.rateLimit ?? defaultPolicies ?? []) limits.push({ policy, scope: 'key' })
    for (const policy of owner?.rateLimit ?? []) limits.push({ policy, scope: 'owner' })
    limitsCache.set(head, { owner, limits })
    return limits
  }

  /**
   * Rate limits, then credits — the steps that spend something, once everything else passed — in
   * one store call, atomic: a rejected limit gives the other points back and spends no credit.
   * Not async: with the owner cached (`peekOwner`) the store's promise is the only one made here;
   * otherwise it runs again once `getOwner` has answered, with the owner it found.
   */
  function charge(
    head: StoredKey,
    key: VerifiedKey,
    limits: readonly LimitRequest[] | null,
    requestedCost: number | undefined,
    at: number,
    owner: StoredOwner | null | undefined = store.peekOwner?.(head.ownerId),
  ): Outcome {
    if (owner === undefined) {
      let found: Promise<StoredOwner | null>
      try {
        found = store.getOwner(head.ownerId)
      } catch {
        return unavailable(key.id, head.ownerId)
      }
      return found.then(
        (record) => charge(head, key, limits, requestedCost, at, record ?? null),
        () => unavailable(key.id, head.ownerId),
      )
    }
    const requested = limits ?? limitsOf(head, owner)
    const pool = head.credits !== null ? 'key' : owner?.credits != null ? 'owner' : null
    const cost = pool === null ? 0 : (requestedCost ?? (limits === null ? 1 : 0))
    if (requested.length === 0 && (pool === null || (limits !== null && cost === 0))) {
      return succeed(key, head, undefined, undefined, 0, limits === null)
    }
    const request: ChargeRequest = {
      keyId: head.id,
      chainId: chainIdOf(head),
      ownerId: head.ownerId,
      limits: requested,
      credits: pool === null ? null : { from: pool, cost },
      now: at,
    }
    let answered: ChargeResult | undefined
    let pending: Promise<ChargeResult> | undefined
    try {
      // In memory the store answers at once: no promise until `verify` returns.
      answered = store.chargeNow?.(request)
      if (answered === undefined) pending = store.charge(request)
    } catch {
      return unavailable(key.id, head.ownerId)
    }
    if (answered !== undefined) {
      return charged(answered, owner, head, key, requested, pool, cost, limits === null, at)
    }
    return (pending as Promise<ChargeResult>).then(
      (result) => charged(result, owner, head, key, requested, pool, cost, limits === null, at),
      () => unavailable(key.id, head.ownerId),
    )
  }

  /** What the store answered for a charge. */
  function charged(
    result: ChargeResult,
    owner: StoredOwner | null,
    head: StoredKey,
    key: VerifiedKey,
    requested: readonly LimitRequest[],
    pool: 'key' | 'owner' | null,
    cost: number,
    reported: boolean,
    at: number,
  ): VerifyResult {
    const rateLimit = requested.length === 0 ? undefined : result.states
    if (result.limited) {
      return fail(
        {
          valid: false,
          code: 'RATE_LIMITED',
          key,
          retryAfterMs: result.retryAfterMs,
          rateLimit: result.states,
        },
        key.id,
        head.ownerId,
      )
    }
    // The record says there is a pool but the store has none (removed meanwhile, evicted): fail
    // closed — credits are never treated as unlimited by accident.
    const spent = result.credits ?? (pool === null ? null : NO_POOL)
    if (spent === null) return succeed(key, head, rateLimit, undefined, 0, reported)
    const credits = { remaining: spent.remaining }
    if (!spent.spent) {
      const failure: QuotaExceededFailure = { valid: false, code: 'QUOTA_EXCEEDED', key, credits }
      // A retry only helps when the refill can cover this cost.
      const refill = (pool === 'key' ? head.credits : owner?.credits)?.refill ?? null
      if (spent.nextRefillAt !== null && refill !== null && refill.amount >= cost) {
        failure.retryAfterMs = Math.max(0, spent.nextRefillAt - at)
      }
      if (rateLimit !== undefined) failure.rateLimit = rateLimit
      return fail(failure, key.id, head.ownerId)
    }
    return succeed(key, head, rateLimit, credits, cost, reported)
  }

  function succeed(
    key: VerifiedKey,
    head: StoredKey,
    rateLimit: RateLimitState[] | undefined,
    credits: { remaining: number } | undefined,
    cost: number,
    reported: boolean,
  ): VerifySuccess {
    const spent = credits === undefined ? 0 : cost
    // A nested apiKeyAuth's top-up is part of a request already reported: its credits only.
    if (reported) report('VALID', key.id, head.ownerId, spent)
    else if (spent > 0) report.credits(key.id, head.ownerId, spent)
    const success: VerifySuccess = { valid: true, key }
    if (rateLimit !== undefined) success.rateLimit = rateLimit
    if (credits !== undefined) success.credits = credits
    return success
  }

  /**
   * Not async: a request whose key and owner are cached (`peek`, `peekOwner`) makes no promise
   * here but the store's charge, or none at all when the store answers it at once (`chargeNow`);
   * `verify` then wraps the answer in one. Each async layer this path used to have cost a promise
   * and microtask turns per request. Whatever is thrown comes back as a rejected promise.
   */
  function verify(token: string | null | undefined, options?: VerifyOptions): Promise<VerifyResult> {
    return promised(verifyNow(token, options))
  }

  function verifyNow(token: string | null | undefined, options?: VerifyOptions): Outcome {
    try {
      return start(token, options)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  function start(token: string | null | undefined, options: VerifyOptions | undefined): Outcome {
    const checked = checkOptions(options)
    if ('valid' in checked) return fail(checked, null, null)
    if (token === undefined || token === null || token === '') {
      return fail({ valid: false, code: 'MISSING' }, null, null)
    }
    // Shape and checksum, without taking the key apart: only its id is needed here.
    const prefixLength = keyPrefixLength(token, prefix)
    if (prefixLength === -1) return fail({ valid: false, code: 'MALFORMED' }, null, null)
    const id = idAt(token, prefixLength)
    const record = store.peek?.(id)
    if (record !== undefined) return matched(token, prefixLength, id, checked, record)
    let pending: Promise<StoredKey | null>
    try {
      pending = store.get(id)
    } catch {
      return unavailable(id, null)
    }
    return pending.then(
      (found) => matched(token, prefixLength, id, checked, found),
      () => unavailable(id, null),
    )
  }

  /** The presented key (id `id`) against the record found for its id (or none). */
  function matched(
    token: string,
    prefixLength: number,
    id: string,
    checked: Checked,
    record: StoredKey | null,
  ): Outcome {
    if (record === null) {
      // Hash anyway, so an unknown id and a wrong secret cost the same work.
      hasher.hash(token)
      // The event names the presented id; usage counts it for the installation only, so made-up
      // ids cannot create a usage series each (docs/usage.md, "What is counted").
      report('NOT_FOUND', id, null, 0, undefined, false)
      return NOT_FOUND_RESULT
    }
    if (!hasher.matches(token, record.hash, record.pepperVersion)) {
      // Told to abuse monitoring only: the answer and the event stay an unknown id's, usage as it was.
      abuse?.wrongSecret(record)
      return fail({ valid: false, code: 'NOT_FOUND' }, id, null)
    }
    if (record.pepperVersion !== hasher.currentVersion) rehash(record, token)
    const presented = environmentAt(token, prefixLength)
    if (record.rotatedTo === null) return checkHead(presented, checked, record, record)
    return chainHead(store, record).then(
      (head) => checkHead(presented, checked, record, head),
      () => unavailable(record.id, record.ownerId),
    )
  }

  /** The state, environment, network and scope checks on the key and its chain's head, then the charge. */
  function checkHead(
    presented: Environment,
    checked: Checked,
    record: StoredKey,
    head: StoredKey | null,
  ): Outcome {
    const key = viewOf(record, head ?? record)
    const at = now()
    if (head === null) {
      // The chain's newest key was deleted: the whole chain is gone with it.
      return fail({ valid: false, code: 'REVOKED', key }, record.id, record.ownerId)
    }
    const state = stateCode(record, head, at) ?? (presented !== environment ? 'WRONG_ENVIRONMENT' : null)
    if (state !== null) {
      return fail({ valid: false, code: state, key } as VerifyFailure, record.id, head.ownerId)
    }
    abuse?.used(record, head.ownerId, checked.clientAddress, at)
    if (!allows(head, checked.clientAddress)) {
      return fail({ valid: false, code: 'FORBIDDEN_NETWORK', key }, record.id, head.ownerId)
    }
    const requirement = checked.scopes
    if (requirement !== undefined && !satisfies(head.scopes, requirement)) {
      return fail(
        {
          valid: false,
          code: 'INSUFFICIENT_SCOPE',
          key,
          missingScopes: missingScopes(head.scopes, requirement),
        },
        record.id,
        head.ownerId,
      )
    }
    return charge(head, key, null, checked.cost, at)
  }

  function extend(key: VerifiedKey, options: ExtendOptions): Promise<VerifyResult> {
    try {
      return promised(extendWith(key, options))
    } catch (error) {
      return Promise.reject(error)
    }
  }

  function extendWith(key: VerifiedKey, options: ExtendOptions): Outcome {
    const head = heads.get(key)
    if (head === undefined) return invalid('options')
    const checked = checkOptions(options)
    if ('valid' in checked) return checked
    if (checked.scopes !== undefined && !satisfies(head.scopes, checked.scopes)) {
      return fail(
        {
          valid: false,
          code: 'INSUFFICIENT_SCOPE',
          key,
          missingScopes: missingScopes(head.scopes, checked.scopes),
        },
        key.id,
        head.ownerId,
      )
    }
    return charge(head, key, NO_LIMITS, checked.cost ?? 0, now())
  }

  return { verify, verifyNow, extend }
}
