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

/** "<ISO instant>|<uuid>": keyset pagination on (recorded at, id), oldest first. */
export function cursorOf(at: Date, id: string): string {
  return `${at.toISOString()}|${id}`;
}

export function parseCursor(cursor: string | undefined): { at: Date; id: string } {
  if (!cursor) return { at: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
  const [at, id] = cursor.split('|');
  return { at: new Date(at!), id: id! };
}
