/**
 * The built binary on a 3-master Redis Cluster (`--redis-cluster`, startup nodes in --redis-url):
 * the keys it mints verify in a service on the same cluster, and a revoke reaches it.
 */
import { createKeyward, type Keyward } from '@keyward/core'
import { RedisStore } from '@keyward/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cluster } from '../support/ioredis.ts'
import { TEST_SECRET } from '../support/redis-fixtures.ts'
import { freePort, type RedisClusterServers, startRedisCluster } from '../support/redis-server.ts'
import { ensureCliBuilt, keyward, keywardJson } from './cli-binary.ts'

let cluster: RedisClusterServers
let client: Cluster
let service: Keyward
let env: Record<string, string>

beforeAll(async () => {
  await ensureCliBuilt()
  cluster = await startRedisCluster()
  client = new Cluster(cluster.startupNodes)
  client.on('error', () => {})
  service = createKeyward({ secret: TEST_SECRET, store: new RedisStore({ client }) })
  const urls = cluster.startupNodes.slice(0, 2).map(({ host, port }) => `redis://${host}:${port}`)
  env = { KEYWARD_REDIS_URL: urls.join(','), KEYWARD_REDIS_CLUSTER: '1', KEYWARD_SECRET: TEST_SECRET }
}, 240_000)

afterAll(async () => {
  await service?.close()
  client?.disconnect()
  await cluster?.dispose()
})

describe('keyward on a Redis Cluster', { timeout: 180_000 }, () => {
  it('creates, lists and revokes keys that a service on the cluster verifies', async () => {
    const created = await keywardJson<{ key: string; record: { id: string } }>(
      ['keys', 'create', '--owner', 'org_cluster', '--scope', 'orders:read', '--credits', '10'],
      { env },
    )
    expect(await service.verify(created.key, { scopes: 'orders:read' })).toMatchObject({ valid: true })
    const listed = await keywardJson<{ items: { id: string }[] }>(
      ['keys', 'list', '--owner', 'org_cluster'],
      { env },
    )
    expect(listed.items.map((key) => key.id)).toEqual([created.record.id])
    expect((await keyward(['keys', 'revoke', created.record.id], { env })).code).toBe(0)
    // The revoke travels by pub/sub: the service hears it within a hop.
    await expect.poll(async () => (await service.verify(created.key)).valid, { timeout: 5000 }).toBe(false)
  })

  it('needs --redis-cluster for several URLs, and exits 3 when no startup node answers', async () => {
    const several = await keyward(['keys', 'list', '--owner', 'x'], {
      env: { ...env, KEYWARD_REDIS_CLUSTER: undefined },
    })
    expect(several).toMatchObject({ code: 2, stdout: '' })
    expect(several.stderr).toMatch(/^keyward: --redis-url names several servers: add --redis-cluster/)
    const down = `redis://127.0.0.1:${await freePort()}`
    const unreachable = await keyward(['keys', 'list', '--owner', 'x', '--redis-url', down], { env })
    expect(unreachable.code).toBe(3)
    expect(unreachable.stderr).toMatch(/^keyward: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+: /)
    expect(unreachable.stderr.trimEnd().split('\n')).toHaveLength(1)
  })
})
