import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes, type RESTError } from "discord-api-types/v10";
import { InvalidFieldsError, UnauthorizedError, UnknownUserError } from "../accounts/account-errors.js";
import { formErrors, invalidFormBody, toDiscordError } from "./errors.js";

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
    ];
    for (const [err, status, body] of cases) {
      const answer = toDiscordError(err);
      assert.equal(answer.status, status, String(err));
      assert.deepEqual(answer.body, body, String(err));
    }
  });
});
