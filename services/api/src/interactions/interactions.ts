import { create, type JsonObject } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { z } from "zod";
import { MessageSchema, type Message } from "@chorus/contracts/chorus/chat/v1/message_pb";
import { InteractionService, InteractionWebhookAction } from "@chorus/contracts/chorus/guild/v1/interactions_pb";
import { discordMessage, usersOfMessage } from "@chorus/discord-json/messages";
import type { Logger, MeshClients } from "@chorus/mesh";
import { InvalidFieldsError, RequestRefusedError, fieldError } from "../accounts/account-errors.js";
import { requirePerson, type Accounts, type Session } from "../accounts/accounts.js";
import { validate } from "../accounts/account-rules.js";
import type { Applications } from "../applications/applications.js";
import { fromGuildServiceError } from "../guilds/guild-errors.js";
import type { Guilds } from "../guilds/guilds.js";
import { snowflake } from "../guilds/guild-rules.js";
import { editMessageCommand, sendMessageCommand } from "../messages/message-rules.js";
import type { TokenWebhookHandler } from "../discord/token-webhooks.js";
import type { UploadedFile } from "../attachments/attachment-files.js";
import { postSigned } from "./endpoint.js";
import { checkCommandInvocation, type CommandSource } from "./command-options.js";

/** Discord's EPHEMERAL, SUPPRESS_EMBEDS and SUPPRESS_NOTIFICATIONS: the flags an answer may carry. */
const EPHEMERAL = 64;
const ANSWER_FLAGS = EPHEMERAL | 4 | 4096;
/** How long an application's endpoint has to answer (Discord's 3 s). */
const ENDPOINT_TIMEOUT_MS = 3_000;

const InteractionType = { Command: 2, Component: 3, Autocomplete: 4, ModalSubmit: 5 } as const;

/** POST /interactions: what a client sends when its user invokes a command or uses a component. */
const invocationSchema = z.object({
  type: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(5)]),
  application_id: snowflake(),
  channel_id: snowflake(),
  guild_id: snowflake().nullish(),
  message_id: snowflake().nullish(),
  data: z.record(z.string(), z.unknown()),
  nonce: z.string().max(25).nullish(),
  session_id: z.string().nullish(),
});

const callbackSchema = z.object({
  type: z.number().int(),
  data: z.record(z.string(), z.unknown()).nullish(),
});

const unknownInteraction = () => new RequestRefusedError("not_found", RESTJSONErrorCodes.UnknownInteraction, "Unknown interaction", "interaction_id");
const unknownWebhook = () => new RequestRefusedError("not_found", RESTJSONErrorCodes.UnknownWebhook, "Unknown Webhook", "webhook_id");

/** The owner and interaction ids a token carries (see the guild's interactionToken); undefined for anything else. */
export function parseInteractionToken(token: string): { ownerId: bigint; interactionId: bigint } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !/^[0-9a-z]{1,13}$/.test(parts[0]) || !/^[0-9a-z]{1,13}$/.test(parts[1])) return undefined;
  const parse = (text: string) => [...text].reduce((n, c) => n * 36n + BigInt(parseInt(c, 36)), 0n);
  const ownerId = parse(parts[0]);
  const interactionId = parse(parts[1]);
  if (ownerId === 0n || interactionId === 0n || ownerId >= 1n << 64n || interactionId >= 1n << 64n) return undefined;
  return { ownerId, interactionId };
}

/** An answer's message data: Discord's message fields, with the answer flags set apart (EPHEMERAL is not a sender flag elsewhere). */
function answerMessage(data: Record<string, unknown> | undefined, path: string, files: readonly UploadedFile[] = []): Message {
  const { flags, ...rest } = data ?? {};
  if (flags !== undefined && flags !== null && (typeof flags !== "number" || !Number.isInteger(flags) || (flags & ~ANSWER_FLAGS) !== 0)) {
    throw new InvalidFieldsError([fieldError(`${path}flags`, "MESSAGE_FLAGS_INVALID", `Only the flags ${ANSWER_FLAGS} may be set here.`)]);
  }
  const command = sendMessageCommand(rest, 0n, files);
  return create(MessageSchema, { ...command.message, flags: ((command.message?.flags as number | undefined) ?? 0) | Number(flags ?? 0) } as never);
}

