/**
 * Runs `work` on the items of `source` with at most `limit` calls in flight and yields the
 * results in completion order. The next calls are started before a result is handed out, so
 * work goes on while the consumer is busy with it (e.g. reading and decoding the next images
 * while the embedder runs); the bound keeps memory flat however long the source is.
 *
 * A rejected call is rethrown to the consumer, after the calls still in flight have settled.
 */
export async function* mapAhead<I, O>(
  source: AsyncIterable<I> | Iterable<I>,
  limit: number,
  work: (item: I) => Promise<O>,
): AsyncGenerator<O> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`mapAhead needs a limit of at least 1, got ${limit}`);
  const iterator = toAsyncIterator(source);
  type Settled = { key: number; ok: true; value: O } | { key: number; ok: false; error: unknown };
  const inFlight = new Map<number, Promise<Settled>>();
  let nextKey = 0;
  let exhausted = false;

  const fill = async (): Promise<void> => {
    while (!exhausted && inFlight.size < limit) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const key = nextKey++;
      inFlight.set(
        key,
        work(next.value).then(
          (value): Settled => ({ key, ok: true, value }),
          (error: unknown): Settled => ({ key, ok: false, error }),
        ),
      );
    }
  };

  try {
    await fill();
    while (inFlight.size > 0) {
      const settled = await Promise.race(inFlight.values());
      inFlight.delete(settled.key);
      if (!settled.ok) throw settled.error;
      await fill();
      yield settled.value;
    }
  } finally {
    // On an early return or a failure, let running calls finish so none outlives the consumer.
    await Promise.all(inFlight.values());
    if (!exhausted) await iterator.return?.();
  }
}

function toAsyncIterator<I>(source: AsyncIterable<I> | Iterable<I>): AsyncIterator<I> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const sync = source[Symbol.iterator]();
  return {
    next: async () => sync.next(),
    return: async () => sync.return?.() ?? { done: true, value: undefined },
  };
}
