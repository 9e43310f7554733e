import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { GuildCommandSchema, type GuildCommandResult } from "@chorus/contracts/chorus/chat/v1/guild_commands_pb";
import { ErrorReasonSchema, GuildEventSchema, GuildStateSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { DirectoryKind } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { Permission } from "@chorus/permissions";
import { DEFAULT_EVERYONE_PERMISSIONS, runCommand, type CommandOutcome } from "./guild-commands.js";
import { GuildModel } from "@chorus/guild-state/guild-model";

const GUILD = 1000n;
const OWNER = 1n;
const ALICE = 2n;
const BOB = 3n;

type Command = MessageInitShape<typeof GuildCommandSchema>["command"];

/** A guild driven through runCommand and GuildModel.apply, the way the host drives it, without storage. */
class Sim {
  model = new GuildModel(GUILD);
  private next = 5000n;
  private codes = 0;
  readonly log: CommandOutcome["events"][] = [];
  readonly now = new Date("2026-11-25T12:00:00Z");

  run(actorId: bigint, command: Command): CommandOutcome {
    const outcome = runCommand(
      { model: this.model, actorId, now: this.now, newId: () => this.next++, newInviteCode: () => `code${++this.codes}` },
      create(GuildCommandSchema, { command }),
    );
    let seq = this.model.seq;
    for (const e of outcome.events) this.model.apply(create(GuildEventSchema, { seq: ++seq, dispatch: e.dispatch, change: e.change }));
    this.log.push(outcome.events);
    return outcome;
  }

  result<C extends NonNullable<GuildCommandResult["result"]["case"]>>(actorId: bigint, command: Command, kind: C) {
    const r = this.run(actorId, command).result.result;
    assert.equal(r.case, kind);
    return r.value as Extract<GuildCommandResult["result"], { case: C }>["value"];
  }
}

/** Asserts a command fails with this Connect code and Discord code (and field, for 50035). */
function fails(fn: () => unknown, code: Code, discord: number, field?: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConnectError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.findDetails(ErrorReasonSchema)[0]?.code, discord, err.message);
    if (field) assert.ok(err.rawMessage.startsWith(`${field}: `), err.rawMessage);
    return true;
  });
}

function guildWithMembers(): Sim {
  const sim = new Sim();
  sim.run(OWNER, { case: "createGuild", value: { name: "Chorus" } });
  const invite = sim.result(OWNER, { case: "createInvite", value: { channelId: generalId(sim), maxUses: 0 } }, "invite");
  sim.run(ALICE, { case: "acceptInvite", value: { code: invite.code } });
  sim.run(BOB, { case: "acceptInvite", value: { code: invite.code } });
  return sim;
}

function generalId(sim: Sim): bigint {
  return [...sim.model.channels.values()].find((c) => c.name === "general")!.id;
}

