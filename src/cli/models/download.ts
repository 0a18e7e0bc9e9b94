import { open, rm, stat } from 'node:fs/promises';
import { CliError } from '../shared/cli-main.js';

export interface DownloadOptions {
  url: string;
  /** Where the bytes accumulate; an existing file is resumed with an HTTP Range request. */
  partPath: string;
  /** Expected size in bytes, when the catalog states it. */
  size?: number;
  /** Further attempts after an interrupted transfer, each resuming where the last stopped. */
  retries?: number;
  /** Abort an attempt when no byte arrives for this long. */
  idleTimeoutMs?: number;
  /** A .part left when the retries run out is kept for the next run to resume (false: deleted). */
  resumedByNextRun?: boolean;
  log?: (line: string) => void;
}

export interface DownloadResult {
  bytes: number;
  /** Bytes already in the .part file before this call. */
  resumedFrom: number;
  attempts: number;
}

const sizeOf = async (path: string) => (await stat(path).catch(() => undefined))?.size ?? 0;

/** Loopback only for plain HTTP (tests, local mirrors); anything else must be HTTPS. */
export function checkDownloadUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`download URL "${url}" is not a URL`);
  }
  const loopback = ['localhost', '[::1]'].includes(parsed.hostname) || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && loopback)) return parsed;
  throw new CliError(`download URL ${url} is refused: only https, or http to this machine (loopback)`);
}

class RetryableError extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/**
 * GET with redirects followed by hand, so that every hop is held to the same rule as the first
 * URL (https, or http to this machine) instead of fetch following them anywhere.
 */
async function get(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  let current = url;
  for (let hops = 0; ; hops++) {
    let response: Response;
    try {
      response = await fetch(current, { headers, signal, redirect: 'manual' });
    } catch (cause) {
      throw new RetryableError(`cannot reach ${current}: ${(cause as Error).message}`);
    }
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel();
    if (hops === MAX_REDIRECTS) throw new CliError(`${url}: more than ${MAX_REDIRECTS} redirects`);
    let next: string;
    try {
      next = new URL(location, current).href;
    } catch {
      throw new CliError(`${current} redirects to "${location}", which is not a URL`);
    }
    try {
      checkDownloadUrl(next);
    } catch (error) {
      throw new CliError(`${current} redirects to ${next}, which ${(error as Error).message.replace(/^download URL \S+ /, '')}`);
    }
    current = next;
  }
}

/** One request: appends to the .part file from its current size (or restarts it). */
async function attempt(options: DownloadOptions, log: (line: string) => void): Promise<void> {
  let offset = await sizeOf(options.partPath);
  if (options.size !== undefined && offset > options.size) {
    await rm(options.partPath, { force: true });
    offset = 0;
  }
  if (options.size !== undefined && offset === options.size) return;
  const controller = new AbortController();
  const idle = options.idleTimeoutMs ?? 30_000;
  let timer = setTimeout(() => controller.abort(), idle);
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(), idle);
  };
  try {
    const response = await get(options.url, offset > 0 ? { range: `bytes=${offset}-` } : {}, controller.signal);
    if (response.status === 416 && offset > 0) return; // the .part already holds every byte
    let append = false;
    if (response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
      append = Number(start) === offset;
      if (!append) throw new RetryableError(`server answered the range request from byte ${start ?? '?'} instead of ${offset}`);
      log(`resuming at ${offset} bytes`);
    } else if (response.status === 200) {
      if (offset > 0) log('server ignored the range request; starting again from byte 0');
    } else {
      const message = `GET ${options.url} answered HTTP ${response.status}`;
      if (response.status >= 500 || response.status === 408 || response.status === 429) throw new RetryableError(message);
      throw new CliError(message);
    }
    if (!response.body) throw new RetryableError(`GET ${options.url} returned no body`);
    // Each chunk is written before the next is read, so an interruption keeps every byte received.
    const file = await open(options.partPath, append ? 'a' : 'w');
    try {
      for await (const chunk of response.body) {
        await file.write(chunk);
        rearm();
      }
    } catch (cause) {
      throw new RetryableError(`transfer interrupted at ${(await file.stat()).size} bytes: ${(cause as Error).message}`);
    } finally {
      await file.close();
    }
  } finally {
    clearTimeout(timer);
  }
  const got = await sizeOf(options.partPath);
  if (options.size !== undefined && got < options.size) throw new RetryableError(`transfer ended at ${got} of ${options.size} bytes`);
}

/**
 * Downloads `url` into `partPath`, resuming an earlier partial file with an HTTP Range request
 * and retrying interrupted transfers (each retry resumes). The caller verifies the sha256 and
 * moves the file into place; a partial file is left for the next run to resume.
 */
export async function downloadResumable(options: DownloadOptions): Promise<DownloadResult> {
  checkDownloadUrl(options.url);
  const log = options.log ?? (() => {});
  const resumedFrom = await sizeOf(options.partPath);
  const retries = options.retries ?? 3;
  for (let n = 1; ; n++) {
    try {
      await attempt(options, log);
      const bytes = await sizeOf(options.partPath);
      if (options.size !== undefined && bytes !== options.size) {
        await rm(options.partPath, { force: true });
        throw new CliError(`${options.url} gave ${bytes} bytes, the manifest states ${options.size}; the download was deleted`);
      }
      return { bytes, resumedFrom, attempts: n };
    } catch (error) {
      if (!(error instanceof RetryableError)) throw error;
      if (n > retries) {
        if (options.resumedByNextRun === false) {
          await rm(options.partPath, { force: true });
          throw new CliError(`${error.message}; the partial download was deleted, run the command again`);
        }
        throw new CliError(`${error.message}; ${await sizeOf(options.partPath)} bytes are kept in ${options.partPath}, run the command again to resume`);
      }
      log(`${error.message}; retrying (${n} of ${retries})`);
    }
  }
}
