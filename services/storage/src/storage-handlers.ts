import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type { FieldMask } from "@bufbuild/protobuf/wkt";
import { StorageService } from "@chorus/contracts/chorus/storage/v1/storage_pb";
import type { NodeInfo } from "@chorus/contracts/chorus/mesh/v1/node_pb";
import type { Message, MessagePatch, MessageStore } from "./message-store.js";
import { ReadCoalescer } from "./read-coalescer.js";
import { historyKey, listHistory, normalizeLimit } from "./history.js";
import { guarded, invalidArgument, requireId } from "./storage-errors.js";
import { markMine, normalizeReactionUsersLimit, requireEmoji } from "./reactions.js";
import type { StorageCounters } from "./storage-metrics.js";

const MAX_BULK_DELETE = 100;

const notFound = (channelId: bigint, messageId: bigint) =>
  new ConnectError(`message ${messageId} not found in channel ${channelId}`, Code.NotFound);

/** viewer_id: 0 (nobody) or a snowflake. */
const optionalViewer = (id: bigint): bigint | undefined => (id === 0n ? undefined : requireId("viewer_id", id));

/** A message as stored: reactions are never written through InsertMessage. */
const withoutReactions = (message: Message): Message => (message.reactions.length === 0 ? message : { ...message, reactions: [] });

/** update_mask paths (snake_case, as in the contract) and the Message field each sets. */
const UPDATABLE: Record<string, keyof MessagePatch> = {
  content: "content",
  embeds: "embeds",
  components: "components",
  attachments: "attachments",
  flags: "flags",
  pinned: "pinned",
  edited_timestamp: "editedTimestamp",
  // An edit of the content re-parses its mentions.
  mentions: "mentions",
  mention_roles: "mentionRoles",
  mention_everyone: "mentionEveryone",
};

function patchFrom(mask: FieldMask | undefined, message: Message | undefined): MessagePatch {
  if (!mask || mask.paths.length === 0) throw invalidArgument("update_mask", "must name at least one field");
  if (!message) throw invalidArgument("message", "required with update_mask");
  const patch: Record<string, unknown> = {};
  for (const path of mask.paths) {
    const field = UPDATABLE[path];
    if (!field) throw invalidArgument("update_mask", `"${path}" cannot be updated (allowed: ${Object.keys(UPDATABLE).join(", ")})`);
    patch[field] = message[field];
  }
  return patch as MessagePatch;
}

/**
 * chorus.storage.v1.StorageService on top of a MessageStore (built with counters.onQuery as
 * its query hook): validation that names the bad
 * field, Discord's history semantics, request coalescing of identical reads, and the mapping
 * of database failures to UNAVAILABLE.
 *
 * Reads are coalesced whatever their viewer_id: the shared part (messages with their reaction
 * counts) is one query for everyone, and Reaction.me is set afterwards, per reader, from one
 * lookup of the viewer's own reactions on the messages that have any.
 */
