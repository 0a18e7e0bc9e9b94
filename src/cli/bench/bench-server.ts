import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A port nobody listens on at the moment (loopback only). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * The built server (dist/server.js) as its own process on 127.0.0.1, started the way the README
 * starts it, with the caller's environment (thread settings) plus a private data folder.
 */
export async function startServerProcess(root: string, env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const entry = join(root, 'dist', 'server.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing; run npm run build first`);
  const port = await freePort();
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && k !== 'SPOTTER_API_KEY')) as Record<string, string>;
  const child = spawn(process.execPath, [entry], {
    cwd: root,
    env: { ...inherited, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return { child, url, output: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`server not ready after ${timeoutMs} ms:\n${output}`);
}

export interface LoadResult {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latency: { p50: number; p90: number; p99: number; mean: number; max: number };
  errors: number;
  non2xx: number;
}

interface AutocannonJson {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

/** A request body for autocannon: an image file as a multipart part named `image`, or a text body. */
export type LoadBody = { kind: 'multipart'; imageFile: string } | { kind: 'text'; file: string; contentType: string };

function bodyArgs(body: LoadBody): string[] {
  // autocannon reads -i files as UTF-8, which would mangle image bytes; its -F form reads files as bytes.
  if (body.kind === 'multipart') return ['-F', JSON.stringify({ image: { type: 'file', path: body.imageFile } })];
  return ['-H', `content-type=${body.contentType}`, '-i', body.file];
}

/** autocannon as a separate process (a load generator should not share the measured process). */
export async function runAutocannon(root: string, url: string, body: LoadBody, connections: number, seconds: number): Promise<LoadResult> {
  const cli = join(root, 'node_modules', 'autocannon', 'autocannon.js');
  const args = [cli, '-j', '-n', '-c', String(connections), '-d', String(seconds), '-m', 'POST', ...bodyArgs(body), '-t', '60', url];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  if (code !== 0) throw new Error(`autocannon exited with ${code}: ${stderr.slice(-2000)}`);
  const json = JSON.parse(stdout) as AutocannonJson;
  return {
    connections,
    seconds: json.duration,
    requests: json['2xx'],
    requestsPerSecond: json['2xx'] / json.duration,
    latency: { p50: json.latency.p50, p90: json.latency.p90, p99: json.latency.p99, mean: json.latency.average, max: json.latency.max },
    errors: json.errors + json.timeouts,
    non2xx: json.non2xx,
  };
}
