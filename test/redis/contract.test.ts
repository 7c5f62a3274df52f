import { describeStoreContract } from '@keyward/core/testing'
import { RedisStore } from '@keyward/redis'
import { startTarget } from '../support/redis-fixtures.ts'

for (const targetName of ['single node', 'cluster'] as const) {
  describeStoreContract(`RedisStore on a ${targetName}`, async () => {
    const target = await startTarget(targetName)
    const client = await target.connect()
    const store = new RedisStore({ client })
    return {
      store,
      async teardown() {
        await store.close()
        client.disconnect()
        await target.dispose()
      },
    }
  })
}
