import { randomInt } from "node:crypto";
import { clone, create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampDate, type FieldMask } from "@bufbuild/protobuf/wkt";
import {
  BanSchema,
  ChannelSchema,
  GuildSchema,
  InviteSchema,
  MemberSchema,
  PermissionOverwriteSchema,
  RoleSchema,
  type Channel,
  type Guild,
  type Invite,
  type Member,
  type PermissionOverwrite,
  type Role,
} from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { EmojiSchema, type Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import {
  ChannelListSchema,
  GuildCommandResultSchema,
  RemovedSchema,
  RoleListSchema,
  type GuildCommand,
  type GuildCommandResult,
} from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import {
  BanRemovedSchema,
  GuildDeletedSchema,
  GuildStateSchema,
  MemberRemovedSchema,
  RoleDeletedSchema,
  type GuildEvent,
} from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { DirectoryKind } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { ALL_PERMISSIONS, has, Permission } from "@chorus/permissions";
import { Code } from "@connectrpc/connect";
import {
  Codes,
  guildError,
  invalidField,
  missingAccess,
  missingPermissions,
  refused,
  unknownBan,
  unknownChannel,
  unknownEmoji,
  unknownGuild,
  unknownInvite,
  unknownMember,
  unknownRole,
} from "./guild-errors.js";
import { ChannelType, GuildModel, isPrivate } from "@chorus/guild-state/guild-model";

// Discord's limits (https://discord.com/developers/docs/resources/guild and /channel).
export const MAX_ROLES = 250;
export const MAX_CHANNELS = 500;
export const MAX_GROUP_DM_RECIPIENTS = 10;
/** Discord's emoji slots of a guild without boosts: this many static and as many animated. */
export const MAX_EMOJIS_PER_KIND = 50;
/** Discord's emoji names: 2 to 32 of letters, digits and underscores. */
export const EMOJI_NAME = /^[A-Za-z0-9_]{2,32}$/;
export const DEFAULT_INVITE_MAX_AGE = 86_400;
const AFK_TIMEOUTS = new Set([60, 300, 900, 1800, 3600]);

/** What @everyone may do in a new guild: Discord's defaults for a community's members. */
export const DEFAULT_EVERYONE_PERMISSIONS =
  Permission.CreateInstantInvite |
  Permission.ViewChannel |
  Permission.SendMessages |
  Permission.EmbedLinks |
  Permission.AttachFiles |
  Permission.ReadMessageHistory |
  Permission.AddReactions |
  Permission.UseExternalEmojis |
  Permission.ChangeNickname |
  Permission.Connect |
  Permission.Speak |
  Permission.UseVAD |
  Permission.Stream |
  Permission.UseApplicationCommands |
  Permission.SendMessagesInThreads |
  Permission.CreatePublicThreads;

/** An event before the log numbers it. */
export type PendingEvent = Pick<GuildEvent, "dispatch" | "change">;

/** Index entries to write around the append (claims and additions before it, the rest after). */
export interface IndexChanges {
  claims: { kind: DirectoryKind; key: string }[];
  /**
   * Claims made only once the events are recorded: a DM's user-pair key, so that the key never
   * names a DM that failed to be created. Losing such a claim (another DM of the pair won)
   * makes the host delete the channel it just created and answer with the winner.
   */
  claimsAfter: { kind: DirectoryKind; key: string }[];
  releases: { kind: DirectoryKind; key: string }[];
  addUserGuilds: bigint[];
  removeUserGuilds: bigint[];
}

export interface CommandOutcome {
  events: PendingEvent[];
  result: GuildCommandResult;
  index: IndexChanges;
}

export interface CommandEnvironment {
  model: GuildModel;
  actorId: bigint;
  now: Date;
  /** Mints a snowflake for a new channel or role. */
  newId(): bigint;
  /** Draws a fresh invite code. */
  newInviteCode(): string;
}

const INVITE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function randomInviteCode(): string {
  let code = "";
  for (let i = 0; i < 8; i++) code += INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)];
  return code;
}

/** The DM directory key of two users. */
export function dmKey(a: bigint, b: bigint): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export function inviteExpired(invite: Invite, now: Date): boolean {
  if (invite.maxUses > 0 && invite.uses >= invite.maxUses) return true;
  if (invite.maxAge === 0 || !invite.createdAt) return false;
  return timestampDate(invite.createdAt).getTime() + invite.maxAge * 1000 <= now.getTime();
}

function result(value: GuildCommandResult["result"]): GuildCommandResult {
  return create(GuildCommandResultSchema, { result: value });
}

function event<C extends PendingEvent["change"]>(dispatch: string, change: C): PendingEvent {
  return { dispatch, change };
}

// --- field checks: messages start with the field, as both edges expect ------------------------

function text(field: string, value: string, min: number, max: number): string {
  const trimmed = value.trim();
  const length = [...trimmed].length;
  if (length < min || length > max) throw invalidField(field, `Must be between ${min} and ${max} in length.`);
  return trimmed;
}

function range(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalidField(field, `Must be between ${min} and ${max}.`);
  return value;
}

function maskPaths(mask: FieldMask | undefined, allowed: readonly string[]): string[] {
  const paths = mask?.paths ?? [];
  if (paths.length === 0) throw invalidField("update_mask", "Name at least one field to change.");
  for (const path of paths) if (!allowed.includes(path)) throw invalidField("update_mask", `Unknown field "${path}".`);
  return paths;
}

/** Text channel names are lowercase with dashes for spaces, as Discord makes them. */
function channelName(field: string, type: number, value: string): string {
  const name = text(field, value, 1, 100);
  return type === ChannelType.GuildText ? name.toLowerCase().replace(/\s+/g, "-") : name;
}

/**
 * Executes one command against a guild's state without changing it: checks the actor's rights
 * and the fields, and says which events to record. The caller appends them and folds them in.
 */
export function runCommand(env: CommandEnvironment, command: GuildCommand): CommandOutcome {
  const ctx = new CommandRun(env);
  return ctx.run(command);
}

class CommandRun {
  private readonly model: GuildModel;
  private readonly actorId: bigint;
  private readonly events: PendingEvent[] = [];
  private readonly index: IndexChanges = { claims: [], claimsAfter: [], releases: [], addUserGuilds: [], removeUserGuilds: [] };

  constructor(private readonly env: CommandEnvironment) {
    this.model = env.model;
    this.actorId = env.actorId;
  }

