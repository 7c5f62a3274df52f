/**
 * Errors keyward throws. Expected outcomes of a verification are values (`VerifyResult`), never
 * errors: these are for programmer mistakes (`ConfigError`, bad arguments), management calls on a
 * key that does not exist, and failures of the backing store (`StoreError`, with the cause kept).
 */

export const KeywardErrorCode = {
  CONFIG: 'CONFIG',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  OWNER_NOT_FOUND: 'OWNER_NOT_FOUND',
  DUPLICATE_ID: 'DUPLICATE_ID',
  STORE: 'STORE',
} as const

export type KeywardErrorCode = (typeof KeywardErrorCode)[keyof typeof KeywardErrorCode]

export class KeywardError extends Error {
  readonly code: KeywardErrorCode

  constructor(code: KeywardErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KeywardError'
    this.code = code
  }
}

/** Thrown when `createKeyward` (or a store / adapter factory) is given an invalid option. */
export class ConfigError extends KeywardError {
  /** The option at fault, e.g. `prefix` or `rateLimit.points`. */
  readonly option: string

  constructor(option: string, message: string) {
    super(KeywardErrorCode.CONFIG, `keyward: invalid option \`${option}\`: ${message}`)
    this.name = 'ConfigError'
    this.option = option
  }
}

/** Thrown for a bad argument to a management call (`keys.create`, `keys.update`, …). */
export class InvalidArgumentError extends KeywardError {
  readonly field: string

  constructor(field: string, message: string) {
    super(KeywardErrorCode.INVALID_ARGUMENT, `keyward: invalid \`${field}\`: ${message}`)
    this.name = 'InvalidArgumentError'
    this.field = field
  }
}

/** Thrown by `keys.update/revoke/rotate` when no key has the given id. */
export class KeyNotFoundError extends KeywardError {
  readonly id: string

  constructor(id: string) {
    super(KeywardErrorCode.KEY_NOT_FOUND, `keyward: no key with id ${JSON.stringify(id)}`)
    this.name = 'KeyNotFoundError'
    this.id = id
  }
}

/** Thrown by `owners.update/delete` when the owner has no record. */
export class OwnerNotFoundError extends KeywardError {
  readonly ownerId: string

  constructor(ownerId: string) {
    super(KeywardErrorCode.OWNER_NOT_FOUND, `keyward: no owner with id ${JSON.stringify(ownerId)}`)
    this.name = 'OwnerNotFoundError'
    this.ownerId = ownerId
  }
}

/**
 * Thrown by a store asked to insert a record whose id is already taken. With 12 random base62
 * characters (≈71 bits) this means a broken random source or a replayed write, never bad luck.
 */
export class DuplicateIdError extends KeywardError {
  readonly id: string

  constructor(id: string) {
    super(KeywardErrorCode.DUPLICATE_ID, `keyward: a record with id ${JSON.stringify(id)} already exists`)
    this.name = 'DuplicateIdError'
    this.id = id
  }
}

/** Wraps a failure of the backing store (Redis down, timeout, …); the original error is `cause`. */
export class StoreError extends KeywardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(KeywardErrorCode.STORE, message, options)
    this.name = 'StoreError'
  }
}
