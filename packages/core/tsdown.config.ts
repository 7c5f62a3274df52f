import { packageConfig } from '../../tsdown.base.ts'

export default packageConfig([
  'src/index.ts',
  'src/adapter.ts',
  'src/store.ts',
  'src/testing.ts',
  'src/prometheus.ts',
  'src/opentelemetry.ts',
])
