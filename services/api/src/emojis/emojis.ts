import { Code } from "@connectrpc/connect";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { Blob, BlobStore } from "@chorus/blob-store";
import type { Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import type { Logger } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { Permission, has } from "@chorus/permissions";
import { checkImage, decodeImageDataUri } from "../accounts/avatars.js";
import { GuildRequestError } from "../guilds/guild-errors.js";
import { resultOf, type Guilds } from "../guilds/guilds.js";
import { isRefusal } from "../messages/messages.js";
import { EMOJI_LIMITS } from "./emoji-rules.js";

export const unknownEmoji = () => new GuildRequestError(Code.NotFound, RESTJSONErrorCodes.UnknownEmoji);

/** What a create asks for, once its fields are valid. */
export interface NewEmoji {
  name: string;
  /** The image as a data URI (Discord's routes) or as bytes (the Connect API). */
  image: { dataUri: string } | { bytes: Uint8Array };
  roleIds: readonly bigint[];
}

/** What an edit changes: the fields given. */
export interface EmojiChanges {
  name?: string;
  /** Replaces the roles; [] lifts the restriction. */
  roleIds?: readonly bigint[];
}

/** The blob of an emoji's image. */
const blobKey = (emojiId: bigint) => `emojis/${emojiId}`;

/**
 * Custom emojis as the edge serves them, shared by the Discord routes and the Connect
 * EmojiService. The emojis themselves are the guild's (GuildService commands; the owner checks
 * rights, names against the guild, limits, and sends GUILD_EMOJIS_UPDATE); their images are
 * the edge's, in the blob store under `emojis/<id>`: stored before the command (the id is
 * minted here), deleted when the guild refused it or once the emoji is deleted.
 */
export class Emojis {
  constructor(
    private readonly guilds: Guilds,
    private readonly blobs: BlobStore,
    private readonly ids: SnowflakeGenerator,
    private readonly logger: Logger,
  ) {}

  /** The guild's emojis, and whether the caller sees who uploaded them (MANAGE_GUILD_EXPRESSIONS). */
  async list(actorId: bigint, guildId: bigint): Promise<{ emojis: Emoji[]; showsUploaders: boolean }> {
    const view = await this.guilds.getGuild(actorId, guildId);
    return { emojis: view.emojis, showsUploaders: has(view.permissions, Permission.ManageGuildExpressions) };
  }

  async get(actorId: bigint, guildId: bigint, emojiId: bigint): Promise<{ emoji: Emoji; showsUploaders: boolean }> {
    const { emojis, showsUploaders } = await this.list(actorId, guildId);
    const emoji = emojis.find((e) => e.id === emojiId);
    if (!emoji) throw unknownEmoji();
    return { emoji, showsUploaders };
  }

  async create(actorId: bigint, guildId: bigint, input: NewEmoji): Promise<Emoji> {
    const image =
      "dataUri" in input.image
        ? decodeImageDataUri(input.image.dataUri, "image", EMOJI_LIMITS.imageBytes)
        : checkImage(Buffer.from(input.image.bytes), "image", EMOJI_LIMITS.imageBytes);
    const id = this.ids.next();
    await this.blobs.put(blobKey(id), image.bytes, { contentType: image.contentType, maxBytes: EMOJI_LIMITS.imageBytes });
    try {
      const result = await this.guilds.execute(actorId, guildId, {
        command: {
          case: "createEmoji",
          value: { emoji: { id, name: input.name, roleIds: [...input.roleIds], animated: isAnimated(image.contentType, image.bytes) } },
        },
      });
      return resultOf(result, "emoji");
    } catch (err) {
      // A refused emoji leaves no image; one whose outcome is unknown keeps it (it may exist).
      if (isRefusal(err)) await this.discard(id);
      throw err;
    }
  }

  async modify(actorId: bigint, guildId: bigint, emojiId: bigint, changes: EmojiChanges): Promise<Emoji> {
    const paths: string[] = [];
    if (changes.name !== undefined) paths.push("name");
    if (changes.roleIds !== undefined) paths.push("role_ids");
    // Nothing to change: the emoji as it is (as Discord answers `{}`).
    if (paths.length === 0) return (await this.get(actorId, guildId, emojiId)).emoji;
    const result = await this.guilds.execute(actorId, guildId, {
      command: {
        case: "modifyEmoji",
        value: { emoji: { id: emojiId, name: changes.name ?? "", roleIds: [...(changes.roleIds ?? [])] }, updateMask: { paths } },
      },
    });
    return resultOf(result, "emoji");
  }

  async delete(actorId: bigint, guildId: bigint, emojiId: bigint): Promise<void> {
    await this.guilds.execute(actorId, guildId, { command: { case: "deleteEmoji", value: { emojiId } } });
    await this.discard(emojiId);
  }

  /**
   * Deletes a guild, then its emojis' images, which nothing serves once the guild is gone. The
   * emojis are read before (a refused read leaves the refusal to the command, which answers
   * for the guild as it always did).
   */
  async deleteGuild(actorId: bigint, guildId: bigint): Promise<void> {
    const emojis = await this.guilds.getGuild(actorId, guildId).then(
      (view) => view.emojis,
      () => [],
    );
    await this.guilds.execute(actorId, guildId, { command: { case: "deleteGuild", value: {} } });
    await Promise.all(emojis.map((e) => this.discard(e.id)));
  }

  /** An emoji's image, or undefined when there is none. */
  open(emojiId: bigint): Promise<Blob | undefined> {
    return this.blobs.get(blobKey(emojiId));
  }

  /** Deletes an image; a failure is logged, not thrown (an image left behind is only space). */
  private async discard(emojiId: bigint): Promise<void> {
    await this.blobs.delete(blobKey(emojiId)).catch((err: unknown) => {
      this.logger.warn({ err, emojiId: String(emojiId) }, "could not delete an emoji's image");
    });
  }
}

/** Animated: a GIF, or a WebP whose extended header (VP8X) has the animation flag, as Discord sees them. */
export function isAnimated(contentType: string, bytes: Uint8Array): boolean {
  if (contentType === "image/gif") return true;
  if (contentType !== "image/webp" || bytes.length < 21) return false;
  return String.fromCharCode(...bytes.subarray(12, 16)) === "VP8X" && (bytes[20] & 0x02) !== 0;
}
