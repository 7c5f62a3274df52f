/**
 * The dashboard's entry: a hash router (so it works under any mount path without server
 * configuration) over the sign-in, home, owner and key views.
 */
import { type ApiError, mode, session, whenUnauthorized } from './api.ts'
import { h, replace } from './dom.ts'
import { homeView } from './home.ts'
import { keyPage } from './key-page.ts'
import { ownerView } from './owner.ts'
import { signInView } from './signin.ts'
import './style.css'

const root = document.getElementById('app') as HTMLElement
const main = h('main', { id: 'main', tabindex: -1 })
let disposeView: (() => void) | null = null

function header(): HTMLElement {
  const signedIn = mode === 'admin' && session.key() !== null
  const signOut = h('button', { type: 'button', class: 'secondary' }, 'Sign out')
  signOut.addEventListener('click', () => {
    session.signOut()
    route()
  })
  return h(
    'header',
    {},
    h('a', { href: '#/', class: 'brand' }, mode === 'admin' ? 'keyward admin' : 'API keys'),
    signedIn
      ? h('span', { class: 'who' }, 'Admin key ', h('span', { class: 'mono' }, session.keyId() ?? ''))
      : null,
    signedIn ? signOut : null,
  )
}

function route(notice?: string): void {
  disposeView?.()
  disposeView = null
  replace(root, header(), main)
  if (mode === 'admin' && session.key() === null) {
    replace(
      main,
      signInView(() => route(), notice),
    )
    return
  }
  const [, section, id] = location.hash.split('/')
  const param = id === undefined ? undefined : decodeURIComponent(id)
  if (section === 'keys' && param !== undefined) {
    const page = keyPage(param)
    disposeView = page.dispose
    replace(main, page.element)
  } else if (section === 'owners' && param !== undefined && mode === 'admin') {
    replace(main, ownerView(param))
  } else {
    replace(main, mode === 'admin' ? homeView() : ownerView(null))
  }
  main.focus()
}

whenUnauthorized((error: ApiError) => {
  if (mode === 'admin') {
    session.signOut()
    route(`Signed out: ${error.describe()}`)
  } else {
    replace(main, h('p', { class: 'message error' }, 'You are not signed in to the application.'))
  }
})
window.addEventListener('hashchange', () => route())
route()
