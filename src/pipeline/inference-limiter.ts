import { AppError } from '../core/app-error.js';

/** Holds `pixels` decoded pixels for the rest of the admitted request, or refuses with OVERLOADED. */
export type ReservePixels = (pixels: number) => void;

/**
 * Bounds concurrent model work and the queue in front of it: when the queue is full a caller
 * gets OVERLOADED (503 + Retry-After) at once instead of waiting without bound. `admit` bounds a
 * whole request (decode included) the same way, so that decoded images waiting for the models
 * can never number more than concurrency + queue, and bounds their pixels: an image whose
 * pixels would take the total held past `maxPixels` is refused before it is decoded.
 */
export class InferenceLimiter {
  private active = 0;
  private admitted = 0;
  private pixels = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxQueue: number,
    private readonly retryAfterSeconds = 1,
    private readonly maxPixels = Number.POSITIVE_INFINITY,
  ) {}

  /** Decoded pixels held by admitted requests now. */
  get pixelsInFlight(): number {
    return this.pixels;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs a request that will call `run`; refused at once when concurrency + queue are all taken.
   * `work` is given `reserve` for the pixels of the image it is about to decode. An image is
   * always let through while no other request holds pixels, however large (the decoder's own
   * limit bounds it), so a lone request is never refused by this budget.
   */
  async admit<T>(work: (reserve: ReservePixels) => Promise<T>, signal?: AbortSignal): Promise<T> {
    refuseIfAborted(signal);
    if (this.admitted >= this.concurrency + this.maxQueue) throw this.overloaded();
    this.admitted++;
    let held = 0;
    const reserve: ReservePixels = (pixels) => {
      if (this.pixels > 0 && this.pixels + pixels > this.maxPixels) {
        throw new AppError('OVERLOADED', `decoded images in flight would exceed ${this.maxPixels} pixels`, { retryAfterSeconds: this.retryAfterSeconds });
      }
      this.pixels += pixels;
      held += pixels;
    };
    try {
      return await work(reserve);
    } finally {
      this.admitted--;
      this.pixels -= held;
    }
  }

  /**
   * Runs `work` when a model slot is free, waiting in the queue (bounded) until then. A request
   * whose `signal` aborts (its client went away) leaves the queue at once, and one that is
   * aborted by the time its turn comes gives the slot on without running.
   */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    refuseIfAborted(signal);
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) throw this.overloaded();
      await new Promise<void>((resolve, reject) => {
        const turn = () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        };
        const leave = () => {
          this.waiting.splice(this.waiting.indexOf(turn), 1);
          reject(abandoned());
        };
        this.waiting.push(turn);
        signal?.addEventListener('abort', leave, { once: true });
      });
    } else {
      this.active++;
    }
    try {
      refuseIfAborted(signal);
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

/** The error of a request whose client has gone: nobody is left to answer, so it is not run. */
const abandoned = () => new AppError('BAD_REQUEST', 'the client closed the connection; the request was dropped');

function refuseIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abandoned();
}
