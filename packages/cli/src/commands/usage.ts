/**
 * `keyward usage <keyId> | --owner <id>`: a key's or an owner's verifications by outcome over a
 * recent range (`keyward.usage.get`, docs/usage.md) — a table of the buckets that saw traffic and a
 * sparkline per outcome. Counts from other processes arrive with their next flush (5 s by
 * default), so the newest bucket may still grow.
 */
import type { UsageGranularity } from '@keyward/core'
import { type Command, Option } from 'commander'
import { parseDuration } from '../arguments.ts'
import type { UsageTarget, UsageView } from '../backend/backend.ts'
import { usageError } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { sparkline } from '../output/sparkline.ts'
import { renderTable } from '../output/table.ts'
import { addBackendOptions, type BackendOptions, Printer, withBackend } from './context.ts'

interface UsageOptions extends BackendOptions {
  owner?: string
  since: string
  granularity?: UsageGranularity
}

const HOUR_MS = 3_600_000
const BUCKET_MS: Readonly<Record<UsageGranularity, number>> = {
  minute: 60_000,
  hour: HOUR_MS,
  day: 24 * HOUR_MS,
}

/** The finest granularity that keeps the range to about a hundred buckets. */
export function granularityFor(spanMs: number): UsageGranularity {
  if (spanMs <= 2 * HOUR_MS) return 'minute'
  if (spanMs <= 4 * 24 * HOUR_MS) return 'hour'
  return 'day'
}

/** `2026-11-27 18:00`, or `2026-11-27` for days: bucket starts are UTC. */
function formatBucket(iso: string, granularity: UsageGranularity): string {
  const text = iso.replace('T', ' ')
  return granularity === 'day' ? text.slice(0, 10) : text.slice(0, 16)
}

/** Since when: a duration back from now (`24h`) or a date (`2026-11-20`). */
function parseSince(text: string, now: number): Date {
  if (/^\d+(ms|s|m|h|d|w)$/.test(text.trim())) return new Date(now - parseDuration(text, '--since'))
  // A date in the past is what parseExpiry refuses: read it as a date and check the other way.
  const at = Date.parse(text)
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    throw usageError(
      `invalid --since ${JSON.stringify(text)}: expected a duration (24h, 7d) or a date (2026-11-20)`,
    )
  }
  if (at >= now) throw usageError(`invalid --since ${JSON.stringify(text)}: that is not in the past`)
  return new Date(at)
}

export function renderUsage(report: UsageView, title: string): string {
  const granularity = report.granularity
  const outcomes = Object.entries(report.totals.counts)
    .filter(([outcome, count]) => count > 0 || outcome === 'VALID')
    .map(([outcome]) => outcome)
  if (report.totals.requests === 0) return `${title}\n\nno verifications in this range\n`
  const busy = report.buckets.filter((bucket) => bucket.requests > 0 || bucket.credits > 0)
  const lines = [title, '']
  const table = renderTable(
    [
      { header: 'START (UTC)' },
      { header: 'REQUESTS', align: 'right' },
      ...outcomes.map((outcome) => ({ header: outcome, align: 'right' as const })),
      { header: 'CREDITS', align: 'right' },
    ],
    busy.map((bucket) => [
      formatBucket(bucket.start, granularity),
      String(bucket.requests),
      ...outcomes.map((outcome) => String(bucket.counts[outcome as keyof typeof bucket.counts] ?? 0)),
      String(bucket.credits),
    ]),
  )
  lines.push(table.trimEnd())
  const empty = report.buckets.length - busy.length
  if (empty > 0) lines.push(`(${empty} ${granularity}${empty === 1 ? '' : 's'} without traffic not shown)`)
  lines.push('')
  const first = report.buckets[0]
  const last = report.buckets.at(-1)
  const series: string[][] = outcomes.map((outcome) => [
    outcome,
    sparkline(report.buckets.map((bucket) => bucket.counts[outcome as keyof typeof bucket.counts] ?? 0)),
    String(report.totals.counts[outcome as keyof typeof report.totals.counts]),
  ])
  series.push([
    'requests',
    sparkline(report.buckets.map((bucket) => bucket.requests)),
    String(report.totals.requests),
  ])
  if (report.totals.credits > 0) {
    series.push([
      'credits',
      sparkline(report.buckets.map((bucket) => bucket.credits)),
      String(report.totals.credits),
    ])
  }
  const span =
    first === undefined || last === undefined
      ? ''
      : `${formatBucket(first.start, granularity)} → ${formatBucket(last.start, granularity)} UTC`
  lines.push(
    renderTable(
      [{ header: 'OUTCOME' }, { header: span }, { header: 'TOTAL', align: 'right' }],
      series,
    ).trimEnd(),
  )
  return `${lines.join('\n')}\n`
}

export function registerUsageCommand(program: Command, io: CliIo): void {
  addBackendOptions(
    program
      .command('usage')
      .description("a key's or an owner's verifications by outcome: a table and a sparkline per outcome")
      .argument('[keyId]', 'the key (or use --owner)')
      .option('--owner <id>', "all of an owner's keys together")
      .option('--since <when>', 'start of the range: a duration back from now (1h, 24h, 7d) or a date', '24h')
      .addOption(
        new Option(
          '--granularity <size>',
          'bucket size (default: minute up to 2h, hour up to 4d, else day)',
        ).choices(['minute', 'hour', 'day']),
      ),
  ).action(async (keyId: string | undefined, options: UsageOptions, command: Command) => {
    if ((keyId === undefined) === (options.owner === undefined)) {
      throw usageError('give a key id or --owner <id> (one of them)')
    }
    const now = io.now()
    const since = parseSince(options.since, now)
    const granularity = options.granularity ?? granularityFor(now - since.getTime())
    // Whole buckets from the first boundary after `since`: "the last 1h by minute" is 60 buckets,
    // the current one included, not 61 with a sliver of the first.
    const size = BUCKET_MS[granularity]
    const from = new Date(Math.ceil(since.getTime() / size) * size)
    const to = new Date(now)
    const target: UsageTarget = keyId === undefined ? { ownerId: options.owner as string } : { keyId }
    const print = new Printer(io, options)
    const report = await withBackend(io, command, async (backend) => {
      const answer = await backend.usage(target, { from, to, granularity })
      // A deleted key keeps the counts from while it existed; a typo should not look like silence.
      if (keyId !== undefined && (await backend.getKey(keyId)) === null) {
        print.note(
          `keyward: no key with id ${JSON.stringify(keyId)} (deleted, or a typo?): showing the counts kept for it`,
        )
      }
      return answer
    })
    if (print.json) {
      return print.data({ ...target, from: from.toISOString(), to: to.toISOString(), ...report })
    }
    const whose = keyId === undefined ? `owner ${options.owner}` : `key ${keyId}`
    const range = /^\d+(ms|s|m|h|d|w)$/.test(options.since.trim())
      ? `last ${options.since.trim()}`
      : `since ${from.toISOString().slice(0, 10)}`
    print.text(renderUsage(report, `Usage of ${whose}, ${range} by ${granularity}`))
  })
}
