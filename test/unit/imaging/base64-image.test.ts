import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/app-error.js';
import { decodeBase64Image } from '../../../src/imaging/decode.js';
import { badBase64Cases } from '../../helpers/bad-images.js';

const png = readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'photos', 'box.png'));
const b64 = png.toString('base64');
const MAX = 1024 * 1024;

function thrown(run: () => unknown): AppError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected an AppError');
}

describe('decodeBase64Image', () => {
  it.each([
    ['plain base64', b64],
    ['a data URL', `data:image/png;base64,${b64}`],
    ['a data URL with upper-case scheme and extra parameters', `DATA:image/png;name=box.png;BASE64,${b64}`],
    ['a data URL without a media type', `data:;base64,${b64}`],
    ['base64 wrapped at 76 columns with CRLF', b64.replace(/.{76}/g, '$&\r\n')],
    ['base64 with spaces, tabs and surrounding newlines', `\n  ${b64.slice(0, 100)} \t${b64.slice(100)}\n`],
    ['base64 broken by a form feed and a lone carriage return', `${b64.slice(0, 50)}\f${b64.slice(50, 120)}\r${b64.slice(120)}`],
  ])('accepts %s', (_name, value) => {
    expect(decodeBase64Image(value, MAX).equals(png)).toBe(true);
  });

  it('accepts unpadded base64 and gives the same bytes', () => {
    const bytes = Buffer.from('abcd');
    expect(bytes.toString('base64')).toBe('YWJjZA==');
    expect(decodeBase64Image('YWJjZA', MAX).equals(bytes)).toBe(true);
    expect(decodeBase64Image('YWJjZA==', MAX).equals(bytes)).toBe(true);
  });

  it('takes exactly maxBytes and refuses one more, before decoding', () => {
    const exact = Buffer.alloc(300, 7).toString('base64');
    expect(decodeBase64Image(exact, 300).length).toBe(300);
    expect(thrown(() => decodeBase64Image(exact, 299)).code).toBe('IMAGE_TOO_LARGE');
    // An oversized string with invalid characters is still refused for its size: size is known first.
    expect(thrown(() => decodeBase64Image('*'.repeat(2000), 1000)).code).toBe('IMAGE_TOO_LARGE');
  });

  it.each(badBase64Cases(MAX).map((c) => [c.name, c] as const))('refuses %s', (_name, c) => {
    const error = thrown(() => decodeBase64Image(c.value, MAX));
    expect([error.code, error.statusCode]).toEqual([c.expectCode, c.expectStatus]);
  });

  it.each([
    ['a character outside the alphabet', 'iVBORw0KGgo*AAAANSUhEUg==', /outside standard base64/],
    ['the URL-safe alphabet (which Buffer would decode)', 'iVBORw0KGgo_AAAANSUhEUg-', /outside standard base64/],
    ['a bad character and a bad length together (the character is named)', 'QUJD*', /outside standard base64/],
    ['a length of 4n+1', 'QUJDR', /wrong length or padding/],
    ['partial padding', 'QQ=', /wrong length or padding/],
    ['non-zero pad bits, padded', 'QUJ=', /byte boundary/],
    ['non-zero pad bits, unpadded', 'QR', /byte boundary/],
  ])('says what is wrong with %s', (_name, value, message) => {
    const error = thrown(() => decodeBase64Image(value, MAX));
    expect(error.code).toBe('IMAGE_BASE64_INVALID');
    expect(error.message).toMatch(message);
  });

  it('validates a 20 MiB string in well under a second', () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 0x5a).toString('base64');
    const started = performance.now();
    expect(decodeBase64Image(big, 21 * 1024 * 1024).length).toBe(20 * 1024 * 1024);
    // Not a timing assertion on the result: a regex that backtracked would take minutes, not this.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
