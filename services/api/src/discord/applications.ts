import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import type { Application, ApplicationView } from "../applications/applications.js";
import { discordUser, type DiscordPublicUser } from "@chorus/discord-json/users";

/** Discord's application object as anyone may see it (the OAuth2 authorization screen). */
export interface DiscordApplication {
  id: string;
  name: string;
  icon: string | null;
  description: string;
  summary: string;
  type: null;
  flags: number;
  flags_new: string;
  bot?: DiscordPublicUser;
  bot_public: boolean;
  bot_require_code_grant: boolean;
  verify_key: string;
  hook: boolean;
}

/**
 * The application as its owner (or its bot) sees it: Discord's private application object.
 * Fields Chorus has no feature for yet carry Discord's empty values, so strict clients find
 * every key they expect.
 */
export interface DiscordPrivateApplication extends DiscordApplication {
  owner: DiscordPublicUser;
  team: null;
  redirect_uris: string[];
  interactions_endpoint_url: string | null;
  role_connections_verification_url: null;
  approximate_guild_count: number;
  approximate_user_install_count: number;
  approximate_user_authorization_count: number;
  explicit_content_filter: number;
  eligible_oauth2_scopes: string[];
}

export function discordApplication(application: Application, bot: User | undefined): DiscordApplication {
  return {
    id: application.id.toString(),
    name: application.name,
    icon: application.icon ?? null,
    description: application.description,
    summary: "",
    type: null,
    flags: Number(application.flags),
    flags_new: application.flags.toString(),
    ...(bot ? { bot: discordUser(bot) } : {}),
    bot_public: application.botPublic,
    bot_require_code_grant: application.botRequireCodeGrant,
    verify_key: application.verifyKey,
    hook: true,
  };
}

export function discordPrivateApplication({ application, owner, bot, guildCount }: ApplicationView): DiscordPrivateApplication {
  return {
    ...discordApplication(application, bot),
    owner: discordUser(owner),
    team: null,
    redirect_uris: [],
    interactions_endpoint_url: application.interactionsEndpointUrl || null,
    role_connections_verification_url: null,
    approximate_guild_count: guildCount,
    approximate_user_install_count: 0,
    approximate_user_authorization_count: 0,
    explicit_content_filter: 0,
    // The OAuth2 scopes Chorus can grant an application.
    eligible_oauth2_scopes: bot ? ["bot"] : [],
  };
}
