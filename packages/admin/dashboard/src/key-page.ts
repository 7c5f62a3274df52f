/**
 * A key's page: its record (status, scopes, credits, limits, last use), its actions, the usage
 * chart — requests per outcome over the last hour, day or month — and its abuse signals, refreshed
 * while shown.
 */
import type { AbuseEventJson, AbuseEventsJson, KeyJson, UsageReportJson } from '../../src/wire.ts'
import { ApiError, api, mode, path, search } from './api.ts'
import { type UsageChart, usageChart } from './chart.ts'
import { h, messageArea, replace, time } from './dom.ts'
import { actionButtons, actions, type KeyAction, keyHref, statusBadge } from './keys.ts'

const RANGES = {
  hour: { label: 'Last hour, by minute', granularity: 'minute', spanMs: 3_600_000 },
  day: { label: 'Last 24 hours, by hour', granularity: 'hour', spanMs: 86_400_000 },
  month: { label: 'Last 30 days, by day', granularity: 'day', spanMs: 30 * 86_400_000 },
} as const

const REFRESH_MS = 10_000

export interface KeyPage {
  element: HTMLElement
  /** Stops refreshing (called when the page is left). */
  dispose(): void
}

function details(key: KeyJson): HTMLElement {
  const row = (term: string, value: Node | string) => [h('dt', {}, term), h('dd', {}, value)]
  const credits =
    key.credits === null
      ? 'no credit pool of its own'
      : `${key.credits.remaining} left${key.credits.refill === null ? '' : `, refilled to ${key.credits.refill.amount} every ${key.credits.refill.interval / 1000} s`}`
  const limits =
    key.rateLimit === null
      ? 'installation default'
      : key.rateLimit.map((p) => `${p.points} per ${p.duration} s`).join(', ')
  const link = (id: string | null) => (id === null ? '—' : h('a', { href: keyHref(id), class: 'mono' }, id))
  return h(
    'dl',
    { class: 'details' },
    ...row('Id', h('span', { class: 'mono' }, key.id)),
    ...row(
      'Owner',
      mode === 'admin'
        ? h('a', { href: `#/owners/${encodeURIComponent(key.ownerId)}` }, key.ownerId)
        : key.ownerId,
    ),
    ...row('Status', statusBadge(key)),
    ...(key.disabledReason === null
      ? []
      : row('Disabled because', h('span', { 'data-testid': 'key-disabled-reason' }, key.disabledReason))),
    ...row('Environment', key.environment),
    ...row('Scopes', key.scopes.join(' ') || '—'),
    ...row('Credits', h('span', { 'data-testid': 'key-credits' }, credits)),
    ...row('Rate limit', limits),
    ...row('Last used', h('span', { 'data-testid': 'key-last-used' }, time(key.lastUsedAt, 'never'))),
    ...row('Created', time(key.createdAt)),
    ...row('Expires', time(key.expiresAt, 'never')),
    ...(key.revokedAt === null ? [] : row('Revoked', time(key.revokedAt))),
    ...(key.rotatedFrom === null ? [] : row('Replaces', link(key.rotatedFrom))),
    ...(key.rotatedTo === null ? [] : row('Replaced by', link(key.rotatedTo))),
    ...(key.allowedNetworks === null ? [] : row('Networks', key.allowedNetworks.join(', '))),
  )
}

/** What an abuse event says, in one line. */
function abuseSummary(event: AbuseEventJson): string {
  switch (event.kind) {
    case 'wrong-secret':
      return `${event.attempts} wrong secrets (threshold ${event.threshold})`
    case 'many-networks':
      return `used from ${event.networks} client networks (threshold ${event.threshold})`
    case 'spike':
      return `${event.requests} requests in a minute, ${event.factor} × its baseline of ${event.baseline.toFixed(1)}`
  }
}

