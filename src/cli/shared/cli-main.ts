import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { checkGalleryName } from '../../gallery/gallery-validation.js';

/** An error whose message is all the user needs (no stack): bad arguments, a locked folder. */
export class CliError extends Error {
  override name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Exit codes shared by the commands (documented in docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** True when this module is the script node was started with (not imported by a test). */
export const isMain = (moduleUrl: string): boolean =>
  process.argv[1] !== undefined && moduleUrl === pathToFileURL(resolve(process.argv[1])).href;

/** Commander set to throw rather than exit, so `runMain` decides the exit code. */
export function newProgram(name: string, description: string): Command {
  return new Command(name).description(description).exitOverride().showHelpAfterError('(add --help for the options)');
}

/** Runs a command's main function and turns what it throws into a message and an exit code. */
export function runMain(main: () => Promise<number>): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof CommanderError) {
        process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
        return;
      }
      if (error instanceof CliError) {
        process.stderr.write(`error: ${error.message}\n`);
        process.exitCode = error.exitCode;
        return;
      }
      const code = (error as { code?: unknown } | null)?.code;
      const message = error instanceof Error ? error.message : String(error);
      // Node's system errors already start with their code ("EEXIST: file already exists, ...").
      const prefix = typeof code === 'string' && !message.startsWith(`${code}:`) ? `${code}: ` : '';
      process.stderr.write(`error: ${prefix}${message}\n`);
      if (process.env.SPOTTER_CLI_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}

/** `reports/<kind>-<gallery>-<timestamp>.<ext>` under the user's folder, unless the user named a file. */
export function defaultReportPath(kind: string, gallery: string, ext: string, started = new Date()): string {
  const stamp = started.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z');
  return userPath(join('reports', `${kind}-${gallery}-${stamp}.${ext}`));
}

/** Written to a temporary name and renamed, so a report is never half-written. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `--gallery NAME`, checked while parsing: the name also makes up report file names. */
export function parseGalleryName(value: string): string {
  try {
    checkGalleryName(value);
  } catch (error) {
    throw new CliError(`--gallery "${value}": ${(error as Error).message}`, EXIT.usage);
  }
  return value;
}

export function parsePositiveInt(name: string, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new CliError(`${name} must be an integer from 1 to ${max}, got "${value}"`, EXIT.usage);
    return n;
  };
}

/**
 * Stops a long run cleanly on the first Ctrl-C / SIGTERM (the caller finishes what is in flight,
 * writes its report and exits 130); a second signal ends the process at once. Everything already
 * stored is committed, so even that loses nothing a rerun cannot redo.
 */
export function interruptSignal(onFirst: () => void): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) endBySignal(signal);
    controller.abort();
    onFirst();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/**
 * Ends the process by `signal` itself, as if it had never been handled: the kernel stops it on
 * the spot (the shell and `npm run` report 130 for SIGINT, 143 for SIGTERM). process.exit would
 * first terminate the inference worker threads, and one stopped in the middle of an onnxruntime
 * call aborts the process (SIGABRT, "terminate called after throwing an instance of
 * 'Napi::Error'") instead of exiting. Nothing in memory needs saving: every enrolment is
 * committed when it is counted.
 */
function endBySignal(signal: NodeJS.Signals): never {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // Only reached if the signal's default action is not to terminate (it was set to be ignored).
  process.exit(EXIT.interrupted);
}

/**
 * A path the user typed: `npm run` starts scripts in the package folder, so relative paths are
 * taken from the folder the user ran npm in (INIT_CWD), as a shell user expects.
 */
export const userPath = (path: string): string => resolve(process.env.INIT_CWD ?? process.cwd(), path);
