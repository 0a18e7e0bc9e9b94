import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Box, RgbImage } from '../../core/types.js';

/** The parts of @vladmandic/face-api (and its tfjs) the peer benchmark uses. */
interface Tensor {
  dispose(): void;
}
interface FaceDetection {
  score: number;
  box: { x: number; y: number; width: number; height: number };
}
interface FaceApiModule {
  version: string;
  tf: {
    version: Record<string, string>;
    tensor3d(data: Float32Array, shape: [number, number, number], dtype: 'float32'): Tensor;
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    getBackend(): string;
    env(): { getAsync(flag: string): Promise<unknown> };
  };
  nets: {
    ssdMobilenetv1: { loadFromDisk(dir: string): Promise<void> };
    faceRecognitionNet: { loadFromDisk(dir: string): Promise<void>; computeFaceDescriptor(input: Tensor): Promise<Float32Array | Float32Array[]> };
  };
  SsdMobilenetv1Options: new (options: { minConfidence: number; maxResults: number }) => unknown;
  detectAllFaces(input: Tensor, options: unknown): Promise<FaceDetection[]>;
  extractFaceTensors(input: Tensor, detections: FaceDetection[]): Promise<Tensor[]>;
}
interface WasmBackendModule {
  setWasmPaths(prefix: string): void;
}

export interface PeerFace {
  box: Box;
  score: number;
  descriptor: Float32Array;
}

/** face-api on tfjs with the WebAssembly backend, loaded from this checkout's node_modules. */
export class FaceApiPeer {
  private constructor(
    private readonly api: FaceApiModule,
    readonly description: string,
  ) {}

  /** The peer, or the reason it cannot run here (face-api, tfjs or the wasm backend missing). */
  static async load(root: string): Promise<FaceApiPeer | string> {
    const dir = join(root, 'node_modules', '@vladmandic', 'face-api');
    const bundle = join(dir, 'dist', 'face-api.node-wasm.js');
    const wasmDir = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    if (!existsSync(bundle)) return '@vladmandic/face-api is not installed';
    if (!existsSync(wasmDir)) return '@tensorflow/tfjs-backend-wasm (a dev dependency) is not installed';
    const require = createRequire(join(dir, 'package.json'));
    let api: FaceApiModule;
    try {
      // The CommonJS node-wasm bundle is the one that loads in Node without tfjs-node.
      api = require(bundle) as FaceApiModule;
      (require('@tensorflow/tfjs-backend-wasm') as WasmBackendModule).setWasmPaths(`${wasmDir}/`);
    } catch (error) {
      return `face-api or @tensorflow/tfjs could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
    }
    if (!(await api.tf.setBackend('wasm'))) return 'the tfjs wasm backend did not initialise';
    await api.tf.ready();
    const simd = await api.tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await api.tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const models = join(dir, 'model');
    await api.nets.ssdMobilenetv1.loadFromDisk(models);
    await api.nets.faceRecognitionNet.loadFromDisk(models);
    const description = `@vladmandic/face-api ${api.version} on @tensorflow/tfjs ${api.tf.version.tfjs ?? '?'}, backend ${api.tf.getBackend()} (SIMD ${simd ? 'yes' : 'no'}, threads ${threads ? 'yes' : 'no'})`;
    return new FaceApiPeer(api, description);
  }

  /** Switches tfjs to another backend ('cpu' is the pure-JavaScript one); false when it cannot. */
  async useBackend(name: string): Promise<boolean> {
    const ok = await this.api.tf.setBackend(name);
    await this.api.tf.ready();
    return ok && this.api.tf.getBackend() === name;
  }

  private tensorOf(image: RgbImage): Tensor {
    // face-api casts its input to float32 anyway; feeding float32 keeps the uint8 values exact.
    return this.api.tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3], 'float32');
  }

  private async describe(face: Tensor): Promise<Float32Array> {
    const out = await this.api.nets.faceRecognitionNet.computeFaceDescriptor(face);
    return Array.isArray(out) ? out[0]! : out;
  }

  /** Detect (SSD, face-api's defaults) and describe every face, as a face-api user would. */
  async detectAndDescribe(image: RgbImage): Promise<PeerFace[]> {
    const input = this.tensorOf(image);
    try {
      const detections = await this.api.detectAllFaces(input, new this.api.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 }));
      const faces = await this.api.extractFaceTensors(input, detections);
      const out: PeerFace[] = [];
      for (const [i, face] of faces.entries()) {
        try {
          const { x, y, width, height } = detections[i]!.box;
          out.push({ box: [x, y, x + width, y + height], score: detections[i]!.score, descriptor: await this.describe(face) });
        } finally {
          face.dispose();
        }
      }
      return out;
    } finally {
      input.dispose();
    }
  }

  /** The descriptor of a crop exactly as given. */
  async describeCrop(crop: RgbImage): Promise<Float32Array> {
    const input = this.tensorOf(crop);
    try {
      return await this.describe(input);
    } finally {
      input.dispose();
    }
  }
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
