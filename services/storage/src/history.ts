import type { Message, MessageStore } from "./message-store.js";
import { invalidArgument } from "./storage-errors.js";

export const DEFAULT_HISTORY_LIMIT = 50;
export const MAX_HISTORY_LIMIT = 100;

export type HistoryAnchor =
  | { case: "before"; value: bigint }
  | { case: "after"; value: bigint }
  | { case: "around"; value: bigint }
  | { case: undefined; value?: undefined };

/** limit as Discord takes it: 1-100, 0 (unset) meaning 50. */
export function normalizeLimit(limit: number): number {
  if (limit === 0) return DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
    throw invalidArgument("limit", `must be between 1 and ${MAX_HISTORY_LIMIT}`);
  }
  return limit;
}

/** A stable key for coalescing identical history queries. */
export function historyKey(anchor: HistoryAnchor, limit: number): string {
  return `history:${anchor.case ?? "latest"}:${anchor.value ?? ""}:${limit}`;
}

/**
 * Discord's history semantics on top of a store: newest first, except `after` which pages
 * forward oldest first; `around` returns the message itself (when it exists) with up to half
 * the limit on each side.
 */
export async function listHistory(store: MessageStore, channelId: bigint, anchor: HistoryAnchor, limit: number): Promise<Message[]> {
  switch (anchor.case) {
    case "before":
      return store.listBefore(channelId, anchor.value, limit);
    case "after":
      return store.listAfter(channelId, anchor.value, limit);
    case "around": {
      const olderOrSelf = Math.ceil(limit / 2);
      const newer = limit - olderOrSelf;
      const [before, after] = await Promise.all([
        store.listBefore(channelId, anchor.value + 1n, olderOrSelf),
        newer > 0 ? store.listAfter(channelId, anchor.value, newer) : Promise.resolve([]),
      ]);
      return [...after.reverse(), ...before];
    }
    default:
      return store.listBefore(channelId, undefined, limit);
  }
}
