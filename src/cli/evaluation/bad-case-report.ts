import { resolve } from 'node:path';
import type { QueryRecord } from './evaluation-run.js';
import type { EvaluationMetrics } from './evaluation-summary.js';
import type { OperatingPoint } from './metrics.js';
import type { GalleryView } from './query-engine.js';
import { entryThumbnail, imageThumbnail } from './thumbnails.js';

export interface BadCaseReportInput {
  gallery: GalleryView;
  metrics: EvaluationMetrics;
  sweepRows: OperatingPoint[];
  records: QueryRecord[];
  /** Folder the gallery entries' `source` paths are relative to; null when unknown. */
  galleryRoot: string | null;
  generatedAt: string;
}

export type BadCaseKind = 'false accept' | 'wrong label' | 'below threshold' | 'no subject found';

/** Why a query is wrong, in the words the report uses. */
export function badCaseKind(r: QueryRecord): BadCaseKind | null {
  if (r.correct || (r.status !== 'ok' && r.status !== 'noSubject')) return null;
  if (r.expected === null) return 'false accept';
  if (r.status === 'noSubject') return 'no subject found';
  return r.predicted === null ? 'below threshold' : 'wrong label';
}

const KIND_ORDER: BadCaseKind[] = ['wrong label', 'false accept', 'below threshold', 'no subject found'];
const KIND_HELP: Record<BadCaseKind, string> = {
  'wrong label': 'given another item\'s label: enrol more views of the true item, or check both labels',
  'false accept': 'not enrolled, yet labelled: raise the threshold, or enrol this item under its own label',
  'below threshold': 'the gallery held the item but the best similarity was below the threshold: enrol views like this one, or lower the threshold',
  'no subject found': 'the detector found nothing to compare: the item is too small, cut off or unlike what the pack detects',
};
const MAX_CASES = 1000;
const QUERY_SIDE = 240;
const NEIGHBOUR_SIDE = 96;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const f3 = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(3));
const labelText = (l: string | null): string => (l === null ? '<em>unknown</em>' : esc(l));

