export type { RedisClient } from './command-guard.ts'
export { KeyLayout } from './key-layout.ts'
export type { FailMode, RedisStoreOptions } from './options.ts'
export { RedisStore } from './redis-store.ts'
