import type { JsonObject } from "@bufbuild/protobuf";
import type { Channel, Member, Role } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { discordGuildChannel } from "@chorus/discord-json/channels";
import { discordMember, discordRole, type UserLookup } from "@chorus/discord-json/guilds";
import { discordUser } from "@chorus/discord-json/users";
import { invalidField } from "./guild-errors.js";

/**
 * An interaction's `data.resolved`: the users, members, roles and channels its options (or a
 * select menu's values) name, as Discord sends them so that bots need not fetch each one
 * (discord.js's `options.getUser()`, `getMember()`, `getRole()`, `getChannel()` read them).
 */

/** What kind of object a snowflake option or select value names. */
export type TargetKind = "user" | "role" | "channel" | "mentionable";

/** A named object and where in `data` it was named (for refusals). */
export interface Target {
  kind: TargetKind;
  id: bigint;
  path: string;
}

const OPTION_KINDS: Record<number, TargetKind> = { 6: "user", 7: "channel", 8: "role", 9: "mentionable" };
const SELECT_KINDS: Record<number, TargetKind> = { 5: "user", 6: "role", 7: "mentionable", 8: "channel" };

function snowflake(value: unknown): bigint | undefined {
  return typeof value === "string" && /^\d{1,20}$/.test(value) ? BigInt(value) : undefined;
}

/** The targets of a command's options, sub-commands and groups included (focused autocomplete values left out). */
export function commandTargets(options: unknown, path = "data.options"): Target[] {
  if (!Array.isArray(options)) return [];
  return options.flatMap((item, i): Target[] => {
    if (typeof item !== "object" || item === null) return [];
    const option = item as Record<string, unknown>;
    if (Array.isArray(option.options)) return commandTargets(option.options, `${path}.${i}.options`);
    const kind = OPTION_KINDS[option.type as number];
    const id = snowflake(option.value);
    return kind && id !== undefined && option.focused !== true ? [{ kind, id, path: `${path}.${i}.value` }] : [];
  });
}

/** The targets of an entity select menu's chosen values. */
export function selectTargets(data: Record<string, unknown>): Target[] {
  const kind = SELECT_KINDS[data.component_type as number];
  if (!kind || !Array.isArray(data.values)) return [];
  return data.values.flatMap((value, i) => {
    const id = snowflake(value);
    return id === undefined ? [] : [{ kind, id, path: `data.values.${i}` }];
  });
}

/** What `resolvedData` reads of the guild (or private channel) the interaction is in. */
export interface ResolveContext {
  roles: ReadonlyMap<bigint, Role>;
  members: ReadonlyMap<bigint, Member>;
  channels: ReadonlyMap<bigint, Channel>;
  /** The invoking person's permissions in a channel (a resolved channel carries them). */
  permissionsIn(channel: Channel): bigint;
  /** A member's permissions in the interaction's channel (a resolved member carries them). */
  memberPermissions(userId: bigint): bigint;
  users: UserLookup;
}

/**
 * `data.resolved` for these targets; undefined when there are none. A role or channel that is
 * not the guild's is refused naming the field; a user need not be a member (then only
 * `users` has them, as in Discord); a mentionable is the role of that id, else the user.
 */
export function resolvedData(targets: readonly Target[], context: ResolveContext): JsonObject | undefined {
  if (targets.length === 0) return undefined;
  const users: Record<string, unknown> = {};
  const members: Record<string, unknown> = {};
  const roles: Record<string, unknown> = {};
  const channels: Record<string, unknown> = {};
  const addUser = (id: bigint) => {
    const user: User = context.users(id);
    users[String(id)] = discordUser(user);
    const member = context.members.get(id);
    if (member) {
      // Partial members: no user, deaf or mute; with their permissions in the channel.
      const { user: _user, deaf: _deaf, mute: _mute, ...partial } = discordMember(member, context.users, context.memberPermissions(id));
      members[String(id)] = partial;
    }
  };
  for (const target of targets) {
    switch (target.kind) {
      case "user":
        addUser(target.id);
        break;
      case "role": {
        const role = context.roles.get(target.id);
        if (!role) throw invalidField(target.path, "UNKNOWN_ROLE: Unknown role.");
        roles[String(target.id)] = discordRole(role);
        break;
      }
      case "mentionable": {
        const role = context.roles.get(target.id);
        if (role) roles[String(target.id)] = discordRole(role);
        else addUser(target.id);
        break;
      }
      case "channel": {
        const channel = context.channels.get(target.id);
        if (!channel) throw invalidField(target.path, "UNKNOWN_CHANNEL: Unknown channel.");
        channels[String(target.id)] = { ...discordGuildChannel(channel), permissions: String(context.permissionsIn(channel)) };
        break;
      }
    }
  }
  const resolved: Record<string, unknown> = {};
  if (Object.keys(users).length > 0) resolved.users = users;
  if (Object.keys(members).length > 0) resolved.members = members;
  if (Object.keys(roles).length > 0) resolved.roles = roles;
  if (Object.keys(channels).length > 0) resolved.channels = channels;
  return resolved as JsonObject;
}

/** The users a resolve will look up (to fetch them in one go beforehand). */
export function targetUserIds(targets: readonly Target[], roles: ReadonlyMap<bigint, Role>): bigint[] {
  return targets.filter((t) => t.kind === "user" || (t.kind === "mentionable" && !roles.has(t.id))).map((t) => t.id);
}
