// @keyward/core/prometheus — keyward's metrics on a prom-client registry, for a `/metrics`
// endpoint (docs/architecture.md, "Metrics"). Needs `prom-client` installed; nothing else in
// @keyward/core loads it.
export {
  type PrometheusMetrics,
  type PrometheusMetricsOptions,
  prometheusMetrics,
} from './metrics/prometheus-metrics.ts'
