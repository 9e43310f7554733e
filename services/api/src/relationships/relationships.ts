import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import type { MeshClients } from "@chorus/mesh";
import type { User } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { AccountStorageService, type Relationship } from "@chorus/contracts/chorus/storage/v1/accounts_pb";
import { RESTJSONErrorCodes } from "discord-api-types/v10";
import { RequestRefusedError, UnknownUserError } from "../accounts/account-errors.js";
import { usernameSchema } from "../accounts/account-rules.js";
import { requirePerson, type Accounts, type Session } from "../accounts/accounts.js";
import {
  RelationshipRefusedError,
  RelationshipType,
  planRelationship,
  type RelationshipAction,
  type Side,
  type SideChange,
} from "./relationship-rules.js";

/**
 * Discord's relationship error codes. 80000, 80002 and 80003 are the codes Discord answers
 * (as its client and the community's documentation of its API know them) but
 * discord-api-types leaves out of RESTJSONErrorCodes; 80004 is there.
 */
export const RelationshipErrorCodes = {
  /** Answered for a request to someone who blocked the caller, so that a block is not revealed as such. */
  IncomingFriendRequestsDisabled: 80000,
  BotsCannotHaveFriends: 80002,
  CannotSendFriendRequestToSelf: 80003,
  NoUsersWithDiscordTagExist: RESTJSONErrorCodes.NoUsersWithDiscordTagExist,
} as const;

/** What the caller sees of another user. */
export interface RelationshipView {
  user: User;
  type: RelationshipType;
  since: Date;
  nickname?: string;
}

/** Whom a friend request is for: a user id, or a username (Discord's "add friend"). */
export type FriendRequestTarget = { userId: bigint } | { username: string };

const refusal = (err: RelationshipRefusedError) =>
  err.reason === "blocked"
    ? new RequestRefusedError("precondition", RelationshipErrorCodes.IncomingFriendRequestsDisabled, "Incoming friend requests disabled.", "user_id")
    : // Only the Connect API accepts explicitly (Discord's PUT sends or accepts): no Discord code fits.
      new RequestRefusedError("precondition", RESTJSONErrorCodes.GeneralError, "There is no friend request to accept.", "user_id");
const toSelf = () =>
  new RequestRefusedError("precondition", RelationshipErrorCodes.CannotSendFriendRequestToSelf, "Cannot send friend request to self.", "user_id");
const botsHaveNoFriends = () =>
  new RequestRefusedError("precondition", RelationshipErrorCodes.BotsCannotHaveFriends, "Bots cannot have friends.", "user_id");
/** Discord answers an unknown username with 400 and this code, not 404 Unknown User. */
const noSuchUsername = () =>
  new RequestRefusedError("not_found", RelationshipErrorCodes.NoUsersWithDiscordTagExist, "No users with DiscordTag exist", "username", 400);

/**
 * Friends, friend requests and blocks, over the storage contract's relationship rows: one row
 * per side (what user_id sees of peer_id), each routed by its user id. Every action reads both
 * sides, plans their target states (relationship-rules.ts) and writes only what changes.
 * Bots have no relationships.
 */
export class Relationships {
  constructor(
    private readonly clients: MeshClients,
    private readonly accounts: Accounts,
  ) {}

  private storage(userId: bigint) {
    return this.clients.client(AccountStorageService, userId);
  }

  async list(session: Session): Promise<RelationshipView[]> {
    requirePerson(session);
    const { relationships } = await this.storage(session.userId).listRelationships({ userId: session.userId });
    const views = await Promise.all(
      relationships.map(async (row) => {
        try {
          return toView(row, await this.accounts.getUser(row.peerId));
        } catch (err) {
          // A peer whose account is gone is no longer shown.
          if (err instanceof UnknownUserError) return undefined;
          throw err;
        }
      }),
    );
    return views.filter((view): view is RelationshipView => view !== undefined);
  }

