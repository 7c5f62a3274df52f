/**
 * A TCP proxy on loopback between one client and a real server, for cutting that client off while
 * others still reach the server: `cut()` closes its connections and refuses new ones (the client
 * sees the server go away), `blackhole()` keeps them open but forwards nothing (a network
 * partition: the client sees nothing at all), `restore()` ends either. Every byte is forwarded
 * untouched otherwise; nothing about the protocol is faked.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'

const HOST = '127.0.0.1'

export interface TcpProxy {
  readonly host: string
  readonly port: number
  /** Closes every open connection and refuses new ones until `restore()`. */
  cut(): void
  /** Holds every byte in both directions (connections stay open) until `restore()`. */
  blackhole(): void
  /** Forwards again: new connections are accepted, held bytes flow. */
  restore(): void
  close(): Promise<void>
}

type Mode = 'open' | 'cut' | 'blackhole'

/** Starts a proxy on a free loopback port that forwards to `targetPort` on loopback. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: Mode = 'open'
  const pairs = new Set<[Socket, Socket]>()

  const server: Server = createServer((inbound) => {
    if (mode === 'cut') {
      inbound.destroy()
      return
    }
    const outbound = connect({ host: HOST, port: targetPort })
    const pair: [Socket, Socket] = [inbound, outbound]
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      inbound.destroy()
      outbound.destroy()
    }
    inbound.on('error', end).on('close', end)
    outbound.on('error', end).on('close', end)
    inbound.pipe(outbound)
    outbound.pipe(inbound)
    if (mode === 'blackhole') hold(pair)
  })
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0

  function hold([inbound, outbound]: [Socket, Socket]): void {
    inbound.unpipe(outbound)
    outbound.unpipe(inbound)
    inbound.pause()
    outbound.pause()
  }

  return {
    host: HOST,
    port,
    cut() {
      mode = 'cut'
      for (const [inbound, outbound] of pairs) {
        inbound.destroy()
        outbound.destroy()
      }
      pairs.clear()
    },
    blackhole() {
      mode = 'blackhole'
      for (const pair of pairs) hold(pair)
    },
    restore() {
      const wasHolding = mode === 'blackhole'
      mode = 'open'
      if (!wasHolding) return
      for (const [inbound, outbound] of pairs) {
        inbound.pipe(outbound)
        outbound.pipe(inbound)
      }
    },
    close() {
      for (const [inbound, outbound] of pairs) {
        inbound.destroy()
        outbound.destroy()
      }
      pairs.clear()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
