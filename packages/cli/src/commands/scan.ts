/**
 * `keyward scan [paths…]`: finds keyward keys in files before they are committed or shipped — for
 * pre-commit hooks and CI. It prints where each key is and its public id, never the key or its
 * secret, and exits 1 when it found any, so a hook or a pipeline stops there.
 */
import { keyPattern } from '@keyward/core'
import { type Command, Option } from 'commander'
import { collect } from '../arguments.ts'
import { ExitCode, usageError } from '../exit-codes.ts'
import type { CliIo } from '../io.ts'
import { scanPaths } from '../scan/scan-paths.ts'
import { addOutputOptions, type OutputOptions, Printer } from './context.ts'

interface ScanOptions extends OutputOptions {
  prefix?: string[]
  exclude?: string[]
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

export function registerScanCommand(
  program: Command,
  io: CliIo,
  setExitCode: (code: ExitCode) => void,
): void {
  addOutputOptions(
    program
      .command('scan')
      .description('find keyward keys in files (exit 1 when any is found); - reads stdin')
      .argument('[paths...]', 'files and directories to scan, - for stdin', ['.'])
      .addOption(
        new Option('--prefix <prefix>', 'key prefix to look for (repeatable; default kw)')
          .env('KEYWARD_PREFIX')
          .argParser(collect(String)),
      )
      .option(
        '--exclude <path>',
        'a file or directory not to scan, as paths are printed, e.g. test/fixtures (repeatable)',
        collect(String),
      ),
  ).action(async (paths: string[], options: ScanOptions) => {
    const print = new Printer(io, options)
    // KEYWARD_PREFIX arrives as one string through the same parser as a flag: a list either way.
    const prefixes = options.prefix ?? ['kw']
    for (const prefix of prefixes) {
      try {
        keyPattern(prefix)
      } catch {
        throw usageError(`invalid --prefix ${JSON.stringify(prefix)}: 2–12 characters of a-z and 0-9`)
      }
    }
    const report = await scanPaths(paths, {
      prefixes,
      readStdin: () => io.readStdin(),
      ...(options.exclude === undefined ? {} : { exclude: options.exclude }),
    })
    setExitCode(report.findings.length > 0 ? ExitCode.FAILED : ExitCode.OK)
    if (print.json) return print.data(report)
    for (const finding of report.findings) {
      print.text(
        `${finding.file}:${finding.line}:${finding.column}  ${finding.prefix}_${finding.environment} key ${finding.id}`,
      )
    }
    const files = new Set(report.findings.map((finding) => finding.file)).size
    const skipped =
      report.skipped.length === 0
        ? ''
        : `, ${plural(report.skipped.length, 'file')} skipped (binary, too large or unreadable)`
    if (report.findings.length === 0) {
      print.note(`keyward: no keys found in ${plural(report.filesScanned, 'file')}${skipped}`)
    } else {
      print.note(
        `keyward: found ${plural(report.findings.length, 'key')} in ${plural(files, 'file')} (${plural(report.filesScanned, 'file')} scanned${skipped}). ` +
          'Revoke or rotate each (keyward keys revoke <id>) and remove it from the files and their history.',
      )
    }
  })
}
