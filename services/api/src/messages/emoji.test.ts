import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { GuildRequestError } from "../guilds/guild-errors.js";
import { normalizeEmoji } from "./messages.js";

describe("reaction emoji in paths", () => {
  const kept: [string, string, string][] = [
    ["a Unicode emoji", "👍", "👍"],
    ["a sequence with a zero-width joiner", "👩‍💻", "👩‍💻"],
    ["a flag", "🇫🇷", "🇫🇷"],
    ["a keycap", "1️⃣", "1️⃣"],
    ["a custom emoji as name:id", "party:1300000000000000077", "party:1300000000000000077"],
    ["an animated custom emoji's a: prefix dropped", "a:dance:1300000000000000078", "dance:1300000000000000078"],
  ];
  for (const [name, emoji, stored] of kept) it(`takes ${name}`, () => assert.equal(normalizeEmoji(emoji), stored));

  const refused: [string, string][] = [
    ["nothing", ""],
    ["words with spaces", "not an emoji"],
    ["a colon without an id", "party:"],
    ["control characters", "\u0000"],
    ["only a joiner", "\u200d"],
    ["33 characters", "😀".repeat(33)],
  ];
  for (const [name, emoji] of refused) {
    it(`answers 10014 Unknown Emoji to ${name}`, () =>
      assert.throws(() => normalizeEmoji(emoji), (err) => err instanceof GuildRequestError && err.discordCode === RESTJSONErrorCodes.UnknownEmoji && err.status === 400));
  }
});
