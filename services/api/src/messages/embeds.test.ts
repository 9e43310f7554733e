import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { sendMessageCommand } from "./message-rules.js";

const channelId = 1300000000000000010n;

function errorsOf(embeds: unknown): Record<string, string> {
  try {
    sendMessageCommand({ embeds }, channelId);
    return {};
  } catch (err) {
    if (!(err instanceof InvalidFieldsError)) throw err;
    return Object.fromEntries(err.errors.map((e) => [e.path.join("."), e.code]));
  }
}

const s = (n: number) => "x".repeat(n);
const fields = (n: number, value = "v") => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, value }));

describe("embeds validated as Discord", () => {
  const valid: [string, unknown][] = [
    ["a title", [{ title: "hi" }]],
    ["ten embeds", Array.from({ length: 10 }, () => ({ title: "t" }))],
    ["the longest title, description, footer and author name", [{ title: s(256), description: s(4096), footer: { text: s(1000) }, author: { name: s(256) } }]],
    ["25 fields of the longest name and value", [{ fields: Array.from({ length: 4 }, () => ({ name: s(256), value: s(1024) })) }]],
    ["6000 characters over several embeds", [{ description: s(4000) }, { description: s(2000) }]],
    ["a color, a timestamp, images, urls", [{ title: "t", color: 0xffffff, timestamp: "2024-01-01T10:00:00+02:00", url: "https://x.y", image: { url: "https://x.y/i.png" }, thumbnail: { url: "https://x.y/t.png" } }]],
    ["characters counted as code points", [{ title: "😀".repeat(256) }]],
  ];
  for (const [name, embeds] of valid) it(`accepts ${name}`, () => assert.deepEqual(errorsOf(embeds), {}));

  const invalid: [string, unknown, Record<string, string>][] = [
    ["eleven embeds", Array.from({ length: 11 }, () => ({ title: "t" })), { embeds: "BASE_TYPE_MAX_LENGTH" }],
    ["a title of 257", [{ title: s(257) }], { "embeds.0.title": "BASE_TYPE_MAX_LENGTH" }],
    ["a description of 4097", [{ title: "ok" }, { description: s(4097) }], { "embeds.1.description": "BASE_TYPE_MAX_LENGTH" }],
    ["26 fields", [{ fields: fields(26) }], { "embeds.0.fields": "BASE_TYPE_MAX_LENGTH" }],
    ["a field name of 257", [{ fields: [{ name: s(257), value: "v" }] }], { "embeds.0.fields.0.name": "BASE_TYPE_BAD_LENGTH" }],
    ["a field value of 1025", [{ fields: [{ name: "n", value: s(1025) }] }], { "embeds.0.fields.0.value": "BASE_TYPE_BAD_LENGTH" }],
    ["a field without value", [{ fields: [{ name: "n" }] }], { "embeds.0.fields.0.value": "BASE_TYPE_REQUIRED" }],
    ["a footer of 2049", [{ footer: { text: s(2049) } }], { "embeds.0.footer.text": "BASE_TYPE_BAD_LENGTH" }],
    ["an author name of 257", [{ author: { name: s(257) } }], { "embeds.0.author.name": "BASE_TYPE_BAD_LENGTH" }],
    ["6001 characters in all", [{ title: s(1), description: s(4000) }, { description: s(2000) }], { embeds: "MAX_EMBED_SIZE_EXCEEDED" }],
    ["6001 characters counted over fields, footer and author", [{ description: s(4096), fields: [{ name: s(256), value: s(1024) }], footer: { text: s(600) }, author: { name: s(25) } }], { embeds: "MAX_EMBED_SIZE_EXCEEDED" }],
    ["a color above 0xFFFFFF", [{ color: 0x1000000 }], { "embeds.0.color": "NUMBER_TYPE_MAX" }],
    ["a bad timestamp", [{ timestamp: "yesterday" }], { "embeds.0.timestamp": "DATE_TIME_TYPE_PARSE" }],
    ["an image without url", [{ image: {} }], { "embeds.0.image.url": "BASE_TYPE_REQUIRED" }],
    ["embeds that are not a list", { title: "t" }, { embeds: "LIST_TYPE_CONVERT" }],
  ];
  for (const [name, embeds, expected] of invalid) it(`refuses ${name}`, () => assert.deepEqual(errorsOf(embeds), expected));

  it("stores rich embeds: type set, fields' inline filled in, unknown keys and nulls dropped", () => {
    const command = sendMessageCommand({ embeds: [{ title: "t", description: null, bogus: 1, fields: [{ name: "n", value: "v" }], timestamp: "2024-01-01T10:00:00+02:00" }] }, channelId);
    assert.deepEqual(command.message?.embeds, [{ type: "rich", title: "t", fields: [{ name: "n", value: "v", inline: false }], timestamp: "2024-01-01T08:00:00.000Z" }]);
  });
});
