import { describeStoreContract } from '../testing/store-contract.ts'
import { MemoryStore } from './memory-store.ts'

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore()
  return { store, teardown: () => store.close() }
})