  /** Sends a friend request, or accepts the peer's (both become friends). */
  async request(session: Session, target: FriendRequestTarget): Promise<RelationshipView> {
    requirePerson(session);
    const peer = "userId" in target ? await this.accounts.getUser(target.userId) : await this.findByUsername(target.username);
    if (peer.id === session.userId) throw toSelf();
    if (peer.bot) throw botsHaveNoFriends();
    return this.apply(session.userId, peer, "request");
  }

  async accept(session: Session, userId: bigint): Promise<RelationshipView> {
    return this.apply(requirePerson(session).userId, await this.peer(session, userId), "accept");
  }

  async block(session: Session, userId: bigint): Promise<RelationshipView> {
    return this.apply(requirePerson(session).userId, await this.peer(session, userId), "block");
  }

  /** Removes a friend, a request or a block; false when there was nothing to remove. */
  async remove(session: Session, userId: bigint): Promise<boolean> {
    requirePerson(session);
    const [mine, theirs] = await this.sides(session.userId, userId);
    // Nothing of ours to remove and no account behind the id: say so, as for other actions.
    if (mine === undefined) await this.accounts.getUser(userId);
    await this.write(session.userId, userId, mine?.type, theirs?.type, "remove");
    return mine !== undefined;
  }

  private async peer(session: Session, userId: bigint): Promise<User> {
    if (userId === session.userId) throw toSelf();
    return this.accounts.getUser(userId);
  }

  /** Applies an action that leaves the caller's side in place (request, accept, block). */
  private async apply(userId: bigint, peer: User, action: Exclude<RelationshipAction, "remove">): Promise<RelationshipView> {
    const [mine, theirs] = await this.sides(userId, peer.id);
    const written = await this.write(userId, peer.id, mine?.type, theirs?.type, action);
    return toView((written ?? mine)!, peer);
  }

  /** What each user of a pair sees of the other (each side from its own user's rows). */
  private async sides(userId: bigint, peerId: bigint): Promise<[Relationship | undefined, Relationship | undefined]> {
    const find = async (owner: bigint, other: bigint) =>
      (await this.storage(owner).listRelationships({ userId: owner })).relationships.find((r) => r.peerId === other);
    return Promise.all([find(userId, peerId), find(peerId, userId)]);
  }

  /** Plans `action` and writes both sides; the caller's row when it was (re)written. */
  private async write(userId: bigint, peerId: bigint, mine: Side, theirs: Side, action: RelationshipAction): Promise<Relationship | undefined> {
    let plan;
    try {
      plan = planRelationship(action, mine, theirs);
    } catch (err) {
      if (err instanceof RelationshipRefusedError) throw refusal(err);
      throw err;
    }
    const [written] = await Promise.all([this.writeSide(userId, peerId, plan.mine), this.writeSide(peerId, userId, plan.theirs)]);
    return written;
  }

  private async writeSide(userId: bigint, peerId: bigint, change: SideChange): Promise<Relationship | undefined> {
    if (change === undefined) return undefined;
    if (change === null) {
      await this.storage(userId).deleteRelationship({ userId, peerId });
      return undefined;
    }
    return (await this.storage(userId).putRelationship({ relationship: { userId, peerId, type: change } })).relationship;
  }

  private async findByUsername(username: string): Promise<User> {
    const name = username.trim().toLowerCase();
    // Only a well-formed username can name someone (and a login with "@" would be an email).
    if (!usernameSchema.safeParse(name).success) throw noSuchUsername();
    try {
      const found = await this.clients.client(AccountStorageService, name).findUserByLogin({ login: name });
      if (found.user && found.user.username.toLowerCase() === name) return found.user;
    } catch (err) {
      if (!(err instanceof ConnectError && err.code === Code.NotFound)) throw err;
    }
    throw noSuchUsername();
  }
}

function toView(row: Relationship, user: User): RelationshipView {
  return {
    user,
    type: row.type,
    since: row.since ? timestampDate(row.since) : new Date(0),
    nickname: row.nickname,
  };
}
