// @keyward/core/opentelemetry — keyward's metrics and `keyward.verify` spans through
// @opentelemetry/api (docs/architecture.md, "Metrics"). Needs `@opentelemetry/api` installed;
// nothing else in @keyward/core loads it.
export {
  instrument,
  type KeywardInstrumentation,
  type OpenTelemetryOptions,
} from './metrics/opentelemetry-instrumentation.ts'
