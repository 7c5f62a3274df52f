import { createKeyward } from '@keyward/core'
import { createAuthenticator, type HttpRequestView, readRawHeader } from '@keyward/core/adapter'

const keyward = createKeyward({ prefix: 'bench', rateLimit: { points: 1_000_000_000, duration: 60 } })
const { key } = await keyward.keys.create({ ownerId: 'org', scopes: ['bench:read'] })
const authenticator = createAuthenticator(keyward, {})
const rawHeaders = [
  'host',
  '127.0.0.1:3000',
  'user-agent',
  'autocannon',
  'accept',
  '*/*',
  'authorization',
  `Bearer ${key}`,
  'connection',
  'keep-alive',
]
const view = (): HttpRequestView => ({
  getHeader: (name) => readRawHeader(rawHeaders, name),
  getQuery: () => undefined,
  clientAddress: '127.0.0.1',
  context: {},
})
const cases: Record<string, () => Promise<unknown>> = {
  verify: () => keyward.verify(key),
  authenticate: () => authenticator.authenticate(view()),
}
for (let round = 0; round < 5; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const n = 200_000
    const t = process.hrtime.bigint()
    for (let i = 0; i < n; i++) await run()
    if (round >= 3) console.log(name, (Number(process.hrtime.bigint() - t) / n / 1000).toFixed(2), 'µs')
  }
}