  run(command: GuildCommand): CommandOutcome {
    const c = command.command;
    let outcome: GuildCommandResult;
    switch (c.case) {
      case "createGuild":
        outcome = this.createGuild(c.value);
        break;
      case "modifyGuild":
        outcome = this.modifyGuild(c.value.guild, c.value.updateMask);
        break;
      case "deleteGuild":
        outcome = this.deleteGuild();
        break;
      case "createChannel":
        outcome = this.createChannel(c.value.channel);
        break;
      case "modifyChannel":
        outcome = this.modifyChannel(c.value.channel, c.value.updateMask);
        break;
      case "deleteChannel":
        outcome = this.deleteChannel(c.value.channelId);
        break;
      case "reorderChannels":
        outcome = this.reorderChannels(c.value.positions);
        break;
      case "putChannelOverwrite":
        outcome = this.putOverwrite(c.value.channelId, c.value.overwrite);
        break;
      case "deleteChannelOverwrite":
        outcome = this.deleteOverwrite(c.value.channelId, c.value.overwriteId);
        break;
      case "createRole":
        outcome = this.createRole(c.value.role);
        break;
      case "modifyRole":
        outcome = this.modifyRole(c.value.role, c.value.updateMask);
        break;
      case "deleteRole":
        outcome = this.deleteRole(c.value.roleId);
        break;
      case "reorderRoles":
        outcome = this.reorderRoles(c.value.positions);
        break;
      case "modifyMember":
        outcome = this.modifyMember(c.value.member, c.value.updateMask);
        break;
      case "addMemberRole":
        outcome = this.changeMemberRole(c.value.userId, c.value.roleId, true);
        break;
      case "removeMemberRole":
        outcome = this.changeMemberRole(c.value.userId, c.value.roleId, false);
        break;
      case "removeMember":
        outcome = this.kick(c.value.userId);
        break;
      case "leaveGuild":
        outcome = this.leave();
        break;
      case "addBot":
        outcome = this.addBot(c.value.botUserId, c.value.permissions, c.value.botName);
        break;
      case "createBan":
        outcome = this.ban(c.value.userId, c.value.reason);
        break;
      case "removeBan":
        outcome = this.unban(c.value.userId);
        break;
      case "createInvite":
        outcome = this.createInvite(c.value);
        break;
      case "deleteInvite":
        outcome = this.deleteInvite(c.value.code);
        break;
      case "acceptInvite":
        outcome = this.acceptInvite(c.value.code);
        break;
      case "createPrivateChannel":
        outcome = this.createPrivateChannel(c.value.recipientIds, c.value.name);
        break;
      case "addRecipient":
        outcome = this.addRecipient(c.value.userId);
        break;
      case "removeRecipient":
        outcome = this.removeRecipient(c.value.userId);
        break;
      case "createEmoji":
        outcome = this.createEmoji(c.value.emoji);
        break;
      case "modifyEmoji":
        outcome = this.modifyEmoji(c.value.emoji, c.value.updateMask);
        break;
      case "deleteEmoji":
        outcome = this.deleteEmoji(c.value.emojiId);
        break;
      default:
        throw invalidField("command", "Name a command.");
    }
    return { events: this.events, result: outcome, index: this.index };
  }

  private emit(e: PendingEvent): void {
    this.events.push(e);
  }

  // --- preconditions ------------------------------------------------------------------------

  private guild(): Guild {
    const guild = this.model.guild;
    if (!guild || this.model.deleted) throw unknownGuild();
    return guild;
  }

  /** The guild, with the actor a member of it. */
  private memberGuild(): Guild {
    const guild = this.guild();
    if (!this.model.members.has(this.actorId)) throw missingAccess();
    return guild;
  }

  private requireGuildPermission(permission: bigint): void {
    this.memberGuild();
    if (!has(this.model.basePermissions(this.actorId), permission)) throw missingPermissions();
  }

  private guildChannel(channelId: bigint): Channel {
    this.memberGuild();
    const channel = this.model.channels.get(channelId);
    if (!channel) throw unknownChannel();
    return channel;
  }

  /** A channel the actor can see, with their permissions in it. */
  private visibleChannel(channelId: bigint): { channel: Channel; perms: bigint } {
    const channel = this.guildChannel(channelId);
    const perms = this.model.channelPermissions(this.actorId, channel);
    if (!has(perms, Permission.ViewChannel)) throw missingAccess();
    return { channel, perms };
  }

  private requireChannelPermission(channelId: bigint, permission: bigint): Channel {
    const { channel, perms } = this.visibleChannel(channelId);
    if (!has(perms, permission)) throw missingPermissions();
    return channel;
  }

  private member(userId: bigint): Member {
    const member = this.model.members.get(userId);
    if (!member) throw unknownMember();
    return member;
  }

  private role(roleId: bigint): Role {
    const role = this.model.roles.get(roleId);
    if (!role) throw unknownRole();
    return role;
  }

  /** Bits a member may hand out: only what they hold themselves (everything for the owner or an administrator). */
  private requireHeldBits(bits: bigint, held: bigint): void {
    if ((bits & ~held & ALL_PERMISSIONS) !== 0n) throw missingPermissions();
  }

  private requireOutranks(position: number): void {
    if (!this.model.outranks(this.actorId, position)) throw missingPermissions();
  }

  // --- guilds -------------------------------------------------------------------------------

