import { describe, expect, it } from 'vitest';
import { MAX_METADATA_DEPTH, validBox, validLabel, validMetadata } from '../../../src/http/request-input.js';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('validLabel', () => {
  it('accepts printable Unicode, normalised to NFC', () => {
    expect(validLabel('Cafe\u0301 😀', 200)).toBe('Café 😀');
  });

  it('refuses C0, DEL and C1 control characters', () => {
    for (const c of ['\u0000', '\u001b', '\u007f', '\u0085', '\u009b', '\u009f']) {
      expect(code(() => validLabel(`a${c}b`, 200)), JSON.stringify(c)).toBe('INVALID_LABEL');
    }
    expect(validLabel('a\u00a0b', 200)).toBe('a\u00a0b');
  });

  it('refuses lone surrogates, which UTF-8 cannot store', () => {
    for (const s of ['a\ud800b', 'a\udc00', '\ud83d']) expect(code(() => validLabel(s, 200))).toBe('INVALID_LABEL');
  });
});

describe('validMetadata', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
    return v;
  };

  it(`accepts objects nested up to ${MAX_METADATA_DEPTH} deep and refuses deeper ones without recursing`, () => {
    expect(validMetadata({ a: nested(MAX_METADATA_DEPTH - 1) }, 1 << 20)).not.toBeNull();
    expect(code(() => validMetadata({ a: nested(MAX_METADATA_DEPTH) }, 1 << 20))).toBe('INVALID_METADATA');
    const deep = `{"a":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    expect(code(() => validMetadata(deep, 1 << 20))).toBe('INVALID_METADATA');
  });
});

describe('validBox', () => {
  it('reads JSON arrays and comma lists of decimal numbers', () => {
    expect(validBox('[1, 2, 30, 40]')).toEqual([1, 2, 30, 40]);
    expect(validBox(' 1.5, 2 ,30e0, 40 ')).toEqual([1.5, 2, 30, 40]);
  });

  it('refuses empty, hexadecimal and other non-decimal coordinates', () => {
    for (const text of ['1,,3,4', '0x10,0,100,100', '1,2,3,', 'a,b,c,d', '1,2,3,Infinity']) {
      expect(code(() => validBox(text)), text).toBe('INVALID_BOX');
    }
  });
});
