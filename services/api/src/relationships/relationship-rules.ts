import { RelationshipType } from "@chorus/contracts/chorus/storage/v1/accounts_pb";

export { RelationshipType };

/**
 * Discord's relationship rules as a pure function of the two sides of a pair of users: what
 * the caller sees of the peer (`mine`) and what the peer sees of the caller (`theirs`).
 * Storage keeps each side as its own row, so every action says what both sides must become;
 * the target states (rather than steps) also repair a pair left half-written by a failed
 * request when the request is repeated.
 */

export type RelationshipAction = "request" | "accept" | "block" | "remove";

/** One side of a pair; undefined when that user sees nothing of the other. */
export type Side = RelationshipType | undefined;

/** What a side becomes: a type to store, null to delete it, undefined to leave it as it is. */
export type SideChange = RelationshipType | null | undefined;

export interface RelationshipPlan {
  mine: SideChange;
  theirs: SideChange;
}

/** Why an action is refused. */
export type RelationshipRefusal =
  /** A friend request to someone who blocked the caller. */
  | "blocked"
  /** Accepting a request that nobody sent. */
  | "no_request";

export class RelationshipRefusedError extends Error {
  constructor(readonly reason: RelationshipRefusal) {
    super(reason === "blocked" ? "the user does not accept friend requests from the caller" : "there is no friend request to accept");
    this.name = "RelationshipRefusedError";
  }
}

const { FRIEND, BLOCKED, INCOMING_REQUEST, OUTGOING_REQUEST } = RelationshipType;

/** `target` for a side that is not already `target`; undefined (nothing to write) otherwise. */
const become = (side: Side, target: RelationshipType | null): SideChange => ((side ?? null) === target ? undefined : target);

/** The other side's row, removed unless it is their block of the caller (a block is never undone by the blocked). */
const dropUnlessBlocked = (theirs: Side): SideChange => (theirs === BLOCKED ? undefined : become(theirs, null));

/**
 * What `action` by the caller makes of the pair:
 * - request: a friend request (mine OUTGOING, theirs INCOMING), or, when the peer had asked
 *   the caller, friendship on both sides; refused when the peer blocks the caller. A request
 *   to someone the caller blocked lifts the block, as Discord's client does.
 * - accept: friendship on both sides, when the caller received a request (or already is a friend).
 * - block: mine BLOCKED; the peer's friendship or request goes (their own block stays).
 * - remove: unfriend, cancel or decline (both sides go), or unblock (only the caller's side).
 */
export function planRelationship(action: RelationshipAction, mine: Side, theirs: Side): RelationshipPlan {
  switch (action) {
    case "request":
      if (theirs === BLOCKED) throw new RelationshipRefusedError("blocked");
      if (mine === FRIEND || mine === INCOMING_REQUEST) return { mine: become(mine, FRIEND), theirs: become(theirs, FRIEND) };
      return { mine: become(mine, OUTGOING_REQUEST), theirs: become(theirs, INCOMING_REQUEST) };
    case "accept":
      if (mine !== FRIEND && mine !== INCOMING_REQUEST) throw new RelationshipRefusedError("no_request");
      if (theirs === BLOCKED) throw new RelationshipRefusedError("blocked");
      return { mine: become(mine, FRIEND), theirs: become(theirs, FRIEND) };
    case "block":
      return { mine: become(mine, BLOCKED), theirs: dropUnlessBlocked(theirs) };
    case "remove":
      // Unblocking leaves the other side alone too: after a block, it is nothing or their own block.
      return { mine: become(mine, null), theirs: dropUnlessBlocked(theirs) };
  }
}

/** The caller's side after a plan. */
export function sideAfter(mine: Side, change: SideChange): Side {
  if (change === undefined) return mine;
  return change ?? undefined;
}
