/**
 * Finds keyward keys in a text: every match of the published scanning regex for each prefix
 * (`keyPattern`, docs/architecture.md "Key format"), kept only when its checksum is right
 * (`parseKey`), so look-alike strings and typos are not reported. A finding carries where the key
 * is and its public id — never its secret.
 */
import { type Environment, keyPattern, parseKey } from '@keyward/core'

export interface KeyFinding {
  /** 1-based line; lines end at `\n`, so CRLF files count like LF ones. */
  line: number
  /** 1-based column of the key's first character. */
  column: number
  /** The key's public id (safe to print and to pass to `keyward keys revoke`). */
  id: string
  prefix: string
  environment: Environment
}

/** Every well-formed key of one of `prefixes` in `text`, in the order they appear. */
export function findKeys(text: string, prefixes: readonly string[]): KeyFinding[] {
  const hits: { index: number; id: string; prefix: string; environment: Environment }[] = []
  for (const prefix of new Set(prefixes)) {
    for (const match of text.matchAll(keyPattern(prefix))) {
      const parsed = parseKey(match[0], prefix)
      if (parsed !== null) {
        hits.push({ index: match.index, id: parsed.id, prefix, environment: parsed.environment })
      }
    }
  }
  hits.sort((a, b) => a.index - b.index)
  // One pass over the text for all hits: line numbers are counted once, not per key.
  const findings: KeyFinding[] = []
  let line = 1
  let lineStart = 0
  let scanned = 0
  for (const { index, ...key } of hits) {
    for (let at = text.indexOf('\n', scanned); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) {
      line++
      lineStart = at + 1
    }
    scanned = index
    findings.push({ line, column: index - lineStart + 1, ...key })
  }
  return findings
}
