/**
 * Applies `fn` to every item with at most `limit` calls in flight, and returns the
 * results in the order of `items` (whatever order the calls finish in).
 */
export const mapWithConcurrency = async <T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>) => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};
