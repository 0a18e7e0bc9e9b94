import { AppError } from '../core/app-error.js';

/** Paging cursors are opaque to clients; inside they hold the last rowid of the page. */
export function encodeCursor(afterId: number): string {
  return Buffer.from(JSON.stringify({ after: afterId }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    after = undefined;
  }
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) {
    throw new AppError('BAD_REQUEST', 'The paging cursor is not one this service issued.');
  }
  return after;
}
