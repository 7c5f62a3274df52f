/**
 * Modal dialogs on the native `<dialog>` element (focus is kept inside, Escape cancels): a
 * confirmation, the rotation options, and the new key shown once with a copy button.
 */
import { h } from './dom.ts'

function open(dialog: HTMLDialogElement): void {
  document.body.append(dialog)
  dialog.addEventListener('close', () => dialog.remove())
  dialog.showModal()
}

/** Asks before a change; resolves `true` when confirmed. */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' })
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'dialog-title' }, title),
      h('p', {}, text),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel'),
        h('button', { type: 'submit', value: 'confirm', class: 'danger' }, confirmLabel),
      ),
    )
    dialog.append(form)
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'))
    open(dialog)
  })
}

const GRACE_PERIODS: [string, number][] = [
  ['Revoke the old key at once', 0],
  ['1 hour', 3_600_000],
  ['24 hours', 86_400_000],
  ['7 days', 7 * 86_400_000],
]

/** Asks how long the old key keeps working; resolves the grace period in ms, or null if cancelled. */
export function askRotation(keyLabel: string): Promise<number | null> {
  return new Promise((resolve) => {
    const select = h(
      'select',
      { id: 'grace-period', name: 'gracePeriodMs' },
      ...GRACE_PERIODS.map(([label, ms]) => h('option', { value: ms }, label)),
    )
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' })
    dialog.append(
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, `Rotate ${keyLabel}`),
        h('p', {}, 'A new key replaces this one, with the same owner, scopes, limits and credits.'),
        h('label', { for: 'grace-period' }, 'The old key keeps working for'),
        select,
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel'),
          h('button', { type: 'submit', value: 'rotate' }, 'Rotate'),
        ),
      ),
    )
    dialog.addEventListener('close', () =>
      resolve(dialog.returnValue === 'rotate' ? Number(select.value) : null),
    )
    open(dialog)
  })
}

/** Shows a new plaintext key once, with a copy button. */
export function showNewKey(key: string, heading: string): Promise<void> {
  return new Promise((resolve) => {
    const field = h('input', {
      id: 'new-key',
      type: 'text',
      readonly: true,
      value: key,
      spellcheck: 'false',
      autocomplete: 'off',
      'data-testid': 'new-key',
    })
    const status = h('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' })
    const copy = h('button', { type: 'button' }, 'Copy')
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(key)
        status.textContent = 'Copied.'
      } catch {
        field.select()
        status.textContent = 'Selected: press Ctrl+C (⌘C) to copy.'
      }
    })
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title', class: 'new-key' })
    dialog.append(
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'dialog-title' }, heading),
        h('p', { class: 'warning' }, 'Copy this key now: it is shown only once and cannot be recovered.'),
        h('label', { for: 'new-key' }, 'API key'),
        h('div', { class: 'copy-row' }, field, copy),
        status,
        h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'done' }, 'Done')),
      ),
    )
    dialog.addEventListener('close', () => resolve())
    open(dialog)
    field.focus()
    field.select()
  })
}