function abuseTable(events: AbuseEventJson[]): HTMLElement {
  if (events.length === 0) return h('p', { 'data-testid': 'key-abuse-none' }, 'No abuse signals.')
  return h(
    'table',
    { 'data-testid': 'key-abuse' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'When'), h('th', {}, 'Signal'), h('th', {}, 'What'), h('th', {}, 'Response')),
    ),
    h(
      'tbody',
      {},
      ...events.map((event) =>
        h(
          'tr',
          { 'data-kind': event.kind },
          h('td', {}, time(event.timestamp)),
          h('td', {}, event.kind),
          h('td', {}, abuseSummary(event)),
          h('td', {}, event.quarantined ? 'key quarantined' : 'reported'),
        ),
      ),
    ),
  )
}

export function keyPage(id: string): KeyPage {
  const message = messageArea()
  const header = h('div', {})
  const chartArea = h('div', { class: 'usage' })
  const rangeSelect = h(
    'select',
    { id: 'usage-range' },
    ...Object.entries(RANGES).map(([value, range]) => h('option', { value }, range.label)),
  )
  const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh')
  const usageMessage = messageArea()
  const abuseArea = h('div', {})
  let chart: UsageChart | null = null
  let key: KeyJson | null = null

  async function loadKey(): Promise<void> {
    try {
      key = await api<KeyJson>('GET', path.key(id))
      const current = key
      replace(
        header,
        h('h1', {}, current.name ?? current.id, ' ', statusBadge(current)),
        actionButtons(current, run),
        details(current),
      )
    } catch (error) {
      replace(header, h('h1', {}, id))
      message.show(error instanceof ApiError ? error.describe() : String(error), 'error')
    }
  }

  async function loadUsage(): Promise<void> {
    const range = RANGES[rangeSelect.value as keyof typeof RANGES]
    const to = new Date()
    const query = {
      granularity: range.granularity,
      from: new Date(to.getTime() - range.spanMs).toISOString(),
      to: to.toISOString(),
    }
    try {
      const report = await api<UsageReportJson>('GET', `${path.key(id)}/usage${search(query)}`)
      chart ??= usageChart(chartArea)
      chart.update(report)
      usageMessage.show(`Updated ${new Date().toLocaleTimeString()}.`)
    } catch (error) {
      usageMessage.show(error instanceof ApiError ? error.describe() : String(error), 'error')
    }
  }

  async function loadAbuse(): Promise<void> {
    try {
      const { items } = await api<AbuseEventsJson>('GET', `${path.key(id)}/abuse${search({ limit: '20' })}`)
      replace(abuseArea, abuseTable(items))
    } catch (error) {
      replace(
        abuseArea,
        h('p', { class: 'message error' }, error instanceof ApiError ? error.describe() : String(error)),
      )
    }
  }

  async function run(action: KeyAction, target: KeyJson): Promise<void> {
    try {
      if (!(await actions[action](target))) return
      if (action === 'delete') {
        location.hash = mode === 'admin' ? `#/owners/${encodeURIComponent(target.ownerId)}` : '#/'
        return
      }
      message.show(action === 'revoke' ? 'Revoked: requests with this key are refused now.' : 'Rotated.')
      await loadKey()
    } catch (error) {
      message.show(error instanceof ApiError ? error.describe() : String(error), 'error')
    }
  }

  const refreshAll = () => Promise.all([loadKey(), loadUsage(), loadAbuse()])
  rangeSelect.addEventListener('change', () => void loadUsage())
  refresh.addEventListener('click', () => void refreshAll())
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void refreshAll()
  }, REFRESH_MS)
  void refreshAll()

  const element = h(
    'div',
    {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, mode === 'admin' ? 'Owners' : 'Your keys'), ' / ', id),
    message,
    header,
    h(
      'section',
      { 'aria-labelledby': 'usage-title' },
      h('h2', { id: 'usage-title' }, 'Requests by outcome'),
      h('div', { class: 'inline' }, h('label', { for: 'usage-range' }, 'Range'), rangeSelect, refresh),
      usageMessage,
      chartArea,
    ),
    h(
      'section',
      { 'aria-labelledby': 'abuse-title' },
      h('h2', { id: 'abuse-title' }, 'Abuse signals'),
      abuseArea,
    ),
  )
  return {
    element,
    dispose() {
      clearInterval(timer)
      chart?.destroy()
    },
  }
}
