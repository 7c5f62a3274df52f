/**
 * Real `redis-server` processes for the Redis suites: one node, or a 3-master Redis Cluster, each
 * on a free loopback port with its own temporary directory and persistence off. A server can be
 * stopped or killed and started again on the same port (fault tests). Every process started here
 * is killed when the test process exits, whatever happened to the test.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const HOST = '127.0.0.1'
const run = promisify(execFile)
const running = new Set<ChildProcess>()
const directories = new Set<string>()

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
  for (const directory of directories) rmSync(directory, { recursive: true, force: true })
})

export interface RedisServer {
  readonly host: string
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>
  /** Kills the server (SIGKILL), as a crash would. */
  kill(): Promise<void>
  /** Starts it again on the same port: empty, unless a `SAVE` wrote a snapshot before it went down. */
  start(): Promise<void>
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers — a hung server. */
  pause(): void
  /** Thaws a paused server (SIGCONT). */
  resume(): void
  /** Stops it for good and removes its directory. */
  dispose(): Promise<void>
  /** Runs `redis-cli` against this server and returns its output. */
  cli(...args: string[]): Promise<string>
}

export interface RedisServerOptions {
  port?: number
  /** Extra `redis-server` arguments, e.g. `['--cluster-enabled', 'yes']`. */
  args?: string[]
}

/** A port free on loopback (and, for cluster nodes, its bus port `port + 10000` too). */
export async function freePort(withBusPort = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = withBusPort ? 20_000 + Math.floor(Math.random() * 30_000) : await anyPort()
    if ((await isFree(port)) && (!withBusPort || (await isFree(port + 10_000)))) return port
  }
  throw new Error('no free loopback port found')
}

function anyPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, HOST, () => server.close(() => resolve(true)))
  })
}

/** Resolves once the server answers PING; rejects after `timeoutMs`. */
async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await ping(port)) return
    await sleep(25)
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`)
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1')
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Starts a `redis-server` on a free loopback port (or `options.port`). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort())
  const directory = mkdtempSync(join(tmpdir(), `keyward-redis-${port}-`))
  directories.add(directory)
  let child: ChildProcess | null = null
  let log = ''

  const start = async () => {
    if (child !== null) throw new Error(`redis-server on port ${port} is already running`)
    const args = [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      directory,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
      ...(options.args ?? []),
    ]
    const process_ = spawn('redis-server', args, { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] })
    child = process_
    running.add(process_)
    process_.stdout?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000)
    })
    process_.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000)
    })
    process_.once('exit', () => {
      running.delete(process_)
      if (child === process_) child = null
    })
    try {
      await waitForPing(port)
    } catch (error) {
      process_.kill('SIGKILL')
      throw new Error(`${(error as Error).message}\n${log}`)
    }
  }

  const halt = async (signal: NodeJS.Signals) => {
    const current = child
    if (current === null) return
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()))
    current.kill(signal)
    await exited
  }

  await start()
  const server: RedisServer = {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    async dispose() {
      child?.kill('SIGCONT')
      await halt('SIGKILL')
      rmSync(directory, { recursive: true, force: true })
      directories.delete(directory)
    },
    async cli(...args) {
      const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args])
      return stdout
    },
  }
  return server
}

export interface RedisClusterServers {
  readonly nodes: readonly RedisServer[]
  /** Startup nodes for `new Redis.Cluster(startupNodes)`. */
  readonly startupNodes: { host: string; port: number }[]
  /** Resolves once every node reports `cluster_state:ok` with all slots assigned. */
  waitUntilHealthy(): Promise<void>
  dispose(): Promise<void>
}

/** Starts `masters` cluster-enabled servers, joins them with `redis-cli --cluster create`, waits for `ok`. */
export async function startRedisCluster(masters = 3, args: string[] = []): Promise<RedisClusterServers> {
  const nodes: RedisServer[] = []
  try {
    for (let index = 0; index < masters; index++) {
      nodes.push(
        await startRedisServer({
          port: await freePort(true),
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            '2000',
            ...args,
          ],
        }),
      )
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((node) => `${HOST}:${node.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ])
    await waitForCluster(nodes)
  } catch (error) {
    await Promise.all(nodes.map((node) => node.dispose()))
    throw error
  }
  return {
    nodes,
    startupNodes: nodes.map((node) => ({ host: HOST, port: node.port })),
    waitUntilHealthy: () => waitForCluster(nodes),
    async dispose() {
      await Promise.all(nodes.map((node) => node.dispose()))
    },
  }
}

async function waitForCluster(nodes: readonly RedisServer[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const infos = await Promise.all(nodes.map((node) => node.cli('cluster', 'info').catch(() => '')))
    if (
      infos.every(
        (info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_assigned:16384'),
      )
    ) {
      return
    }
    await sleep(100)
  }
  throw new Error('the Redis cluster did not reach cluster_state:ok with all 16384 slots assigned')
}
