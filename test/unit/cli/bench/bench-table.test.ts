import { describe, expect, it } from 'vitest';
import { formatBytes, formatMarkdownTable, formatMs, formatNumber, formatRatio, formatTable } from '../../../../src/cli/bench/bench-table.js';
import { targetTable } from '../../../../src/cli/bench/bench-report.js';
import { target } from '../../../../src/cli/bench/bench-types.js';

describe('number formats', () => {
  it('formats milliseconds with precision that suits their size', () => {
    expect(formatMs(0.12345)).toBe('0.123');
    expect(formatMs(12.345)).toBe('12.3');
    expect(formatMs(123.45)).toBe('123');
    expect(formatMs(-0.5)).toBe('-0.500');
    expect(formatMs(undefined)).toBe('-');
    expect(formatMs(Number.NaN)).toBe('-');
  });

  it('formats ratios, counts and sizes', () => {
    expect(formatRatio(1.0749)).toBe('1.07x');
    expect(formatRatio(Number.NaN)).toBe('-');
    expect(formatNumber(1234567.8)).toBe('1,234,568');
    expect(formatNumber(12.345, 2)).toBe('12.35');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(3 * 2 ** 30)).toBe('3.0 GB');
  });
});

describe('formatTable', () => {
  it('pads columns, right-aligns numeric ones and keeps text left', () => {
    const text = formatTable({ headers: ['model', 'ms', 'ratio'], rows: [['ssd', '61.2', '1.07x'], ['tiny-face', '9.8', '-']] });
    expect(text.split('\n')).toEqual([
      'model        ms  ratio',
      '---------  ----  -----',
      'ssd        61.2  1.07x',
      'tiny-face   9.8      -',
    ]);
  });

  it('prints missing cells as "-" and treats empty cells as neutral for alignment', () => {
    const text = formatTable({ headers: ['a', 'n'], rows: [['x', 1], ['total', ''], [undefined, null]] });
    expect(text.split('\n')).toEqual(['a      n', '-----  -', 'x      1', 'total', '-      -']);
  });
});

describe('formatMarkdownTable', () => {
  it('writes a GitHub table with alignment markers and escaped pipes', () => {
    const md = formatMarkdownTable({ headers: ['name', 'ms'], rows: [['a|b', 1.5], ['c', 2]] });
    expect(md.split('\n')).toEqual(['| name | ms |', '| --- | ---: |', '| a\\|b | 1.5 |', '| c | 2 |']);
  });
});

describe('targets', () => {
  it('passes or fails by kind, and a NaN measurement never passes', () => {
    expect(target('latency', 1.1, 'max', 1.15).pass).toBe(true);
    expect(target('latency', 1.2, 'max', 1.15).pass).toBe(false);
    expect(target('throughput', 0.9, 'min', 0.85).pass).toBe(true);
    expect(target('throughput', Number.NaN, 'min', 0.85).pass).toBe(false);
  });

  it('tabulates measured values against their limits', () => {
    const table = targetTable([target('recall', 0.991, 'min', 0.98, ''), target('p50', 0.42, 'max', 1, 'ms'), target('speed-up', 8.5, 'min', 10)]);
    expect(table.rows).toEqual([
      ['recall', '0.991', '>= 0.98', 'met'],
      ['p50', '0.420 ms', '<= 1 ms', 'met'],
      ['speed-up', '8.50x', '>= 10x', 'missed'],
    ]);
  });
});
