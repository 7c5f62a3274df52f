/**
 * Sign-in (admin mode): the admin key is checked by reading its own record with it, then kept in
 * sessionStorage for this tab only.
 */
import { ApiError, api, path, session } from './api.ts'
import { h, messageArea } from './dom.ts'

export function signInView(onSignedIn: () => void, notice?: string): HTMLElement {
  const input = h('input', {
    id: 'admin-key',
    name: 'admin-key',
    type: 'password',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'admin-key-help',
  })
  const message = messageArea()
  if (notice !== undefined) message.show(notice, 'error')
  const form = h(
    'form',
    { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to keyward'),
    h('label', { for: 'admin-key' }, 'Admin key'),
    input,
    h(
      'p',
      { id: 'admin-key-help', class: 'help' },
      'A keyward key with keyward: scopes (e.g. keyward:*). It stays in this tab and is sent only as an Authorization header.',
    ),
    h('button', { type: 'submit' }, 'Sign in'),
    message,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const key = input.value.trim()
    const id = key.split('_')[2]
    if (id === undefined) {
      message.show('That does not look like a keyward key.', 'error')
      return
    }
    message.show('Checking…')
    try {
      await api('GET', path.key(id), undefined, key)
    } catch (error) {
      // 403: a valid admin key without keyward:keys:read may still read usage; let it in.
      if (!(error instanceof ApiError) || error.status !== 403) {
        message.show(error instanceof ApiError ? error.describe() : String(error), 'error')
        return
      }
    }
    session.signIn(key)
    onSignedIn()
  })
  queueMicrotask(() => input.focus())
  return form
}
