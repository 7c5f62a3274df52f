/**
 * Prometheus and OpenTelemetry are optional: an application that uses neither does not install
 * them. Core's manifest lists them as optional peers only, and a process where they cannot be
 * resolved runs keyward — keys, verify, usage, abuse signals — without noticing; only the two
 * metrics entries need them.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const root = new URL('../..', import.meta.url).pathname
const manifest = JSON.parse(readFileSync(`${root}packages/core/package.json`, 'utf8')) as Record<
  string,
  Record<string, unknown>
>
const PEERS = ['prom-client', '@opentelemetry/api']

describe('optional metrics peers', () => {
  it.each(PEERS)('%s is an optional peer of @keyward/core, never a dependency', (name) => {
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain(name)
    expect(Object.keys(manifest.peerDependencies ?? {})).toContain(name)
    expect(manifest.peerDependenciesMeta?.[name]).toEqual({ optional: true })
  })

  it('runs @keyward/core in a process where neither can be resolved', () => {
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        './test/metrics/fixtures/forbid-optional-peers.mjs',
        'test/metrics/fixtures/core-without-peers.ts',
      ],
      { cwd: root, encoding: 'utf8', timeout: 60_000 },
    )
    expect(child.stderr).toBe('')
    expect(child.status).toBe(0)
    const { valid, entries } = JSON.parse(child.stdout.trim()) as {
      valid: boolean
      entries: Record<string, string>
    }
    expect(valid).toBe(true)
    // The hooks work: the metrics entries, which do need the peers, are refused.
    expect(entries['@keyward/core/prometheus']).toContain('FORBIDDEN_PEER prom-client')
    expect(entries['@keyward/core/opentelemetry']).toContain('FORBIDDEN_PEER @opentelemetry/api')
  })
})
