/** Hand-offs sent to Temporal at once. */
const CONCURRENCY = 16;

/** Runs `work` over `items`, at most CONCURRENCY at a time. */
export async function eachLimited<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  const lane = async () => {
    while (index < items.length) await work(items[index++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, lane));
}
