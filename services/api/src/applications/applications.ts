import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@chorus/mesh";
import type { SnowflakeGenerator } from "@chorus/snowflake";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import type { Member } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { GuildService } from "@chorus/contracts/chorus/guild/v1/guild_pb";
import {
  AccountStorageService,
  ApplicationSchema,
  TokenKind,
  type Application,
} from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { GuildStorageService } from "@chorus/contracts/chorus/storage/v1/guilds_pb";
import { InvalidFieldsError, RequestRefusedError, UnknownUserError, fieldError } from "../accounts/account-errors.js";
import { DEFAULT_LOCALE, requirePerson, type Accounts, type Session } from "../accounts/accounts.js";
import { avatarHash } from "../accounts/avatars.js";
import {
  type ApplicationChanges,
  type ApplicationCreation,
  botUsernameBase,
  botUsernameCandidate,
  SETTABLE_APPLICATION_FLAGS,
} from "./application-rules.js";
import { verifyInteractionsEndpoint } from "../interactions/endpoint.js";
import { newInteractionKeyPair } from "../interactions/signatures.js";

export { type Application };

/** An application with what its owner sees beside it. */
export interface ApplicationView {
  application: Application;
  owner: User;
  /** The bot user, once created. */
  bot?: User;
  /** Guilds the bot is a member of. */
  guildCount: number;
}

/** What adding a bot to a guild asks: Discord's client_id, guild_id and permissions. */
export interface BotAuthorization {
  applicationId: bigint;
  guildId: bigint;
  permissions: bigint;
}

const unknownApplication = () =>
  new RequestRefusedError("not_found", RESTJSONErrorCodes.UnknownApplication, "Unknown Application", "application_id");
const noBot = () =>
  new RequestRefusedError("precondition", RESTJSONErrorCodes.OAuth2ApplicationDoesNotHaveBot, "OAuth2 application does not have a bot", "application_id");
const onlyBots = () =>
  new RequestRefusedError("forbidden", RESTJSONErrorCodes.OnlyBotsCanUseThisEndpoint, "Only bots can use this endpoint", "authorization");
/** Someone else's private bot: Discord refuses to add it (Missing Access). */
const privateBot = () => new RequestRefusedError("forbidden", RESTJSONErrorCodes.MissingAccess, "Missing Access", "application_id");

const isNotFound = (err: unknown) => err instanceof ConnectError && err.code === Code.NotFound;
const conflictOn = (err: unknown, field: string) =>
  err instanceof ConnectError && err.code === Code.AlreadyExists && err.rawMessage.startsWith(`${field}:`);

/** Fresh snowflakes, bot usernames: a few tries are plenty. */
const CREATE_ATTEMPTS = 5;
/** ListUserGuilds' largest page. */
const GUILD_PAGE = 1000;

/**
 * Developer applications and their bots, as the edge serves them, over the storage contract
 * (AccountStorageService for applications, users and tokens; GuildStorageService's user index
 * for a bot's guild count) and the guild service (AddBot). Stateless, like Accounts: any api
 * node serves any request. Only an application's owner sees or changes it; to anyone else it
 * is unknown (10002), as on Discord.
 */
export class Applications {
  constructor(
    private readonly clients: MeshClients,
    private readonly ids: SnowflakeGenerator,
    private readonly accounts: Accounts,
  ) {}

  /** Routed by application id (= the bot's user id), or by owner id for listings. */
  private storage(shardKey: bigint) {
    return this.clients.client(AccountStorageService, shardKey);
  }

  async create(session: Session, input: ApplicationCreation): Promise<ApplicationView> {
    requirePerson(session);
    const owner = await this.accounts.currentUser(session);
    for (let attempt = 1; ; attempt++) {
      const application = create(ApplicationSchema, {
        id: this.ids.next(),
        name: input.name,
        description: input.description,
        ownerId: owner.id,
        // Discord's default for a new application: anyone may add its bot.
        botPublic: true,
        // The key pair that signs its interactions; the private half stays in storage.
        ...newInteractionKeyPair(),
      });
      try {
        const created = (await this.storage(application.id).createApplication({ application })).application!;
        return { application: created, owner, guildCount: 0 };
      } catch (err) {
        if (conflictOn(err, "id") && attempt < CREATE_ATTEMPTS) continue;
        throw err;
      }
    }
  }

  async list(session: Session): Promise<ApplicationView[]> {
    requirePerson(session);
    const owner = await this.accounts.currentUser(session);
    const { applications } = await this.storage(owner.id).listApplications({ ownerId: owner.id });
    return Promise.all(applications.map((application) => this.view(application, owner)));
  }

