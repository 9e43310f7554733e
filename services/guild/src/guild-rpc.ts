import type { ServiceImpl } from "@connectrpc/connect";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import type { NodeInfo } from "@chorus/contracts/chorus/mesh/v1/node_pb";
import { has, Permission } from "@chorus/permissions";
import { inviteExpired } from "./guild-commands.js";
import { invalidField, missingAccess, missingPermissions, unknownBan, unknownChannel, unknownGuild, unknownInvite, unknownMember } from "./guild-errors.js";
import type { GuildHost } from "./guild-host.js";
import type { GuildMessages } from "./guild-messages.js";
import { GuildWebhooks } from "./guild-webhooks.js";
import { isPrivate, type GuildModel } from "@chorus/guild-state/guild-model";

const MAX_MEMBER_PAGE = 1000;
const PRESENCE_STATUSES = new Set(["", "online", "idle", "dnd", "invisible"]);
const MAX_ACTIVITIES_BYTES = 8192;

/** A guild the actor is a member of (50001 otherwise, 10004 when there is no such guild). */
function memberOf(model: GuildModel, actorId: bigint): void {
  if (!model.guild || model.deleted) throw unknownGuild();
  if (!model.members.has(actorId)) throw missingAccess();
}

function requirePermission(model: GuildModel, actorId: bigint, permission: bigint): void {
  memberOf(model, actorId);
  if (!has(model.basePermissions(actorId), permission)) throw missingPermissions();
}