/**
 * Interactions at the edge: a person's invocation checked (the command's options against the
 * stored command) and handed to the channel's owner (chorus.guild.v1.InteractionService),
 * which keeps the interaction's state; delivery to an application's endpoint (a signed POST
 * whose answer is the initial response) or, without one, by the owner to the bot's gateway
 * sessions; callbacks and the follow-up webhook routed to the owner by the token. Stateless.
 */
export class Interactions implements TokenWebhookHandler {
  constructor(
    private readonly clients: MeshClients,
    private readonly accounts: Accounts,
    private readonly guilds: Guilds,
    private readonly applications: Applications,
    private readonly commands: CommandSource,
    private readonly logger: Logger,
  ) {}

  private owner(ownerId: bigint) {
    return this.clients.client(InteractionService, ownerId);
  }

  /** POST /interactions (a person's): 204 once the interaction is on its way. */
  async invoke(session: Session, body: unknown): Promise<void> {
    requirePerson(session);
    const input = validate(invocationSchema, body);
    if (input.type === InteractionType.Component && !input.message_id) throw new InvalidFieldsError([fieldError("message_id", "BASE_TYPE_REQUIRED", "This field is required")]);
    const ownerId = await this.guilds.ownerOfChannel(input.channel_id);
    const application = await this.applications.forInteractions(input.application_id).catch(() => {
      throw new InvalidFieldsError([fieldError("application_id", "UNKNOWN_APPLICATION", "Unknown application.")]);
    });
    let data = input.data;
    let requiredPermissions: bigint | undefined;
    if (input.type === InteractionType.Command || input.type === InteractionType.Autocomplete) {
      ({ data, requiredPermissions } = await checkCommandInvocation(this.commands, input.application_id, ownerId === input.channel_id ? 0n : ownerId, input.data, input.type === InteractionType.Autocomplete));
    }
    const endpoint = application.interactionsEndpointUrl;
    let created;
    try {
      created = await this.owner(ownerId).createInteraction({
        ownerId,
        channelId: input.channel_id,
        actorId: session.userId,
        applicationId: input.application_id,
        type: input.type,
        data: data as JsonObject,
        messageId: input.message_id ?? 0n,
        deliverOverGateway: endpoint === "",
        nonce: input.nonce ?? "",
        requiredPermissions,
      });
    } catch (err) {
      throw fromGuildServiceError(err);
    }
    if (endpoint === "") return;
    // The endpoint's answer is the initial response; no answer in time: the owner's deadline fails it.
    const payload = new TextDecoder().decode(created.interactionJson);
    void postSigned(endpoint, application.privateKey, payload, ENDPOINT_TIMEOUT_MS)
      .then(async (answer) => {
        if (answer.status !== 200 || typeof answer.body !== "object" || answer.body === null) throw new Error(`endpoint answered ${answer.status}`);
        await this.callback(created.interactionId, created.token, answer.body);
      })
      .catch((err: unknown) => this.logger.info({ err, interactionId: String(created.interactionId) }, "interaction endpoint gave no usable answer"));
  }

  /** The channel of a live interaction (where a callback's files are kept), by its token alone. */
  async channelOf(interactionId: bigint, token: string): Promise<bigint> {
    const ids = parseInteractionToken(token);
    if (!ids || ids.interactionId !== interactionId) throw unknownInteraction();
    try {
      return (await this.hook(0n, token, InteractionWebhookAction.CLAIM)).channelId;
    } catch (err) {
      if (err instanceof RequestRefusedError) throw unknownInteraction();
      throw err;
    }
  }

