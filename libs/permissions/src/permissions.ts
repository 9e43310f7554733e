/**
 * Discord permission computation, as documented in the Discord developer docs
 * (topics/permissions: "Permission Hierarchy", "Permission Overwrites", "Implicit Permissions").
 *
 * Permission sets are `bigint` bitfields. Flag values come from discord-api-types'
 * `PermissionFlagsBits` (imported from its `payloads/v10` entry point, which loads noticeably
 * faster than the full `v10` one) so they are never retyped here.
 *
 * Every computed set (`computeBasePermissions`, `computeChannelPermissions`,
 * `computePermissions`) is a subset of `ALL_PERMISSIONS`: bits that no defined flag uses are
 * dropped, so `ALL_PERMISSIONS` (what owners and administrators get) is always a superset of
 * what anybody else can end up with. `parsePermissions` keeps such bits: it is a wire codec.
 *
 * The computations run on the relay's per-recipient hot path: no allocation besides the
 * bigint results of the bit operations themselves (no arrays, sets, maps or closures).
 */
import { PermissionFlagsBits } from 'discord-api-types/payloads/v10';

/** Every permission flag, by discord-api-types' PascalCase name (e.g. `Permission.ViewChannel`). */
export const Permission = PermissionFlagsBits;
export type PermissionName = keyof typeof PermissionFlagsBits;

/** The empty permission set. */
export const NO_PERMISSIONS = 0n;

/** Every defined permission bit (what the guild owner and ADMINISTRATOR holders get). */
export const ALL_PERMISSIONS: bigint = Object.values(PermissionFlagsBits).reduce(
  (all: bigint, flag: bigint) => all | flag,
  0n,
);

/** Largest value `parsePermissions` / `serializePermissions` accept: 64 bits, all set. */
export const MAX_PERMISSIONS_VALUE = (1n << 64n) - 1n;

/** Overwrite target kinds, as in Discord's overwrite object `type` field. */
export const OverwriteType = { Role: 0, Member: 1 } as const;

export interface RoleInfo {
  id: bigint;
  /** Guild-level permissions of the role. */
  permissions: bigint;
  /** Position in the role list; higher is above. The @everyone role is at 0. */
  position: number;
}

/** A channel permission overwrite. The @everyone overwrite is the role overwrite whose id is the guild id. */
export interface Overwrite {
  /** Role id (type 0) or user id (type 1). */
  id: bigint;
  /** 0: role, 1: member. */
  type: 0 | 1;
  allow: bigint;
  deny: bigint;
}

export interface GuildInfo {
  /** Also the id of the guild's @everyone role. */
  id: bigint;
  ownerId: bigint;
}

export interface MemberInfo {
  userId: bigint;
  /** The member's role ids; the @everyone role is implied and need not be listed. */
  roleIds: readonly bigint[];
}

const ADMINISTRATOR = PermissionFlagsBits.Administrator;
const VIEW_CHANNEL = PermissionFlagsBits.ViewChannel;
const SEND_MESSAGES = PermissionFlagsBits.SendMessages;
/** What denying SEND_MESSAGES implicitly denies ("Implicit Permissions"). */
const NEEDS_SEND_MESSAGES =
  PermissionFlagsBits.MentionEveryone |
  PermissionFlagsBits.SendTTSMessages |
  PermissionFlagsBits.AttachFiles |
  PermissionFlagsBits.EmbedLinks;
/**
 * What a channel computation can yield for a non-administrator: every defined bit except
 * ADMINISTRATOR, which is guild-level only (an overwrite allowing it grants nothing).
 */
const CHANNEL_MASK = ALL_PERMISSIONS & ~ADMINISTRATOR;
/** CHANNEL_MASK without the bits that need SEND_MESSAGES: one AND strips them. */
const CHANNEL_MASK_WITHOUT_SEND = CHANNEL_MASK & ~NEEDS_SEND_MESSAGES;

/** Thrown by `parsePermissions` / `serializePermissions` for malformed or out-of-range values. */
export class InvalidPermissionsError extends Error {
  override name = 'InvalidPermissionsError';
}

/**
 * True when `perms` contains every bit of `flag` (so with a combination of flags, all of
 * them). A plain bit test: ADMINISTRATOR is not special here, because computed sets of
 * administrators already contain every flag.
 */