/** chorus.guild.v1.GuildService on top of the guilds this node holds. */
export function guildHandlers(host: GuildHost, messages: GuildMessages, nodeInfo: () => NodeInfo, webhooks?: GuildWebhooks): ServiceImpl<typeof GuildService> {
  return {
    getStatus: () => ({ node: nodeInfo(), ownedGuilds: host.ownedCount, onlineSessions: host.onlineCount }),

    async execute(req) {
      if (req.ownerId === 0n) throw invalidField("owner_id", "Required.");
      if (!req.command) throw invalidField("command", "Required.");
      // Webhooks live in storage's own table, not in the guild's log: no event to record.
      if (webhooks && GuildWebhooks.handles(req.command)) return { result: await webhooks.execute(req.ownerId, req.actorId, req.command) };
      const { outcome, seq } = await host.execute(req.ownerId, req.actorId, req.command);
      const c = req.command.command;
      const deleted = outcome.result?.result;
      if (webhooks && c.case === "deleteGuild") await webhooks.removeWith(req.ownerId, 0n);
      if (webhooks && c.case === "deleteChannel" && deleted?.case === "channel" && !isPrivate(deleted.value)) await webhooks.removeWith(req.ownerId, c.value.channelId);
      return { result: outcome.result, seq };
    },

    async getGuild(req) {
      const { model } = await host.entry(req.guildId);
      memberOf(model, req.actorId);
      const channels = model.sortedChannels().filter((c) => has(model.channelPermissions(req.actorId, c), Permission.ViewChannel));
      return {
        guild: model.guild,
        roles: model.sortedRoles(),
        emojis: model.sortedEmojis(),
        channels,
        member: model.members.get(req.actorId),
        memberCount: model.members.size,
        permissions: model.basePermissions(req.actorId),
      };
    },

    async getChannel(req) {
      const { model } = await host.entry(req.ownerId);
      const channel = model.deleted ? undefined : model.channels.get(req.channelId);
      if (!channel) throw unknownChannel();
      if (isPrivate(channel)) {
        if (!channel.recipientIds.includes(req.actorId)) throw missingAccess();
      } else if (!model.members.has(req.actorId)) throw missingAccess();
      const permissions = model.channelPermissions(req.actorId, channel);
      if (!has(permissions, Permission.ViewChannel)) throw missingAccess();
      return { channel, permissions };
    },

    async listMembers(req) {
      const { model } = await host.entry(req.guildId);
      memberOf(model, req.actorId);
      if (req.limit > MAX_MEMBER_PAGE) throw invalidField("limit", `Must be between 1 and ${MAX_MEMBER_PAGE}.`);
      const limit = req.limit === 0 ? 1 : req.limit;
      const members = [...model.members.values()]
        .filter((m) => m.userId > req.afterUserId)
        .sort((a, b) => (a.userId < b.userId ? -1 : 1))
        .slice(0, limit);
      return { members };
    },

    async getMember(req) {
      const { model } = await host.entry(req.guildId);
      memberOf(model, req.actorId);
      const member = model.members.get(req.userId);
      if (!member) throw unknownMember();
      return { member };
    },

    async listBans(req) {
      const { model } = await host.entry(req.guildId);
      requirePermission(model, req.actorId, Permission.BanMembers);
      return { bans: [...model.bans.values()].sort((a, b) => (a.userId < b.userId ? -1 : 1)) };
    },

    async getBan(req) {
      const { model } = await host.entry(req.guildId);
      requirePermission(model, req.actorId, Permission.BanMembers);
      const ban = model.bans.get(req.userId);
      if (!ban) throw unknownBan();
      return { ban };
    },

    async listInvites(req) {
      const { model } = await host.entry(req.guildId);
      memberOf(model, req.actorId);
      const now = new Date();
      let invites = [...model.invites.values()].filter((i) => !inviteExpired(i, now));
      if (req.channelId !== 0n) {
        const channel = model.channels.get(req.channelId);
        if (!channel) throw unknownChannel();
        if (!has(model.channelPermissions(req.actorId, channel), Permission.ManageChannels)) throw missingPermissions();
        invites = invites.filter((i) => i.channelId === req.channelId);
      } else if (!has(model.basePermissions(req.actorId), Permission.ManageGuild)) throw missingPermissions();
      return { invites };
    },

    async getInvite(req) {
      const entry = await host.entry(req.guildId);
      const model = entry.model;
      const invite = model.invites.get(req.code);
      if (!invite || model.deleted || !model.guild || inviteExpired(invite, new Date())) throw unknownInvite();
      return {
        invite,
        guild: model.guild,
        channel: model.channels.get(invite.channelId),
        memberCount: model.members.size,
        onlineCount: entry.online.size,
      };
    },

    async getPermissions(req) {
      const { model } = await host.entry(req.guildId);
      memberOf(model, req.actorId);
      if (req.channelId === 0n) return { permissions: model.basePermissions(req.actorId) };
      const channel = model.channels.get(req.channelId);
      if (!channel) throw unknownChannel();
      return { permissions: model.channelPermissions(req.actorId, channel) };
    },

    async markOnline(req) {
      if (!req.session || req.session.userId === 0n) throw invalidField("session.user_id", "Required.");
      if (req.session.sessionId === "") throw invalidField("session.session_id", "Required.");
      if (!PRESENCE_STATUSES.has(req.session.status)) throw invalidField("session.status", "Must be online, idle, dnd or invisible.");
      if (req.session.activities.length > MAX_ACTIVITIES_BYTES) throw invalidField("session.activities", `At most ${MAX_ACTIVITIES_BYTES} bytes.`);
      if (req.session.activities.length > 0) {
        let activities: unknown;
        try {
          activities = JSON.parse(new TextDecoder().decode(req.session.activities));
        } catch {
          activities = undefined;
        }
        if (!Array.isArray(activities)) throw invalidField("session.activities", "Must be a JSON array.");
      }
      return { member: await host.markOnline(req.guildId, req.session) };
    },

    async markOffline(req) {
      await host.markOffline(req.guildId, req.userId, req.sessionId);
      return {};
    },

    async listOnline(req) {
      return { sessions: await host.listOnline(req.guildId) };
    },

    async getGuildState(req) {
      const { model } = await host.entry(req.ownerId);
      return { state: model.toState(), seq: model.seq };
    },

    async executeMessage(req) {
      if (req.ownerId === 0n) throw invalidField("owner_id", "Required.");
      if (!req.command) throw invalidField("command", "Required.");
      return { result: await messages.execute(req.ownerId, req.actorId, req.channelId, req.command) };
    },

    async readEvents(req) {
      if (req.limit > 1000) throw invalidField("limit", "Must be between 1 and 1000.");
      return host.readEvents(req.ownerId, req.afterSeq, req.limit === 0 ? 500 : req.limit);
    },
  };
}
