/** One page of a lexically ordered listing, and whether a next page exists (to send `Link`). */
import type { Page } from '../meta/meta-store.ts';

export const MAX_PAGE = 10_000;

/**
 * Fetches one entry more than asked for, so the `Link` header is sent only when a next page
 * really exists (never on a last page that happens to be full).
 */
export async function fetchPage(list: (page: Page) => Promise<string[]>, n: number | undefined, last: string | undefined): Promise<{ items: string[]; more: boolean }> {
  if (n === undefined) return { items: await list({ last }), more: false };
  const items = await list({ n: n + 1, last });
  return items.length > n ? { items: items.slice(0, n), more: true } : { items, more: false };
}
