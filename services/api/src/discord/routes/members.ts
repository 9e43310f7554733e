import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { validate } from "../../accounts/account-rules.js";
import {
  createBanSchema,
  int,
  listMembersQuerySchema,
  modifyCurrentMemberSchema,
  modifyMemberSchema,
  snowflake,
} from "../../guilds/guild-rules.js";
import { resultOf } from "../../guilds/guilds.js";
import { requireSession } from "../auth.js";
import { modifyMemberCommand } from "../guild-requests.js";
import { discordBan, discordMember } from "@chorus/discord-json/guilds";
import { pathSnowflake, pathSnowflakes } from "../path-ids.js";
import { lookUpUsers } from "../user-lookup.js";
import type { GuildRouteDependencies } from "./guilds.js";

type GuildParams = { Params: { guild_id: string } };
type MemberParams = { Params: { guild_id: string; user_id: string } };

const listBansQuerySchema = z.object({
  limit: int(1, 1000).optional(),
  before: snowflake().optional(),
  after: snowflake().optional(),
});

/** Discord's audit log reason: the X-Audit-Log-Reason header, URL-encoded, up to 512 characters. */
function auditLogReason(request: FastifyRequest): string | undefined {
  const header = request.headers["x-audit-log-reason"];
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  let reason = value;
  try {
    reason = decodeURIComponent(value);
  } catch {
    // Not URL-encoded: taken as it is.
  }
  return [...reason].slice(0, 512).join("");
}

/** Discord's member and ban routes. */
export function memberRoutes({ accounts, guilds }: GuildRouteDependencies) {
  return async (app: FastifyInstance) => {
    app.get<GuildParams & { Querystring: Record<string, unknown> }>("/guilds/:guild_id/members", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const query = validate(listMembersQuerySchema, request.query ?? {});
      const members = await guilds.listMembers(session.userId, guildId, query.after ?? 0n, query.limit ?? 1);
      const users = await lookUpUsers(accounts, members.map((m) => m.userId));
      return members.map((member) => discordMember(member, users));
    });

    app.patch<GuildParams>("/guilds/:guild_id/members/@me", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const body = validate(modifyCurrentMemberSchema, request.body ?? {});
      const result = await guilds.execute(session.userId, guildId, modifyMemberCommand(session.userId, body));
      const view = await guilds.getGuild(session.userId, guildId);
      return discordMember(resultOf(result, "member"), await lookUpUsers(accounts, [session.userId]), view.permissions);
    });

    app.get<MemberParams>("/guilds/:guild_id/members/:user_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const member = await guilds.getMember(session.userId, ids.guild_id, ids.user_id);
      return discordMember(member, await lookUpUsers(accounts, [member.userId]));
    });

    app.patch<MemberParams>("/guilds/:guild_id/members/:user_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const body = validate(modifyMemberSchema, request.body ?? {});
      const member = resultOf(await guilds.execute(session.userId, ids.guild_id, modifyMemberCommand(ids.user_id, body)), "member");
      return discordMember(member, await lookUpUsers(accounts, [member.userId]));
    });

    // Kick.
    app.delete<MemberParams>("/guilds/:guild_id/members/:user_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await guilds.execute(session.userId, ids.guild_id, { command: { case: "removeMember", value: { userId: ids.user_id } } });
      return reply.code(204).send();
    });

    for (const method of ["PUT", "DELETE"] as const) {
      app.route<{ Params: { guild_id: string; user_id: string; role_id: string } }>({
        method,
        url: "/guilds/:guild_id/members/:user_id/roles/:role_id",
        handler: async (request, reply) => {
          const session = await requireSession(accounts, request);
          const ids = pathSnowflakes(request.params);
          const value = { userId: ids.user_id, roleId: ids.role_id };
          await guilds.execute(session.userId, ids.guild_id, {
            command: method === "PUT" ? { case: "addMemberRole", value } : { case: "removeMemberRole", value },
          });
          return reply.code(204).send();
        },
      });
    }

    app.get<GuildParams & { Querystring: Record<string, unknown> }>("/guilds/:guild_id/bans", async (request) => {
      const session = await requireSession(accounts, request);
      const guildId = pathSnowflake("guild_id", request.params.guild_id);
      const query = validate(listBansQuerySchema, request.query ?? {});
      // Discord pages bans by user id: `after` ascending, `before` the ones just below it.
      let bans = (await guilds.listBans(session.userId, guildId)).sort((a, b) => (a.userId < b.userId ? -1 : 1));
      const limit = query.limit ?? 1000;
      if (query.after !== undefined) bans = bans.filter((ban) => ban.userId > query.after!).slice(0, limit);
      else if (query.before !== undefined) bans = bans.filter((ban) => ban.userId < query.before!).slice(-limit);
      else bans = bans.slice(0, limit);
      const users = await lookUpUsers(accounts, bans.map((ban) => ban.userId));
      return bans.map((ban) => discordBan(ban, users));
    });

    app.get<MemberParams>("/guilds/:guild_id/bans/:user_id", async (request) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const ban = await guilds.getBan(session.userId, ids.guild_id, ids.user_id);
      return discordBan(ban, await lookUpUsers(accounts, [ban.userId]));
    });

    app.put<MemberParams>("/guilds/:guild_id/bans/:user_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      const body = validate(createBanSchema, request.body ?? {});
      await guilds.requireUsers([ids.user_id]);
      const reason = auditLogReason(request) ?? body.reason ?? undefined;
      await guilds.execute(session.userId, ids.guild_id, { command: { case: "createBan", value: { userId: ids.user_id, reason } } });
      return reply.code(204).send();
    });

    app.delete<MemberParams>("/guilds/:guild_id/bans/:user_id", async (request, reply) => {
      const session = await requireSession(accounts, request);
      const ids = pathSnowflakes(request.params);
      await guilds.execute(session.userId, ids.guild_id, { command: { case: "removeBan", value: { userId: ids.user_id } } });
      return reply.code(204).send();
    });
  };
}