  /** One application: its owner's, or its own bot's. */
  async get(session: Session, applicationId: bigint): Promise<ApplicationView> {
    return this.view(await this.accessible(session, applicationId));
  }

  /** The application of the calling bot (Discord's /applications/@me). */
  async current(session: Session): Promise<ApplicationView> {
    if (session.kind !== TokenKind.BOT) throw onlyBots();
    return this.get(session, session.userId);
  }

  async update(session: Session, applicationId: bigint, changes: ApplicationChanges): Promise<ApplicationView> {
    const current = await this.accessible(session, applicationId);
    const application = create(ApplicationSchema, {});
    const paths: string[] = [];
    if (changes.name !== undefined && changes.name !== current.name) {
      application.name = changes.name;
      paths.push("name");
    }
    if (changes.description !== undefined) {
      application.description = changes.description ?? "";
      paths.push("description");
    }
    if (changes.icon !== undefined) {
      application.icon = changes.icon === null ? undefined : avatarHash(changes.icon, "icon");
      paths.push("icon");
    }
    if (changes.bot_public !== undefined) {
      application.botPublic = changes.bot_public;
      paths.push("bot_public");
    }
    if (changes.bot_require_code_grant !== undefined) {
      application.botRequireCodeGrant = changes.bot_require_code_grant;
      paths.push("bot_require_code_grant");
    }
    if (changes.flags !== undefined) {
      // Only the settable bits change; the others (set by Chorus) stay as they are.
      application.flags = (current.flags & ~SETTABLE_APPLICATION_FLAGS) | BigInt(changes.flags);
      paths.push("flags");
    }
    if (changes.interactions_endpoint_url !== undefined) {
      const url = changes.interactions_endpoint_url ?? "";
      if (url !== current.interactionsEndpointUrl) {
        if (url !== "") {
          const keys = await this.signingKeys(current);
          // A key pair made just now is saved with the URL.
          if (keys.privateKey !== current.privateKey) {
            Object.assign(application, keys);
            paths.push("verify_key", "private_key");
          }
          await verifyInteractionsEndpoint(url, applicationId, keys.privateKey);
        }
        application.interactionsEndpointUrl = url;
        paths.push("interactions_endpoint_url");
      }
    }
    if (paths.length === 0) return this.view(current);
    const updated = await this.storage(applicationId).updateApplication({ applicationId, application, updateMask: { paths } });
    return this.view(updated.application!);
  }

  /**
   * The application as interactions need it (endpoint URL, private key), for any caller: the
   * interaction routes check who may do what. An application made before private keys were
   * kept gets a new key pair here, saved before it is used (its verify_key changes).
   */
  async forInteractions(applicationId: bigint): Promise<Application> {
    const application = await this.load(applicationId);
    if (application.privateKey !== "") return application;
    const keys = newInteractionKeyPair();
    const updated = await this.storage(applicationId).updateApplication({ applicationId, application: keys, updateMask: { paths: ["verify_key", "private_key"] } });
    return updated.application!;
  }

  private async signingKeys(application: Application): Promise<{ verifyKey: string; privateKey: string }> {
    if (application.privateKey !== "") return { verifyKey: application.verifyKey, privateKey: application.privateKey };
    return newInteractionKeyPair();
  }

  /**
   * Creates the application's bot user (id = the application id, as on Discord; a username
   * from the application's name; no password) and its first token.
   */
  async createBot(session: Session, applicationId: bigint): Promise<{ token: string; bot: User }> {
    const application = await this.owned(session, applicationId);
    if (application.botUserId !== undefined) {
      throw new InvalidFieldsError([fieldError("application_id", "APPLICATION_BOT_ALREADY_EXISTS", "This application already has a bot.")], "conflict");
    }
    const bot = await this.createBotUser(application);
    // The token before the link: an application that names its bot always has a usable one.
    const token = await this.accounts.newToken(bot.id, TokenKind.BOT);
    await this.storage(applicationId).updateApplication({
      applicationId,
      application: { botUserId: bot.id },
      updateMask: { paths: ["bot_user_id"] },
    });
    return { token, bot };
  }

  private async createBotUser(application: Application): Promise<User> {
    const base = botUsernameBase(application.name);
    for (let attempt = 0; ; attempt++) {
      const user = create(UserSchema, { id: application.id, username: botUsernameCandidate(base, attempt), bot: true, locale: DEFAULT_LOCALE });
      try {
        return (await this.storage(application.id).createUser({ user, passwordHash: "" })).user!;
      } catch (err) {
        if (conflictOn(err, "username") && attempt + 1 < CREATE_ATTEMPTS) continue;
        // A request that created the bot but failed before linking it, retried: take it up.
        if (conflictOn(err, "id")) {
          const existing = await this.accounts.getUser(application.id);
          if (existing.bot) return existing;
        }
        throw err;
      }
    }
  }