  private createGuild(cmd: { name: string; icon?: string; description?: string }): GuildCommandResult {
    const model = this.model;
    if (model.deleted) throw unknownGuild();
    if (model.guild) {
      // A retry of a create whose answer was lost finds its own guild.
      if (model.guild.ownerId === this.actorId) return result({ case: "guild", value: model.guild });
      throw guildError(Code.AlreadyExists, Codes.InvalidGuild, "guild_id: a guild with this id exists");
    }
    const guildId = model.ownerId;
    const name = text("name", cmd.name, 2, 100);
    const guild = create(GuildSchema, {
      id: guildId,
      name,
      icon: cmd.icon,
      ownerId: this.actorId,
      description: cmd.description === undefined ? undefined : text("description", cmd.description, 0, 120),
      afkTimeout: 300,
      preferredLocale: "en-US",
    });
    const textCategory = create(ChannelSchema, { id: this.env.newId(), type: ChannelType.GuildCategory, guildId, name: "Text Channels", position: 0 });
    const voiceCategory = create(ChannelSchema, { id: this.env.newId(), type: ChannelType.GuildCategory, guildId, name: "Voice Channels", position: 1 });
    const general = create(ChannelSchema, { id: this.env.newId(), type: ChannelType.GuildText, guildId, name: "general", position: 0, parentId: textCategory.id });
    const voice = create(ChannelSchema, {
      id: this.env.newId(),
      type: ChannelType.GuildVoice,
      guildId,
      name: "General",
      position: 0,
      parentId: voiceCategory.id,
      bitrate: 64_000,
    });
    guild.systemChannelId = general.id;
    const everyone = create(RoleSchema, { id: guildId, name: "@everyone", position: 0, permissions: DEFAULT_EVERYONE_PERMISSIONS });
    const owner = create(MemberSchema, { userId: this.actorId, joinedAt: timestampFromDate(this.env.now) });
    const channels = [textCategory, voiceCategory, general, voice];
    for (const channel of channels) this.index.claims.push({ kind: DirectoryKind.CHANNEL, key: String(channel.id) });
    this.index.addUserGuilds.push(this.actorId);
    this.emit(
      event("GUILD_CREATE", {
        case: "guildCreated",
        value: create(GuildStateSchema, { guild, channels, roles: [everyone], members: [owner] }),
      }),
    );
    return result({ case: "guild", value: guild });
  }

  private modifyGuild(input: Guild | undefined, mask: FieldMask | undefined): GuildCommandResult {
    const current = this.guild();
    this.requireGuildPermission(Permission.ManageGuild);
    const paths = maskPaths(mask, [
      "name",
      "icon",
      "description",
      "system_channel_id",
      "afk_channel_id",
      "afk_timeout",
      "verification_level",
      "default_message_notifications",
      "explicit_content_filter",
      "preferred_locale",
      "owner_id",
    ]);
    const src = input ?? create(GuildSchema);
    const next = clone(GuildSchema, current);
    for (const path of paths) {
      switch (path) {
        case "name":
          next.name = text("name", src.name, 2, 100);
          break;
        case "icon":
          next.icon = src.icon;
          break;
        case "description":
          next.description = src.description === undefined ? undefined : text("description", src.description, 0, 120);
          break;
        case "system_channel_id":
          if (src.systemChannelId !== undefined && src.systemChannelId !== 0n) {
            if (this.model.channels.get(src.systemChannelId)?.type !== ChannelType.GuildText) throw invalidField("system_channel_id", "Not a text channel of this guild.");
            next.systemChannelId = src.systemChannelId;
          } else next.systemChannelId = undefined;
          break;
        case "afk_channel_id":
          if (src.afkChannelId !== undefined && src.afkChannelId !== 0n) {
            if (this.model.channels.get(src.afkChannelId)?.type !== ChannelType.GuildVoice) throw invalidField("afk_channel_id", "Not a voice channel of this guild.");
            next.afkChannelId = src.afkChannelId;
          } else next.afkChannelId = undefined;
          break;
        case "afk_timeout":
          if (!AFK_TIMEOUTS.has(src.afkTimeout)) throw invalidField("afk_timeout", "Must be one of 60, 300, 900, 1800, 3600.");
          next.afkTimeout = src.afkTimeout;
          break;
        case "verification_level":
          next.verificationLevel = range("verification_level", src.verificationLevel, 0, 4);
          break;
        case "default_message_notifications":
          next.defaultMessageNotifications = range("default_message_notifications", src.defaultMessageNotifications, 0, 1);
          break;
        case "explicit_content_filter":
          next.explicitContentFilter = range("explicit_content_filter", src.explicitContentFilter, 0, 2);
          break;
        case "preferred_locale":
          next.preferredLocale = text("preferred_locale", src.preferredLocale, 2, 10);
          break;
        case "owner_id":
          if (!this.model.isOwner(this.actorId)) throw missingPermissions();
          if (!this.model.members.has(src.ownerId)) throw invalidField("owner_id", "Not a member of this guild.");
          next.ownerId = src.ownerId;
          break;
      }
    }
    this.emit(event("GUILD_UPDATE", { case: "guildUpdated", value: next }));
    return result({ case: "guild", value: next });
  }

  private deleteGuild(): GuildCommandResult {
    this.guild();
    if (!this.model.isOwner(this.actorId)) throw missingPermissions();
    this.emit(event("GUILD_DELETE", { case: "guildDeleted", value: create(GuildDeletedSchema) }));
    for (const userId of this.model.members.keys()) this.index.removeUserGuilds.push(userId);
    for (const code of this.model.invites.keys()) this.index.releases.push({ kind: DirectoryKind.INVITE, key: code });
    return result({ case: "removed", value: create(RemovedSchema, { removed: true }) });
  }

  // --- channels -----------------------------------------------------------------------------

  private checkOverwrites(field: string, overwrites: readonly PermissionOverwrite[], held: bigint): PermissionOverwrite[] {
    const seen = new Set<string>();
    return overwrites.map((o, i) => {
      if (o.type !== 0 && o.type !== 1) throw invalidField(`${field}.${i}.type`, "Must be 0 (role) or 1 (member).");
      if (o.type === 0 && !this.model.roles.has(o.id)) throw invalidField(`${field}.${i}.id`, "Unknown role.");
      const key = `${o.type}:${o.id}`;
      if (seen.has(key)) throw invalidField(`${field}.${i}.id`, "Repeated overwrite.");
      seen.add(key);
      this.requireHeldBits(o.allow | o.deny, held);
      return create(PermissionOverwriteSchema, { id: o.id, type: o.type, allow: o.allow & ALL_PERMISSIONS, deny: o.deny & ALL_PERMISSIONS });
    });
  }

