/**
 * Walks files and directories for `keyward scan`: recursively, in name order, without following
 * symbolic links or entering `.git`, `node_modules` or excluded paths; binary files (a NUL byte in their first
 * 8000 bytes, git's own test) and files over a size limit are skipped and reported as skipped,
 * unreadable ones too. `-` stands for standard input.
 */
import type { Dirent } from 'node:fs'
import { lstat, readdir, readFile, stat } from 'node:fs/promises'
import { join, normalize } from 'node:path'
import { usageError } from '../exit-codes.ts'
import { findKeys, type KeyFinding } from './find-keys.ts'

/** Directories never entered during a walk (a path named explicitly is still scanned). */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set(['.git', 'node_modules', '.hg', '.svn'])

/** Files larger than this are skipped (and reported): a key scanner must not exhaust memory. */
export const MAX_FILE_BYTES: number = 64 * 1024 * 1024

const BINARY_SNIFF_BYTES = 8000

/** The label findings from standard input carry. */
export const STDIN_LABEL = '<stdin>'

export interface FileFinding extends KeyFinding {
  /** The path as reached from the argument (`src/config.ts`), or `<stdin>`. */
  file: string
}

export interface SkippedFile {
  file: string
  reason: 'binary' | 'too-large' | 'unreadable'
}

export interface ScanReport {
  findings: FileFinding[]
  /** Files whose text was searched. */
  filesScanned: number
  skipped: SkippedFile[]
}

export interface ScanOptions {
  prefixes: readonly string[]
  /** Reads all of standard input (for the path `-`). */
  readStdin: () => Promise<Buffer>
  /** @default MAX_FILE_BYTES */
  maxFileBytes?: number
  /** Files and directories never scanned, as paths are printed (`test/fixtures`, `docs/example.md`). */
  exclude?: readonly string[]
}

/** Scans `paths` (files, directories, `-`) for keys of `options.prefixes`. */
export async function scanPaths(paths: readonly string[], options: ScanOptions): Promise<ScanReport> {
  const report: ScanReport = { findings: [], filesScanned: 0, skipped: [] }
  const maxFileBytes = options.maxFileBytes ?? MAX_FILE_BYTES
  const excluded = new Set((options.exclude ?? []).map((path) => normalize(path).replace(/\/+$/, '')))

  const scanContent = (file: string, content: Buffer) => {
    if (content.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      report.skipped.push({ file, reason: 'binary' })
      return
    }
    report.filesScanned++
    for (const finding of findKeys(content.toString('utf8'), options.prefixes)) {
      report.findings.push({ file, ...finding })
    }
  }

  const scanFile = async (file: string, size: number) => {
    if (size > maxFileBytes) {
      report.skipped.push({ file, reason: 'too-large' })
      return
    }
    let content: Buffer
    try {
      content = await readFile(file)
    } catch {
      report.skipped.push({ file, reason: 'unreadable' })
      return
    }
    scanContent(file, content)
  }

  const walk = async (directory: string) => {
    let entries: Dirent[]
    try {
      entries = await readdir(directory, { withFileTypes: true })
    } catch {
      report.skipped.push({ file: directory, reason: 'unreadable' })
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const path = join(directory, entry.name)
      if (excluded.has(path)) continue
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) await walk(path)
      } else if (entry.isFile()) {
        const info = await lstat(path).catch(() => null)
        if (info === null) report.skipped.push({ file: path, reason: 'unreadable' })
        else await scanFile(path, info.size)
      }
      // Symbolic links, sockets and devices are not followed: what a link points to is scanned
      // only where it lies inside the paths given, and a loop cannot start.
    }
  }

  for (const path of paths) {
    if (path === '-') {
      scanContent(STDIN_LABEL, await options.readStdin())
      continue
    }
    if (excluded.has(normalize(path).replace(/\/+$/, ''))) continue
    const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
      throw usageError(
        `cannot scan ${JSON.stringify(path)}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.code}`,
      )
    })
    if (info.isDirectory()) await walk(path)
    else await scanFile(path, info.size)
  }
  return report
}
