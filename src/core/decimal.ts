/**
 * A plain decimal number written as text (multipart fields, query strings), else NaN.
 * Number() alone would also read "" and " " as 0, "0x10" as 16 and "Infinity" as a number.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export function parseDecimal(text: string): number {
  const trimmed = text.trim();
  return DECIMAL.test(trimmed) ? Number(trimmed) : Number.NaN;
}
