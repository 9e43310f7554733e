import type { RelationshipView } from "../relationships/relationships.js";
import { discordUser, type DiscordPublicUser } from "@chorus/discord-json/users";

/** Discord's relationship object, as its client receives it from /users/@me/relationships. */
export interface DiscordRelationship {
  /** The other user's id. */
  id: string;
  /** 1 friend, 2 blocked, 3 incoming request, 4 outgoing request. */
  type: number;
  user: DiscordPublicUser;
  nickname: string | null;
  /** ISO 8601: when the relationship took its type. */
  since: string;
  is_spam_request: boolean;
  user_ignored: boolean;
}

export function discordRelationship(view: RelationshipView): DiscordRelationship {
  return {
    id: view.user.id.toString(),
    type: view.type,
    user: discordUser(view.user),
    nickname: view.nickname ?? null,
    since: view.since.toISOString(),
    is_spam_request: false,
    user_ignored: false,
  };
}
