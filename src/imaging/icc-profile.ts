/**
 * Is an embedded ICC profile plain sRGB? sharp converts every image with an embedded profile to
 * sRGB through lcms, which for a 512x512 photo costs 8-10 ms on top of a 5 ms decode. For a
 * profile that describes sRGB itself (the 3 KB "sRGB IEC61966-2.1" written by most editors and
 * cameras' sRGB exports is by far the most common) that conversion is nominally the identity: on
 * all 16.7 M colours it moves 0.28 % of the channel values by one level, rounding and nothing
 * else. decode.ts skips it for such profiles; any other profile (Adobe RGB, Display P3, LUT-based
 * v4 profiles, anything this parser does not follow) is converted as before.
 *
 * The check is colorimetric, not a list of known files: an RGB matrix/TRC profile whose
 * colorants are sRGB's (D50-adapted, as ICC profiles store them) and whose three tone curves
 * follow the sRGB curve, with no lookup-table transforms that lcms would use instead.
 */

/** sRGB's colorants adapted to the D50 connection space, as the ICC's own sRGB profiles give them. */
const SRGB_COLORANTS: Record<string, readonly [number, number, number]> = {
  rXYZ: [0.4360747, 0.2225045, 0.0139322],
  gXYZ: [0.3850649, 0.7168786, 0.0971045],
  bXYZ: [0.1430804, 0.0606169, 0.7141733],
};
/** Colorants stored as s15Fixed16 round to 1.5e-5; editors differ in the 4th decimal at most. */
const COLORANT_TOLERANCE = 1e-3;
/** A quarter of an 8-bit level: the curve cannot move any 8-bit value to a neighbour. */
const CURVE_TOLERANCE = 0.25 / 255;
const TONE_CURVES = ['rTRC', 'gTRC', 'bTRC'] as const;

/** sRGB's encoded value (0-1) to linear light. */
export function srgbToLinear(x: number): number {
  return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
}

/** The sRGB curve at each 8-bit level, where a profile's curves are compared with it. */
const SRGB_LEVELS = Float64Array.from({ length: 256 }, (_, level) => srgbToLinear(level / 255));

interface Tag {
  offset: number;
  size: number;
}

export function isSrgbProfile(icc: Uint8Array | undefined): boolean {
  if (!icc || icc.length < 132) return false;
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const text = (at: number) => String.fromCharCode(icc[at]!, icc[at + 1]!, icc[at + 2]!, icc[at + 3]!);
  if (text(36) !== 'acsp' || text(16) !== 'RGB ' || text(20) !== 'XYZ ') return false;
  const tags = readTags(view, text);
  if (!tags) return false;
  // lcms prefers lookup tables (A2B*, B2A*, D2B*) over the matrix when a profile has them.
  for (const signature of tags.keys()) if (/^(A2B|B2A|D2B|B2D)/.test(signature)) return false;
  for (const [signature, expected] of Object.entries(SRGB_COLORANTS)) {
    const xyz = readXyz(view, text, tags.get(signature));
    if (!xyz || xyz.some((v, i) => Math.abs(v - expected[i]!) > COLORANT_TOLERANCE)) return false;
  }
  return TONE_CURVES.every((signature) => {
    const curve = readCurve(view, text, tags.get(signature));
    if (!curve) return false;
    for (let level = 0; level <= 255; level++) {
      if (!(Math.abs(curve(level / 255) - SRGB_LEVELS[level]!) <= CURVE_TOLERANCE)) return false;
    }
    return true;
  });
}

function readTags(view: DataView, text: (at: number) => string): Map<string, Tag> | undefined {
  const count = view.getUint32(128);
  if (count > 1000 || 132 + count * 12 > view.byteLength) return undefined;
  const tags = new Map<string, Tag>();
  for (let i = 0; i < count; i++) {
    const at = 132 + i * 12;
    const offset = view.getUint32(at + 4);
    const size = view.getUint32(at + 8);
    if (offset + size > view.byteLength || size < 8) return undefined;
    tags.set(text(at), { offset, size });
  }
  return tags;
}

const s15Fixed16 = (view: DataView, at: number) => view.getInt32(at) / 65536;

function readXyz(view: DataView, text: (at: number) => string, tag: Tag | undefined): [number, number, number] | undefined {
  if (!tag || tag.size < 20 || text(tag.offset) !== 'XYZ ') return undefined;
  return [s15Fixed16(view, tag.offset + 8), s15Fixed16(view, tag.offset + 12), s15Fixed16(view, tag.offset + 16)];
}

/** A tone curve (curveType or parametricCurveType) as a function on [0, 1]. */
function readCurve(view: DataView, text: (at: number) => string, tag: Tag | undefined): ((x: number) => number) | undefined {
  if (!tag) return undefined;
  const { offset, size } = tag;
  const type = text(offset);
  if (type === 'curv' && size >= 12) {
    const n = view.getUint32(offset + 8);
    if (size < 12 + 2 * n) return undefined;
    if (n === 0) return (x) => x;
    if (n === 1) {
      const gamma = view.getUint16(offset + 12) / 256;
      return (x) => x ** gamma;
    }
    const entry = (i: number) => view.getUint16(offset + 12 + 2 * i) / 65535;
    return (x) => {
      const p = x * (n - 1);
      const i = Math.min(n - 2, Math.floor(p));
      return entry(i) + (entry(i + 1) - entry(i)) * (p - i);
    };
  }
  if (type === 'para' && size >= 12) {
    const fn = view.getUint16(offset + 8);
    const counts = [1, 3, 4, 5, 7];
    const count = counts[fn];
    if (count === undefined || size < 12 + 4 * count) return undefined;
    const [g = 1, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0] = Array.from({ length: count }, (_, i) => s15Fixed16(view, offset + 12 + 4 * i));
    const power = (x: number) => (x > 0 ? x ** g : 0);
    switch (fn) {
      case 0:
        return (x) => power(x);
      case 1:
        return (x) => (x >= -b / a ? power(a * x + b) : 0);
      case 2:
        return (x) => (x >= -b / a ? power(a * x + b) + c : c);
      case 3:
        return (x) => (x >= d ? power(a * x + b) : c * x);
      default:
        return (x) => (x >= d ? power(a * x + b) + e : c * x + f);
    }
  }
  return undefined;
}
