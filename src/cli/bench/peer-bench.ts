import { iou } from '../../core/geometry.js';
import { cropImage } from '../../imaging/crop.js';
import { decodeImage, DEFAULT_DECODE_LIMITS } from '../../imaging/decode.js';
import { photoSubset, readPhotos, referencePhoto, type Photo } from './bench-inputs.js';
import { openBenchRuntime, type BenchRuntime } from './bench-runtime.js';
import { interleave, ratio, summarize, timeLoop, type LoopOptions, type Summary } from './bench-stats.js';
import { formatMs, formatRatio } from './bench-table.js';
import { target, type BenchOptions, type SectionResult } from './bench-types.js';
import { cosine, FaceApiPeer, type PeerFace } from './face-api-peer.js';

export interface PeerFigure {
  file: string;
  spotter: Summary;
  faceApi: Summary;
  speedup: number;
  spotterFaces: number;
  faceApiFaces: number;
  /** Cosine of matched faces' descriptors, each side with its own detector and crop. */
  endToEndCosine: number[];
  /** Cosine on the very same crop (Spotter's), isolating the embedder. */
  sameCropCosine: number[];
}

async function agreement(bench: BenchRuntime, peer: FaceApiPeer, photo: Photo) {
  const spotter = await bench.runtime.pipeline.embed(photo.bytes, bench.packName);
  const theirs: PeerFace[] = await peer.detectAndDescribe(photo.image);
  const endToEnd: number[] = [];
  const sameCrop: number[] = [];
  const pack = bench.runtime.pipeline.pack(bench.packName);
  for (const object of spotter.objects) {
    const match = theirs.find((f) => iou(f.box, object.box) >= 0.5);
    if (match) endToEnd.push(cosine(object.vector, match.descriptor));
    const crop = await cropImage(photo.image, object.box);
    const [ours] = await pack.embedder.embed([crop]);
    sameCrop.push(cosine(ours!, await peer.describeCrop(crop)));
  }
  return { spotterFaces: spotter.objects.length, faceApiFaces: theirs.length, endToEnd, sameCrop };
}

/** Spotter (decode, detect, describe) and face-api on the same photo, interleaved; medians and speed-up. */
async function timeBoth(bench: BenchRuntime, peer: FaceApiPeer, photo: Photo, loop: LoopOptions) {
  const samples = await interleave({
    spotter: () => bench.runtime.pipeline.embed(photo.bytes, 'face'),
    faceApi: async () => peer.detectAndDescribe(await decodeImage(photo.bytes, DEFAULT_DECODE_LIMITS)),
  }, loop);
  const spotter = summarize(samples.spotter);
  const faceApi = summarize(samples.faceApi);
  return { spotter, faceApi, speedup: ratio(faceApi.median, spotter.median) };
}

