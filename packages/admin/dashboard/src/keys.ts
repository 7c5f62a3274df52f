/**
 * Keys in the dashboard: their status, the table of an owner's keys, and the lifecycle actions
 * (rotate, revoke, delete) shared by the table and the key's page.
 */
import type { KeyJson, RotatedKeyJson } from '../../src/wire.ts'
import { api, path } from './api.ts'
import { askRotation, confirmAction, showNewKey } from './dialogs.ts'
import { h, time } from './dom.ts'

export type KeyStatus = 'active' | 'rotated' | 'disabled' | 'expired' | 'revoked'

export function statusOf(key: KeyJson, now = Date.now()): KeyStatus {
  if (key.revokedAt !== null && Date.parse(key.revokedAt) <= now) return 'revoked'
  if (key.expiresAt !== null && Date.parse(key.expiresAt) <= now) return 'expired'
  if (key.disabled) return 'disabled'
  // Replaced by `rotate` and still in its grace period.
  if (key.rotatedTo !== null) return 'rotated'
  return 'active'
}

export function statusBadge(key: KeyJson): HTMLElement {
  const status = statusOf(key)
  return h('span', { class: `badge ${status}`, 'data-testid': 'key-status' }, status)
}

export function keyLabel(key: KeyJson): string {
  return key.name === null ? key.id : `${key.name} (${key.id})`
}

export const keyHref = (id: string): string => `#/keys/${encodeURIComponent(id)}`

/** Runs an action after asking; resolves `true` when the key changed. */
export const actions = {
  async rotate(key: KeyJson): Promise<boolean> {
    const gracePeriodMs = await askRotation(keyLabel(key))
    if (gracePeriodMs === null) return false
    const rotated = await api<RotatedKeyJson>('POST', `${path.key(key.id)}/rotate`, { gracePeriodMs })
    await showNewKey(rotated.key, `New key for ${key.name ?? rotated.record.id}`)
    return true
  },
  async revoke(key: KeyJson): Promise<boolean> {
    const sure = await confirmAction(
      `Revoke ${keyLabel(key)}?`,
      'Requests with this key are refused at once. This cannot be undone.',
      'Revoke',
    )
    if (!sure) return false
    await api('POST', `${path.key(key.id)}/revoke`, {})
    return true
  },
  async delete(key: KeyJson): Promise<boolean> {
    const sure = await confirmAction(
      `Delete ${keyLabel(key)}?`,
      'The key and its record are removed for good; requests with it are refused.',
      'Delete',
    )
    if (!sure) return false
    await api('DELETE', path.key(key.id))
    return true
  },
}

export type KeyAction = keyof typeof actions

/** The action buttons a key offers in its state. */
export function actionButtons(key: KeyJson, run: (action: KeyAction, key: KeyJson) => void): HTMLElement {
  const status = statusOf(key)
  const button = (action: KeyAction, label: string, className = 'secondary') =>
    h(
      'button',
      {
        type: 'button',
        class: className,
        'aria-label': `${label} ${keyLabel(key)}`,
        onclick: () => run(action, key),
      },
      label,
    )
  return h(
    'div',
    { class: 'row-actions' },
    status === 'active' || status === 'disabled' ? button('rotate', 'Rotate') : null,
    status !== 'revoked' ? button('revoke', 'Revoke', 'danger') : null,
    button('delete', 'Delete', 'danger'),
  )
}

export function keysTable(keys: KeyJson[], run: (action: KeyAction, key: KeyJson) => void): HTMLElement {
  if (keys.length === 0) return h('p', { class: 'empty' }, 'No keys.')
  return h(
    'table',
    { class: 'keys', 'data-testid': 'keys-table' },
    h('caption', { class: 'visually-hidden' }, 'Keys'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Name', 'Id', 'Scopes', 'Status', 'Last used', 'Created', 'Actions'].map((label) =>
          h('th', { scope: 'col' }, label),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...keys.map((key) =>
        h(
          'tr',
          { 'data-key-id': key.id },
          h('td', {}, h('a', { href: keyHref(key.id) }, key.name ?? '(unnamed)')),
          h('td', { class: 'mono' }, key.id),
          h('td', {}, key.scopes.join(' ') || '—'),
          h('td', {}, statusBadge(key)),
          h('td', {}, time(key.lastUsedAt, 'never')),
          h('td', {}, time(key.createdAt)),
          h('td', {}, actionButtons(key, run)),
        ),
      ),
    ),
  )
}
