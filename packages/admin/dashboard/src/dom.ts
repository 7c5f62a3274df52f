/**
 * A few DOM helpers: elements are built with `h()` and text is always set as text (never as
 * HTML), so names, scopes and meta chosen by API users cannot inject markup into the dashboard.
 */

type Child = Node | string | number | null | undefined | false
type Attributes = Record<string, string | number | boolean | null | undefined | EventListener>

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value)
    else if (value === true) element.setAttribute(name, '')
    else element.setAttribute(name, String(value))
  }
  append(element, ...children)
  return element
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)))
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, ...children)
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** A `<time>` element for an ISO time, or a dash. */
export function time(iso: string | null | undefined, empty = '—'): Node {
  if (iso === null || iso === undefined) return document.createTextNode(empty)
  return h('time', { datetime: iso, title: iso }, dateTime.format(new Date(iso)))
}

/** A live region for status and error messages (read out by screen readers). */
export function messageArea(): HTMLElement & { show(text: string, kind?: 'error' | 'info'): void } {
  const area = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' })
  return Object.assign(area, {
    show(text: string, kind: 'error' | 'info' = 'info') {
      area.className = `message ${kind}`
      area.textContent = text
    },
  })
}
