import { AppError } from '../core/app-error.js';

/**
 * Bounds concurrent model work and the queue in front of it: when the queue is full a caller
 * gets OVERLOADED (503 + Retry-After) at once instead of waiting without bound. `admit` bounds a
 * whole request (decode included) the same way, so that decoded images waiting for the models
 * can never number more than concurrency + queue.
 */
export class InferenceLimiter {
  private active = 0;
  private admitted = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueue: number,
    private readonly retryAfterSeconds = 1,
  ) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs a request that will call `run`; refused at once when concurrency + queue are all taken. */
  async admit<T>(work: () => Promise<T>): Promise<T> {
    if (this.admitted >= this.concurrency + this.maxQueue) throw this.overloaded();
    this.admitted++;
    try {
      return await work();
    } finally {
      this.admitted--;
    }
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) throw this.overloaded();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private overloaded(): AppError {
    return new AppError('OVERLOADED', `inference queue is full (${this.maxQueue} waiting)`, { retryAfterSeconds: this.retryAfterSeconds });
  }
}
