import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes as Codes } from "discord-api-types/v10";
import { ErrorReasonSchema } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import { InvalidFieldsError, type FieldError } from "../accounts/account-errors.js";

/**
 * Discord's own words for the JSON error codes guilds answer with. The guild service says
 * the same, but an edge that answers in Discord's name does not let a message that grew some
 * context ("Missing Permissions: MANAGE_ROLES") leak to clients that compare strings.
 */
export const DISCORD_MESSAGES: Readonly<Record<number, string>> = {
  [Codes.UnknownChannel]: "Unknown Channel",
  [Codes.UnknownGuild]: "Unknown Guild",
  [Codes.UnknownInvite]: "Unknown Invite",
  [Codes.UnknownMember]: "Unknown Member",
  [Codes.UnknownPermissionOverwrite]: "Unknown Overwrite",
  [Codes.UnknownRole]: "Unknown Role",
  [Codes.UnknownUser]: "Unknown User",
  [Codes.UnknownBan]: "Unknown Ban",
  [Codes.MaximumNumberOfGuildsReached]: "Maximum number of guilds reached (100)",
  [Codes.MaximumNumberOfFriendsReached]: "Maximum number of friends reached (1000)",
  [Codes.MaximumNumberOfRecipientsReached]: "Maximum number of recipients reached (10)",
  [Codes.MaximumNumberOfEmojisReached]: "Maximum number of emojis reached",
  [Codes.MaximumNumberOfGuildRolesReached]: "Maximum number of guild roles reached (250)",
  [Codes.MaximumNumberOfGroupDMsReached]: "Maximum number of group DMs reached (10)",
  [Codes.MaximumNumberOfGuildChannelsReached]: "Maximum number of guild channels reached (500)",
  [Codes.MaximumNumberOfInvitesReached]: "Maximum number of invites reached (1000)",
  [Codes.MaximumNumberOfServerMembersReached]: "Maximum number of server members reached",
  [Codes.MaximumNumberOfServerCategoriesReached]: "Maximum number of server categories has been reached (50)",
  [Codes.MaximumNumberOfChannelPermissionOverwritesReached]: "Maximum number of channel permission overwrites reached (1000)",
  [Codes.UserBannedFromThisGuild]: "The user is banned from this guild.",
  [Codes.MissingAccess]: "Missing Access",
  [Codes.CannotExecuteActionOnDMChannel]: "Cannot execute action on a DM channel",
  [Codes.CannotSendMessagesToThisUser]: "Cannot send messages to this user",
  [Codes.MissingPermissions]: "Missing Permissions",
  [Codes.CannotExecuteActionOnThisChannelType]: "Cannot execute action on this channel type",
  [Codes.InvalidRole]: "Invalid Role",
  [Codes.InvalidRecipients]: "Invalid Recipient(s)",
  [Codes.InvalidGuild]: "Invalid Guild",
  [Codes.InvalidFormBodyOrContentType]: "Invalid Form Body",
  [Codes.UnknownMessage]: "Unknown Message",
  [Codes.UnknownEmoji]: "Unknown Emoji",
  [Codes.CannotSendAnEmptyMessage]: "Cannot send an empty message",
  [Codes.CannotEditMessageAuthoredByAnotherUser]: "Cannot edit a message authored by another user",
  [Codes.CannotSendMessagesInNonTextChannel]: "Cannot send messages in a non-text channel",
  [Codes.MaximumNumberOfPinsReachedForTheChannel]: "Maximum number of pins reached (50)",
  [Codes.MaximumNumberOfReactionsReached]: "Maximum number of reactions reached (20)",
  [Codes.ReactionWasBlocked]: "Reaction was blocked",
  [Codes.OneOfTheMessagesProvidedWasTooOldForBulkDelete]: "You can only bulk delete messages that are under 14 days old.",
  [Codes.UnknownWebhook]: "Unknown Webhook",
  [Codes.InvalidWebhookToken]: "Invalid Webhook Token",
  [Codes.MaximumNumberOfWebhooksReached]: "Maximum number of webhooks reached (15)",
};

/** The Connect codes a guild refusal can have, by what the Discord edge answers for them. */
export type GuildErrorCode = Code.NotFound | Code.PermissionDenied | Code.FailedPrecondition | Code.AlreadyExists | Code.Unauthenticated;

/**
 * A guild request the guild service (or the edge's own checks) refused for a reason a client
 * must hear: an unknown guild, channel, role..., missing permissions or access, a limit, a ban.
 * Carries Discord's JSON error code, so each surface answers in its own terms: the Discord
 * edge as `{code, message}` with 404/403/400, the Connect API as the same Connect code with an
 * ErrorReason detail. Bad fields are InvalidFieldsError instead.
 */
