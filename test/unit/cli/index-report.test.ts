import { describe, expect, it } from 'vitest';
import { summaryText, type IndexReport } from '../../../src/cli/indexing/index-report.js';

const report = (over: Partial<IndexReport>): IndexReport => ({
  command: 'index',
  gallery: 'people',
  pack: 'face',
  mode: 'offline',
  target: '/data',
  input: { dir: '/photos' },
  replace: false,
  startedAt: '2026-01-01T12:00:00.000Z',
  finishedAt: '2026-01-01T12:00:02.000Z',
  seconds: 2,
  imagesPerSecond: 2,
  total: 10,
  processed: 4,
  interrupted: true,
  counts: { enrolled: 4, duplicate: 0, noSubject: 0, unreadable: 0, failed: 0 },
  galleryAfter: { entries: 4, labels: 1 },
  failures: [],
  duplicates: [],
  ...over,
});

describe('index summary', () => {
  it('an interrupted run says to run the same command again', () => {
    expect(summaryText(report({}), '/r.json')).toMatch(/^Interrupted after 4 of 10 images; run the same command again to continue\.\n/);
  });

  it('an interrupted --replace run says to rerun without --replace, which would delete what it enrolled', () => {
    expect(summaryText(report({ replace: true }), '/r.json')).toMatch(/^Interrupted after 4 of 10 images; run the same command without --replace again to continue\.\n/);
  });

  it('says "1 image", and the headline is the sum of the counts', () => {
    const done = report({ interrupted: false, total: 1, processed: 1, counts: { enrolled: 1, duplicate: 0, noSubject: 0, unreadable: 0, failed: 0 } });
    expect(summaryText(done, '/r.json')).toMatch(/^Indexed 1 image into gallery "people"/);
    const withProblems = report({ interrupted: false, total: 13, processed: 13, counts: { enrolled: 9, duplicate: 0, noSubject: 0, unreadable: 2, failed: 2 } });
    expect(summaryText(withProblems, '/r.json')).toMatch(/^Indexed 13 images into gallery/);
  });
});
