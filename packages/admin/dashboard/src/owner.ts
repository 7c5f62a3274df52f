/**
 * One owner's keys: search, the table with its actions, and the form that creates a key (whose
 * plaintext is shown once). In self-service mode this is the signed-in customer's own list.
 */
import type { CreatedKeyJson, KeyJson, KeyPageJson, OwnerJson } from '../../src/wire.ts'
import { ApiError, api, mode, path } from './api.ts'
import { showNewKey } from './dialogs.ts'
import { h, messageArea, replace } from './dom.ts'
import { actions, type KeyAction, keysTable } from './keys.ts'

/** `ownerId` is null in self-service mode: the API answers for the signed-in owner. */
export function ownerView(ownerId: string | null): HTMLElement {
  let keys: KeyJson[] = []
  let cursor: string | null = null
  const message = messageArea()
  const tableArea = h('div', {})
  const filter = h('input', { id: 'key-filter', type: 'search', placeholder: 'name, id or scope' })
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more')

  const matches = (key: KeyJson, text: string): boolean =>
    text === '' || [key.id, key.name ?? '', ...key.scopes].some((value) => value.toLowerCase().includes(text))

  function render(): void {
    const text = filter.value.trim().toLowerCase()
    replace(
      tableArea,
      keysTable(
        keys.filter((key) => matches(key, text)),
        run,
      ),
    )
    more.hidden = cursor === null
  }

  async function load(append = false): Promise<void> {
    try {
      const query: Record<string, string | undefined> = { ownerId: ownerId ?? undefined, limit: '100' }
      if (append && cursor !== null) query.cursor = cursor
      const page = await api<KeyPageJson>('GET', path.keys(query))
      keys = append ? [...keys, ...page.items] : page.items
      cursor = page.cursor
      render()
    } catch (error) {
      message.show(error instanceof ApiError ? error.describe() : String(error), 'error')
    }
  }

  async function run(action: KeyAction, key: KeyJson): Promise<void> {
    try {
      if (await actions[action](key)) {
        message.show(
          `${action === 'delete' ? 'Deleted' : action === 'revoke' ? 'Revoked' : 'Rotated'} ${key.id}.`,
        )
        await load()
      }
    } catch (error) {
      message.show(error instanceof ApiError ? error.describe() : String(error), 'error')
    }
  }

  filter.addEventListener('input', render)
  more.addEventListener('click', () => void load(true))
  void load()

  const title = ownerId === null ? 'Your API keys' : `Keys of ${ownerId}`
  return h(
    'div',
    {},
    ownerId === null ? null : h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Owners'), ' / ', ownerId),
    h('h1', {}, title),
    ownerId === null ? null : ownerSummary(ownerId),
    createForm(ownerId, async (created) => {
      await showNewKey(created.key, `New key ${created.record.name ?? created.record.id}`)
      message.show(`Created ${created.record.id}.`)
      await load()
    }),
    h(
      'section',
      { 'aria-labelledby': 'keys-title' },
      h('h2', { id: 'keys-title' }, 'Keys'),
      h('div', { class: 'inline' }, h('label', { for: 'key-filter' }, 'Search keys'), filter),
      message,
      tableArea,
      more,
    ),
  )
}

/** The owner's shared limits and credits, when it has a record. */
function ownerSummary(ownerId: string): HTMLElement {
  const area = h('p', { class: 'owner-summary' })
  api<OwnerJson>('GET', path.owner(ownerId)).then(
    (owner) => {
      const limits = owner.rateLimit?.map((policy) => `${policy.points} per ${policy.duration} s`).join(', ')
      replace(
        area,
        `Shared by all its keys: ${limits ?? 'no rate limit'}; `,
        owner.credits === null ? 'no credit pool.' : `${owner.credits.remaining} credits left.`,
      )
    },
    (error: unknown) => {
      if (error instanceof ApiError && error.status === 404) {
        replace(area, 'No owner record: each key is limited by its own settings.')
      } else replace(area, '')
    },
  )
  return area
}

function createForm(
  ownerId: string | null,
  onCreated: (created: CreatedKeyJson) => Promise<void>,
): HTMLElement {
  const message = messageArea()
  const field = (id: string, label: string, input: HTMLInputElement, help?: string) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id }, label),
      input,
      help === undefined ? null : h('span', { class: 'help', id: `${id}-help` }, help),
    )
  const name = h('input', { id: 'new-name', name: 'name', maxlength: 256 })
  const scopes = h('input', { id: 'new-scopes', name: 'scopes', 'aria-describedby': 'new-scopes-help' })
  const expires = h('input', { id: 'new-expires', name: 'expiresAt', type: 'date' })
  const credits = h('input', { id: 'new-credits', name: 'credits', type: 'number', min: 0, step: 1 })
  const form = h(
    'form',
    { class: 'create', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'New key'),
    h(
      'div',
      { class: 'fields' },
      field('new-name', 'Name', name),
      field('new-scopes', 'Scopes', scopes, 'Separated by spaces, e.g. orders:read orders:write'),
      field('new-expires', 'Expires (optional)', expires),
      mode === 'admin' ? field('new-credits', 'Credits (optional)', credits) : null,
    ),
    h('button', { type: 'submit' }, 'Create key'),
    message,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const body: Record<string, unknown> = {
      scopes: scopes.value.split(/[\s,]+/).filter((scope) => scope !== ''),
    }
    if (ownerId !== null) body.ownerId = ownerId
    if (name.value.trim() !== '') body.name = name.value.trim()
    if (expires.value !== '') body.expiresAt = new Date(`${expires.value}T23:59:59`).toISOString()
    if (credits.value !== '') body.credits = { remaining: Number(credits.value) }
    try {
      const created = await api<CreatedKeyJson>('POST', '/keys', body)
      form.reset()
      message.show('')
      await onCreated(created)
    } catch (error) {
      message.show(error instanceof ApiError ? error.describe() : String(error), 'error')
    }
  })
  return form
}
