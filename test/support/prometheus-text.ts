/**
 * Reads Prometheus output the way Prometheus does: `parse-prometheus-text-format` (a port of the
 * Python client's parser) turns the exposition text into metric families, and `sampleValue` picks
 * one sample's value by name and labels.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

export interface Sample {
  value?: string
  labels?: Record<string, string>
  /** Histograms: upper bound → cumulative count. */
  buckets?: Record<string, string>
  count?: string
  sum?: string
}

export interface MetricFamily {
  name: string
  help: string
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
  metrics: Sample[]
}

export function parsePrometheus(text: string): MetricFamily[] {
  return (parsePrometheusTextFormat as (text: string) => MetricFamily[])(text)
}

/** The family `name`; throws when absent. */
export function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((candidate) => candidate.name === name)
  if (found === undefined) throw new Error(`no metric family ${name}`)
  return found
}

/** The sample of `name` whose labels include `labels`; throws when absent. */
export function sampleOf(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): Sample {
  const sample = family(families, name).metrics.find((candidate) =>
    Object.entries(labels).every(([label, value]) => candidate.labels?.[label] === value),
  )
  if (sample === undefined) throw new Error(`no sample of ${name} with ${JSON.stringify(labels)}`)
  return sample
}

/** A counter's or gauge's value as a number. */
export function sampleValue(
  families: MetricFamily[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return Number(sampleOf(families, name, labels).value)
}
