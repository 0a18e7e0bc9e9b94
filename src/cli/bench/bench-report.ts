import type { MachineInfo, ThreadSettings } from './bench-machine.js';
import { describeMachine } from './bench-machine.js';
import { formatMarkdownTable, formatTable, type Table } from './bench-table.js';
import type { SectionResult, TargetResult } from './bench-types.js';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  argv: string[];
  machine: MachineInfo;
  threads: ThreadSettings;
  loadAverageAtEnd: number[];
  sections: SectionResult[];
  targets: TargetResult[];
}

export function targetTable(targets: readonly TargetResult[]): Table {
  return {
    headers: ['target', 'measured', 'limit', 'result'],
    rows: targets.map((t) => [
      t.name,
      `${t.measured.toFixed(t.unit === 'x' ? 2 : 3)}${t.unit === 'x' ? 'x' : ` ${t.unit}`}`.trim(),
      `${t.kind === 'max' ? '<=' : '>='} ${t.limit}${t.unit === 'x' ? 'x' : ` ${t.unit}`}`.trim(),
      t.pass ? 'met' : 'missed',
    ]),
  };
}

/** The text printed for one section as soon as it finishes. */
export function sectionText(section: SectionResult): string {
  const lines = [`== ${section.title}`];
  if (section.skipped) lines.push(`skipped: ${section.skipped}`);
  for (const { caption, table } of section.tables) {
    if (caption) lines.push(caption);
    lines.push(formatTable(table), '');
  }
  for (const note of section.notes) lines.push(`- ${note}`);
  if (section.targets.length > 0) lines.push(formatTable(targetTable(section.targets)));
  const load = section.loadAverage;
  if (load) lines.push(`load average at start ${load.start.join(', ')}, at end ${load.end.join(', ')}; ${section.seconds?.toFixed(0) ?? '?'} s`);
  return lines.join('\n');
}

/** The whole run as Markdown: machine, every table, the targets. */
export function markdownReport(report: BenchReport): string {
  const lines = [
    `Run of ${report.startedAt} (${report.mode} mode, \`${['npm run bench --', ...report.argv].join(' ')}\`).`,
    '',
    ...describeMachine(report.machine, report.threads).map((l) => `- ${l}`),
    `- load average at the end: ${report.loadAverageAtEnd.join(', ')}`,
    '',
  ];
  for (const section of report.sections) {
    lines.push(`### ${section.title}`, '');
    if (section.skipped) lines.push(`Skipped: ${section.skipped}`, '');
    for (const { caption, table } of section.tables) {
      if (caption) lines.push(`${caption[0]!.toUpperCase()}${caption.slice(1)}:`, '');
      lines.push(formatMarkdownTable(table), '');
    }
    for (const note of section.notes) lines.push(`- ${note}`);
    if (section.notes.length > 0) lines.push('');
    if (section.loadAverage) lines.push(`Load average ${section.loadAverage.start.join(', ')} at the start, ${section.loadAverage.end.join(', ')} at the end; ${section.seconds?.toFixed(0) ?? '?'} s.`, '');
  }
  if (report.targets.length > 0) lines.push('### Targets', '', formatMarkdownTable(targetTable(report.targets)), '');
  return lines.join('\n');
}
