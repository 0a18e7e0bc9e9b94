import { readFileSync } from 'node:fs';
import { arch, availableParallelism, cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/config.js';

export interface MachineInfo {
  cpuModel: string;
  logicalCores: number;
  availableParallelism: number;
  memoryGiB: number;
  freeMemoryGiB: number;
  os: string;
  node: string;
  onnxruntime: string;
  loadAverage: number[];
}

export interface ThreadSettings {
  intraOpThreads: number;
  interOpThreads: number;
  inferenceConcurrency: number;
  /** libuv's pool, where sharp runs its decodes. */
  uvThreadpoolSize: string;
  /** libvips threads per image; sharp's default depends on the allocator (1 on glibc without jemalloc). */
  vipsConcurrency: string;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

function packageVersion(root: string, name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function machineInfo(root: string): MachineInfo {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    logicalCores: list.length,
    availableParallelism: availableParallelism(),
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
    onnxruntime: packageVersion(root, 'onnxruntime-node'),
    loadAverage: loadAverage(),
  };
}

export function threadSettings(config: Config, env: NodeJS.ProcessEnv = process.env): ThreadSettings {
  return {
    intraOpThreads: config.intraOpThreads,
    interOpThreads: config.interOpThreads,
    inferenceConcurrency: config.inferenceConcurrency,
    uvThreadpoolSize: env.UV_THREADPOOL_SIZE ?? '4 (default)',
    vipsConcurrency: env.VIPS_CONCURRENCY ?? 'sharp default',
  };
}

/** 1, 5 and 15 minute load averages, rounded. */
export function loadAverage(): number[] {
  return loadavg().map((v) => round(v));
}

export function describeMachine(machine: MachineInfo, threads: ThreadSettings): string[] {
  return [
    `machine: ${machine.cpuModel}, ${machine.logicalCores} logical cores (available parallelism ${machine.availableParallelism}), ${machine.memoryGiB} GiB RAM`,
    `software: ${machine.os}, Node ${machine.node}, onnxruntime-node ${machine.onnxruntime}`,
    `threads: onnxruntime intra-op ${threads.intraOpThreads}, inter-op ${threads.interOpThreads}; inference concurrency ${threads.inferenceConcurrency}; UV_THREADPOOL_SIZE ${threads.uvThreadpoolSize}; VIPS_CONCURRENCY ${threads.vipsConcurrency}`,
    `load average (1, 5, 15 min): ${machine.loadAverage.join(', ')}`,
  ];
}