export function createStorageHandlers(
  store: MessageStore,
  nodeInfo: () => NodeInfo,
  counters: StorageCounters,
): ServiceImpl<typeof StorageService> {
  const coalescer = new ReadCoalescer(counters.onCoalesced);
  const read = <T>(channelId: bigint, key: string, query: () => Promise<T>) =>
    guarded(() => coalescer.read(channelId, key, query));
  // A write is acknowledged to the caller only after the store accepted it; from then on new
  // reads of the channel must not reuse queries that started before it.
  const write = async <T>(channelId: bigint, work: () => Promise<T>): Promise<T> => {
    try {
      return await guarded(work);
    } finally {
      coalescer.written(channelId);
    }
  };
  // Copies with Reaction.me for the viewer (the coalesced messages are shared, never changed).
  const forViewer = async (channelId: bigint, viewerId: bigint | undefined, messages: Message[]): Promise<Message[]> => {
    if (viewerId === undefined || !messages.some((m) => m.reactions.length > 0)) return messages;
    return markMine(messages, await guarded(() => store.userReactions(channelId, viewerId, messages)));
  };
  // A store answer of undefined means the message does not exist (or was deleted): NOT_FOUND.
  const found = <T>(channelId: bigint, messageId: bigint, result: T | undefined): T => {
    if (result === undefined) throw notFound(channelId, messageId);
    return result;
  };

  return {
    getStatus: () => ({
      node: nodeInfo(),
      backend: store.backend,
      dbQueries: counters.queries,
      coalescedRequests: counters.coalesced,
    }),

    async insertMessage(req) {
      const message = req.message;
      if (!message) throw invalidArgument("message", "required");
      requireId("message.id", message.id);
      requireId("message.channel_id", message.channelId);
      requireId("message.author_id", message.authorId);
      if (message.id < message.channelId) throw invalidArgument("message.id", "is older than its channel");
      await write(message.channelId, () => store.insert(message));
      return { message: withoutReactions(message) };
    },

    async getMessage(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      const viewerId = optionalViewer(req.viewerId);
      const message = await read(channelId, `get:${messageId}`, () => store.get(channelId, messageId));
      if (!message) throw notFound(channelId, messageId);
      const [forReader] = await forViewer(channelId, viewerId, [message]);
      return { message: forReader };
    },

    async updateMessage(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      const patch = patchFrom(req.updateMask, req.message);
      const message = await write(channelId, () => store.update(channelId, messageId, patch));
      return { message: found(channelId, messageId, message) };
    },

    async deleteMessage(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      return { deleted: await write(channelId, () => store.delete(channelId, messageId)) };
    },

    async bulkDeleteMessages(req) {
      const channelId = requireId("channel_id", req.channelId);
      const ids = req.messageIds;
      if (ids.length === 0 || ids.length > MAX_BULK_DELETE) {
        throw invalidArgument("message_ids", `must hold between 1 and ${MAX_BULK_DELETE} ids`);
      }
      if (new Set(ids).size !== ids.length) throw invalidArgument("message_ids", "must not repeat an id");
      ids.forEach((id, i) => requireId(`message_ids.${i}`, id));
      const deleted = await write(channelId, async () => {
        const results = await Promise.all(ids.map((id) => store.delete(channelId, id)));
        return ids.filter((_, i) => results[i]);
      });
      return { deletedIds: deleted };
    },

    async listMessages(req) {
      const channelId = requireId("channel_id", req.channelId);
      const limit = normalizeLimit(req.limit);
      const anchor = req.anchor;
      if (anchor.case !== undefined) requireId(anchor.case, anchor.value);
      const viewerId = optionalViewer(req.viewerId);
      const messages = await read(channelId, historyKey(anchor, limit), () => listHistory(store, channelId, anchor, limit));
      return { messages: await forViewer(channelId, viewerId, messages) };
    },

    async listPinnedMessages(req) {
      const channelId = requireId("channel_id", req.channelId);
      const viewerId = optionalViewer(req.viewerId);
      const messages = await read(channelId, "pins", () => store.listPinned(channelId));
      return { messages: await forViewer(channelId, viewerId, messages) };
    },

    async addReaction(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      const emoji = requireEmoji("emoji", req.emoji);
      const userId = requireId("user_id", req.userId);
      return found(channelId, messageId, await write(channelId, () => store.addReaction(channelId, messageId, emoji, userId)));
    },

    async removeReaction(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      const emoji = requireEmoji("emoji", req.emoji);
      const userId = requireId("user_id", req.userId);
      const removed = await write(channelId, () => store.removeReaction(channelId, messageId, emoji, userId));
      return { removed: found(channelId, messageId, removed) };
    },

    async removeAllReactions(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      const emoji = req.emoji === undefined ? undefined : requireEmoji("emoji", req.emoji);
      const removed = await write(channelId, () => store.removeReactions(channelId, messageId, emoji));
      return { removed: found(channelId, messageId, removed) };
    },

    async listReactionUsers(req) {
      const channelId = requireId("channel_id", req.channelId);
      const messageId = requireId("message_id", req.messageId);
      const emoji = requireEmoji("emoji", req.emoji);
      const after = req.after === 0n ? 0n : requireId("after", req.after);
      const limit = normalizeReactionUsersLimit(req.limit);
      // The emoji goes last: a custom emoji's ":" cannot make two keys alike.
      const userIds = await read(channelId, `reactions:${messageId}:${after}:${limit}:${emoji}`, () =>
        store.listReactionUsers(channelId, messageId, emoji, after, limit),
      );
      return { userIds: found(channelId, messageId, userIds) };
    },
  };
}