/** A self-contained HTML page (inline CSS, data: URI thumbnails, inline SVG boxes, no script). */
export async function renderBadCaseReport(input: BadCaseReportInput): Promise<string> {
  const { metrics, gallery } = input;
  const cases = input.records
    .map((r) => ({ r, kind: badCaseKind(r) }))
    .filter((c): c is { r: QueryRecord; kind: BadCaseKind } => c.kind !== null)
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const cache = new Map<string, Promise<string | null>>();
  const neighbourUri = (entryId: string): Promise<string | null> => {
    let uri = cache.get(entryId);
    if (!uri) {
      const entry = gallery.entries.get(entryId);
      uri = entry?.source && input.galleryRoot ? entryThumbnail(resolve(input.galleryRoot, entry.source), entry.imageSha256, entry.box, NEIGHBOUR_SIDE) : Promise.resolve(null);
      cache.set(entryId, uri);
    }
    return uri;
  };

  const sections: string[] = [];
  for (const { r, kind } of cases.slice(0, MAX_CASES)) sections.push(await caseHtml(r, kind, neighbourUri));
  const broken = input.records.filter((r) => r.status === 'unreadable' || r.status === 'failed');
  const q = metrics.queries;
  const counts = KIND_ORDER.map((k) => `${esc(k)}: ${cases.filter((c) => c.kind === k).length}`).join(' &middot; ');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad cases: gallery ${esc(gallery.name)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}
td.l,th.l{text-align:left}.case{border:1px solid #ddd;border-radius:6px;padding:12px;margin:12px 0;display:flex;gap:16px;flex-wrap:wrap}
.shot{position:relative;flex:none}.shot img,.shot svg{position:absolute;left:0;top:0}.kind{font-weight:600;text-transform:uppercase;font-size:12px;color:#a00}
.facts div{margin:2px 0}.nbrs{display:flex;gap:8px;flex-wrap:wrap}.nbr{width:${NEIGHBOUR_SIDE + 8}px;font-size:12px;text-align:center}
.nbr img,.nbr .none{width:${NEIGHBOUR_SIDE}px;height:${NEIGHBOUR_SIDE}px;object-fit:contain;border:3px solid #bbb;background:#eee;display:block;margin:auto}
.nbr.hit img,.nbr.hit .none{border-color:#2a2}.none{line-height:${NEIGHBOUR_SIDE}px;color:#888}.muted{color:#777}
</style></head><body>
<h1>Bad cases of gallery &ldquo;${esc(gallery.name)}&rdquo;</h1>
<p class="muted">Pack ${esc(gallery.pack)}, ${gallery.entries.size} entries. Generated ${esc(input.generatedAt)}.
A query is wrong when its prediction at threshold ${metrics.threshold.toFixed(4)} differs from its true label
(the nearest entry's label when its similarity reaches the threshold, else unknown).</p>
<table><tr><th class="l">queries</th><td>${q.evaluated} (${q.known} known, ${q.unknown} unknown, ${q.noSubject} without a subject)${q.unreadable + q.failed > 0 ? `; left out: ${q.unreadable + q.failed} unreadable or failed` : ''}</td></tr>
<tr><th class="l">recall@1 / recall@5 / mAP@${metrics.depth}</th><td>${f3(metrics.recallAt1)} / ${f3(metrics.recallAt5)} / ${f3(metrics.mAP)}</td></tr>
<tr><th class="l">accuracy / precision / recall / F1</th><td>${f3(metrics.atThreshold.accuracy)} / ${f3(metrics.atThreshold.precision)} / ${f3(metrics.atThreshold.recall)} / ${f3(metrics.atThreshold.f1)}</td></tr>
<tr><th class="l">unknown rejection</th><td>${f3(metrics.unknownRejectionRate)}</td></tr>
<tr><th class="l">suggested threshold</th><td>${metrics.suggested ? `${metrics.suggested.threshold.toFixed(4)} (${esc(metrics.suggested.objective)} ${f3(metrics.suggested.objective === 'f1' ? metrics.suggested.point.f1 : metrics.suggested.point.accuracy)})` : '-'}</td></tr></table>
${sweepTable(input.sweepRows)}
<h2>${cases.length} wrong ${cases.length === 1 ? 'query' : 'queries'}</h2>
<p>${counts}</p>
${cases.length > MAX_CASES ? `<p>The first ${MAX_CASES} are shown; the JSON report lists all.</p>` : ''}
${sections.join('\n')}
${broken.length > 0 ? `<h2>${broken.length} unreadable or failed ${broken.length === 1 ? 'query' : 'queries'}</h2><table><tr><th class="l">file</th><th class="l">code</th><th class="l">reason</th></tr>${broken.map((r) => `<tr><td class="l">${esc(r.source)}</td><td class="l">${esc(r.code ?? '')}</td><td class="l">${esc(r.reason ?? '')}</td></tr>`).join('')}</table>` : ''}
</body></html>
`;
}

function sweepTable(rows: OperatingPoint[]): string {
  if (rows.length === 0) return '';
  const body = rows.map((r) => `<tr><td>${r.threshold.toFixed(4)}</td><td>${f3(r.accuracy)}</td><td>${f3(r.precision)}</td><td>${f3(r.recall)}</td><td>${f3(r.f1)}</td><td>${f3(r.unknownRejectionRate)}</td></tr>`).join('');
  return `<table><tr><th>threshold</th><th>accuracy</th><th>precision</th><th>recall</th><th>F1</th><th>unknown rejected</th></tr>${body}</table>`;
}

async function caseHtml(r: QueryRecord, kind: BadCaseKind, neighbourUri: (id: string) => Promise<string | null>): Promise<string> {
  const thumb = await imageThumbnail(r.path, QUERY_SIDE);
  let shot = `<div class="shot none" style="width:${QUERY_SIDE}px;height:${QUERY_SIDE}px">image not readable</div>`;
  if (thumb) {
    const scale = Math.min(1, QUERY_SIDE / Math.max(thumb.width, thumb.height));
    const w = Math.round(thumb.width * scale);
    const h = Math.round(thumb.height * scale);
    // The first box is the query's subject; the others were detected but not compared.
    const rects = (r.boxes ?? [])
      .map(({ box: [x1, y1, x2, y2], score }, i) =>
        `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${i === 0 ? '#e00' : '#fc0'}" stroke-width="${i === 0 ? 3 : 2}"${i === 0 ? '' : ' stroke-dasharray="6 4"'} vector-effect="non-scaling-stroke"><title>score ${score.toFixed(3)}</title></rect>`)
      .join('');
    shot = `<div class="shot" style="width:${w}px;height:${h}px"><img src="${thumb.uri}" width="${w}" height="${h}" alt=""><svg viewBox="0 0 ${thumb.width} ${thumb.height}" width="${w}" height="${h}" preserveAspectRatio="none">${rects}</svg></div>`;
  }
  const nbrs: string[] = [];
  for (const n of r.neighbours) {
    const uri = await neighbourUri(n.entryId);
    const img = uri ? `<img src="${uri}" alt="">` : '<div class="none">no image</div>';
    nbrs.push(`<div class="nbr${n.label === r.expected ? ' hit' : ''}" title="${esc(n.source ?? n.entryId)}">${img}<div>${esc(n.label)}</div><div>${n.similarity.toFixed(4)}</div></div>`);
  }
  const top = r.neighbours[0];
  return `<div class="case">${shot}<div class="facts">
<div class="kind">${esc(kind)}</div><div class="muted">${esc(KIND_HELP[kind])}</div>
<div><b>${esc(r.source)}</b></div>
<div>true: ${labelText(r.expected)}${r.label !== null && r.expected === null ? ` <span class="muted">(listed as ${esc(r.label)}, which the gallery does not hold)</span>` : ''}</div>
<div>predicted: ${labelText(r.predicted)}${top ? ` <span class="muted">(nearest ${esc(top.label)} at ${top.similarity.toFixed(4)})</span>` : ''}</div>
<div class="muted">${r.boxes?.length ?? 0} subject(s) detected${r.labelRank ? `; true label at rank ${r.labelRank}` : ''}${r.averagePrecision !== null ? `; AP ${r.averagePrecision.toFixed(3)}` : ''}</div>
${nbrs.length > 0 ? `<div>top ${nbrs.length} gallery neighbours (green: true label)</div><div class="nbrs">${nbrs.join('')}</div>` : ''}
</div></div>`;
}