  /** Revokes every token of the application's bot and issues a new one. */
  async resetBotToken(session: Session, applicationId: bigint): Promise<string> {
    const application = await this.owned(session, applicationId);
    if (application.botUserId === undefined) throw noBot();
    const botId = application.botUserId;
    await this.accounts.revokeUserTokens(botId, TokenKind.BOT);
    return this.accounts.newToken(botId, TokenKind.BOT);
  }

  /**
   * The application and bot a person is asked to authorize (Discord's GET /oauth2/authorize):
   * anyone may see a public bot's application, only the owner a private one.
   */
  async authorizationPreview(session: Session, applicationId: bigint): Promise<{ application: Application; bot: User }> {
    requirePerson(session);
    const application = await this.authorizable(session, applicationId);
    return { application, bot: await this.accounts.getUser(application.botUserId!) };
  }

  /**
   * Adds an application's bot to a guild on behalf of the caller, through the guild service
   * (AddBot: MANAGE_GUILD, and a managed role with `permissions`, only those the caller has).
   * The guild service's errors (10004 Unknown Guild, 50013 Missing Permissions...) pass on.
   */
  async authorizeBot(session: Session, request: BotAuthorization): Promise<Member> {
    requirePerson(session);
    const application = await this.authorizable(session, request.applicationId);
    const bot = await this.accounts.getUser(application.botUserId!);
    const { result } = await this.clients.client(GuildService, request.guildId).execute({
      ownerId: request.guildId,
      actorId: session.userId,
      command: { command: { case: "addBot", value: { botUserId: bot.id, permissions: request.permissions, botName: bot.username } } },
    });
    if (result?.result.case !== "member") throw new Error(`AddBot answered ${result?.result.case ?? "nothing"}, not the bot's member`);
    return result.result.value;
  }

  private async authorizable(session: Session, applicationId: bigint): Promise<Application> {
    const application = await this.load(applicationId);
    if (application.botUserId === undefined) throw noBot();
    if (!application.botPublic && application.ownerId !== session.userId) throw privateBot();
    return application;
  }

  private async load(applicationId: bigint): Promise<Application> {
    if (applicationId === 0n) throw unknownApplication();
    try {
      return (await this.storage(applicationId).getApplication({ applicationId })).application!;
    } catch (err) {
      if (isNotFound(err)) throw unknownApplication();
      throw err;
    }
  }

  /** An application its owner manages (a person's session); unknown to anyone else. */
  private async owned(session: Session, applicationId: bigint): Promise<Application> {
    requirePerson(session);
    const application = await this.load(applicationId);
    if (application.ownerId !== session.userId) throw unknownApplication();
    return application;
  }

  /**
   * An application whose commands the caller manages: its own bot, or its owner. A bot
   * token of another application is refused as Discord does (403, 20012); to a person who
   * does not own it, the application is unknown (10002).
   */
  async commandManager(session: Session, applicationId: bigint): Promise<Application> {
    if (session.kind === TokenKind.BOT && session.userId !== applicationId) {
      throw new RequestRefusedError(
        "forbidden",
        RESTJSONErrorCodes.NotAuthorizedToPerformThisActionOnThisApplication,
        "You are not authorized to perform this action on this application",
        "application_id",
      );
    }
    return this.accessible(session, applicationId);
  }

  /** An application its owner, or its own bot, may see and change. */
  private async accessible(session: Session, applicationId: bigint): Promise<Application> {
    if (session.kind === TokenKind.BOT) {
      if (session.userId !== applicationId) throw unknownApplication();
      return this.load(applicationId);
    }
    return this.owned(session, applicationId);
  }

  private async view(application: Application, owner?: User): Promise<ApplicationView> {
    const botId = application.botUserId;
    const [ownerUser, bot, guildCount] = await Promise.all([
      owner ?? this.accounts.getUser(application.ownerId),
      botId === undefined ? undefined : this.accounts.getUser(botId).catch((err: unknown) => {
        if (err instanceof UnknownUserError) return undefined;
        throw err;
      }),
      botId === undefined ? 0 : this.guildCount(botId),
    ]);
    return { application, owner: ownerUser, bot, guildCount };
  }

  private async guildCount(userId: bigint): Promise<number> {
    const index = this.clients.client(GuildStorageService, userId);
    let count = 0;
    for (let after = 0n; ; ) {
      const { guildIds } = await index.listUserGuilds({ userId, afterGuildId: after, limit: GUILD_PAGE });
      count += guildIds.length;
      if (guildIds.length < GUILD_PAGE) return count;
      after = guildIds[guildIds.length - 1];
    }
  }
}
