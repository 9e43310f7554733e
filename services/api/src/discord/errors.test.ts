import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes, type RESTError } from "discord-api-types/v10";
import { InvalidFieldsError, UnauthorizedError, UnknownUserError } from "../accounts/account-errors.js";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { GuildRequestError } from "../guilds/guild-errors.js";
import { formErrors, invalidFormBody, toDiscordError } from "./errors.js";

/** An error of the guild service as it arrives over the mesh. */
const guildServiceError = (code: Code, discordCode: number, message: string) =>
  new ConnectError(message, code, undefined, [{ desc: ErrorReasonSchema, value: create(ErrorReasonSchema, { code: discordCode }) }]);

describe("Discord errors", () => {
  it("nest form errors by path under _errors, as Discord", () => {
    const errors = formErrors([
      { path: ["username"], code: "BASE_TYPE_REQUIRED", message: "This field is required" },
      { path: ["username"], code: "USERNAME_INVALID_CHARACTERS", message: "bad" },
      { path: ["embeds", "0", "title"], code: "BASE_TYPE_MAX_LENGTH", message: "too long" },
      { path: [], code: "DICT_TYPE_CONVERT", message: "not a dict" },
    ]);
    assert.deepEqual(errors, {
      username: {
        _errors: [
          { code: "BASE_TYPE_REQUIRED", message: "This field is required" },
          { code: "USERNAME_INVALID_CHARACTERS", message: "bad" },
        ],
      },
      embeds: { 0: { title: { _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "too long" }] } } },
      _errors: [{ code: "DICT_TYPE_CONVERT", message: "not a dict" }],
    });
  });

  it("answer an invalid form as Discord's Invalid Form Body (discord-api-types' RESTError)", () => {
    const body: RESTError = invalidFormBody([{ path: ["email"], code: "EMAIL_ALREADY_REGISTERED", message: "taken" }]).body;
    assert.equal(body.code, RESTJSONErrorCodes.InvalidFormBodyOrContentType);
    assert.equal(body.message, "Invalid Form Body");
  });

  it("map account errors to Discord's statuses and codes", () => {
    const cases: [unknown, number, RESTError][] = [
      [new UnauthorizedError(), 401, { message: "401: Unauthorized", code: 0 }],
      [new UnknownUserError("1"), 404, { message: "Unknown User", code: RESTJSONErrorCodes.UnknownUser }],
      [
        new InvalidFieldsError([{ path: ["login"], code: "INVALID_LOGIN", message: "Login or password is invalid." }], "credentials"),
        400,
        {
          message: "Invalid Form Body",
          code: 50035,
          errors: { login: { _errors: [{ code: "INVALID_LOGIN", message: "Login or password is invalid." }] } },
        },
      ],
      [new ConnectError("storage down", Code.Unavailable), 503, { message: "503: Service Unavailable", code: 0 }],
      [new ConnectError("bug", Code.InvalidArgument), 500, { message: "500: Internal Server Error", code: 0 }],
      [Object.assign(new Error("bad json"), { statusCode: 400, code: "FST_ERR_CTP_INVALID_JSON_BODY" }), 400, {
        message: "The request body contains invalid JSON.",
        code: RESTJSONErrorCodes.RequestBodyContainsInvalidJSON,
      }],
      [Object.assign(new Error("too big"), { statusCode: 413 }), 413, { message: "Request entity too large", code: RESTJSONErrorCodes.RequestEntityTooLarge }],
      [Object.assign(new Error("unsupported"), { statusCode: 415 }), 415, { message: "415: Unsupported Media Type", code: 0 }],
      [new Error("unexpected"), 500, { message: "500: Internal Server Error", code: 0 }],
      [new GuildRequestError(Code.NotFound, RESTJSONErrorCodes.UnknownChannel), 404, { message: "Unknown Channel", code: 10003 }],
      [new GuildRequestError(Code.PermissionDenied, RESTJSONErrorCodes.MissingAccess), 403, { message: "Missing Access", code: 50001 }],
      // Errors of the guild service that reach the edge unconverted still answer in Discord's terms.
      [guildServiceError(Code.NotFound, RESTJSONErrorCodes.UnknownGuild, "guild 1 not found"), 404, { message: "Unknown Guild", code: 10004 }],
      [guildServiceError(Code.PermissionDenied, RESTJSONErrorCodes.MissingPermissions, "MANAGE_ROLES"), 403, { message: "Missing Permissions", code: 50013 }],
      [guildServiceError(Code.FailedPrecondition, RESTJSONErrorCodes.UserBannedFromThisGuild, "banned"), 400, {
        message: "The user is banned from this guild.",
        code: 40007,
      }],
      [guildServiceError(Code.InvalidArgument, RESTJSONErrorCodes.InvalidFormBodyOrContentType, "permission_overwrites.1.deny: too many bits"), 400, {
        message: "Invalid Form Body",
        code: 50035,
        errors: { permission_overwrites: { 1: { deny: { _errors: [{ code: "BASE_TYPE_INVALID", message: "too many bits" }] } } } },
      }],
      [guildServiceError(Code.Unavailable, RESTJSONErrorCodes.UnknownGuild, "not the owner"), 503, { message: "503: Service Unavailable", code: 0 }],
    ];
    for (const [err, status, body] of cases) {
      const answer = toDiscordError(err);
      assert.equal(answer.status, status, String(err));
      assert.deepEqual(answer.body, body, String(err));
    }
  });
});
