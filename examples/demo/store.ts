/**
 * Store selection for the demo. For now always the in-memory store (zero setup); a `REDIS_URL`
 * switch to `@keyward/redis` belongs here too, so `server.ts` never changes with the store.
 */
import { type KeyStore, MemoryStore } from '@keyward/core'

export interface DemoStore {
  store: KeyStore
  /** Pepper for key hashes; required by shared stores, optional in memory. */
  secret?: string
  /** Shown in the banner, e.g. `memory`. */
  label: string
  /** Releases what the store opened (connections); keyward.close() closes the store itself. */
  close(): Promise<void>
}

export async function createDemoStore(): Promise<DemoStore> {
  const store = new MemoryStore()
  const demo: DemoStore = { store, label: 'memory (in-process)', close: async () => {} }
  if (process.env.KEYWARD_SECRET !== undefined) demo.secret = process.env.KEYWARD_SECRET
  return demo
}