  /** Applies the settable fields of a guild channel, checking each. */
  private channelFields(target: Channel, src: Channel, paths: readonly string[], held: bigint): void {
    for (const path of paths) {
      switch (path) {
        case "name":
          target.name = channelName("name", target.type, src.name);
          break;
        case "topic":
          if (target.type !== ChannelType.GuildText) {
            if (src.topic !== undefined) throw invalidField("topic", "Only text channels have a topic.");
            break;
          }
          target.topic = src.topic === undefined ? undefined : text("topic", src.topic, 0, 1024);
          break;
        case "position":
          target.position = range("position", src.position, 0, 2 ** 31 - 1);
          break;
        case "parent_id":
          if (src.parentId === undefined || src.parentId === 0n) target.parentId = undefined;
          else {
            if (target.type === ChannelType.GuildCategory) throw invalidField("parent_id", "A category cannot have a parent.");
            if (this.model.channels.get(src.parentId)?.type !== ChannelType.GuildCategory) throw invalidField("parent_id", "Not a category of this guild.");
            target.parentId = src.parentId;
          }
          break;
        case "nsfw":
          target.nsfw = src.nsfw;
          break;
        case "rate_limit_per_user":
          target.rateLimitPerUser = range("rate_limit_per_user", src.rateLimitPerUser, 0, 21_600);
          break;
        case "bitrate":
          if (target.type !== ChannelType.GuildVoice) throw invalidField("bitrate", "Only voice channels have a bitrate.");
          target.bitrate = range("bitrate", src.bitrate, 8_000, 96_000);
          break;
        case "user_limit":
          if (target.type !== ChannelType.GuildVoice) throw invalidField("user_limit", "Only voice channels have a user limit.");
          target.userLimit = range("user_limit", src.userLimit, 0, 99);
          break;
        case "permission_overwrites":
          target.permissionOverwrites = this.checkOverwrites("permission_overwrites", src.permissionOverwrites, held);
          break;
      }
    }
  }

