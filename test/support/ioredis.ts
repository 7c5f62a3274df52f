/**
 * The ioredis the Redis suites run on: ioredis 5 (the `ioredis` devDependency) by default, ioredis 6
 * (`ioredis6`, an npm alias of `ioredis@^6`) with `KEYWARD_IOREDIS=6` — `@keyward/redis` supports
 * both majors and CI runs the suites on each (`pnpm test:redis:ioredis6`). Processes the suites
 * spawn inherit the variable and so pick the same major. Types stay ioredis 5's, the ones
 * packages/redis is type-checked against (`tsconfig.ioredis6.json` checks it against 6).
 */
import { createRequire } from 'node:module'
import * as ioredis5 from 'ioredis'
import * as ioredis6 from 'ioredis6'

const wanted = process.env.KEYWARD_IOREDIS ?? '5'
if (wanted !== '5' && wanted !== '6') throw new Error(`KEYWARD_IOREDIS must be 5 or 6, not ${wanted}`)

const chosen = (wanted === '6' ? ioredis6 : ioredis5) as unknown as typeof ioredis5
const packageName = wanted === '6' ? 'ioredis6' : 'ioredis'

/** The version the suites really run on (a guard against the alias resolving elsewhere). */
export const IOREDIS_VERSION: string = createRequire(import.meta.url)(`${packageName}/package.json`).version
if (!IOREDIS_VERSION.startsWith(`${wanted}.`)) {
  throw new Error(`KEYWARD_IOREDIS=${wanted} but ${packageName} is ${IOREDIS_VERSION}`)
}

export const Redis = chosen.Redis
export type Redis = ioredis5.Redis
export const Cluster = chosen.Cluster
export type Cluster = ioredis5.Cluster
