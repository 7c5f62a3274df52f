/**
 * The usage chart: requests per outcome over time, drawn by uPlot, with a totals table beside it
 * that says the same in text (for screen readers, and for anyone who wants the numbers).
 */
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { UsageReportJson } from '../../src/wire.ts'
import { h, replace } from './dom.ts'

const COLORS: Record<string, string> = {
  VALID: '#1a7f37',
  RATE_LIMITED: '#bc4c00',
  QUOTA_EXCEEDED: '#9a6700',
  INSUFFICIENT_SCOPE: '#8250df',
  REVOKED: '#cf222e',
  EXPIRED: '#a40e26',
  DISABLED: '#6e7781',
  NOT_FOUND: '#0969da',
  MALFORMED: '#1b1f24',
}
const FALLBACK_COLOR = '#57606a'
const BUCKET_SECONDS = { minute: 60, hour: 3600, day: 86_400 } as const

/** Outcomes that occurred in the range, `VALID` first. */
function outcomesOf(report: UsageReportJson): string[] {
  const seen = Object.entries(report.totals.counts)
    .filter(([outcome, count]) => count > 0 && outcome !== 'VALID')
    .map(([outcome]) => outcome)
  return ['VALID', ...seen.sort()]
}

function totalsTable(report: UsageReportJson, outcomes: string[]): HTMLElement {
  return h(
    'table',
    { class: 'totals', 'data-testid': 'usage-totals' },
    h('caption', {}, 'Totals for the range'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Outcome'), h('th', { scope: 'col' }, 'Requests'))),
    h(
      'tbody',
      {},
      ...outcomes.map((outcome) =>
        h(
          'tr',
          { 'data-outcome': outcome },
          h('th', { scope: 'row' }, h('span', { class: 'swatch', 'data-color': outcome }), outcome),
          h('td', {}, String(report.totals.counts[outcome] ?? 0)),
        ),
      ),
      h(
        'tr',
        { class: 'sum' },
        h('th', { scope: 'row' }, 'All requests'),
        h('td', { 'data-testid': 'usage-total' }, String(report.totals.requests)),
      ),
      h('tr', {}, h('th', { scope: 'row' }, 'Credits spent'), h('td', {}, String(report.totals.credits))),
    ),
  )
}

/**
 * Stacked bars: series `k` holds the sum of outcomes `0..k`, and they are drawn from the highest
 * sum down, so each outcome shows as its own band of the bar. Series are listed in reverse.
 */
function stack(report: UsageReportJson, outcomes: string[]): uPlot.AlignedData {
  const sums = report.buckets.map(() => 0)
  const cumulative = outcomes.map((outcome) =>
    report.buckets.map((bucket, index) => {
      sums[index] = (sums[index] ?? 0) + (bucket.counts[outcome] ?? 0)
      return sums[index]
    }),
  )
  return [report.buckets.map((bucket) => Date.parse(bucket.start) / 1000), ...cumulative.reverse()]
}

function stackedBars(report: UsageReportJson, outcomes: string[], canvas: HTMLElement): uPlot.Options {
  const bars = uPlot.paths.bars?.({ size: [0.8, 48], align: 1 })
  return {
    width: Math.max(320, canvas.clientWidth),
    height: 260,
    scales: {
      // Each bar covers its bucket [start, start + size): leave room after the last one.
      x: { time: true, range: (_u, min, max) => [min, max + BUCKET_SECONDS[report.granularity]] },
      y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
    },
    axes: [{}, { label: 'requests', size: 50 }],
    series: [
      {},
      ...[...outcomes].reverse().map((outcome) => ({
        label: outcome,
        stroke: COLORS[outcome] ?? FALLBACK_COLOR,
        fill: COLORS[outcome] ?? FALLBACK_COLOR,
        width: 1,
        points: { show: false },
        // The legend shows the outcome's own count, not the running sum the bar is drawn at.
        value: (_u: uPlot, _v: number | null, _series: number, index: number | null) =>
          index === null ? '–' : String(report.buckets[index]?.counts[outcome] ?? 0),
        ...(bars === undefined ? {} : { paths: bars }),
      })),
    ],
  }
}

export interface UsageChart {
  update(report: UsageReportJson): void
  destroy(): void
}

export function usageChart(container: HTMLElement): UsageChart {
  let plot: uPlot | null = null
  const canvas = h('div', { class: 'chart', role: 'img' })
  const totals = h('div', { class: 'chart-totals' })
  replace(container, canvas, totals)
  const resize = () => plot?.setSize({ width: Math.max(320, canvas.clientWidth), height: 260 })
  window.addEventListener('resize', resize)

  return {
    update(report) {
      const outcomes = outcomesOf(report)
      canvas.setAttribute(
        'aria-label',
        `Requests by outcome per ${report.granularity}: ${outcomes
          .map((outcome) => `${report.totals.counts[outcome] ?? 0} ${outcome}`)
          .join(', ')}`,
      )
      replace(totals, totalsTable(report, outcomes))
      for (const swatch of totals.querySelectorAll<HTMLElement>('.swatch')) {
        swatch.style.background = COLORS[swatch.dataset.color ?? ''] ?? FALLBACK_COLOR
      }
      plot?.destroy()
      plot = new uPlot(stackedBars(report, outcomes, canvas), stack(report, outcomes), canvas)
    },
    destroy() {
      window.removeEventListener('resize', resize)
      plot?.destroy()
      plot = null
    },
  }
}
