import { clone, create } from "@bufbuild/protobuf";
import {
  BanSchema,
  ChannelSchema,
  GuildSchema,
  InviteSchema,
  MemberSchema,
  RoleSchema,
  type Ban,
  type Channel,
  type Guild,
  type Invite,
  type Member,
  type Role,
} from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { NotificationSettingsSchema, type NotificationSettings } from "@chorus/contracts/chorus/chat/v1/device_pb";
import { EmojiSchema, type Emoji } from "@chorus/contracts/chorus/chat/v1/emoji_pb";
import { GuildStateSchema, type GuildEvent, type GuildState } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import {
  ALL_PERMISSIONS,
  canManageRole,
  computeBasePermissions,
  computeChannelPermissions,
  highestRolePosition,
  type MemberInfo,
  type Overwrite,
  type RoleInfo,
} from "@chorus/permissions";

/**
 * Whether notification settings differ from "the guild's default, nothing muted" in a way
 * that changes who gets pushes (suppress_everyone / suppress_roles are left to push).
 */
export function affectsPushes(settings: NotificationSettings): boolean {
  return settings.muted || settings.messageNotifications !== 3 || settings.channelOverrides.some((o) => o.muted || o.messageNotifications !== 3);
}

/** Discord's channel types that Chorus has. */
export const ChannelType = { GuildText: 0, DM: 1, GuildVoice: 2, GroupDM: 3, GuildCategory: 4 } as const;

export function isPrivate(channel: Channel): boolean {
  return channel.type === ChannelType.DM || channel.type === ChannelType.GroupDM;
}

/**
 * The in-memory state of one guild or private channel, as its owner holds it: rebuilt from
 * a snapshot plus the events after it, and changed only by `apply` — the same reducer runs for
 * live commands and for replay, so a reloaded guild is exactly the guild that was served.
 * Values held here are never handed out: callers get clones.
 */
export class GuildModel {
  guild: Guild | undefined;
  readonly channels = new Map<bigint, Channel>();
  readonly roles = new Map<bigint, Role>();
  readonly members = new Map<bigint, Member>();
  readonly bans = new Map<bigint, Ban>();
  readonly invites = new Map<string, Invite>();
  /** Members' notification settings that change what reaches them (see `affectsPushes`). */
  readonly memberNotifications = new Map<bigint, NotificationSettings>();
  readonly emojis = new Map<bigint, Emoji>();
  deleted = false;
  /** The seq of the last event applied (0 for nothing yet). */
  seq = 0n;

  constructor(readonly ownerId: bigint) {}

  /** True once the guild or private channel exists (and was not deleted). */
  get exists(): boolean {
    return !this.deleted && (this.guild !== undefined || this.channels.size > 0);
  }

  /** True when this model is a DM or group DM rather than a guild. */
  get isPrivateChannel(): boolean {
    return this.guild === undefined && this.channels.size > 0;
  }

  static fromState(ownerId: bigint, seq: bigint, state: GuildState): GuildModel {
    const model = new GuildModel(ownerId);
    model.load(state);
    model.seq = seq;
    return model;
  }

  toState(): GuildState {
    return create(GuildStateSchema, {
      guild: this.guild,
      channels: [...this.channels.values()],
      roles: [...this.roles.values()],
      members: [...this.members.values()],
      bans: [...this.bans.values()],
      invites: [...this.invites.values()],
      deleted: this.deleted,
      memberNotifications: [...this.memberNotifications.values()],
      emojis: [...this.emojis.values()],
    });
  }

  private load(state: GuildState): void {
    this.guild = state.guild && clone(GuildSchema, state.guild);
    for (const c of state.channels) this.channels.set(c.id, clone(ChannelSchema, c));
    for (const r of state.roles) this.roles.set(r.id, clone(RoleSchema, r));
    for (const m of state.members) this.members.set(m.userId, clone(MemberSchema, m));
    for (const b of state.bans) this.bans.set(b.userId, clone(BanSchema, b));
    for (const i of state.invites) this.invites.set(i.code, clone(InviteSchema, i));
    for (const n of state.memberNotifications) this.memberNotifications.set(n.userId, clone(NotificationSettingsSchema, n));
    for (const e of state.emojis) this.emojis.set(e.id, clone(EmojiSchema, e));
    this.deleted = state.deleted;
  }

