import { open } from 'node:fs/promises';
import { AppError } from '../../core/app-error.js';

const MB = 1024 * 1024;
const CHUNK = 1 << 20;

const tooLarge = (size: string, maxBytes: number): AppError =>
  new AppError('IMAGE_TOO_LARGE', `the file is ${size}, more than the limit of ${maxBytes} bytes (${(maxBytes / MB).toFixed(1)} MB, SPOTTER_MAX_IMAGE_BYTES)`);

/**
 * An image file's bytes, refused with IMAGE_TOO_LARGE before it is read when it is over the
 * byte limit the service applies: a batch run must not load a 2 GB file (or four) into memory
 * to find out. At most `maxBytes + 1` bytes are ever read, so a file that grows meanwhile, or a
 * device without a size, is caught too. Errors of the file system keep their `syscall`, so they
 * are reported as READ_FAILED.
 */
export async function readImageFile(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw tooLarge(`${size} bytes`, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // The whole file (and one byte more, to see its end) in one read when its size is known.
      const want = Math.min(maxBytes + 1 - total, Math.max(CHUNK, size - total + 1));
      const buffer = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buffer, 0, want, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(`more than ${maxBytes} bytes`, maxBytes);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}