/** Section 5: Spotter's face pack against @vladmandic/face-api on tfjs (wasm) on the same photos. */
export async function runPeerBench(options: BenchOptions): Promise<SectionResult> {
  const base = { id: 'peer' as const, title: '5. Versus the peer: @vladmandic/face-api on tfjs', tables: [], notes: [], targets: [], data: {} };
  if (!options.config.packs.includes('face')) return { ...base, skipped: 'the face pack is not loaded (SPOTTER_PACKS)' };
  const peer = await FaceApiPeer.load(options.root);
  if (typeof peer === 'string') return { ...base, skipped: peer };
  const photos = await readPhotos(options.photosDir);
  const reference = referencePhoto(photos);
  const bench = await openBenchRuntime(options.config, reference, 'face');
  try {
    const figures: PeerFigure[] = [];
    const loop = options.quick ? { warmup: 1, iterations: 3, maxMs: 4_000 } : { warmup: 2, iterations: 10, maxMs: 20_000 };
    for (const photo of photoSubset(photos, reference, options.quick, 2)) {
      const { spotter, faceApi, speedup } = await timeBoth(bench, peer, photo, loop);
      const agree = await agreement(bench, peer, photo);
      figures.push({
        file: photo.file, spotter, faceApi, speedup,
        spotterFaces: agree.spotterFaces, faceApiFaces: agree.faceApiFaces, endToEndCosine: agree.endToEnd, sameCropCosine: agree.sameCrop,
      });
      options.log(`  ${photo.file}: Spotter ${formatMs(spotter.median)} ms, face-api ${formatMs(faceApi.median)} ms`);
    }
    // face-api's wasm backend computes on one thread; Spotter on all of them. The same photo with
    // Spotter held to one thread shows how much of the speed-up is per core and how much is cores.
    let oneThread: ({ file: string } & Awaited<ReturnType<typeof timeBoth>>) | undefined;
    if (options.config.intraOpThreads > 1) {
      const single = await openBenchRuntime({ ...options.config, intraOpThreads: 1, inferenceConcurrency: 1 }, reference, 'face');
      try {
        oneThread = { file: reference.file, ...(await timeBoth(single, peer, reference, loop)) };
        options.log(`  ${reference.file}, Spotter on one thread: ${formatMs(oneThread.spotter.median)} ms, face-api ${formatMs(oneThread.faceApi.median)} ms`);
      } finally {
        await single.dispose();
      }
    }
    // For scale: the pure-JavaScript tfjs backend, face-api's fallback without wasm (seconds per image).
    let cpuBackend: { file: string; faceApi: Summary; speedup: number } | undefined;
    if (!options.quick && (await peer.useBackend('cpu'))) {
      const faceApi = summarize(await timeLoop(() => peer.detectAndDescribe(reference.image), { warmup: 1, iterations: 3, maxMs: 30_000 }));
      const ours = figures.find((f) => f.file === reference.file)?.spotter.median;
      cpuBackend = { file: reference.file, faceApi, speedup: ratio(faceApi.median, ours) };
    }
    const spotterMs = figures.reduce((a, f) => a + f.spotter.median, 0);
    const faceApiMs = figures.reduce((a, f) => a + f.faceApi.median, 0);
    const endToEnd = figures.flatMap((f) => f.endToEndCosine);
    const sameCrop = figures.flatMap((f) => f.sameCropCosine);
    const min = (list: number[]) => (list.length ? Math.min(...list) : Number.NaN);
    const cos = (list: number[]) => (list.length ? list.map((c) => c.toFixed(6)).join(', ') : '-');
    const rows = figures.map((f) => [
      f.file, `${f.spotterFaces} / ${f.faceApiFaces}`, formatMs(f.spotter.median), formatMs(f.spotter.p90), formatMs(f.faceApi.median), formatMs(f.faceApi.p90),
      formatRatio(f.speedup), cos(f.endToEndCosine), cos(f.sameCropCosine),
    ]);
    rows.push(['all (sum of medians)', '', formatMs(spotterMs), '', formatMs(faceApiMs), '', formatRatio(ratio(faceApiMs, spotterMs)), '', '']);
    return {
      ...base,
      tables: [{
        caption: 'time per image for decode + detect + describe every face (ms), interleaved; faces found by Spotter / face-api',
        table: { headers: ['photo', 'faces', 'Spotter', 'Spotter p90', 'face-api', 'face-api p90', 'speed-up', 'cosine (own detector and crop)', 'cosine (same crop)'], rows },
      }],
      notes: [
        `end to end (each with its own detector and crop) the lowest cosine is ${Number.isFinite(min(endToEnd)) ? min(endToEnd).toFixed(6) : '-'}: the boxes agree to a fraction of a pixel, but face-api floors x, y, width and height when it cuts the face while Spotter rounds the box outwards, so the crops differ by a row or column`,
        `peer: ${peer.description}; SSD MobileNetV1 (minConfidence 0.5) + FaceRecognitionNet on each detected box (extractFaceTensors), no landmarks, the same work as Spotter's face pack`,
        ...(cpuBackend ? [`for scale, face-api on tfjs's pure-JavaScript 'cpu' backend: ${formatMs(cpuBackend.faceApi.median)} ms for ${cpuBackend.file}, ${formatRatio(cpuBackend.speedup)} Spotter's time`] : []),
        `Spotter: pipeline.embed of the bootstrap wiring, onnxruntime intra-op threads ${options.config.intraOpThreads}; both decode with the same sharp decoder`,
        ...(oneThread
          ? [`per core: with onnxruntime held to one intra-op thread (face-api's wasm backend runs on one), Spotter takes ${formatMs(oneThread.spotter.median)} ms for ${oneThread.file} against face-api's ${formatMs(oneThread.faceApi.median)} ms, ${formatRatio(oneThread.speedup)} faster; the rest of the speed-up above comes from using all ${options.config.intraOpThreads} threads`]
          : []),
      ],
      targets: [
        target('face pack speed-up over face-api (tfjs wasm)', ratio(faceApiMs, spotterMs), 'min', 10),
        target('descriptor agreement with face-api on the same face crop, min cosine', min(sameCrop), 'min', 0.999, ''),
      ],
      data: { peer: peer.description, figures, oneThread, cpuBackend, spotterMs, faceApiMs, speedup: ratio(faceApiMs, spotterMs), minEndToEndCosine: min(endToEnd), minSameCropCosine: min(sameCrop) },
    };
  } finally {
    await bench.dispose();
  }
}
