/**
 * Terminal sparklines (`▁▂▃▄▅▆▇█`) for `keyward usage`: one character per bucket, resampled to a
 * maximum width by summing neighbouring buckets, so a week by hour still fits a terminal line.
 */

const BARS = '▁▂▃▄▅▆▇█'

/** Sums neighbouring values so that at most `maxWidth` remain (every value counted exactly once). */
export function resample(values: readonly number[], maxWidth: number): number[] {
  if (values.length <= maxWidth) return [...values]
  const out = new Array<number>(maxWidth).fill(0)
  values.forEach((value, index) => {
    const slot = Math.floor((index * maxWidth) / values.length)
    out[slot] = (out[slot] ?? 0) + value
  })
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
