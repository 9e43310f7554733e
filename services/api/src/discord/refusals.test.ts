import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { RequestRefusedError } from "../accounts/account-errors.js";
import { refusalAnswer } from "./refusals.js";

describe("refusals at the Discord edge", () => {
  it("answer a RequestRefusedError with its kind's status (or its own) and Discord's code", () => {
    const unknown = refusalAnswer(new RequestRefusedError("not_found", 10002, "Unknown Application", "application_id"));
    assert.equal(unknown?.status, 404);
    assert.deepEqual(unknown?.body, { message: "Unknown Application", code: 10002 });
    assert.equal(refusalAnswer(new RequestRefusedError("forbidden", 20001, "Bots cannot use this endpoint", "authorization"))?.status, 403);
    assert.equal(refusalAnswer(new RequestRefusedError("precondition", 80000, "Incoming friend requests disabled.", "user_id"))?.status, 400);
    assert.equal(refusalAnswer(new RequestRefusedError("not_found", 80004, "No users with DiscordTag exist", "username", 400))?.status, 400);
  });

  it("leave everything else to the Discord API's error handler", () => {
    assert.equal(refusalAnswer(new ConnectError("down", Code.Unavailable)), undefined);
    assert.equal(refusalAnswer(new ConnectError("no reason", Code.NotFound)), undefined);
    assert.equal(refusalAnswer(new Error("boom")), undefined);
  });
});
