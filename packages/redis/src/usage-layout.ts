/**
 * Where usage lives in Redis (docs/architecture.md, Usage). Every series lives in a hash-tag scope
 * — an owner's `{u:o:<sha256(ownerId)>}`, the installation's `{u:all}`, and for keys one of
 * `KEY_SHARDS` shared scopes `{u:k:<shard>}` picked by the key id — holding its buckets (one hash
 * per bucket: outcome → count, plus `credits`), the scope's applied marker and, for an owner and
 * the installation, the rankings of their keys (one sorted set per metric and bucket). A batch
 * writes each scope with one script call (so a few dozen calls for thousands of keys); a range
 * read or a ranking touches one slot. Key names hold public key ids and hashed owner ids only.
 */
import type { UsageGranularity, UsageMetric, UsageSeries } from '@keyward/core/store'
import { hashSlot } from './cluster-slots.ts'
import { ownerDigest } from './key-layout.ts'

/** Scopes key series are spread over: enough to spread a cluster, few enough to batch well. */
export const KEY_SHARDS = 64

const GRANULARITY_CODE: Readonly<Record<UsageGranularity, string>> = { minute: 'm', hour: 'h', day: 'd' }

export class UsageLayout {
  constructor(private readonly prefix: string) {}

  /** The hash-tagged scope a series lives in (shared by many keys' series). */
  scope(series: UsageSeries): string {
    if (series.kind === 'installation') return `${this.prefix}{u:all}`
    if (series.kind === 'owner') return `${this.prefix}{u:o:${ownerDigest(series.id)}}`
    return `${this.prefix}{u:k:${hashSlot(series.id) % KEY_SHARDS}}`
  }

  /** Where the rankings of a scope live: the installation's for every key, else the owner's. */
  rankingScope(ownerId: string | null): string {
    return this.scope(ownerId === null ? { kind: 'installation' } : { kind: 'owner', id: ownerId })
  }

  /** Hash of one bucket of a series: outcome → count, `credits` → credits spent. */
  bucket(series: UsageSeries, granularity: UsageGranularity, start: number): string {
    const name = series.kind === 'key' ? `${this.scope(series)}:${series.id}` : this.scope(series)
    return `${name}:${GRANULARITY_CODE[granularity]}:${start}`
  }

  /** Sorted set of one bucket's keys, scored by `metric`. */
  ranking(scope: string, metric: UsageMetric, granularity: UsageGranularity, start: number): string {
    return `${scope}:top:${metric}:${GRANULARITY_CODE[granularity]}:${start}`
  }

  /** Scratch set a ranking sums into (deleted by the same script). */
  scratch(scope: string, metric: UsageMetric): string {
    return `${scope}:top:${metric}:sum`
  }

  /** Hash origin → highest batch sequence applied to this scope. */
  applied(scope: string): string {
    return `${scope}:applied`
  }

  /** Hash key id → last use, epoch ms. */
  lastUsed(): string {
    return `${this.prefix}{u:last}`
  }

  /** The stream sink: one entry per verification. */
  stream(): string {
    return `${this.prefix}usage`
  }

  /** The stream's applied marker; its hash tag is the stream's whole name, so both share a slot. */
  streamApplied(): string {
    return `{${this.stream()}}:applied`
  }
}