export class GuildRequestError extends Error {
  constructor(
    readonly code: GuildErrorCode,
    readonly discordCode: number,
    message = DISCORD_MESSAGES[discordCode] ?? "Request refused",
  ) {
    super(message);
    this.name = "GuildRequestError";
  }

  /** Discord's HTTP status for it. */
  get status(): 400 | 401 | 403 | 404 {
    if (this.code === Code.NotFound) return 404;
    // A wrong webhook token (50027): the token is the credential.
    if (this.code === Code.Unauthenticated) return 401;
    if (this.code === Code.PermissionDenied) return 403;
    return 400;
  }
}

/**
 * A refusal for going too fast (slowmode, 20016): Discord answers 429 with `retry_after`, the
 * Connect API RESOURCE_EXHAUSTED.
 */
export class RateLimitedError extends Error {
  constructor(
    readonly discordCode: number,
    /** Seconds until the caller may try again. */
    readonly retryAfter: number,
  ) {
    super("You are being rate limited.");
    this.name = "RateLimitedError";
  }
}


export const unknownChannel = () => new GuildRequestError(Code.NotFound, Codes.UnknownChannel);
export const unknownGuild = () => new GuildRequestError(Code.NotFound, Codes.UnknownGuild);
export const unknownInvite = () => new GuildRequestError(Code.NotFound, Codes.UnknownInvite);

/**
 * Paths are relative to the command's entity ("channel.name" is the body's "name"); a
 * reorder's "positions" is the body itself (a list).
 */
const COMMAND_WRAPPERS = new Set(["guild", "channel", "role", "member", "overwrite", "positions"]);
/** "name: BASE_TYPE_BAD_LENGTH: Must be..." names Discord's form error code after the path. */
const FORM_CODE = /^([A-Z][A-Z0-9_]*[A-Z0-9]): (.*)$/s;

/**
 * The form errors of an INVALID_ARGUMENT message: "<path>: <text>", several joined by "; ",
 * the path dotted with numeric indices ("permission_overwrites.0.allow"). The text may start
 * with Discord's form error code; BASE_TYPE_INVALID otherwise.
 */
export function fieldErrorsOfMessage(message: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const part of message.split(/; (?=[a-z_0-9.]+: )/)) {
    const colon = part.indexOf(": ");
    const rawPath = colon > 0 ? part.slice(0, colon) : "";
    const pathLike = /^[a-z_0-9]+(\.[a-z_0-9]+)*$/.test(rawPath);
    const path = pathLike ? rawPath.split(".") : [];
    if (COMMAND_WRAPPERS.has(path[0]) && (path.length > 1 || path[0] === "positions")) path.shift();
    let text = pathLike ? part.slice(colon + 2) : part;
    let code = "BASE_TYPE_INVALID";
    const coded = FORM_CODE.exec(text);
    if (coded) [, code, text] = coded;
    errors.push({ path, code, message: text });
  }
  return errors;
}

/**
 * The client-facing error of a guild service failure, when it is one: every refusal of the
 * guild service carries an ErrorReason detail with Discord's code. Anything else (the mesh
 * unavailable, a deadline) is returned as it is.
 */
export function fromGuildServiceError(err: unknown): unknown {
  if (!(err instanceof ConnectError)) return err;
  const [reason] = err.findDetails(ErrorReasonSchema);
  if (!reason || reason.code === 0) return err;
  switch (err.code) {
    case Code.InvalidArgument:
      return new InvalidFieldsError(fieldErrorsOfMessage(err.rawMessage));
    case Code.ResourceExhausted:
      // The wait the refusal names; 1 s when it names none.
      return new RateLimitedError(reason.code, reason.retryAfter > 0 ? reason.retryAfter : 1);
    case Code.NotFound:
    case Code.PermissionDenied:
    case Code.FailedPrecondition:
    case Code.AlreadyExists:
    case Code.Unauthenticated:
      return new GuildRequestError(err.code, reason.code, DISCORD_MESSAGES[reason.code] ?? err.rawMessage);
    default:
      return err;
  }
}

/** The Connect form of a GuildRequestError, with the ErrorReason detail the contract promises. */
export function toConnectGuildError(err: GuildRequestError): ConnectError {
  return new ConnectError(err.message, err.code, undefined, [
    { desc: ErrorReasonSchema, value: create(ErrorReasonSchema, { code: err.discordCode }) },
  ]);
}

/** The Connect form of invalid fields: INVALID_ARGUMENT, "<path>: <message>", ErrorReason 50035. */
export function toConnectFieldsError(err: InvalidFieldsError): ConnectError {
  return new ConnectError(err.message, Code.InvalidArgument, undefined, [
    { desc: ErrorReasonSchema, value: create(ErrorReasonSchema, { code: Codes.InvalidFormBodyOrContentType }) },
  ]);
}
