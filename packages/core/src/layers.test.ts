/**
 * Keeps core's layers honest (docs/architecture.md, "Layers"): a module may import from its own
 * layer or a lower one, never from a higher one.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = dirname(fileURLToPath(import.meta.url))

/** Layer of each module, lowest first; a folder stands for every module in it. */
const LAYERS: readonly (readonly string[])[] = [
  [
    'errors.ts',
    'validation.ts',
    'verify-codes.ts',
    'key-format.ts',
    'hashing.ts',
    'scopes.ts',
    'networks.ts',
    'linked-map.ts',
    'serial-runs.ts',
  ],
  ['types.ts', 'credits.ts', 'policies.ts', 'records.ts', 'usage/usage-model.ts', 'abuse/abuse-model.ts'],
  ['store/'],
  ['events.ts', 'keyward/', 'usage/', 'guard/', 'abuse/'],
  ['http/', 'metrics/'],
  ['index.ts', 'adapter.ts', 'store.ts', 'testing.ts', 'testing/', 'prometheus.ts', 'opentelemetry.ts'],
]

function layerOf(module: string): number {
  const index = LAYERS.findIndex((layer) =>
    layer.some((entry) => (entry.endsWith('/') ? module.startsWith(entry) : module === entry)),
  )
  if (index === -1) throw new Error(`${module} is in no layer: add it to LAYERS and docs/architecture.md`)
  return index
}

function sources(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') && !/\.test(-d)?\.ts$/.test(entry.name) ? [path] : []
  })
}

describe('core layers', () => {
  const modules = sources(root).map((path) => relative(root, path))

  it.each(modules)('%s imports nothing from a higher layer', (module) => {
    const text = readFileSync(join(root, module), 'utf8')
    const imports = [...text.matchAll(/from '(\.[^']+)'/g)].map((match) =>
      relative(root, resolve(dirname(join(root, module)), match[1] as string)),
    )
    const upward = imports.filter((target) => layerOf(target) > layerOf(module))
    expect(upward).toEqual([])
  })
})
