/**
 * How records read in a terminal: a key's status from its times, policies as `100/1m`, credits
 * with their refill, times as `2026-11-27 18:50 UTC`. Human output only; `--json` prints records
 * as the backend returned them.
 */
import { formatDuration } from '../arguments.ts'
import type { KeyView, OwnerView } from '../backend/backend.ts'

type Policies = KeyView['rateLimit']
type Credits = KeyView['credits']

/** `2026-11-27 18:50 UTC`: minute precision, one zone for everyone reading the same output. */
export function formatTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '-'
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

/** `100/1m, 10/1s`; `null` when the key has none of its own. */
export function formatPolicies(policies: Policies): string | null {
  if (policies === null || policies.length === 0) return null
  return policies.map((policy) => `${policy.points}/${formatDuration(policy.duration * 1000)}`).join(', ')
}

/** `950 left (refilled to 1000 every 30d)`; `null` for a key without credits (unmetered). */
export function formatCredits(credits: Credits): string | null {
  if (credits === null) return null
  const refill =
    credits.refill === null
      ? ''
      : ` (refilled to ${credits.refill.amount} every ${formatDuration(credits.refill.interval)})`
  return `${credits.remaining} left${refill}`
}

export type KeyState = 'active' | 'revoked' | 'disabled' | 'expired' | 'rotated'

/**
 * The key's state at `now`, in the order verify checks it (docs/architecture.md, "The path of a
 * request"): revoked, disabled, then expired; a rotated key still in its grace period is `rotated`.
 */
export function keyState(key: KeyView, now: number): KeyState {
  const at = (iso: string | null) => (iso === null ? null : Date.parse(iso))
  const revokedAt = at(key.revokedAt)
  const expiresAt = at(key.expiresAt)
  if (revokedAt !== null && revokedAt <= now) return 'revoked'
  if (key.disabled) return 'disabled'
  if (expiresAt !== null && expiresAt <= now) return 'expired'
  if (key.rotatedTo !== null) return 'rotated'
  return 'active'
}

/** The `status` line of `keys get`: the state with when and what follows it. */
function describeState(key: KeyView, now: number): string {
  const state = keyState(key, now)
  switch (state) {
    case 'revoked':
      return `revoked ${formatTime(key.revokedAt)}${key.rotatedTo === null ? '' : ` (rotated to ${key.rotatedTo})`}`
    case 'expired':
      return `expired ${formatTime(key.expiresAt)}${key.rotatedTo === null ? '' : ` (rotated to ${key.rotatedTo})`}`
    case 'rotated':
      return `rotated to ${key.rotatedTo}: works until ${formatTime(key.expiresAt)}`
    default:
      return state
  }
}

/** The label/value pairs `keys get`, `keys create` and `keys rotate` print. */
export function keyFields(key: KeyView, now: number): [string, string][] {
  const fields: [string, string][] = [
    ['id', key.id],
    ['owner', key.ownerId],
    ['name', key.name ?? '-'],
    ['environment', key.environment],
    ['status', describeState(key, now)],
    ['scopes', key.scopes.length === 0 ? '-' : key.scopes.join(' ')],
    ['rate limits', formatPolicies(key.rateLimit) ?? "none of its own (the installation's default applies)"],
    ['credits', formatCredits(key.credits) ?? 'not metered'],
    ['networks', key.allowedNetworks === null ? 'anywhere' : key.allowedNetworks.join(' ')],
    ['expires', key.expiresAt === null ? 'never' : formatTime(key.expiresAt)],
    ['created', formatTime(key.createdAt)],
  ]
  if (key.lastUsedAt !== undefined) {
    fields.push(['last used', key.lastUsedAt === null ? 'never' : formatTime(key.lastUsedAt)])
  }
  if (key.rotatedFrom !== null) fields.push(['rotated from', key.rotatedFrom])
  if (Object.keys(key.meta).length > 0) fields.push(['meta', JSON.stringify(key.meta)])
  return fields
}

export function ownerFields(owner: OwnerView): [string, string][] {
  const fields: [string, string][] = [
    ['owner', owner.id],
    ['rate limits', formatPolicies(owner.rateLimit) ?? 'none'],
    ['credits', formatCredits(owner.credits) ?? 'no shared pool'],
    ['created', formatTime(owner.createdAt)],
    ['updated', formatTime(owner.updatedAt)],
  ]
  if (Object.keys(owner.meta).length > 0) fields.push(['meta', JSON.stringify(owner.meta)])
  return fields
}