export function has(perms: bigint, flag: bigint): boolean {
  return (perms & flag) === flag;
}

function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
}

/**
 * Parse a permission set as Discord serializes it in JSON: a string of decimal digits only
 * (no sign, whitespace, prefix or exponent; leading zeros are fine), at most 64 bits.
 * Bits no flag defines are kept.
 */
export function parsePermissions(value: string): bigint {
  if (typeof value !== 'string') {
    const hint = typeof value === 'number' ? ' (Discord sends permissions as strings)' : '';
    throw new InvalidPermissionsError(`invalid permissions: expected a string, got ${typeof value}${hint}`);
  }
  if (value.length === 0) {
    throw new InvalidPermissionsError('invalid permissions: empty string');
  }
  if (/^-\d+$/.test(value)) {
    throw new InvalidPermissionsError(`invalid permissions ${quote(value)}: must not be negative`);
  }
  if (!/^\d+$/.test(value)) {
    throw new InvalidPermissionsError(`invalid permissions ${quote(value)}: expected a string of decimal digits`);
  }
  // 2^64-1 has 20 digits: refuse absurdly long input before BigInt parses it.
  if (value.replace(/^0+(?=\d)/, '').length > 20) {
    throw new InvalidPermissionsError(`invalid permissions: ${value.length}-digit value exceeds 64 bits`);
  }
  const perms = BigInt(value);
  if (perms > MAX_PERMISSIONS_VALUE) {
    throw new InvalidPermissionsError(`invalid permissions ${value}: exceeds 64 bits`);
  }
  return perms;
}

/** Serialize a permission set the way Discord does: its decimal string. */
export function serializePermissions(perms: bigint): string {
  if (typeof perms !== 'bigint') {
    throw new InvalidPermissionsError(`invalid permissions: expected a bigint, got ${typeof perms}`);
  }
  if (perms < 0n) {
    throw new InvalidPermissionsError(`invalid permissions ${perms}: must not be negative`);
  }
  if (perms > MAX_PERMISSIONS_VALUE) {
    throw new InvalidPermissionsError(`invalid permissions ${perms}: exceeds 64 bits`);
  }
  return perms.toString();
}

/**
 * Guild-level permissions of a member: ALL for the guild owner; otherwise the @everyone role
 * (the role whose id is the guild id) OR each of the member's roles, and ALL when that
 * includes ADMINISTRATOR. Role ids missing from `rolesById` (e.g. deleted roles) are skipped;
 * a missing @everyone role counts as no permissions.
 */
