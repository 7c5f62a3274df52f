/**
 * What the verify pipeline tells abuse monitoring, aggregated in process until the next flush
 * (docs/architecture.md, "Abuse signals"): per minute and key id, the requests of the key (secret
 * matched, key usable), the wrong secrets presented with its id, and the client networks it was
 * used from. Recording is synchronous and touches no store: a `Map` lookup and a counter bump,
 * plus — for a client address — a memoised address-to-network lookup and a `Set` insert.
 *
 * Memory is bounded: at most `maxKeys` key entries between two flushes (observations of further
 * keys are dropped and counted), at most `networkCap` networks per entry (enough to decide the
 * threshold: a process that saw that many has seen enough), and `MEMO_SIZE` remembered addresses.
 */
import { parseCidr, parseIp } from '../networks.ts'
import { MINUTE_MS } from './abuse-model.ts'

/** One key's observations in one minute. */
export interface KeyObservation {
  ownerId: string
  /** When the key was created, epoch ms: a key younger than a spike's baseline has none yet. */
  createdAt: number
  /** Requests with the key's secret, the key usable. */
  requests: number
  /** Requests with the key's id and a wrong secret. */
  wrongSecrets: number
  /** Client networks the key was used from; `null` until the first. */
  networks: Set<string> | null
}

/** Observations per minute start, then per key id. */
export type ObservedMinutes = Map<number, Map<string, KeyObservation>>

export interface NetworkGrouping {
  ipv4Prefix: number
  ipv6Prefix: number
  /** Most networks kept per key and minute. */
  cap: number
}

/** Client addresses whose network is remembered: clients repeat, and parsing is the costly part. */
const MEMO_SIZE = 4096

export class AbuseObservations {
  private minutes: ObservedMinutes = new Map()
  private currentMinute = Number.NaN
  private current = new Map<string, KeyObservation>()
  private keys = 0
  private readonly memo = new Map<string, string | null>()
  /** Observations dropped because `maxKeys` entries were held. */
  dropped = 0

  constructor(
    private readonly maxKeys: number,
    private readonly grouping: NetworkGrouping | null,
  ) {}

  /** Key entries held. */
  get size(): number {
    return this.keys
  }

  /** A request of `keyId` with its secret, from `address` (when known). */
  used(keyId: string, ownerId: string, createdAt: number, address: string | undefined, at: number): void {
    const observation = this.entry(keyId, ownerId, createdAt, at)
    if (observation === null) return
    observation.requests++
    if (address === undefined || this.grouping === null) return
    const network = this.networkOf(address, this.grouping)
    if (network === null) return
    let networks = observation.networks
    if (networks === null) {
      networks = new Set()
      observation.networks = networks
    }
    if (networks.size < this.grouping.cap) networks.add(network)
  }

  /** A request with `keyId`, a known id, and a secret that did not match. */
  wrongSecret(keyId: string, ownerId: string, createdAt: number, at: number): void {
    const observation = this.entry(keyId, ownerId, createdAt, at)
    if (observation !== null) observation.wrongSecrets++
  }

  /** Everything observed since the last call, and a fresh start. */
  take(): ObservedMinutes {
    const taken = this.minutes
    this.minutes = new Map()
    this.currentMinute = Number.NaN
    this.current = new Map()
    this.keys = 0
    return taken
  }

  private entry(keyId: string, ownerId: string, createdAt: number, at: number): KeyObservation | null {
    let entries = this.current
    if (!(at >= this.currentMinute && at < this.currentMinute + MINUTE_MS)) entries = this.useMinute(at)
    const found = entries.get(keyId)
    if (found !== undefined) return found
    if (this.keys >= this.maxKeys) {
      this.dropped++
      return null
    }
    const created: KeyObservation = { ownerId, createdAt, requests: 0, wrongSecrets: 0, networks: null }
    entries.set(keyId, created)
    this.keys++
    return created
  }

  private useMinute(at: number): Map<string, KeyObservation> {
    const minute = Math.floor(at / MINUTE_MS) * MINUTE_MS
    let entries = this.minutes.get(minute)
    if (entries === undefined) {
      entries = new Map()
      this.minutes.set(minute, entries)
    }
    this.currentMinute = minute
    this.current = entries
    return entries
  }

  private networkOf(address: string, grouping: NetworkGrouping): string | null {
    let network = this.memo.get(address)
    if (network !== undefined) return network
    network = clientNetworkOf(address, grouping.ipv4Prefix, grouping.ipv6Prefix)
    if (this.memo.size >= MEMO_SIZE) this.memo.clear()
    this.memo.set(address, network)
    return network
  }
}

/**
 * The network a client address is counted under: its `/ipv4Prefix` or `/ipv6Prefix`, canonical
 * (`203.0.113.0/24`, `2001:db8:1:2::/64`); an IPv4-mapped IPv6 address counts as its IPv4 address.
 * `null` when it is not an IP address.
 */
export function clientNetworkOf(address: string, ipv4Prefix: number, ipv6Prefix: number): string | null {
  const parsed = parseIp(address)
  if (parsed === null) return null
  // A mapped address's prefix counts the 96 bits of ::ffff: in front of the IPv4 address.
  const bits = parsed.version === 6 ? ipv6Prefix : ipv4Prefix + (address.includes(':') ? 96 : 0)
  return parseCidr(`${address}/${bits}`)?.text ?? null
}
