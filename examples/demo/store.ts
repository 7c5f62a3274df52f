/**
 * Store selection for the demo: the in-memory store (zero setup) by default, `@keyward/redis`
 * when `REDIS_URL` is set — so several demo processes can share keys, limits and revocations.
 * `server.ts` never changes with the store.
 */
import { randomBytes } from 'node:crypto'
import { type KeyStore, MemoryStore } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { Redis } from 'ioredis'

export interface DemoStore {
  store: KeyStore
  /** Pepper for key hashes; required by shared stores, optional in memory. */
  secret?: string
  /** Shown in the banner, e.g. `memory`. */
  label: string
  /** Releases what the store opened (connections); keyward.close() closes the store itself. */
  close(): Promise<void>
}

export async function createDemoStore(env: NodeJS.ProcessEnv = process.env): Promise<DemoStore> {
  const redisUrl = env.REDIS_URL
  if (redisUrl === undefined || redisUrl === '') {
    const demo: DemoStore = { store: new MemoryStore(), label: 'memory (in-process)', close: async () => {} }
    if (env.KEYWARD_SECRET !== undefined) demo.secret = env.KEYWARD_SECRET
    return demo
  }

  const client = new Redis(redisUrl)
  let reported = false
  client.on('error', (error: Error) => {
    // Once per outage: ioredis retries on its own and the store answers 503 meanwhile.
    if (!reported) console.error(`[demo] Redis unreachable (${error.message}); retrying`)
    reported = true
  })
  client.on('ready', () => {
    reported = false
  })

  // A shared store needs a pepper every process agrees on. Without one, make one up for this
  // run and say so: its keys will not verify in another process or after a restart.
  let secret = env.KEYWARD_SECRET
  if (secret === undefined || secret === '') {
    secret = randomBytes(32).toString('base64url')
    console.warn(
      '[demo] KEYWARD_SECRET is not set: generated a random one for this run. Keys created now will not ' +
        'verify in other processes or after a restart; set KEYWARD_SECRET (e.g. `openssl rand -base64 32`) to share them.',
    )
  }
  return {
    store: new RedisStore({ client }),
    secret,
    label: `Redis at ${redact(redisUrl)}`,
    async close() {
      await client.quit().catch(() => client.disconnect())
    },
  }
}

/** The URL without its password, for the banner. */
function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'REDIS_URL'
  }
}
