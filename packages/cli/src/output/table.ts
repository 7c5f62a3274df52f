/**
 * Plain-text tables for a terminal: columns padded to their widest cell, numbers right-aligned,
 * two spaces between columns and no trailing spaces — readable as is, and easy to `grep` or `awk`.
 */

export type Align = 'left' | 'right'

export interface Column {
  header: string
  /** @default 'left' */
  align?: Align
}

/** Width as a terminal shows it: one per code point (keyward prints no wide characters). */
function width(text: string): number {
  let count = 0
  for (const _ of text) count++
  return count
}

function pad(text: string, size: number, align: Align): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)))
  return align === 'right' ? fill + text : text + fill
}

/** Renders a header line and one line per row; every line ends with `\n`. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...rows.map((row) => width(row[index] ?? ''))),
  )
  const line = (cells: readonly string[]) =>
    `${columns
      .map((column, index) => pad(cells[index] ?? '', widths[index] ?? 0, column.align ?? 'left'))
      .join('  ')
      .trimEnd()}\n`
  return line(columns.map((column) => column.header)) + rows.map(line).join('')
}

/** Label/value lines with the values aligned (`keys get`, `owners get`). */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const labelWidth = Math.max(...fields.map(([label]) => width(label)))
  return fields
    .map(([label, value]) => `${`${pad(label, labelWidth, 'left')}  ${value}`.trimEnd()}\n`)
    .join('')
}