export function computeBasePermissions(
  guild: GuildInfo,
  member: MemberInfo,
  rolesById: ReadonlyMap<bigint, RoleInfo>,
): bigint {
  if (member.userId === guild.ownerId) return ALL_PERMISSIONS;
  let perms = rolesById.get(guild.id)?.permissions ?? 0n;
  const roleIds = member.roleIds;
  for (let i = 0; i < roleIds.length; i++) {
    const role = rolesById.get(roleIds[i]);
    if (role !== undefined) perms |= role.permissions;
  }
  if ((perms & ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS;
  return perms & ALL_PERMISSIONS;
}

/**
 * A member's permissions in a channel, from their guild-level permissions (`base`, see
 * `computeBasePermissions`) and the channel's overwrites:
 *
 * 1. ADMINISTRATOR in `base` (or being the guild owner) → ALL; overwrites do not apply.
 * 2. The @everyone overwrite (role overwrite whose id is the guild id): deny, then allow.
 * 3. The overwrites of all the member's roles combined: all their denies, then all their
 *    allows (so one role's allow beats another role's deny, whatever the role positions).
 *    Overwrites of roles the member does not have are ignored.
 * 4. The member's own overwrite (type 1, id = user id): deny, then allow.
 * 5. Implicit permissions: without VIEW_CHANNEL, nothing at all (0n); without SEND_MESSAGES,
 *    also no MENTION_EVERYONE, SEND_TTS_MESSAGES, ATTACH_FILES or EMBED_LINKS. These are the
 *    rules Discord documents for text channels; they are applied whatever the channel kind
 *    (this lib has no notion of channel types).
 *
 * Within one overwrite, a bit both denied and allowed ends up allowed (deny is applied first).
 * Overwrites are matched by type and id: a member overwrite never counts as a role overwrite
 * and vice versa. An overwrite cannot grant ADMINISTRATOR (a guild-level permission; the bit
 * is dropped), and bits no flag defines are dropped from the result.
 */
export function computeChannelPermissions(
  base: bigint,
  guild: GuildInfo,
  member: MemberInfo,
  overwrites: readonly Overwrite[],
): bigint {
  if ((base & ADMINISTRATOR) !== 0n || member.userId === guild.ownerId) return ALL_PERMISSIONS;

  const guildId = guild.id;
  const userId = member.userId;
  const roleIds = member.roleIds;
  const roleCount = roleIds.length;
  let everyoneAllow = 0n;
  let everyoneDeny = 0n;
  let rolesAllow = 0n;
  let rolesDeny = 0n;
  let memberAllow = 0n;
  let memberDeny = 0n;

  for (let i = 0; i < overwrites.length; i++) {
    const overwrite = overwrites[i];
    const id = overwrite.id;
    if (overwrite.type === OverwriteType.Role) {
      if (id === guildId) {
        everyoneAllow |= overwrite.allow;
        everyoneDeny |= overwrite.deny;
      } else {
        for (let r = 0; r < roleCount; r++) {
          if (roleIds[r] === id) {
            rolesAllow |= overwrite.allow;
            rolesDeny |= overwrite.deny;
            break;
          }
        }
      }
    } else if (overwrite.type === OverwriteType.Member && id === userId) {
      memberAllow |= overwrite.allow;
      memberDeny |= overwrite.deny;
    }
  }

  let perms = base;
  if (everyoneDeny !== 0n) perms &= ~everyoneDeny;
  if (everyoneAllow !== 0n) perms |= everyoneAllow;
  if (rolesDeny !== 0n) perms &= ~rolesDeny;
  if (rolesAllow !== 0n) perms |= rolesAllow;
  if (memberDeny !== 0n) perms &= ~memberDeny;
  if (memberAllow !== 0n) perms |= memberAllow;

  if ((perms & VIEW_CHANNEL) === 0n) return 0n;
  if ((perms & SEND_MESSAGES) === 0n) return perms & CHANNEL_MASK_WITHOUT_SEND;
  return perms & CHANNEL_MASK;
}

/** `computeChannelPermissions(computeBasePermissions(...), ...)` in one call. */
export function computePermissions(
  guild: GuildInfo,
  member: MemberInfo,
  rolesById: ReadonlyMap<bigint, RoleInfo>,
  overwrites: readonly Overwrite[],
): bigint {
  return computeChannelPermissions(computeBasePermissions(guild, member, rolesById), guild, member, overwrites);
}

/**
 * Position of the member's highest role; 0 (the @everyone role's position) when the member
 * has no other role. Role ids missing from `rolesById` are skipped. Ties between roles of
 * equal position (which Discord breaks by role id) are not resolved here.
 */
export function highestRolePosition(member: MemberInfo, rolesById: ReadonlyMap<bigint, RoleInfo>): number {
  let highest = 0;
  const roleIds = member.roleIds;
  for (let i = 0; i < roleIds.length; i++) {
    const role = rolesById.get(roleIds[i]);
    if (role !== undefined && role.position > highest) highest = role.position;
  }
  return highest;
}

/**
 * Role hierarchy check ("Permission Hierarchy"): may `actor` grant, edit or reorder a role
 * at `targetRolePosition`? The guild owner always may; anybody else only when their highest
 * role is strictly above the target (an equal position is not enough). ADMINISTRATOR does
 * not bypass the hierarchy: Discord's hierarchy rules are stated in terms of the highest
 * role alone. This is the hierarchy part only: the caller checks MANAGE_ROLES (and, when
 * editing a role's permissions, that the actor holds every permission it grants) separately.
 */
export function canManageRole(
  actor: MemberInfo,
  targetRolePosition: number,
  guild: GuildInfo,
  rolesById: ReadonlyMap<bigint, RoleInfo>,
): boolean {
  if (actor.userId === guild.ownerId) return true;
  return highestRolePosition(actor, rolesById) > targetRolePosition;
}
