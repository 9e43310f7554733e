import { ApplicationFlags, GatewayIntentBits } from "discord-api-types/v10";
import { CloseCode } from "./gateway-protocol.js";

/** Every intent bit Discord v10 defines; any other bit is closed with 4013. */
export const KNOWN_INTENTS = Object.values(GatewayIntentBits)
  .filter((v): v is number => typeof v === "number")
  .reduce((all, bit) => all | bit, 0);

/** Intents a bot needs its application to enable (Discord's privileged intents). */
export const PRIVILEGED_INTENTS = [
  {
    intent: GatewayIntentBits.GuildMembers,
    flags: ApplicationFlags.GatewayGuildMembers | ApplicationFlags.GatewayGuildMembersLimited,
  },
  {
    intent: GatewayIntentBits.GuildPresences,
    flags: ApplicationFlags.GatewayPresence | ApplicationFlags.GatewayPresenceLimited,
  },
  {
    intent: GatewayIntentBits.MessageContent,
    flags: ApplicationFlags.GatewayMessageContent | ApplicationFlags.GatewayMessageContentLimited,
  },
] as const;

export interface IntentsHolder {
  /** A bot account (a person's session may ask for any intent, as Discord's own clients do). */
  bot: boolean;
  /** The bot's application flags (0 for persons). */
  applicationFlags: bigint;
}

/**
 * The close code IDENTIFY's intents earn, or undefined when they are allowed: 4013 for bits
 * Discord does not define, 4014 for a privileged intent a bot's application does not enable
 * (either the verified GATEWAY_* flag or its *_LIMITED twin enables it, as on Discord).
 */
export function checkIntents(intents: number, holder: IntentsHolder): number | undefined {
  if ((intents & ~KNOWN_INTENTS) !== 0) return CloseCode.InvalidIntents;
  if (!holder.bot) return undefined;
  for (const { intent, flags } of PRIVILEGED_INTENTS) {
    if ((intents & intent) !== 0 && (holder.applicationFlags & BigInt(flags)) === 0n) return CloseCode.DisallowedIntents;
  }
  return undefined;
}

/**
 * Whether a session sees message content: persons always do; a bot only with the
 * MESSAGE_CONTENT intent (without it, deliveries carrying `data_without_content` give it that).
 */
export const seesContent = (intents: number, bot: boolean) => !bot || (intents & GatewayIntentBits.MessageContent) !== 0;


/** Whether a session gets other members' presences (GUILD_PRESENCES): in GUILD_CREATE and member chunks. */
export const seesPresences = (intents: number) => (intents & GatewayIntentBits.GuildPresences) !== 0;
