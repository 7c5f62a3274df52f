// @keyward/cli — the `keyward` binary, and the pieces a tool may call without spawning it.
export { formatDuration, parseDuration, parseRate, parseRefill } from './arguments.ts'
export { CliError, ExitCode } from './exit-codes.ts'
export { type CliIo, processIo } from './io.ts'
export { run } from './program.ts'
export { findKeys, type KeyFinding } from './scan/find-keys.ts'
export {
  type FileFinding,
  type ScanOptions,
  type ScanReport,
  type SkippedFile,
  scanPaths,
} from './scan/scan-paths.ts'
