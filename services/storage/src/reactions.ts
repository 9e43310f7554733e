import { create } from "@bufbuild/protobuf";
import { ReactionSchema, type Message, type Reaction } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { invalidArgument } from "./storage-errors.js";

/** Emoji strings: a Unicode emoji (sequences included) or "name:id" for a custom one. */
export const MAX_EMOJI_LENGTH = 100;
export const DEFAULT_REACTION_USERS_LIMIT = 25;
export const MAX_REACTION_USERS_LIMIT = 100;

/** 1 to 100 characters (code points), no control characters; else INVALID_ARGUMENT naming `field`. */
export function requireEmoji(field: string, emoji: string): string {
  const length = [...emoji].length;
  if (length === 0) throw invalidArgument(field, "required (a Unicode emoji or name:id)");
  if (length > MAX_EMOJI_LENGTH) throw invalidArgument(field, `must be at most ${MAX_EMOJI_LENGTH} characters`);
  if (/\p{Cc}/u.test(emoji)) throw invalidArgument(field, "must not contain control characters");
  return emoji;
}

/** ListReactionUsers' limit: 1-100, 0 (unset) meaning 25. */
export function normalizeReactionUsersLimit(limit: number): number {
  if (limit === 0) return DEFAULT_REACTION_USERS_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REACTION_USERS_LIMIT) {
    throw invalidArgument("limit", `must be between 1 and ${MAX_REACTION_USERS_LIMIT}`);
  }
  return limit;
}

/**
 * One emoji's reactions on a message as a store reads them: how many users, and when the emoji
 * was first used there (µs since the Unix epoch, the smallest `first_used` of its rows).
 */
export interface ReactionTally {
  emoji: string;
  count: number;
  firstUsed: bigint;
}

/** The result of an add: whether the reaction is new, and the emoji's count afterwards. */
export interface AddedReaction {
  added: boolean;
  count: number;
}

/**
 * A message's reactions in Discord's order: by first use, ties (the same microsecond) by
 * emoji. Done here, not in SQL, so both backends order alike.
 */
export function orderedReactions(tallies: readonly ReactionTally[]): Reaction[] {
  return [...tallies]
    .sort((a, b) => (a.firstUsed !== b.firstUsed ? (a.firstUsed < b.firstUsed ? -1 : 1) : a.emoji < b.emoji ? -1 : a.emoji > b.emoji ? 1 : 0))
    .map((t) => create(ReactionSchema, { emoji: t.emoji, count: t.count }));
}

let lastMicros = 0n;

/**
 * Now in µs since the Unix epoch, strictly increasing within the process: two emojis first used
 * one after the other keep their order even within one millisecond. Every row of an emoji
 * carries the emoji's first use (an add copies it from the rows already there), so the emoji
 * keeps its place while anyone still reacts with it, as on Discord.
 */
export function reactionClock(): bigint {
  const now = BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1000));
  lastMicros = now > lastMicros ? now : lastMicros + 1n;
  return lastMicros;
}

/**
 * Copies of `messages` with Reaction.me set from `mine` (message id → emojis the viewer reacted
 * with). Never mutates: the messages may be shared by coalesced readers.
 */
export function markMine(messages: readonly Message[], mine: ReadonlyMap<bigint, ReadonlySet<string>>): Message[] {
  return messages.map((message) => {
    const emojis = mine.get(message.id);
    if (!emojis || emojis.size === 0) return message;
    return { ...message, reactions: message.reactions.map((r) => create(ReactionSchema, { ...r, me: emojis.has(r.emoji) })) };
  });
}
