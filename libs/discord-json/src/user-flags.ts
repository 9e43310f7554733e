import { UserFlags } from "discord-api-types/v10";
import { create } from "@bufbuild/protobuf";
import { UserSchema, type User } from "@chorus/contracts/chorus/chat/v1/user_pb";

/** The flags Discord shows to everyone (public_flags); the others are the account's own business. */
export const PUBLIC_USER_FLAGS = [
  UserFlags.Staff,
  UserFlags.Partner,
  UserFlags.Hypesquad,
  UserFlags.BugHunterLevel1,
  UserFlags.HypeSquadOnlineHouse1,
  UserFlags.HypeSquadOnlineHouse2,
  UserFlags.HypeSquadOnlineHouse3,
  UserFlags.PremiumEarlySupporter,
  UserFlags.TeamPseudoUser,
  UserFlags.BugHunterLevel2,
  UserFlags.VerifiedBot,
  UserFlags.VerifiedDeveloper,
  UserFlags.CertifiedModerator,
  UserFlags.BotHTTPInteractions,
  UserFlags.ActiveDeveloper,
].reduce((mask, flag) => mask | BigInt(flag), 0n);

export const publicFlagsOf = (user: User): bigint => user.flags & PUBLIC_USER_FLAGS;

/** What anyone may see of an account: no email, verification, locale or private flags. */
export function publicProfile(user: User): User {
  return create(UserSchema, {
    id: user.id,
    username: user.username,
    globalName: user.globalName,
    avatar: user.avatar,
    bot: user.bot,
    system: user.system,
    flags: publicFlagsOf(user),
  });
}
