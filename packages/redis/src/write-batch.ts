/**
 * Charges sent in one turn of the event loop leave in one socket write. Under load a server reads
 * many requests per turn (one per ready connection), and each charge's `EVALSHA` was its own
 * `write` on the client's socket: on loopback the kernel delivers it to redis-server inside that
 * call, so the write cost the server more than the request's own response (~20 % of its CPU under
 * `perf record`, strict Redis; BENCHMARKS.md). The first charge of a turn corks the socket and the
 * end of the turn's I/O (`setImmediate`) uncorks it, as ioredis' `enableAutoPipelining` batches,
 * without its pipeline objects and their second promise per command. Commands keep their order
 * and each still gets its own reply, so nothing else changes; a request waits at most for the rest
 * of the turn. Other commands sent on the same client in that turn (the application's own, if it
 * shares the client) join the same write.
 *
 * Only a single-node client is corked: a Cluster client writes to one socket per node, which it
 * does not expose, so its commands are sent as they come.
 */
import type { RedisClient } from './command-guard.ts'

/** The part of a socket this uses (a `net.Socket` or a `tls.TLSSocket`). */
interface Corkable {
  cork(): void
  uncork(): void
  readonly writable: boolean
}

export class WriteBatch {
  /** The socket corked for this turn, if any. */
  private corked: Corkable | null = null
  private readonly release = (): void => {
    const socket = this.corked
    this.corked = null
    socket?.uncork()
  }

  constructor(private readonly client: RedisClient) {}

  /** Called just before a command is sent: holds this turn's writes until the turn's I/O is done. */
  hold(): void {
    if (this.corked !== null || this.client.isCluster) return
    const socket = (this.client as { stream?: Corkable }).stream
    if (socket === undefined || !socket.writable) return
    socket.cork()
    this.corked = socket
    setImmediate(this.release)
  }
}
