import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes as Codes } from "discord-api-types/v10";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { notOwnerError } from "@chorus/mesh";

export { Codes };

/**
 * Every error the guild service answers carries an ErrorReason detail with Discord's JSON error
 * code, so that both edges can answer in Discord's terms without parsing messages.
 */
export function guildError(code: Code, discordCode: number, message: string, existingChannelId = 0n, retryAfter = 0): ConnectError {
  return new ConnectError(message, code, undefined, [
    { desc: ErrorReasonSchema, value: create(ErrorReasonSchema, { code: discordCode, existingChannelId, retryAfter }) },
  ]);
}

export const unknownGuild = () => guildError(Code.NotFound, Codes.UnknownGuild, "Unknown Guild");
export const unknownChannel = () => guildError(Code.NotFound, Codes.UnknownChannel, "Unknown Channel");
export const unknownRole = () => guildError(Code.NotFound, Codes.UnknownRole, "Unknown Role");
export const unknownMember = () => guildError(Code.NotFound, Codes.UnknownMember, "Unknown Member");
export const unknownBan = () => guildError(Code.NotFound, Codes.UnknownBan, "Unknown Ban");
export const unknownInvite = () => guildError(Code.NotFound, Codes.UnknownInvite, "Unknown Invite");
export const unknownEmoji = () => guildError(Code.NotFound, Codes.UnknownEmoji, "Unknown Emoji");
export const missingAccess = () => guildError(Code.PermissionDenied, Codes.MissingAccess, "Missing Access");
export const missingPermissions = () => guildError(Code.PermissionDenied, Codes.MissingPermissions, "Missing Permissions");

/** INVALID_ARGUMENT (50035) whose message starts with the field path: "name: ...", "permission_overwrites.0.allow: ...". */
export function invalidField(field: string, message: string): ConnectError {
  return guildError(Code.InvalidArgument, Codes.InvalidFormBodyOrContentType, `${field}: ${message}`);
}

/** A refusal that is neither a permission nor a bad field: a limit, a ban, a state. */
export function refused(discordCode: number, message: string): ConnectError {
  return guildError(Code.FailedPrecondition, discordCode, message);
}

/** This node does not own the id (any more): the caller re-routes to the owner. */
export function notOwner(instanceId: string, ownerId: bigint): ConnectError {
  return notOwnerError(instanceId, ownerId);
}
