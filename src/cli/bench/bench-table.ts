/** Plain-text and Markdown tables for the benchmark report. */

export type Cell = string | number | undefined | null;

export interface Table {
  headers: string[];
  rows: Cell[][];
}

/** Milliseconds with precision that suits their size: 0.123, 12.3, 123. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (Math.abs(ms) < 1) return ms.toFixed(3);
  if (Math.abs(ms) < 100) return ms.toFixed(1);
  return ms.toFixed(0);
}

/** A ratio as "1.07x". */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(2)}x`;
}

/** Rates and counts with thousands separators and sensible decimals. */
export function formatNumber(value: number | undefined, decimals = 1): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  const fixed = Math.abs(value) >= 1000 ? Math.round(value) : Number(value.toFixed(decimals));
  return fixed.toLocaleString('en-US', { maximumFractionDigits: decimals });
}

export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

const text = (cell: Cell): string => (cell === undefined || cell === null ? '-' : String(cell));
/** Numbers and numeric-looking strings ("12.3", "1.07x", "4 MB") align right. */
const numeric = (cell: Cell): boolean => typeof cell === 'number' || /^[-+]?[\d.,]+(x| ?[KMGT]?B| ms| %)?$/.test(text(cell));
/** Cells that say nothing about a column's kind: empty, or '-' for a missing value. */
const blank = (cell: Cell): boolean => text(cell) === '-' || text(cell) === '';

/** Columns padded to their widest cell; numeric columns right-aligned. */
export function formatTable(table: Table): string {
  const { headers, rows } = table;
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => text(r[c]).length)));
  const rightAligned = headers.map((_, c) => rows.length > 0 && rows.every((r) => numeric(r[c]) || blank(r[c])));
  const line = (cells: Cell[]) =>
    cells
      .map((cell, c) => (rightAligned[c] ? text(cell).padStart(widths[c]!) : text(cell).padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table as GitHub Markdown. Pipes inside cells are escaped. */
export function formatMarkdownTable(table: Table): string {
  const escape = (cell: Cell) => text(cell).replace(/\|/g, '\\|');
  const rightAligned = table.headers.map((_, c) => table.rows.length > 0 && table.rows.every((r) => numeric(r[c]) || blank(r[c])));
  return [
    `| ${table.headers.map(escape).join(' | ')} |`,
    `| ${rightAligned.map((right) => (right ? '---:' : '---')).join(' | ')} |`,
    ...table.rows.map((r) => `| ${table.headers.map((_, c) => escape(r[c])).join(' | ')} |`),
  ].join('\n');
}
