import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

export interface FileDigest {
  sha256: string;
  bytes: number;
}

const CHUNK = 1 << 20;

/** Hashes in chunks so multi-gigabyte snapshots do not need one buffer. */
function digestFd(fd: number): FileDigest {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  for (;;) {
    const n = readSync(fd, buffer, 0, CHUNK, bytes);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    bytes += n;
  }
  return { sha256: hash.digest('hex'), bytes };
}

export function digestFile(file: string): FileDigest {
  const fd = openSync(file, 'r');
  try {
    return digestFd(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes through a temp file in the same folder, fsyncs it, renames it over `file` and fsyncs
 * the folder, so a crash leaves either the old file or the new one, never a torn one.
 */
export function writeFileAtomically(file: string, write: (tempFile: string) => void): FileDigest {
  const temp = `${file}.tmp-${process.pid}-${Date.now()}`;
  try {
    write(temp);
    const fd = openSync(temp, 'r');
    let digest: FileDigest;
    try {
      digest = digestFd(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    fsyncDir(dirname(file));
    return digest;
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
  fsyncDir(dirname(file));
}
