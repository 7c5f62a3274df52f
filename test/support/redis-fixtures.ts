/**
 * Shared set-up for the Redis suites: ioredis clients on the servers of `redis-server.ts`, a
 * pepper, and a target list so a suite runs once on a single node and once on the cluster.
 * Clients reconnect quickly (fault tests restart servers) and always carry an `error` listener.
 */

import type { VerifyResult } from '@keyward/core'
import type { RedisStore } from '@keyward/redis'
import { Cluster, Redis } from './ioredis.ts'
import {
  type RedisClusterServers,
  type RedisServer,
  sleep,
  startRedisCluster,
  startRedisServer,
} from './redis-server.ts'

export const TEST_SECRET = 'test-pepper-0123456789abcdefghijklmnopqrstuvwxyz'

export type RedisTargetName = 'single node' | 'cluster'

export interface RedisTarget {
  readonly name: RedisTargetName
  /** `host:port` of every node, comma-separated (for a child process to connect). */
  readonly addresses: string
  /** A new client (the caller quits it). */
  connect(): Promise<Redis | Cluster>
  /** Every key on every node. */
  allKeys(): Promise<string[]>
  /** The value of any key, as redis-cli would show it, for leak scans. */
  dump(key: string): Promise<string>
  /** `SCRIPT FLUSH` on every node: the server forgets every Lua script, as after a restart. */
  flushScripts(): Promise<void>
  dispose(): Promise<void>
}

const reconnectFast = (times: number) => Math.min(times * 20, 200)

export function singleNodeClient(server: RedisServer): Redis {
  const client = new Redis({
    port: server.port,
    host: server.host,
    retryStrategy: reconnectFast,
    lazyConnect: true,
  })
  client.on('error', () => {})
  return client
}

export async function startTarget(name: RedisTargetName): Promise<RedisTarget> {
  if (name === 'single node') {
    const server = await startRedisServer()
    return targetFor(
      name,
      [server],
      async () => {
        const client = singleNodeClient(server)
        await client.connect()
        return client
      },
      () => server.dispose(),
    )
  }
  const cluster: RedisClusterServers = await startRedisCluster(3)
  return targetFor(
    name,
    cluster.nodes,
    async () => {
      const client = new Cluster(cluster.startupNodes, {
        clusterRetryStrategy: reconnectFast,
        lazyConnect: true,
      })
      client.on('error', () => {})
      await client.connect()
      return client
    },
    () => cluster.dispose(),
  )
}

function targetFor(
  name: RedisTargetName,
  nodes: readonly RedisServer[],
  connect: () => Promise<Redis | Cluster>,
  dispose: () => Promise<void>,
): RedisTarget {
  return {
    name,
    addresses: nodes.map((node) => `${node.host}:${node.port}`).join(','),
    connect,
    async allKeys() {
      const keys: string[] = []
      for (const node of nodes) {
        const output = await node.cli('--scan')
        keys.push(...output.split('\n').filter((line) => line.length > 0))
      }
      return keys
    },
    async dump(key) {
      const node = nodes.length === 1 ? nodes[0]! : await nodeOf(nodes, key)
      const type = (await node.cli('type', key)).trim()
      const read: Record<string, string[]> = {
        string: ['get', key],
        hash: ['hgetall', key],
        zset: ['zrange', key, '0', '-1', 'withscores'],
        list: ['lrange', key, '0', '-1'],
        set: ['smembers', key],
      }
      const command = read[type]
      return command === undefined ? `<${type}>` : await node.cli(...command)
    },
    async flushScripts() {
      for (const node of nodes) await node.cli('script', 'flush')
    },
    dispose,
  }
}

async function nodeOf(nodes: readonly RedisServer[], key: string): Promise<RedisServer> {
  for (const node of nodes) {
    if ((await node.cli('exists', key)).trim() === '1') return node
  }
  throw new Error(`key ${key} is on no node`)
}

/** Whether a store's pub/sub subscription is up (a private flag: tests only). */
export function subscribed(store: RedisStore): boolean {
  return (store as unknown as { subscribed: boolean }).subscribed
}

/** Polls `condition` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await condition()) return
    await sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

export const codeOf = (result: VerifyResult): string => (result.valid ? 'VALID' : result.code)

/**
 * Commands `client` sends while `run` awaits — counted at the client, so each is one round trip
 * (pipelines aside). The client's own `sendCommand` is wrapped for the duration, then restored.
 */
export async function commandsSentDuring(
  client: Redis | Cluster,
  run: () => Promise<unknown>,
): Promise<number> {
  const counted = client as unknown as { sendCommand: (...args: unknown[]) => unknown }
  const send = counted.sendCommand.bind(counted)
  let sent = 0
  counted.sendCommand = (...args: unknown[]) => {
    sent++
    return send(...args)
  }
  try {
    await run()
  } finally {
    counted.sendCommand = send
  }
  return sent
}

/** What `socketWritesDuring` counts on: the stream methods Node's `Writable` hands data to. */
type CountedSocket = { _write: (...args: unknown[]) => unknown; _writev: (...args: unknown[]) => unknown }

/** The text a write handed to `_write` (a chunk) or `_writev` (a list of chunks) carries. */
function writtenText(args: unknown[], vectored: boolean): string {
  const chunks = vectored ? (args[0] as { chunk: unknown }[]).map(({ chunk }) => chunk) : [args[0]]
  return chunks
    .map((chunk) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('latin1')))
    .join('')
}

/**
 * Writes on the client's sockets (every node's, on a cluster) while `run` awaits that carry
 * `carrying` (a script's SHA-1, say): each `_write` or `_writev` call is one write to the kernel,
 * however many commands it carries. Writes without it — the client's and the store's own
 * background commands, which may fall in the window — are not counted. The sockets' own methods
 * are wrapped for the duration, then restored; the data is written as usual.
 */
export async function socketWritesDuring(
  client: Redis | Cluster,
  carrying: string,
  run: () => Promise<unknown>,
): Promise<number> {
  // A cluster connects to a node on its first command to it: count the nodes it is connected to.
  const sockets = (client.isCluster ? (client as Cluster).nodes() : [client as Redis])
    .filter((node) => node.stream !== undefined)
    .map((node) => node.stream as unknown as CountedSocket)
  let writes = 0
  const originals = sockets.map((socket) => {
    const { _write: write, _writev: writev } = socket
    socket._write = (...args) => {
      if (writtenText(args, false).includes(carrying)) writes++
      return write.apply(socket, args)
    }
    socket._writev = (...args) => {
      if (writtenText(args, true).includes(carrying)) writes++
      return writev.apply(socket, args)
    }
    return { socket, write, writev }
  })
  try {
    await run()
  } finally {
    for (const { socket, write, writev } of originals) {
      socket._write = write
      socket._writev = writev
    }
  }
  return writes
}
