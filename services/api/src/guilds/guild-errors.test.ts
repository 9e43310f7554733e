import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes as Codes } from "discord-api-types/v10";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { InvalidFieldsError } from "../accounts/account-errors.js";
import { GuildRequestError, fieldErrorsOfMessage, fromGuildServiceError, toConnectFieldsError, toConnectGuildError } from "./guild-errors.js";

/** A guild service error as it arrives over the mesh: a Connect code and an ErrorReason detail. */
function guildServiceError(code: Code, discordCode: number, message: string): ConnectError {
  return new ConnectError(message, code, undefined, [{ desc: ErrorReasonSchema, value: create(ErrorReasonSchema, { code: discordCode }) }]);
}

describe("guild service errors at the edge", () => {
  it("parse INVALID_ARGUMENT messages into form errors at dotted paths with numeric indices", () => {
    assert.deepEqual(fieldErrorsOfMessage("name: Must be between 2 and 100 in length."), [
      { path: ["name"], code: "BASE_TYPE_INVALID", message: "Must be between 2 and 100 in length." },
    ]);
    assert.deepEqual(fieldErrorsOfMessage("permission_overwrites.0.allow: BASE_TYPE_INVALID: bits you do not have; topic: too long"), [
      { path: ["permission_overwrites", "0", "allow"], code: "BASE_TYPE_INVALID", message: "bits you do not have" },
      { path: ["topic"], code: "BASE_TYPE_INVALID", message: "too long" },
    ]);
    // A Discord form code after the path is kept; the command's wrapper ("channel.") is not a body field.
    assert.deepEqual(fieldErrorsOfMessage("channel.name: BASE_TYPE_BAD_LENGTH: Must be between 1 and 100 in length."), [
      { path: ["name"], code: "BASE_TYPE_BAD_LENGTH", message: "Must be between 1 and 100 in length." },
    ]);
    // Reorders address the body's list by index.
    assert.deepEqual(fieldErrorsOfMessage("1.id: Unknown channel."), [{ path: ["1", "id"], code: "BASE_TYPE_INVALID", message: "Unknown channel." }]);
    assert.deepEqual(fieldErrorsOfMessage("positions: Name at least one role."), [{ path: [], code: "BASE_TYPE_INVALID", message: "Name at least one role." }]);
    // A message naming no field is an error of the whole body.
    assert.deepEqual(fieldErrorsOfMessage("Something is wrong: with the body"), [
      { path: [], code: "BASE_TYPE_INVALID", message: "Something is wrong: with the body" },
    ]);
  });

  it("map each refusal to its Connect code, Discord code and Discord's words", () => {
    const cases: [Code, number, string, number, string][] = [
      [Code.NotFound, Codes.UnknownGuild, "guild 5 not found", 404, "Unknown Guild"],
      [Code.NotFound, Codes.UnknownChannel, "nope", 404, "Unknown Channel"],
      [Code.NotFound, Codes.UnknownRole, "nope", 404, "Unknown Role"],
      [Code.NotFound, Codes.UnknownMember, "nope", 404, "Unknown Member"],
      [Code.NotFound, Codes.UnknownBan, "nope", 404, "Unknown Ban"],
      [Code.NotFound, Codes.UnknownInvite, "nope", 404, "Unknown Invite"],
      [Code.PermissionDenied, Codes.MissingAccess, "not a member", 403, "Missing Access"],
      [Code.PermissionDenied, Codes.MissingPermissions, "Missing Permissions: MANAGE_ROLES", 403, "Missing Permissions"],
      [Code.FailedPrecondition, Codes.MaximumNumberOfGuildRolesReached, "too many", 400, "Maximum number of guild roles reached (250)"],
      [Code.FailedPrecondition, Codes.UserBannedFromThisGuild, "banned", 400, "The user is banned from this guild."],
      [Code.AlreadyExists, Codes.CannotSendMessagesToThisUser, "blocked", 400, "Cannot send messages to this user"],
      // A code without Discord words here keeps the guild service's message.
      [Code.FailedPrecondition, 50074, "Cannot delete a channel required for Community guilds", 400, "Cannot delete a channel required for Community guilds"],
    ];
    for (const [code, discordCode, message, status, words] of cases) {
      const mapped = fromGuildServiceError(guildServiceError(code, discordCode, message));
      assert.ok(mapped instanceof GuildRequestError, `${discordCode}`);
      assert.equal(mapped.code, code);
      assert.equal(mapped.discordCode, discordCode);
      assert.equal(mapped.status, status, `${discordCode}`);
      assert.equal(mapped.message, words);
    }
  });

  it("turn INVALID_ARGUMENT into InvalidFieldsError, and leave errors without an ErrorReason alone", () => {
    const invalid = fromGuildServiceError(guildServiceError(Code.InvalidArgument, Codes.InvalidFormBodyOrContentType, "name: too short"));
    assert.ok(invalid instanceof InvalidFieldsError);
    assert.deepEqual(invalid.errors, [{ path: ["name"], code: "BASE_TYPE_INVALID", message: "too short" }]);

    for (const err of [
      new ConnectError("guild node gone", Code.Unavailable),
      new ConnectError("bug", Code.InvalidArgument),
      guildServiceError(Code.Unavailable, Codes.UnknownGuild, "moving"),
      new Error("plain"),
    ]) {
      assert.equal(fromGuildServiceError(err), err);
    }
  });

  it("answer Connect clients with the same code and an ErrorReason detail", () => {
    const connect = toConnectGuildError(new GuildRequestError(Code.PermissionDenied, Codes.MissingPermissions));
    assert.equal(connect.code, Code.PermissionDenied);
    assert.equal(connect.rawMessage, "Missing Permissions");
    assert.equal(connect.findDetails(ErrorReasonSchema)[0]?.code, Codes.MissingPermissions);
    // And it maps back to the same refusal.
    const back = fromGuildServiceError(connect);
    assert.ok(back instanceof GuildRequestError && back.discordCode === Codes.MissingPermissions);

    const fields = toConnectFieldsError(new InvalidFieldsError([{ path: ["permission_overwrites", "0", "allow"], code: "NUMBER_TYPE_COERCE", message: "bad" }]));
    assert.equal(fields.code, Code.InvalidArgument);
    assert.equal(fields.rawMessage, "permission_overwrites.0.allow: bad");
    assert.equal(fields.findDetails(ErrorReasonSchema)[0]?.code, Codes.InvalidFormBodyOrContentType);
  });
});
