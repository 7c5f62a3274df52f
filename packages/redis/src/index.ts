export type { RedisClient } from './command-guard.ts'
export { KeyLayout } from './key-layout.ts'
export { type FailMode, RedisStore, type RedisStoreOptions } from './redis-store.ts'
