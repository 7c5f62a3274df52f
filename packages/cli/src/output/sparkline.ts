/**
 * Terminal sparklines (`▁▂▃▄▅▆▇█`) for `keyward usage`: one character per bucket, or per group
 * of equally many neighbouring buckets when there are more than fit a line (a week by hour becomes
 * 56 characters of 3 hours each), so every character stands for the same length of time.
 */

const BARS = '▁▂▃▄▅▆▇█'

/**
 * Sums groups of equally many neighbouring values so that at most `maxWidth` remain; every value
 * is counted exactly once (the last group may be shorter).
 */
export function resample(values: readonly number[], maxWidth: number): number[] {
  const group = Math.max(1, Math.ceil(values.length / maxWidth))
  const out: number[] = []
  for (let start = 0; start < values.length; start += group) {
    out.push(values.slice(start, start + group).reduce((sum, value) => sum + value, 0))
  }
  return out
}

/**
 * One bar per value, scaled to the largest: 0 is the lowest bar, any non-zero value at least the
 * second lowest (a single request stays visible next to a thousand), the largest the full bar.
 */
export function sparkline(values: readonly number[], maxWidth = 60): string {
  const points = resample(values, maxWidth)
  const max = Math.max(0, ...points)
  return points
    .map((value) => {
      if (value <= 0 || max === 0) return BARS[0]
      return BARS[Math.max(1, Math.round((value / max) * (BARS.length - 1)))]
    })
    .join('')
}
