/**
 * Where usage lives in Redis (docs/architecture.md, Usage). Each series has a hash-tag scope of its
 * own — a key's `{u:k:<id>}`, an owner's `{u:o:<sha256(ownerId)>}`, the installation's `{u:all}` —
 * holding its buckets (one hash per bucket: outcome → count, plus `credits`), its applied marker
 * and, for an owner and the installation, the rankings of their keys (one sorted set per metric
 * and bucket). So every write of a batch touches one slot per scope, and a range read or a
 * ranking one slot in all. Key names hold public key ids and hashed owner ids, never a token.
 */
import type { UsageGranularity, UsageMetric, UsageSeries } from '@keyward/core/store'
import { ownerDigest } from './key-layout.ts'

const GRANULARITY_CODE: Readonly<Record<UsageGranularity, string>> = { minute: 'm', hour: 'h', day: 'd' }

export class UsageLayout {
  constructor(private readonly prefix: string) {}

  /** The hash-tagged name every key of a series starts with. */
  scope(series: UsageSeries): string {
    if (series.kind === 'installation') return `${this.prefix}{u:all}`
    if (series.kind === 'owner') return `${this.prefix}{u:o:${ownerDigest(series.id)}}`
    return `${this.prefix}{u:k:${series.id}}`
  }

  /** Where the rankings of a scope live: the installation's for every key, else the owner's. */
  rankingScope(ownerId: string | null): string {
    return this.scope(ownerId === null ? { kind: 'installation' } : { kind: 'owner', id: ownerId })
  }

  /** Hash of one bucket: outcome → count, `credits` → credits spent. */
  bucket(scope: string, granularity: UsageGranularity, start: number): string {
    return `${scope}:${GRANULARITY_CODE[granularity]}:${start}`
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