  /** POST /interactions/:id/:token/callback, with the multipart form's files. The message made, when there is one. */
  async callback(interactionId: bigint, token: string, body: unknown, files: readonly UploadedFile[] = []): Promise<Message | undefined> {
    const ids = parseInteractionToken(token);
    if (!ids || ids.interactionId !== interactionId) throw unknownInteraction();
    const input = validate(callbackSchema, body);
    if (files.length > 0 && input.type !== 4) {
      throw new InvalidFieldsError([fieldError("files", "INTERACTION_CALLBACK_FILES", "Only a message response (type 4) carries files here.")]);
    }
    const data = input.data ?? undefined;
    const request = { ownerId: ids.ownerId, interactionId, token, type: input.type } as Parameters<ReturnType<Interactions["owner"]>["respondInteraction"]>[0] & Record<string, unknown>;
    switch (input.type) {
      case 4:
        request.message = answerMessage(data, "data.", files);
        break;
      case 5:
        request.message = create(MessageSchema, { flags: Number(data?.flags ?? 0) & EPHEMERAL });
        break;
      case 7: {
        const edit = editMessageCommand(data ?? {}, 0n);
        request.message = create(MessageSchema, edit.message as never);
        request.updateMask = { paths: edit.updateMask?.paths ?? [] };
        break;
      }
      case 6:
        break;
      case 8:
        request.data = { choices: Array.isArray(data?.choices) ? data.choices : [] } as JsonObject;
        break;
      case 9:
        if (typeof data?.custom_id !== "string" || typeof data?.title !== "string" || !Array.isArray(data?.components)) {
          throw new InvalidFieldsError([fieldError("data", "BASE_TYPE_REQUIRED", "A modal needs custom_id, title and components.")]);
        }
        request.data = data as JsonObject;
        break;
      default:
        throw new InvalidFieldsError([fieldError("type", "BASE_TYPE_CHOICES", `Value must be one of {4, 5, 6, 7, 8, 9}.`)]);
    }
    try {
      return (await this.owner(ids.ownerId).respondInteraction(request)).message;
    } catch (err) {
      throw fromGuildServiceError(err);
    }
  }

  /** Discord's JSON of a message the follow-up webhook answers. */
  async render(message: Message, guildId: bigint): Promise<unknown> {
    const users = await this.accounts.users.lookup(usersOfMessage(message));
    return { ...discordMessage(message, users), ...(guildId !== 0n ? { guild_id: String(guildId) } : {}) };
  }

  private async hook(applicationId: bigint, token: string, action: InteractionWebhookAction, messageId: bigint | "@original" = "@original", message?: Message, paths?: string[]) {
    const ids = parseInteractionToken(token);
    if (!ids) throw unknownWebhook();
    try {
      return await this.owner(ids.ownerId).interactionWebhook({
        ownerId: ids.ownerId,
        interactionId: ids.interactionId,
        token,
        applicationId,
        action,
        messageId: messageId === "@original" ? 0n : messageId,
        message,
        updateMask: paths ? { paths } : undefined,
      });
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unavailable) throw err;
      throw fromGuildServiceError(err);
    }
  }

  // --- TokenWebhookHandler: /webhooks/:application_id/:token ------------------------------

  async claim(id: bigint, token: string): Promise<{ channelId: bigint } | undefined> {
    if (!parseInteractionToken(token)) return undefined;
    return this.hook(id, token, InteractionWebhookAction.CLAIM).then(
      (claimed) => ({ channelId: claimed.channelId }),
      () => undefined,
    );
  }

  async execute(id: bigint, token: string, body: unknown, options: { wait: boolean; files: readonly UploadedFile[] }): Promise<unknown> {
    const { message, guildId } = await this.hook(id, token, InteractionWebhookAction.EXECUTE, "@original", answerMessage(body as Record<string, unknown>, "", options.files));
    // Interaction follow-ups always answer the message (Discord ignores wait here).
    return this.render(message!, guildId);
  }

  async getMessage(id: bigint, token: string, messageId: bigint | "@original"): Promise<unknown> {
    const { message, guildId } = await this.hook(id, token, InteractionWebhookAction.GET, messageId);
    return this.render(message!, guildId);
  }

  async editMessage(id: bigint, token: string, messageId: bigint | "@original", body: unknown, files: readonly UploadedFile[] = []): Promise<unknown> {
    // New files join the attachments the message has unless the body lists those to keep (as for any edit).
    const keep = files.length > 0 && !(typeof body === "object" && body !== null && "attachments" in body);
    const current = keep ? (await this.hook(id, token, InteractionWebhookAction.GET, messageId)).message : undefined;
    const edit = editMessageCommand(body ?? {}, 0n, files, current?.attachments.map((a) => a.id) ?? []);
    const { message, guildId } = await this.hook(id, token, InteractionWebhookAction.EDIT, messageId, create(MessageSchema, edit.message as never), edit.updateMask?.paths ?? []);
    return this.render(message!, guildId);
  }

  async deleteMessage(id: bigint, token: string, messageId: bigint | "@original"): Promise<void> {
    await this.hook(id, token, InteractionWebhookAction.DELETE, messageId);
  }
}