  private createChannel(input: Channel | undefined): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageChannels);
    const src = input ?? create(ChannelSchema);
    const type = src.type;
    if (type !== ChannelType.GuildText && type !== ChannelType.GuildVoice && type !== ChannelType.GuildCategory) {
      throw invalidField("type", "Must be 0 (text), 2 (voice) or 4 (category).");
    }
    if (this.model.channels.size >= MAX_CHANNELS) throw refused(Codes.MaximumNumberOfGuildChannelsReached, "Maximum number of guild channels reached (500)");
    const channel = create(ChannelSchema, { id: this.env.newId(), type, guildId: this.model.ownerId, bitrate: type === ChannelType.GuildVoice ? 64_000 : 0 });
    const paths = ["name", "position", "nsfw", "rate_limit_per_user", "permission_overwrites"];
    if (src.parentId !== undefined) paths.push("parent_id");
    if (src.topic !== undefined) paths.push("topic");
    if (type === ChannelType.GuildVoice) {
      if (src.bitrate !== 0) paths.push("bitrate");
      paths.push("user_limit");
    }
    const held = this.model.basePermissions(this.actorId);
    this.channelFields(channel, src, paths, held);
    if (src.position === 0) {
      // No position given: after the channels of its kind, as Discord places new channels.
      const siblings = [...this.model.channels.values()].filter((c) => (c.type === ChannelType.GuildCategory) === (type === ChannelType.GuildCategory));
      channel.position = siblings.reduce((max, c) => Math.max(max, c.position + 1), 0);
    }
    this.index.claims.push({ kind: DirectoryKind.CHANNEL, key: String(channel.id) });
    this.emit(event("CHANNEL_CREATE", { case: "channelCreated", value: channel }));
    return result({ case: "channel", value: channel });
  }

  private modifyChannel(input: Channel | undefined, mask: FieldMask | undefined): GuildCommandResult {
    const src = input ?? create(ChannelSchema);
    if (this.model.isPrivateChannel) return this.modifyGroupDm(src, mask);
    const current = this.requireChannelPermission(src.id, Permission.ManageChannels);
    const paths = maskPaths(mask, ["name", "topic", "position", "parent_id", "nsfw", "rate_limit_per_user", "bitrate", "user_limit", "permission_overwrites"]);
    const held = this.model.channelPermissions(this.actorId, current);
    if (paths.includes("permission_overwrites") && !has(held, Permission.ManageRoles)) throw missingPermissions();
    const next = clone(ChannelSchema, current);
    this.channelFields(next, src, paths, held);
    this.emit(event("CHANNEL_UPDATE", { case: "channelUpdated", value: next }));
    return result({ case: "channel", value: next });
  }

  private deleteChannel(channelId: bigint): GuildCommandResult {
    if (this.model.isPrivateChannel) return this.leavePrivateChannel(channelId);
    const channel = this.requireChannelPermission(channelId, Permission.ManageChannels);
    this.emit(event("CHANNEL_DELETE", { case: "channelDeleted", value: channel }));
    // Channels inside a deleted category move out of it, as in Discord.
    if (channel.type === ChannelType.GuildCategory) {
      for (const child of this.model.channels.values()) {
        if (child.parentId !== channel.id) continue;
        const moved = clone(ChannelSchema, child);
        moved.parentId = undefined;
        this.emit(event("CHANNEL_UPDATE", { case: "channelUpdated", value: moved }));
      }
    }
    const guild = this.guild();
    if (guild.systemChannelId === channel.id || guild.afkChannelId === channel.id) {
      const next = clone(GuildSchema, guild);
      if (next.systemChannelId === channel.id) next.systemChannelId = undefined;
      if (next.afkChannelId === channel.id) next.afkChannelId = undefined;
      this.emit(event("GUILD_UPDATE", { case: "guildUpdated", value: next }));
    }
    for (const invite of this.model.invites.values()) {
      if (invite.channelId === channel.id) this.index.releases.push({ kind: DirectoryKind.INVITE, key: invite.code });
    }
    return result({ case: "channel", value: channel });
  }

  private reorderChannels(positions: readonly { channelId: bigint; position?: number; parentId?: bigint; lockPermissions: boolean }[]): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageChannels);
    if (positions.length === 0) throw invalidField("positions", "Name at least one channel.");
    const changed = new Map<bigint, Channel>();
    positions.forEach((p, i) => {
      const current = this.model.channels.get(p.channelId);
      if (!current) throw invalidField(`${i}.id`, "Unknown channel.");
      if (changed.has(p.channelId)) throw invalidField(`${i}.id`, "Repeated channel.");
      const next = clone(ChannelSchema, current);
      if (p.position !== undefined) next.position = range(`${i}.position`, p.position, 0, 2 ** 31 - 1);
      if (p.parentId !== undefined) {
        if (p.parentId === 0n) next.parentId = undefined;
        else {
          const parent = this.model.channels.get(p.parentId);
          if (parent?.type !== ChannelType.GuildCategory || current.type === ChannelType.GuildCategory) throw invalidField(`${i}.parent_id`, "Not a category of this guild.");
          next.parentId = p.parentId;
          if (p.lockPermissions) next.permissionOverwrites = parent.permissionOverwrites.map((o) => clone(PermissionOverwriteSchema, o));
        }
      }
      changed.set(p.channelId, next);
    });
    for (const channel of changed.values()) this.emit(event("CHANNEL_UPDATE", { case: "channelUpdated", value: channel }));
    const after = this.model.sortedChannels().map((c) => changed.get(c.id) ?? c);
    after.sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
    return result({ case: "channels", value: create(ChannelListSchema, { channels: after }) });
  }

  private putOverwrite(channelId: bigint, overwrite: PermissionOverwrite | undefined): GuildCommandResult {
    const current = this.requireChannelPermission(channelId, Permission.ManageRoles);
    if (!overwrite) throw invalidField("overwrite", "Required.");
    if (overwrite.type === 1 && !this.model.members.has(overwrite.id)) throw unknownMember();
    if (overwrite.type === 0 && !this.model.roles.has(overwrite.id)) throw unknownRole();
    const held = this.model.channelPermissions(this.actorId, current);
    const others = current.permissionOverwrites.filter((o) => !(o.id === overwrite.id && o.type === overwrite.type));
    const [checked] = this.checkOverwrites("overwrite", [overwrite], held).map((o) => o);
    const next = clone(ChannelSchema, current);
    next.permissionOverwrites = [...others, checked];
    this.emit(event("CHANNEL_UPDATE", { case: "channelUpdated", value: next }));
    return result({ case: "channel", value: next });
  }

  private deleteOverwrite(channelId: bigint, overwriteId: bigint): GuildCommandResult {
    const current = this.requireChannelPermission(channelId, Permission.ManageRoles);
    const next = clone(ChannelSchema, current);
    next.permissionOverwrites = current.permissionOverwrites.filter((o) => o.id !== overwriteId);
    if (next.permissionOverwrites.length !== current.permissionOverwrites.length) {
      this.emit(event("CHANNEL_UPDATE", { case: "channelUpdated", value: next }));
    }
    return result({ case: "channel", value: next });
  }

  // --- emojis -------------------------------------------------------------------------------

  private emojiName(value: string): string {
    if (!EMOJI_NAME.test(value)) throw invalidField("name", "Must be between 2 and 32 in length and contain only letters, digits and underscores.");
    return value;
  }

  private emojiRoles(roleIds: readonly bigint[]): bigint[] {
    roleIds.forEach((roleId, i) => {
      if (!this.model.roles.has(roleId)) throw invalidField(`roles.${i}`, "Unknown role.");
    });
    return [...new Set(roleIds)];
  }

  /**
   * Discord's rule: CREATE_GUILD_EXPRESSIONS creates and manages one's own emojis,
   * MANAGE_GUILD_EXPRESSIONS every emoji (and creates too, as it did before the split).
   */
  private requireEmojiRights(creatorId: bigint | undefined): void {
    this.memberGuild();
    const perms = this.model.basePermissions(this.actorId);
    if (has(perms, Permission.ManageGuildExpressions)) return;
    if (has(perms, Permission.CreateGuildExpressions) && (creatorId === undefined || creatorId === this.actorId)) return;
    throw missingPermissions();
  }

  private emoji(emojiId: bigint): Emoji {
    const emoji = this.model.emojis.get(emojiId);
    if (!emoji) throw unknownEmoji();
    return emoji;
  }

  /** GUILD_EMOJIS_UPDATE carries every emoji: the dispatch renders them from the state after the event. */
  private createEmoji(input: Emoji | undefined): GuildCommandResult {
    this.requireEmojiRights(undefined);
    const src = input ?? create(EmojiSchema);
    if (src.id === 0n) throw invalidField("id", "Required.");
    if (this.model.emojis.has(src.id)) throw invalidField("id", "Already in use.");
    let sameKind = 0;
    for (const e of this.model.emojis.values()) if (e.animated === src.animated) sameKind++;
    if (sameKind >= MAX_EMOJIS_PER_KIND) {
      throw refused(Codes.MaximumNumberOfEmojisReached, `Maximum number of emojis reached (${MAX_EMOJIS_PER_KIND})`);
    }
    const emoji = create(EmojiSchema, {
      id: src.id,
      name: this.emojiName(src.name),
      roleIds: this.emojiRoles(src.roleIds),
      userId: this.actorId,
      animated: src.animated,
    });
    this.emit(event("GUILD_EMOJIS_UPDATE", { case: "emojiCreated", value: emoji }));
    return result({ case: "emoji", value: emoji });
  }

  private modifyEmoji(input: Emoji | undefined, mask: FieldMask | undefined): GuildCommandResult {
    this.memberGuild();
    const src = input ?? create(EmojiSchema);
    const current = this.emoji(src.id);
    this.requireEmojiRights(current.userId);
    const paths = maskPaths(mask, ["name", "role_ids"]);
    const next = clone(EmojiSchema, current);
    if (paths.includes("name")) next.name = this.emojiName(src.name);
    if (paths.includes("role_ids")) next.roleIds = this.emojiRoles(src.roleIds);
    this.emit(event("GUILD_EMOJIS_UPDATE", { case: "emojiUpdated", value: next }));
    return result({ case: "emoji", value: next });
  }

  private deleteEmoji(emojiId: bigint): GuildCommandResult {
    this.memberGuild();
    const emoji = this.emoji(emojiId);
    this.requireEmojiRights(emoji.userId);
    this.emit(event("GUILD_EMOJIS_UPDATE", { case: "emojiDeleted", value: emoji }));
    return result({ case: "emoji", value: emoji });
  }

  // --- roles --------------------------------------------------------------------------------

  /** Moves every role at or above `position` (but @everyone) one up, to make room. */
  private makeRoomAt(position: number): void {
    for (const role of this.model.roles.values()) {
      if (role.id === this.model.ownerId || role.position < position) continue;
      const moved = clone(RoleSchema, role);
      moved.position += 1;
      this.emit(event("GUILD_ROLE_UPDATE", { case: "roleUpdated", value: moved }));
    }
  }

  private createRole(input: Role | undefined): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageRoles);
    if (this.model.roles.size >= MAX_ROLES) throw refused(Codes.MaximumNumberOfGuildRolesReached, "Maximum number of guild roles reached (250)");
    const src = input ?? create(RoleSchema);
    const held = this.model.basePermissions(this.actorId);
    this.requireHeldBits(src.permissions, held);
    // Without a position the role goes just above @everyone, pushing every other role up
    // (the actor's too): always within reach. An explicit position must not be above the
    // actor's highest role, which moves up with the others.
    const position = src.position > 0 ? src.position : 1;
    if (src.position > 0 && !this.model.isOwner(this.actorId) && this.model.highestPosition(this.actorId) < position) throw missingPermissions();
    const role = create(RoleSchema, {
      id: this.env.newId(),
      name: src.name === "" ? "new role" : text("name", src.name, 1, 100),
      color: range("color", src.color, 0, 0xffffff),
      hoist: src.hoist,
      position,
      permissions: src.permissions & ALL_PERMISSIONS,
      mentionable: src.mentionable,
    });
    this.makeRoomAt(position);
    this.emit(event("GUILD_ROLE_CREATE", { case: "roleCreated", value: role }));
    return result({ case: "role", value: role });
  }

  private modifyRole(input: Role | undefined, mask: FieldMask | undefined): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageRoles);
    const src = input ?? create(RoleSchema);
    const current = this.role(src.id);
    const paths = maskPaths(mask, ["name", "color", "hoist", "permissions", "mentionable"]);
    if (current.id !== this.model.ownerId) this.requireOutranks(current.position);
    const next = clone(RoleSchema, current);
    for (const path of paths) {
      switch (path) {
        case "name":
          if (current.id === this.model.ownerId) throw invalidField("name", "The @everyone role cannot be renamed.");
          next.name = text("name", src.name, 1, 100);
          break;
        case "color":
          next.color = range("color", src.color, 0, 0xffffff);
          break;
        case "hoist":
          next.hoist = src.hoist;
          break;
        case "permissions":
          // Only bits that change need to be held: keeping a role's bits is always allowed.
          this.requireHeldBits(src.permissions ^ current.permissions, this.model.basePermissions(this.actorId));
          next.permissions = src.permissions & ALL_PERMISSIONS;
          break;
        case "mentionable":
          next.mentionable = src.mentionable;
          break;
      }
    }
    this.emit(event("GUILD_ROLE_UPDATE", { case: "roleUpdated", value: next }));
    return result({ case: "role", value: next });
  }

  private deleteRole(roleId: bigint): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageRoles);
    const role = this.role(roleId);
    if (role.id === this.model.ownerId) throw refused(Codes.InvalidRole, "The @everyone role cannot be deleted");
    if (role.managed) throw refused(Codes.InvalidRole, "A managed role cannot be deleted");
    this.requireOutranks(role.position);
    this.emit(event("GUILD_ROLE_DELETE", { case: "roleDeleted", value: create(RoleDeletedSchema, { roleId }) }));
    return result({ case: "removed", value: create(RemovedSchema, { removed: true }) });
  }

  private reorderRoles(positions: readonly { roleId: bigint; position: number }[]): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageRoles);
    if (positions.length === 0) throw invalidField("positions", "Name at least one role.");
    const changed = new Map<bigint, Role>();
    positions.forEach((p, i) => {
      const current = this.model.roles.get(p.roleId);
      if (!current) throw invalidField(`${i}.id`, "Unknown role.");
      if (current.id === this.model.ownerId) throw invalidField(`${i}.id`, "The @everyone role stays at position 0.");
      if (changed.has(p.roleId)) throw invalidField(`${i}.id`, "Repeated role.");
      const position = range(`${i}.position`, p.position, 1, MAX_ROLES);
      this.requireOutranks(current.position);
      this.requireOutranks(position);
      const next = clone(RoleSchema, current);
      next.position = position;
      changed.set(p.roleId, next);
    });
    for (const role of changed.values()) this.emit(event("GUILD_ROLE_UPDATE", { case: "roleUpdated", value: role }));
    const after = this.model.sortedRoles().map((r) => changed.get(r.id) ?? r);
    after.sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : 1));
    return result({ case: "roles", value: create(RoleListSchema, { roles: after }) });
  }

  // --- members ------------------------------------------------------------------------------

  /** Checks that the actor may give or take each of these roles. */
  private checkRoleChanges(field: string, roleIds: readonly bigint[]): void {
    const perms = this.model.basePermissions(this.actorId);
    if (!has(perms, Permission.ManageRoles)) throw missingPermissions();
    roleIds.forEach((roleId, i) => {
      const role = this.model.roles.get(roleId);
      if (!role || role.id === this.model.ownerId) throw invalidField(`${field}.${i}`, "Unknown role.");
      if (role.managed) throw invalidField(`${field}.${i}`, "A managed role cannot be given or taken.");
      this.requireOutranks(role.position);
    });
  }

  private modifyMember(input: Member | undefined, mask: FieldMask | undefined): GuildCommandResult {
    this.memberGuild();
    const src = input ?? create(MemberSchema);
    const current = this.member(src.userId);
    const paths = maskPaths(mask, ["nick", "role_ids", "deaf", "mute"]);
    const perms = this.model.basePermissions(this.actorId);
    const self = src.userId === this.actorId;
    const next = clone(MemberSchema, current);
    for (const path of paths) {
      switch (path) {
        case "nick":
          if (self) {
            if (!has(perms, Permission.ChangeNickname) && !has(perms, Permission.ManageNicknames)) throw missingPermissions();
          } else {
            if (!has(perms, Permission.ManageNicknames)) throw missingPermissions();
            if (this.model.isOwner(src.userId) || !this.model.outranks(this.actorId, this.model.highestPosition(src.userId))) throw missingPermissions();
          }
          next.nick = src.nick === undefined || src.nick === "" ? undefined : text("nick", src.nick, 1, 32);
          break;
        case "role_ids": {
          const wanted = [...new Set(src.roleIds)];
          const added = wanted.filter((id) => !current.roleIds.includes(id));
          const removed = current.roleIds.filter((id) => !wanted.includes(id));
          this.checkRoleChanges("role_ids", [...added, ...removed]);
          next.roleIds = wanted;
          break;
        }
        case "deaf":
          if (!has(perms, Permission.DeafenMembers)) throw missingPermissions();
          next.deaf = src.deaf;
          break;
        case "mute":
          if (!has(perms, Permission.MuteMembers)) throw missingPermissions();
          next.mute = src.mute;
          break;
      }
    }
    this.emit(event("GUILD_MEMBER_UPDATE", { case: "memberUpdated", value: next }));
    return result({ case: "member", value: next });
  }

  private changeMemberRole(userId: bigint, roleId: bigint, add: boolean): GuildCommandResult {
    this.memberGuild();
    const current = this.member(userId);
    const role = this.role(roleId);
    this.checkRoleChanges("role_id", [role.id]);
    const holds = current.roleIds.includes(roleId);
    if (holds === add) return result({ case: "member", value: current });
    const next = clone(MemberSchema, current);
    next.roleIds = add ? [...current.roleIds, roleId] : current.roleIds.filter((id) => id !== roleId);
    this.emit(event("GUILD_MEMBER_UPDATE", { case: "memberUpdated", value: next }));
    return result({ case: "member", value: next });
  }

  private kick(userId: bigint): GuildCommandResult {
    this.requireGuildPermission(Permission.KickMembers);
    this.member(userId);
    if (this.model.isOwner(userId) || userId === this.actorId) throw missingPermissions();
    this.requireOutranks(this.model.highestPosition(userId));
    this.emit(event("GUILD_MEMBER_REMOVE", { case: "memberRemoved", value: create(MemberRemovedSchema, { userId }) }));
    this.index.removeUserGuilds.push(userId);
    return result({ case: "removed", value: create(RemovedSchema, { removed: true }) });
  }

  private leave(): GuildCommandResult {
    this.memberGuild();
    if (this.model.isOwner(this.actorId)) throw refused(Codes.InvalidGuild, "The owner cannot leave the guild; transfer it or delete it");
    this.emit(event("GUILD_MEMBER_REMOVE", { case: "memberRemoved", value: create(MemberRemovedSchema, { userId: this.actorId }) }));
    this.index.removeUserGuilds.push(this.actorId);
    return result({ case: "removed", value: create(RemovedSchema, { removed: true }) });
  }

  private addBot(botUserId: bigint, permissions: bigint, botName: string): GuildCommandResult {
    this.requireGuildPermission(Permission.ManageGuild);
    if (botUserId === 0n) throw invalidField("bot_user_id", "Required.");
    if (this.model.bans.has(botUserId)) throw refused(Codes.UserBannedFromThisGuild, "The user is banned from this guild");
    const existing = this.model.members.get(botUserId);
    if (existing) return result({ case: "member", value: existing });
    this.requireHeldBits(permissions, this.model.basePermissions(this.actorId));
    const member = create(MemberSchema, { userId: botUserId, joinedAt: timestampFromDate(this.env.now) });
    if ((permissions & ALL_PERMISSIONS) !== 0n) {
      const role = create(RoleSchema, {
        id: this.env.newId(),
        name: text("bot_name", botName || "bot", 1, 100),
        position: 1,
        permissions: permissions & ALL_PERMISSIONS,
        managed: true,
        botId: botUserId,
      });
      this.makeRoomAt(1);
      this.emit(event("GUILD_ROLE_CREATE", { case: "roleCreated", value: role }));
      member.roleIds = [role.id];
    }
    this.emit(event("GUILD_MEMBER_ADD", { case: "memberAdded", value: member }));
    this.index.addUserGuilds.push(botUserId);
    return result({ case: "member", value: member });
  }

  // --- bans ---------------------------------------------------------------------------------

  private ban(userId: bigint, reason: string | undefined): GuildCommandResult {
    this.requireGuildPermission(Permission.BanMembers);
    if (userId === 0n) throw invalidField("user_id", "Required.");
    if (this.model.isOwner(userId) || userId === this.actorId) throw missingPermissions();
    if (this.model.members.has(userId)) this.requireOutranks(this.model.highestPosition(userId));
    const ban = create(BanSchema, { userId, reason: reason === undefined || reason === "" ? undefined : text("reason", reason, 1, 512) });
    this.emit(event("GUILD_BAN_ADD", { case: "banAdded", value: ban }));
    if (this.model.members.has(userId)) {
      this.emit(event("GUILD_MEMBER_REMOVE", { case: "memberRemoved", value: create(MemberRemovedSchema, { userId }) }));
      this.index.removeUserGuilds.push(userId);
    }
    return result({ case: "ban", value: ban });
  }

  private unban(userId: bigint): GuildCommandResult {
    this.requireGuildPermission(Permission.BanMembers);
    const ban = this.model.bans.get(userId);
    if (!ban) throw unknownBan();
    this.emit(event("GUILD_BAN_REMOVE", { case: "banRemoved", value: create(BanRemovedSchema, { userId }) }));
    return result({ case: "ban", value: ban });
  }

  // --- invites ------------------------------------------------------------------------------

  private createInvite(cmd: { channelId: bigint; maxAge?: number; maxUses: number; temporary: boolean; unique: boolean }): GuildCommandResult {
    const channel = this.requireChannelPermission(cmd.channelId, Permission.CreateInstantInvite);
    if (channel.type === ChannelType.GuildCategory) throw invalidField("channel_id", "Cannot invite to a category.");
    const maxAge = range("max_age", cmd.maxAge ?? DEFAULT_INVITE_MAX_AGE, 0, 604_800);
    const maxUses = range("max_uses", cmd.maxUses, 0, 100);
    if (!cmd.unique) {
      for (const invite of this.model.invites.values()) {
        const same = invite.channelId === channel.id && invite.inviterId === this.actorId && invite.maxAge === maxAge && invite.maxUses === maxUses && invite.temporary === cmd.temporary;
        if (same && !inviteExpired(invite, this.env.now)) return result({ case: "invite", value: invite });
      }
    }
    const invite = create(InviteSchema, {
      code: this.env.newInviteCode(),
      guildId: this.model.ownerId,
      channelId: channel.id,
      inviterId: this.actorId,
      maxAge,
      maxUses,
      temporary: cmd.temporary,
      createdAt: timestampFromDate(this.env.now),
    });
    this.index.claims.push({ kind: DirectoryKind.INVITE, key: invite.code });
    this.emit(event("INVITE_CREATE", { case: "inviteCreated", value: invite }));
    return result({ case: "invite", value: invite });
  }

  private deleteInvite(code: string): GuildCommandResult {
    this.memberGuild();
    const invite = this.model.invites.get(code);
    if (!invite) throw unknownInvite();
    const channel = this.model.channels.get(invite.channelId);
    const allowed =
      invite.inviterId === this.actorId ||
      has(this.model.basePermissions(this.actorId), Permission.ManageGuild) ||
      (channel !== undefined && has(this.model.channelPermissions(this.actorId, channel), Permission.ManageChannels));
    if (!allowed) throw missingPermissions();
    this.emit(event("INVITE_DELETE", { case: "inviteDeleted", value: invite }));
    this.index.releases.push({ kind: DirectoryKind.INVITE, key: code });
    return result({ case: "invite", value: invite });
  }

  private acceptInvite(code: string): GuildCommandResult {
    this.guild();
    const invite = this.model.invites.get(code);
    if (!invite || inviteExpired(invite, this.env.now)) throw unknownInvite();
    if (this.model.bans.has(this.actorId)) throw refused(Codes.UserBannedFromThisGuild, "The user is banned from this guild");
    const existing = this.model.members.get(this.actorId);
    if (existing) return result({ case: "member", value: existing });
    const member = create(MemberSchema, { userId: this.actorId, joinedAt: timestampFromDate(this.env.now) });
    const used = clone(InviteSchema, invite);
    used.uses += 1;
    this.emit(event("GUILD_MEMBER_ADD", { case: "memberAdded", value: member }));
    this.emit(event("INVITE_USE", { case: "inviteUsed", value: used }));
    this.index.addUserGuilds.push(this.actorId);
    return result({ case: "member", value: member });
  }

  // --- private channels (the model is one DM or group DM) -------------------------------------

  private privateChannel(): Channel {
    const [channel] = this.model.channels.values();
    if (!channel || this.model.deleted || !isPrivate(channel)) throw unknownChannel();
    if (!channel.recipientIds.includes(this.actorId)) throw missingAccess();
    return channel;
  }

  private createPrivateChannel(recipientIds: readonly bigint[], name: string | undefined): GuildCommandResult {
    const model = this.model;
    if (model.deleted || model.guild) throw guildError(Code.AlreadyExists, Codes.InvalidRecipients, "channel_id: this id is taken");
    const existing = [...model.channels.values()][0];
    if (existing) {
      if (existing.recipientIds.includes(this.actorId)) return result({ case: "channel", value: existing });
      throw guildError(Code.AlreadyExists, Codes.InvalidRecipients, "channel_id: this id is taken");
    }
    const others = [...new Set(recipientIds)].filter((id) => id !== this.actorId && id !== 0n);
    if (others.length === 0) throw invalidField("recipient_ids", "Name at least one other user.");
    if (others.length + 1 > MAX_GROUP_DM_RECIPIENTS) throw refused(Codes.MaximumNumberOfRecipientsReached, "Maximum number of recipients reached (10)");
    const group = others.length > 1 || name !== undefined;
    const channel = create(ChannelSchema, {
      id: model.ownerId,
      type: group ? ChannelType.GroupDM : ChannelType.DM,
      recipientIds: [this.actorId, ...others],
      ownerId: group ? this.actorId : 0n,
      name: group && name ? text("name", name, 1, 100) : "",
    });
    if (!group) this.index.claimsAfter.push({ kind: DirectoryKind.DM, key: dmKey(this.actorId, others[0]) });
    this.index.claims.push({ kind: DirectoryKind.CHANNEL, key: String(channel.id) });
    this.emit(event("CHANNEL_CREATE", { case: "guildCreated", value: create(GuildStateSchema, { channels: [channel] }) }));
    return result({ case: "channel", value: channel });
  }

  private modifyGroupDm(src: Channel, mask: FieldMask | undefined): GuildCommandResult {
    const current = this.privateChannel();
    if (current.type !== ChannelType.GroupDM) throw refused(Codes.CannotExecuteActionOnDMChannel, "Cannot execute action on a DM channel");
    const paths = maskPaths(mask, ["name", "icon"]);
    const next = clone(ChannelSchema, current);
    for (const path of paths) {
      if (path === "name") next.name = src.name === "" ? "" : text("name", src.name, 1, 100);
      else next.icon = src.icon;
    }
    this.emit(event("CHANNEL_UPDATE", { case: "channelUpdated", value: next }));
    return result({ case: "channel", value: next });
  }

  private addRecipient(userId: bigint): GuildCommandResult {
    const current = this.privateChannel();
    if (current.type !== ChannelType.GroupDM) throw refused(Codes.CannotExecuteActionOnDMChannel, "Cannot execute action on a DM channel");
    if (current.recipientIds.includes(userId)) return result({ case: "channel", value: current });
    if (current.recipientIds.length >= MAX_GROUP_DM_RECIPIENTS) throw refused(Codes.MaximumNumberOfRecipientsReached, "Maximum number of recipients reached (10)");
    const next = clone(ChannelSchema, current);
    next.recipientIds = [...current.recipientIds, userId];
    this.emit(event("CHANNEL_RECIPIENT_ADD", { case: "channelUpdated", value: next }));
    return result({ case: "channel", value: next });
  }

  private removeRecipient(userId: bigint): GuildCommandResult {
    const current = this.privateChannel();
    if (current.type !== ChannelType.GroupDM) throw refused(Codes.CannotExecuteActionOnDMChannel, "Cannot execute action on a DM channel");
    if (userId !== this.actorId && current.ownerId !== this.actorId) throw missingPermissions();
    if (!current.recipientIds.includes(userId)) throw unknownMember();
    return this.dropRecipient(current, userId);
  }

  private dropRecipient(current: Channel, userId: bigint): GuildCommandResult {
    const next = clone(ChannelSchema, current);
    next.recipientIds = current.recipientIds.filter((id) => id !== userId);
    if (next.recipientIds.length === 0) {
      this.emit(event("CHANNEL_DELETE", { case: "channelDeleted", value: current }));
      return result({ case: "channel", value: current });
    }
    // The owner leaving hands the group to the next recipient.
    if (next.ownerId === userId) next.ownerId = next.recipientIds[0];
    this.emit(event("CHANNEL_RECIPIENT_REMOVE", { case: "channelUpdated", value: next }));
    return result({ case: "channel", value: next });
  }

  private leavePrivateChannel(channelId: bigint): GuildCommandResult {
    const current = this.privateChannel();
    if (current.id !== channelId) throw unknownChannel();
    // Closing a DM only hides it in Discord's clients; the channel and its history stay.
    if (current.type === ChannelType.DM) return result({ case: "channel", value: current });
    return this.dropRecipient(current, this.actorId);
  }
}