  /** Folds one event into the state. Events come from the log in seq order. */
  apply(event: GuildEvent): void {
    const change = event.change;
    switch (change.case) {
      case "guildCreated":
        this.load(change.value);
        break;
      case "guildUpdated":
        this.guild = clone(GuildSchema, change.value);
        break;
      case "guildDeleted":
        this.deleted = true;
        this.channels.clear();
        this.roles.clear();
        this.members.clear();
        this.bans.clear();
        this.invites.clear();
        this.memberNotifications.clear();
        this.emojis.clear();
        break;
      case "channelCreated":
      case "channelUpdated":
        this.channels.set(change.value.id, clone(ChannelSchema, change.value));
        break;
      case "channelDeleted":
        this.channels.delete(change.value.id);
        for (const [code, invite] of this.invites) if (invite.channelId === change.value.id) this.invites.delete(code);
        // Deleting a private channel (a DM closed by its last recipient) ends it.
        if (this.guild === undefined) this.deleted = true;
        break;
      case "roleCreated":
      case "roleUpdated":
        this.roles.set(change.value.id, clone(RoleSchema, change.value));
        break;
      case "roleDeleted":
        this.roles.delete(change.value.roleId);
        for (const emoji of this.emojis.values()) emoji.roleIds = emoji.roleIds.filter((id) => id !== change.value.roleId);
        for (const member of this.members.values()) member.roleIds = member.roleIds.filter((id) => id !== change.value.roleId);
        for (const channel of this.channels.values()) {
          channel.permissionOverwrites = channel.permissionOverwrites.filter((o) => !(o.type === 0 && o.id === change.value.roleId));
        }
        break;
      case "memberAdded":
      case "memberUpdated":
        this.members.set(change.value.userId, clone(MemberSchema, change.value));
        break;
      case "memberRemoved":
        this.members.delete(change.value.userId);
        break;
      case "banAdded":
        this.bans.set(change.value.userId, clone(BanSchema, change.value));
        break;
      case "banRemoved":
        this.bans.delete(change.value.userId);
        break;
      case "inviteCreated":
      case "inviteUsed":
        this.invites.set(change.value.code, clone(InviteSchema, change.value));
        break;
      case "inviteDeleted":
        this.invites.delete(change.value.code);
        break;
      case "memberNotificationsUpdated":
        // Kept across leaving and rejoining, as storage keeps the settings.
        if (affectsPushes(change.value)) this.memberNotifications.set(change.value.userId, clone(NotificationSettingsSchema, change.value));
        else this.memberNotifications.delete(change.value.userId);
        break;
      case "emojiCreated":
      case "emojiUpdated":
        this.emojis.set(change.value.id, clone(EmojiSchema, change.value));
        break;
      case "emojiDeleted":
        this.emojis.delete(change.value.id);
        break;
      case undefined:
        break;
    }
    this.seq = event.seq;
  }

  // --- permissions -------------------------------------------------------------------------

  private guildInfo() {
    return { id: this.ownerId, ownerId: this.guild?.ownerId ?? 0n };
  }

  private roleInfos(): Map<bigint, RoleInfo> {
    const infos = new Map<bigint, RoleInfo>();
    for (const role of this.roles.values()) infos.set(role.id, role);
    return infos;
  }

  memberInfo(userId: bigint): MemberInfo | undefined {
    const member = this.members.get(userId);
    return member && { userId, roleIds: member.roleIds };
  }

  /** Guild-level permissions of a member (0 for non-members). */
  basePermissions(userId: bigint): bigint {
    const member = this.memberInfo(userId);
    if (!member || !this.guild) return 0n;
    return computeBasePermissions(this.guildInfo(), member, this.roleInfos());
  }

  /** A member's permissions in one channel (0 for non-members). */
  channelPermissions(userId: bigint, channel: Channel): bigint {
    if (isPrivate(channel)) return channel.recipientIds.includes(userId) ? ALL_PERMISSIONS : 0n;
    const member = this.memberInfo(userId);
    if (!member || !this.guild) return 0n;
    const base = computeBasePermissions(this.guildInfo(), member, this.roleInfos());
    return computeChannelPermissions(base, this.guildInfo(), member, channel.permissionOverwrites as Overwrite[]);
  }

  /** The position of a member's highest role (0: only @everyone). */
  highestPosition(userId: bigint): number {
    const member = this.memberInfo(userId);
    return member ? highestRolePosition(member, this.roleInfos()) : 0;
  }

  /** May `actorId` manage something at `position` in the role hierarchy? */
  outranks(actorId: bigint, position: number): boolean {
    const member = this.memberInfo(actorId);
    if (!member) return false;
    return canManageRole(member, position, this.guildInfo(), this.roleInfos());
  }

  isOwner(userId: bigint): boolean {
    return this.guild?.ownerId === userId;
  }

  /** Channels by Discord's display order: position, then id. */
  sortedChannels(): Channel[] {
    return [...this.channels.values()].sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Custom emojis by id (their age). */
  sortedEmojis(): Emoji[] {
    return [...this.emojis.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Roles by position, then id. */
  sortedRoles(): Role[] {
    return [...this.roles.values()].sort((a, b) => a.position - b.position || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
