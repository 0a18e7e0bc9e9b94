import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../src/gallery/entry-cursor.js';

describe('entry cursor', () => {
  it('round-trips and is url-safe', () => {
    const cursor = encodeCursor(123456);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toBe(123456);
  });

  it.each(['', 'not a cursor', Buffer.from('{"after":-1}').toString('base64url'), Buffer.from('[]').toString('base64url')])(
    'rejects %j with BAD_REQUEST',
    (bad) => {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
    },
  );
});
