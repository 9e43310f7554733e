import { test } from "node:test";
import assert from "node:assert/strict";
import { ApplicationFlags, GatewayIntentBits as I } from "discord-api-types/v10";
import { KNOWN_INTENTS, checkIntents, seesContent, seesPresences } from "./intents.js";

const person = { bot: false, applicationFlags: 0n };
const bot = (flags = 0) => ({ bot: true, applicationFlags: BigInt(flags) });

test("every documented intent is known; undefined bits are 4013", () => {
  assert.equal(checkIntents(I.Guilds | I.GuildMessages | I.DirectMessages, bot()), undefined);
  assert.equal(checkIntents(KNOWN_INTENTS, person), undefined);
  assert.equal(checkIntents(1 << 17, person), 4013);
  assert.equal(checkIntents(1 << 30, bot()), 4013);
});

test("privileged intents: persons may, bots only with their application's flag (verified or limited)", () => {
  for (const intent of [I.GuildMembers, I.GuildPresences, I.MessageContent]) {
    assert.equal(checkIntents(intent, person), undefined);
    assert.equal(checkIntents(intent | I.Guilds, bot()), 4014);
  }
  assert.equal(checkIntents(I.MessageContent, bot(ApplicationFlags.GatewayMessageContentLimited)), undefined);
  assert.equal(checkIntents(I.MessageContent, bot(ApplicationFlags.GatewayMessageContent)), undefined);
  assert.equal(checkIntents(I.GuildMembers, bot(ApplicationFlags.GatewayGuildMembersLimited)), undefined);
  assert.equal(checkIntents(I.GuildPresences, bot(ApplicationFlags.GatewayPresence)), undefined);
  // One flag enables only its own intent.
  assert.equal(checkIntents(I.GuildMembers | I.MessageContent, bot(ApplicationFlags.GatewayMessageContent)), 4014);
});

test("message content: persons always see it, bots with MESSAGE_CONTENT only", () => {
  assert.ok(seesContent(0, false));
  assert.ok(!seesContent(I.GuildMessages, true));
  assert.ok(seesContent(I.GuildMessages | I.MessageContent, true));
});

test("presences: only sessions with GUILD_PRESENCES get them", () => {
  assert.ok(seesPresences(I.Guilds | I.GuildPresences));
  assert.ok(!seesPresences(I.Guilds | I.GuildMembers));
});
