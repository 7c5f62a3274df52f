/**
 * The admin home: find an owner's keys by owner id, and the most used keys of the last 24 hours.
 */
import type { UsageTopJson } from '../../src/wire.ts'
import { ApiError, api, search } from './api.ts'
import { h, replace } from './dom.ts'
import { keyHref } from './keys.ts'

export function homeView(): HTMLElement {
  const input = h('input', {
    id: 'owner-search',
    name: 'owner',
    type: 'search',
    required: true,
    placeholder: 'org_42',
  })
  const form = h(
    'form',
    { class: 'inline', role: 'search' },
    h('label', { for: 'owner-search' }, 'Owner id'),
    input,
    h('button', { type: 'submit' }, 'Show keys'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    location.hash = `#/owners/${encodeURIComponent(input.value.trim())}`
  })
  const top = h(
    'section',
    { 'aria-labelledby': 'top-title' },
    h('h2', { id: 'top-title' }, 'Most used keys, last 24 hours'),
  )
  const body = h('div', {}, h('p', { class: 'empty' }, 'Loading…'))
  top.append(body)
  void loadTop(body)
  queueMicrotask(() => input.focus())
  return h('div', {}, h('h1', {}, 'Keys by owner'), form, top)
}

async function loadTop(body: HTMLElement): Promise<void> {
  try {
    const top = await api<UsageTopJson>('GET', `/usage/top${search({ by: 'requests', limit: '10' })}`)
    if (top.items.length === 0) {
      replace(body, h('p', { class: 'empty' }, 'No requests yet.'))
      return
    }
    replace(
      body,
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Key', 'Owner', 'Requests', 'Rejections', 'Credits'].map((label) =>
              h('th', { scope: 'col' }, label),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...top.items.map((item) =>
            h(
              'tr',
              {},
              h('td', { class: 'mono' }, h('a', { href: keyHref(item.keyId) }, item.keyId)),
              h(
                'td',
                {},
                item.ownerId === null
                  ? '—'
                  : h('a', { href: `#/owners/${encodeURIComponent(item.ownerId)}` }, item.ownerId),
              ),
              h('td', {}, String(item.requests)),
              h('td', {}, String(item.rejections)),
              h('td', {}, String(item.credits)),
            ),
          ),
        ),
      ),
    )
  } catch (error) {
    // E.g. 403 for an admin key without keyward:usage:read: the rest of the page still works.
    const reason = error instanceof ApiError ? error.describe() : String(error)
    replace(body, h('p', { class: 'empty' }, `Usage is not available: ${reason}`))
  }
}
