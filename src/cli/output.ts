/** Prints command results: `-o json` (default), `jsonc`, `tsv`, `table` or `none`. */
export type OutputFormat = 'json' | 'jsonc' | 'tsv' | 'table' | 'none';

export function printResult(value: unknown, format: OutputFormat): void {
  if (value === undefined || format === 'none') return;
  if (format === 'json' || format === 'jsonc') {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    return;
  }
  const rows = Array.isArray(value) ? value : [value];
  const scalarRows = rows.map((row) =>
    row !== null && typeof row === 'object'
      ? Object.values(row as Record<string, unknown>).filter((cell) => cell === null || typeof cell !== 'object')
      : [row],
  );
  if (format === 'tsv') {
    for (const row of scalarRows) process.stdout.write(`${row.map((cell) => String(cell ?? '')).join('\t')}\n`);
    return;
  }
  const headers =
    rows[0] !== null && typeof rows[0] === 'object'
      ? Object.entries(rows[0] as Record<string, unknown>).filter(([, cell]) => cell === null || typeof cell !== 'object').map(([key]) => key)
      : ['Result'];
  const table = [headers, ...scalarRows.map((row) => row.map((cell) => String(cell ?? '')))];
  const widths = headers.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`${line(table[0] ?? [])}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const row of table.slice(1)) process.stdout.write(`${line(row)}\n`);
}