describe("guild commands", () => {
  it("creates a guild: owner, @everyone with the guild's id, categories, general text and voice channels", () => {
    const sim = new Sim();
    const outcome = sim.run(OWNER, { case: "createGuild", value: { name: "  Chorus  " } });
    assert.deepEqual(outcome.events.map((e) => e.dispatch), ["GUILD_CREATE"]);
    const m = sim.model;
    assert.equal(m.guild!.name, "Chorus");
    assert.equal(m.guild!.ownerId, OWNER);
    assert.equal(m.roles.get(GUILD)!.name, "@everyone");
    assert.equal(m.roles.get(GUILD)!.permissions, DEFAULT_EVERYONE_PERMISSIONS);
    const types = [...m.channels.values()].map((c) => `${c.type}:${c.name}`).sort();
    assert.deepEqual(types, ["0:general", "2:General", "4:Text Channels", "4:Voice Channels"]);
    assert.equal(m.guild!.systemChannelId, generalId(sim));
    assert.deepEqual([...m.members.keys()], [OWNER]);
    assert.equal(outcome.index.claims.filter((c) => c.kind === DirectoryKind.CHANNEL).length, 4);
    assert.deepEqual(outcome.index.addUserGuilds, [OWNER]);
  });

  it("a repeated create by the same owner returns the guild without new events; another user cannot take the id", () => {
    const sim = new Sim();
    sim.run(OWNER, { case: "createGuild", value: { name: "Chorus" } });
    assert.equal(sim.run(OWNER, { case: "createGuild", value: { name: "Chorus" } }).events.length, 0);
    assert.throws(() => sim.run(ALICE, { case: "createGuild", value: { name: "Mine" } }), (e: ConnectError) => e.code === Code.AlreadyExists);
  });

  it("names the bad field: guild name length, channel type, slowmode, role color", () => {
    const sim = new Sim();
    fails(() => sim.run(OWNER, { case: "createGuild", value: { name: "x" } }), Code.InvalidArgument, 50035, "name");
    sim.run(OWNER, { case: "createGuild", value: { name: "Chorus" } });
    fails(() => sim.run(OWNER, { case: "createChannel", value: { channel: { type: 1, name: "dm" } } }), Code.InvalidArgument, 50035, "type");
    fails(() => sim.run(OWNER, { case: "createChannel", value: { channel: { type: 0, name: "" } } }), Code.InvalidArgument, 50035, "name");
    fails(() => sim.run(OWNER, { case: "createChannel", value: { channel: { type: 0, name: "a", rateLimitPerUser: 21_601 } } }), Code.InvalidArgument, 50035, "rate_limit_per_user");
    fails(() => sim.run(OWNER, { case: "createRole", value: { role: { name: "r", color: 0x1000000 } } }), Code.InvalidArgument, 50035, "color");
    fails(() => sim.run(OWNER, { case: "modifyGuild", value: { guild: { name: "ok" }, updateMask: { paths: ["bogus"] } } }), Code.InvalidArgument, 50035, "update_mask");
  });

  it("text channel names become lowercase with dashes; new channels go after their kind", () => {
    const sim = new Sim();
    sim.run(OWNER, { case: "createGuild", value: { name: "Chorus" } });
    const channel = sim.result(OWNER, { case: "createChannel", value: { channel: { type: 0, name: "Off Topic" } } }, "channel");
    assert.equal(channel.name, "off-topic");
    assert.equal(channel.position, 1);
    assert.equal(sim.model.channels.get(channel.id)!.guildId, GUILD);
  });

  it("members without MANAGE_CHANNELS / MANAGE_ROLES / KICK / BAN are refused with 50013; non-members with 50001", () => {
    const sim = guildWithMembers();
    fails(() => sim.run(ALICE, { case: "createChannel", value: { channel: { type: 0, name: "x" } } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "createRole", value: { role: { name: "x" } } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "removeMember", value: { userId: BOB } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "createBan", value: { userId: BOB } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "modifyGuild", value: { guild: { name: "Mine" }, updateMask: { paths: ["name"] } } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(99n, { case: "createChannel", value: { channel: { type: 0, name: "x" } } }), Code.PermissionDenied, 50001);
    fails(() => sim.run(ALICE, { case: "deleteGuild", value: {} }), Code.PermissionDenied, 50013);
  });

  it("role hierarchy: a moderator manages roles below theirs only; the owner manages everything", () => {
    const sim = guildWithMembers();
    const mod = sim.result(OWNER, { case: "createRole", value: { role: { name: "mod", permissions: Permission.ManageRoles | Permission.KickMembers } } }, "role");
    const helper = sim.result(OWNER, { case: "createRole", value: { role: { name: "helper" } } }, "role");
    // New roles go to position 1, pushing the others up: helper 1, mod 2.
    assert.equal(sim.model.roles.get(helper.id)!.position, 1);
    assert.equal(sim.model.roles.get(mod.id)!.position, 2);
    sim.run(OWNER, { case: "addMemberRole", value: { userId: ALICE, roleId: mod.id } });
    // Alice (mod, 2) can give helper (1) but not mod (2, equal) nor edit mod.
    sim.run(ALICE, { case: "addMemberRole", value: { userId: BOB, roleId: helper.id } });
    assert.deepEqual(sim.model.members.get(BOB)!.roleIds, [helper.id]);
    fails(() => sim.run(ALICE, { case: "addMemberRole", value: { userId: BOB, roleId: mod.id } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "modifyRole", value: { role: { id: mod.id, name: "boss" }, updateMask: { paths: ["name"] } } }), Code.PermissionDenied, 50013);
    // She cannot grant a permission she lacks, even on a role below her.
    fails(
      () => sim.run(ALICE, { case: "modifyRole", value: { role: { id: helper.id, permissions: Permission.BanMembers }, updateMask: { paths: ["permissions"] } } }),
      Code.PermissionDenied,
      50013,
    );
    sim.run(ALICE, { case: "modifyRole", value: { role: { id: helper.id, permissions: Permission.KickMembers }, updateMask: { paths: ["permissions"] } } });
    // She can kick Bob (helper, 1) but not the owner.
    fails(() => sim.run(ALICE, { case: "removeMember", value: { userId: OWNER } }), Code.PermissionDenied, 50013);
    sim.run(ALICE, { case: "removeMember", value: { userId: BOB } });
    assert.equal(sim.model.members.has(BOB), false);
  });

  it("ADMINISTRATOR does not bypass the hierarchy", () => {
    const sim = guildWithMembers();
    const admin = sim.result(OWNER, { case: "createRole", value: { role: { name: "admin", permissions: Permission.Administrator } } }, "role");
    const top = sim.result(OWNER, { case: "createRole", value: { role: { name: "top", position: 3 } } }, "role");
    sim.run(OWNER, { case: "addMemberRole", value: { userId: ALICE, roleId: admin.id } });
    assert.ok(sim.model.roles.get(top.id)!.position > sim.model.roles.get(admin.id)!.position);
    fails(() => sim.run(ALICE, { case: "deleteRole", value: { roleId: top.id } }), Code.PermissionDenied, 50013);
    sim.run(ALICE, { case: "createChannel", value: { channel: { type: 0, name: "admins-can" } } });
  });

  it("channel overwrites hide a channel (50001 inside it) and deny-then-allow by role", () => {
    const sim = guildWithMembers();
    const secret = sim.result(
      OWNER,
      { case: "createChannel", value: { channel: { type: 0, name: "secret", permissionOverwrites: [{ id: GUILD, type: 0, deny: Permission.ViewChannel }] } } },
      "channel",
    );
    fails(() => sim.run(ALICE, { case: "createInvite", value: { channelId: secret.id } }), Code.PermissionDenied, 50001);
    const vip = sim.result(OWNER, { case: "createRole", value: { role: { name: "vip" } } }, "role");
    sim.run(OWNER, { case: "putChannelOverwrite", value: { channelId: secret.id, overwrite: { id: vip.id, type: 0, allow: Permission.ViewChannel } } });
    sim.run(OWNER, { case: "addMemberRole", value: { userId: ALICE, roleId: vip.id } });
    sim.run(ALICE, { case: "createInvite", value: { channelId: secret.id } });
    // A member overwrite beats the role allow.
    sim.run(OWNER, { case: "putChannelOverwrite", value: { channelId: secret.id, overwrite: { id: ALICE, type: 1, deny: Permission.ViewChannel } } });
    fails(() => sim.run(ALICE, { case: "createInvite", value: { channelId: secret.id, unique: true } }), Code.PermissionDenied, 50001);
  });

  it("invites: reused unless unique, used up by max_uses, expired by max_age, refused to banned users", () => {
    const sim = guildWithMembers();
    const general = generalId(sim);
    const a = sim.result(OWNER, { case: "createInvite", value: { channelId: general, maxUses: 1, maxAge: 60 } }, "invite");
    const b = sim.result(OWNER, { case: "createInvite", value: { channelId: general, maxUses: 1, maxAge: 60 } }, "invite");
    assert.equal(a.code, b.code);
    const c = sim.result(OWNER, { case: "createInvite", value: { channelId: general, maxUses: 1, maxAge: 60, unique: true } }, "invite");
    assert.notEqual(c.code, a.code);
    sim.run(10n, { case: "acceptInvite", value: { code: a.code } });
    assert.equal(sim.model.invites.get(a.code)!.uses, 1);
    fails(() => sim.run(11n, { case: "acceptInvite", value: { code: a.code } }), Code.NotFound, 10006);
    sim.run(OWNER, { case: "createBan", value: { userId: 12n, reason: "spam" } });
    fails(() => sim.run(12n, { case: "acceptInvite", value: { code: c.code } }), Code.FailedPrecondition, 40007);
    fails(() => sim.run(OWNER, { case: "createInvite", value: { channelId: general, maxAge: 604_801 } }), Code.InvalidArgument, 50035, "max_age");
  });

  it("bans remove the member, list with reason, and unban; banning the owner or oneself is refused", () => {
    const sim = guildWithMembers();
    const out = sim.run(OWNER, { case: "createBan", value: { userId: ALICE, reason: "rules" } });
    assert.deepEqual(out.events.map((e) => e.dispatch), ["GUILD_BAN_ADD", "GUILD_MEMBER_REMOVE"]);
    assert.deepEqual(out.index.removeUserGuilds, [ALICE]);
    assert.equal(sim.model.bans.get(ALICE)!.reason, "rules");
    fails(() => sim.run(OWNER, { case: "createBan", value: { userId: OWNER } }), Code.PermissionDenied, 50013);
    sim.run(OWNER, { case: "removeBan", value: { userId: ALICE } });
    fails(() => sim.run(OWNER, { case: "removeBan", value: { userId: ALICE } }), Code.NotFound, 10026);
  });

  it("members: nick by oneself (CHANGE_NICKNAME) and by moderators; the owner cannot leave", () => {
    const sim = guildWithMembers();
    sim.run(ALICE, { case: "modifyMember", value: { member: { userId: ALICE, nick: "Al" }, updateMask: { paths: ["nick"] } } });
    assert.equal(sim.model.members.get(ALICE)!.nick, "Al");
    fails(() => sim.run(ALICE, { case: "modifyMember", value: { member: { userId: BOB, nick: "B" }, updateMask: { paths: ["nick"] } } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "modifyMember", value: { member: { userId: ALICE, nick: "x".repeat(33) }, updateMask: { paths: ["nick"] } } }), Code.InvalidArgument, 50035, "nick");
    fails(() => sim.run(OWNER, { case: "leaveGuild", value: {} }), Code.FailedPrecondition, 50055);
    sim.run(BOB, { case: "leaveGuild", value: {} });
    assert.equal(sim.model.members.has(BOB), false);
    fails(() => sim.run(OWNER, { case: "modifyMember", value: { member: { userId: BOB }, updateMask: { paths: ["nick"] } } }), Code.NotFound, 10007);
  });

  it("deleting a role takes it from members and overwrites; @everyone cannot be deleted", () => {
    const sim = guildWithMembers();
    const role = sim.result(OWNER, { case: "createRole", value: { role: { name: "temp" } } }, "role");
    sim.run(OWNER, { case: "addMemberRole", value: { userId: ALICE, roleId: role.id } });
    sim.run(OWNER, { case: "putChannelOverwrite", value: { channelId: generalId(sim), overwrite: { id: role.id, type: 0, allow: Permission.SendMessages } } });
    sim.run(OWNER, { case: "deleteRole", value: { roleId: role.id } });
    assert.deepEqual(sim.model.members.get(ALICE)!.roleIds, []);
    assert.equal(sim.model.channels.get(generalId(sim))!.permissionOverwrites.length, 0);
    fails(() => sim.run(OWNER, { case: "deleteRole", value: { roleId: GUILD } }), Code.FailedPrecondition, 50028);
  });

  it("reorders channels into a category and roles within the actor's reach", () => {
    const sim = guildWithMembers();
    const category = [...sim.model.channels.values()].find((c) => c.name === "Voice Channels")!;
    const general = generalId(sim);
    const list = sim.result(OWNER, { case: "reorderChannels", value: { positions: [{ channelId: general, position: 5, parentId: category.id, lockPermissions: true }] } }, "channels");
    const moved = list.channels.find((c) => c.id === general)!;
    assert.equal(moved.position, 5);
    assert.equal(moved.parentId, category.id);
    fails(() => sim.run(OWNER, { case: "reorderChannels", value: { positions: [{ channelId: 42n, position: 1 }] } }), Code.InvalidArgument, 50035, "0.id");
    const r1 = sim.result(OWNER, { case: "createRole", value: { role: { name: "r1" } } }, "role");
    const roles = sim.result(OWNER, { case: "reorderRoles", value: { positions: [{ roleId: r1.id, position: 4 }] } }, "roles");
    assert.equal(roles.roles.find((r) => r.id === r1.id)!.position, 4);
  });

  it("bots join with a managed role holding only permissions the adder has", () => {
    const sim = guildWithMembers();
    const member = sim.result(OWNER, { case: "addBot", value: { botUserId: 77n, permissions: Permission.SendMessages, botName: "Helper" } }, "member");
    const role = sim.model.roles.get(member.roleIds[0])!;
    assert.equal(role.managed, true);
    assert.equal(role.botId, 77n);
    fails(() => sim.run(OWNER, { case: "deleteRole", value: { roleId: role.id } }), Code.FailedPrecondition, 50028);
    fails(() => sim.run(ALICE, { case: "addBot", value: { botUserId: 78n, permissions: 0n } }), Code.PermissionDenied, 50013);
  });

  it("a bot whose managed role holds MANAGE_ROLES creates a role right after joining; it lands below the bot's role", () => {
    const sim = guildWithMembers();
    const bot = sim.result(OWNER, { case: "addBot", value: { botUserId: 77n, permissions: Permission.ManageRoles, botName: "Helper" } }, "member");
    const created = sim.result(77n, { case: "createRole", value: { role: { name: "made by bot" } } }, "role");
    assert.equal(created.position, 1);
    assert.ok(sim.model.roles.get(bot.roleIds[0])!.position > created.position);
    // An explicit position above the bot's own role is refused.
    fails(() => sim.run(77n, { case: "createRole", value: { role: { name: "too high", position: 5 } } }), Code.PermissionDenied, 50013);
  });

  it("private channels: a DM claims its pair key; group DMs add and remove recipients and hand over ownership", () => {
    const dm = new Sim();
    const created = dm.run(OWNER, { case: "createPrivateChannel", value: { recipientIds: [ALICE] } });
    // The pair key is claimed only after the DM is recorded, so it never names a DM that failed.
    assert.deepEqual(created.index.claimsAfter, [{ kind: DirectoryKind.DM, key: `${OWNER}:${ALICE}` }]);
    assert.ok(!created.index.claims.some((c) => c.kind === DirectoryKind.DM));
    const channel = created.result.result.value as { type: number; recipientIds: bigint[]; id: bigint };
    assert.equal(channel.type, 1);
    assert.deepEqual(channel.recipientIds, [OWNER, ALICE]);
    assert.deepEqual(dm.log[0].map((e) => e.dispatch), ["CHANNEL_CREATE"]);
    const group = new Sim();
    const g = group.result(OWNER, { case: "createPrivateChannel", value: { recipientIds: [ALICE, BOB], name: "trio" } }, "channel");
    assert.equal(g.type, 3);
    fails(() => group.run(99n, { case: "addRecipient", value: { userId: 98n } }), Code.PermissionDenied, 50001);
    group.run(ALICE, { case: "addRecipient", value: { userId: 4n } });
    fails(() => group.run(ALICE, { case: "removeRecipient", value: { userId: BOB } }), Code.PermissionDenied, 50013);
    group.run(OWNER, { case: "deleteChannel", value: { channelId: g.id } });
    const after = [...group.model.channels.values()][0];
    assert.deepEqual(after.recipientIds, [ALICE, BOB, 4n]);
    assert.equal(after.ownerId, ALICE);
  });

  it("custom emojis: rights (CREATE for one's own, MANAGE for all), names, roles, per-kind limits, GUILD_EMOJIS_UPDATE", () => {
    const sim = guildWithMembers();
    const emoji = (id: bigint, name: string, animated = false, roleIds: bigint[] = []) => ({ case: "createEmoji" as const, value: { emoji: { id, name, animated, roleIds } } });
    const created = sim.result(OWNER, emoji(9001n, "party"), "emoji");
    assert.deepEqual([created.userId, created.name, created.animated], [OWNER, "party", false]);
    assert.deepEqual(sim.log.at(-1)!.map((e) => e.dispatch), ["GUILD_EMOJIS_UPDATE"]);
    fails(() => sim.run(ALICE, emoji(9002n, "alices")), Code.PermissionDenied, 50013);
    fails(() => sim.run(99n, emoji(9002n, "outsider")), Code.PermissionDenied, 50001);
    fails(() => sim.run(OWNER, emoji(9002n, "x")), Code.InvalidArgument, 50035, "name");
    fails(() => sim.run(OWNER, emoji(9002n, "has-dash")), Code.InvalidArgument, 50035, "name");
    fails(() => sim.run(OWNER, emoji(9002n, "roles", false, [GUILD, 4242n])), Code.InvalidArgument, 50035, "roles.1");
    fails(() => sim.run(OWNER, emoji(9001n, "again")), Code.InvalidArgument, 50035, "id");

    // CREATE_GUILD_EXPRESSIONS: one's own emojis only.
    const creators = sim.result(OWNER, { case: "createRole", value: { role: { name: "creators", permissions: Permission.CreateGuildExpressions } } }, "role");
    sim.run(OWNER, { case: "addMemberRole", value: { userId: ALICE, roleId: creators.id } });
    sim.result(ALICE, emoji(9002n, "alices"), "emoji");
    const renamed = sim.result(ALICE, { case: "modifyEmoji", value: { emoji: { id: 9002n, name: "alices_own" }, updateMask: { paths: ["name"] } } }, "emoji");
    assert.equal(renamed.name, "alices_own");
    fails(() => sim.run(ALICE, { case: "modifyEmoji", value: { emoji: { id: 9001n, name: "mine" }, updateMask: { paths: ["name"] } } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(ALICE, { case: "deleteEmoji", value: { emojiId: 9001n } }), Code.PermissionDenied, 50013);
    fails(() => sim.run(OWNER, { case: "deleteEmoji", value: { emojiId: 1n } }), Code.NotFound, 10014);
    const restricted = sim.result(OWNER, { case: "modifyEmoji", value: { emoji: { id: 9001n, roleIds: [creators.id] }, updateMask: { paths: ["role_ids"] } } }, "emoji");
    assert.deepEqual([restricted.name, restricted.roleIds], ["party", [creators.id]]);
    // A deleted role leaves the emojis it restricted.
    sim.run(OWNER, { case: "deleteRole", value: { roleId: creators.id } });
    assert.deepEqual(sim.model.emojis.get(9001n)!.roleIds, []);
    sim.result(OWNER, { case: "deleteEmoji", value: { emojiId: 9002n } }, "emoji");
    assert.deepEqual([...sim.model.emojis.keys()], [9001n]);

    // 50 static and 50 animated.
    for (let i = 1; i < 50; i++) sim.run(OWNER, emoji(9100n + BigInt(i), `static_${i}`));
    fails(() => sim.run(OWNER, emoji(9200n, "one_more")), Code.FailedPrecondition, 30008);
    for (let i = 0; i < 50; i++) sim.run(OWNER, emoji(9300n + BigInt(i), `animated_${i}`, true));
    fails(() => sim.run(OWNER, emoji(9400n, "one_more", true)), Code.FailedPrecondition, 30008);
    assert.equal(sim.model.emojis.size, 100);
  });

  it("a snapshot of the state replays to the same model", () => {
    const sim = guildWithMembers();
    sim.run(OWNER, { case: "createRole", value: { role: { name: "r" } } });
    sim.run(OWNER, { case: "createEmoji", value: { emoji: { id: 9001n, name: "kept", animated: true } } });
    const bytes = toBinary(GuildStateSchema, sim.model.toState());
    const copy = GuildModel.fromState(GUILD, sim.model.seq, fromBinary(GuildStateSchema, bytes));
    assert.deepEqual(copy.toState(), sim.model.toState());
    assert.equal(copy.emojis.get(9001n)?.name, "kept");
    assert.equal(copy.basePermissions(ALICE), sim.model.basePermissions(ALICE));
  });

  it("deleting the guild clears it and frees its members' index entries", () => {
    const sim = guildWithMembers();
    const out = sim.run(OWNER, { case: "deleteGuild", value: {} });
    assert.deepEqual(new Set(out.index.removeUserGuilds), new Set([OWNER, ALICE, BOB]));
    assert.equal(sim.model.exists, false);
    fails(() => sim.run(OWNER, { case: "createChannel", value: { channel: { type: 0, name: "x" } } }), Code.NotFound, 10004);
  });
});
