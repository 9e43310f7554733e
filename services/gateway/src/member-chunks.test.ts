import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { MemberSchema } from "@chorus/contracts/chorus/chat/v1/guild_pb";
import { UserSchema } from "@chorus/contracts/chorus/chat/v1/user_pb";
import { CHUNK_SIZE, parseMemberRequest, renderMemberChunks } from "./member-chunks.js";

const member = (userId: bigint) => create(MemberSchema, { userId });
const users = (id: bigint) => create(UserSchema, { id, username: `user${id}` });
const parse = (buffers: Buffer[]) => buffers.map((b) => JSON.parse(b.toString()));

describe("renderMemberChunks", () => {
  const request = parseMemberRequest({ guild_id: "9", query: "", limit: 0, presences: true, nonce: "n" })!;

  it("with presences: each chunk lists the presences of its own online members only", () => {
    const members = Array.from({ length: CHUNK_SIZE + 2 }, (_, i) => member(BigInt(i + 1)));
    const presences = [
      { userId: 1n, presence: { status: "idle", activities: '[{"name":"chess","type":0}]' } },
      { userId: BigInt(CHUNK_SIZE + 2), presence: { status: "online", activities: "" } },
      { userId: 999_999n, presence: { status: "dnd", activities: "" } },
    ];
    const chunks = parse(renderMemberChunks(request, { members, notFound: [], users, presences }));
    assert.deepEqual(chunks.map((c) => [c.chunk_index, c.chunk_count, c.members.length, c.nonce]), [
      [0, 2, CHUNK_SIZE, "n"],
      [1, 2, 2, "n"],
    ]);
    assert.deepEqual(chunks[0].presences, [{ user: { id: "1" }, guild_id: "9", status: "idle", activities: [{ name: "chess", type: 0 }], client_status: { desktop: "idle" } }]);
    assert.deepEqual(chunks[1].presences, [{ user: { id: String(CHUNK_SIZE + 2) }, guild_id: "9", status: "online", activities: [], client_status: { desktop: "online" } }]);
  });

  it("with presences and nobody online: empty lists; without presences (or the intent): no field at all", () => {
    const members = [member(1n)];
    assert.deepEqual(parse(renderMemberChunks(request, { members, notFound: [], users, presences: [] }))[0].presences, []);
    const [chunk] = parse(renderMemberChunks(request, { members, notFound: ["5"], users }));
    assert.equal("presences" in chunk, false);
    assert.deepEqual(chunk.not_found, ["5"]);
  });
});
