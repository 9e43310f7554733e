import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  ALL_PERMISSIONS,
  InvalidPermissionsError,
  MAX_PERMISSIONS_VALUE,
  OverwriteType,
  Permission,
  canManageRole,
  computeBasePermissions,
  computeChannelPermissions,
  computePermissions,
  has,
  highestRolePosition,
  parsePermissions,
  serializePermissions,
} from './index.js';
import type { GuildInfo, MemberInfo, Overwrite, RoleInfo } from './index.js';

const {
  Administrator: ADMIN,
  ViewChannel: VIEW,
  SendMessages: SEND,
  SendTTSMessages: TTS,
  MentionEveryone: MENTION_EVERYONE,
  AttachFiles: ATTACH,
  EmbedLinks: EMBED,
  ReadMessageHistory: HISTORY,
  AddReactions: REACT,
  ManageMessages: MANAGE_MESSAGES,
  ManageGuild: MANAGE_GUILD,
  KickMembers: KICK,
  Connect: CONNECT,
} = Permission;

/** The bits denying SEND_MESSAGES implicitly denies. */
const NEEDS_SEND = MENTION_EVERYONE | TTS | ATTACH | EMBED;

// ---------------------------------------------------------------------------------------
// Fixture: one guild, its @everyone role (id = guild id, position 0) and three roles A < B < C.

const GUILD_ID = 100n;
const OWNER_ID = 1n;
const USER_ID = 500n;
const OTHER_USER_ID = 501n;
const ROLE_A = 11n; // position 1
const ROLE_B = 12n; // position 2
const ROLE_C = 13n; // position 3
const UNKNOWN_ROLE = 99n; // never in the role map

const guild: GuildInfo = { id: GUILD_ID, ownerId: OWNER_ID };

interface Setup {
  /** Permissions of the @everyone role; `null` leaves the role out of the map. */
  everyone?: bigint | null;
  a?: bigint;
  b?: bigint;
  c?: bigint;
}

function rolesOf(setup: Setup): Map<bigint, RoleInfo> {
  const roles = new Map<bigint, RoleInfo>();
  if (setup.everyone !== null) {
    roles.set(GUILD_ID, { id: GUILD_ID, permissions: setup.everyone ?? 0n, position: 0 });
  }
  roles.set(ROLE_A, { id: ROLE_A, permissions: setup.a ?? 0n, position: 1 });
  roles.set(ROLE_B, { id: ROLE_B, permissions: setup.b ?? 0n, position: 2 });
  roles.set(ROLE_C, { id: ROLE_C, permissions: setup.c ?? 0n, position: 3 });
  return roles;
}

const everyoneOw = (allow: bigint, deny: bigint): Overwrite => ({ id: GUILD_ID, type: OverwriteType.Role, allow, deny });
const roleOw = (id: bigint, allow: bigint, deny: bigint): Overwrite => ({ id, type: OverwriteType.Role, allow, deny });
const memberOw = (id: bigint, allow: bigint, deny: bigint): Overwrite => ({ id, type: OverwriteType.Member, allow, deny });

const member = (...roleIds: bigint[]): MemberInfo => ({ userId: USER_ID, roleIds });

/** Readable flag names for failure messages. */
function names(perms: bigint): string {
  if (perms === ALL_PERMISSIONS) return 'ALL';
  const out: string[] = [];
  for (const [name, flag] of Object.entries(Permission)) {
    if (name !== 'ManageEmojisAndStickers' && (perms & flag) === flag) out.push(name);
  }
  const unknown = perms & ~ALL_PERMISSIONS;
  if (unknown !== 0n) out.push(`unknown(0x${unknown.toString(16)})`);
  return out.length === 0 ? 'NONE' : out.join('|');
}

interface Case {
  name: string;
  setup: Setup;
  member: MemberInfo;
  overwrites: Overwrite[];
  /** Expected guild-level permissions, exactly. */
  base?: bigint;
  /** Expected channel permissions, exactly. */
  expected?: bigint;
  /** Flags that must be in the channel permissions. */
  present?: bigint[];
  /** Flags that must not be in the channel permissions. */
  absent?: bigint[];
}

const cases: Case[] = [
  // --- owner ---------------------------------------------------------------------------
  {
    name: 'owner with no roles gets everything',
    setup: { everyone: 0n },
    member: { userId: OWNER_ID, roleIds: [] },
    overwrites: [],
    base: ALL_PERMISSIONS,
    expected: ALL_PERMISSIONS,
  },
  {
    name: 'owner is not subject to any overwrite',
    setup: { everyone: VIEW | SEND },
    member: { userId: OWNER_ID, roleIds: [ROLE_A] },
    overwrites: [everyoneOw(0n, ALL_PERMISSIONS), roleOw(ROLE_A, 0n, VIEW), memberOw(OWNER_ID, 0n, VIEW | SEND)],
    base: ALL_PERMISSIONS,
    expected: ALL_PERMISSIONS,
  },

  // --- ADMINISTRATOR -------------------------------------------------------------------
  {
    name: "a role's ADMINISTRATOR grants ALL even with @everyone having nothing",
    setup: { everyone: 0n, b: ADMIN },
    member: member(ROLE_B),
    overwrites: [],
    base: ALL_PERMISSIONS,
    expected: ALL_PERMISSIONS,
  },
  {
    name: 'ADMINISTRATOR via a non-@everyone role overrides every channel deny',
    setup: { everyone: VIEW | SEND, a: ADMIN },
    member: member(ROLE_A),
    overwrites: [everyoneOw(0n, VIEW | SEND), roleOw(ROLE_A, 0n, ALL_PERMISSIONS), memberOw(USER_ID, 0n, VIEW)],
    base: ALL_PERMISSIONS,
    expected: ALL_PERMISSIONS,
  },
  {
    name: 'ADMINISTRATOR on @everyone makes every member an administrator',
    setup: { everyone: ADMIN },
    member: member(),
    overwrites: [everyoneOw(0n, VIEW)],
    base: ALL_PERMISSIONS,
    expected: ALL_PERMISSIONS,
  },
  {
    name: 'ADMINISTRATOR allowed by a channel overwrite grants neither ALL nor the bit itself',
    setup: { everyone: VIEW },
    member: member(ROLE_A),
    overwrites: [roleOw(ROLE_A, ADMIN | SEND, 0n)],
    base: VIEW,
    expected: VIEW | SEND,
  },

  // --- base permissions ------------------------------------------------------------------
  {
    name: 'base permissions combine @everyone and every role by OR',
    setup: { everyone: VIEW | SEND, a: HISTORY, b: REACT, c: KICK },
    member: member(ROLE_A, ROLE_B),
    overwrites: [],
    base: VIEW | SEND | HISTORY | REACT,
    expected: VIEW | SEND | HISTORY | REACT,
  },
  {
    name: 'a member with no roles gets exactly the @everyone permissions',
    setup: { everyone: VIEW | SEND | CONNECT, a: MANAGE_MESSAGES },
    member: member(),
    overwrites: [],
    base: VIEW | SEND | CONNECT,
    expected: VIEW | SEND | CONNECT,
  },
  {
    name: 'role ids missing from the role map are skipped',
    setup: { everyone: VIEW, a: SEND },
    member: member(UNKNOWN_ROLE, ROLE_A),
    overwrites: [],
    base: VIEW | SEND,
    expected: VIEW | SEND,
  },
  {
    name: 'a missing @everyone role counts as no permissions',
    setup: { everyone: null, a: VIEW | HISTORY },
    member: member(ROLE_A),
    overwrites: [],
    base: VIEW | HISTORY,
    expected: VIEW | HISTORY,
  },
  {
    name: 'role permission bits no flag defines are dropped',
    setup: { everyone: VIEW | (1n << 60n), a: SEND | (1n << 47n) | (1n << 63n) },
    member: member(ROLE_A),
    overwrites: [],
    base: VIEW | SEND,
    expected: VIEW | SEND,
  },

  // --- @everyone overwrite ---------------------------------------------------------------
  {
    name: '@everyone deny VIEW_CHANNEL leaves nothing',
    setup: { everyone: VIEW | SEND | HISTORY },
    member: member(ROLE_A),
    overwrites: [everyoneOw(0n, VIEW)],
    base: VIEW | SEND | HISTORY,
    expected: 0n,
  },
  {
    name: '@everyone deny VIEW_CHANNEL with a role allow: the role wins',
    setup: { everyone: VIEW | SEND | HISTORY },
    member: member(ROLE_A),
    overwrites: [everyoneOw(0n, VIEW), roleOw(ROLE_A, VIEW, 0n)],
    expected: VIEW | SEND | HISTORY,
  },
  {
    name: '@everyone allow adds a bit the base lacks',
    setup: { everyone: VIEW },
    member: member(),
    overwrites: [everyoneOw(SEND | REACT, 0n)],
    expected: VIEW | SEND | REACT,
  },
  {
    name: 'an overwrite whose role id is the guild id is the @everyone overwrite, even for a member with no roles',
    setup: { everyone: VIEW | SEND | REACT },
    member: member(),
    overwrites: [roleOw(GUILD_ID, 0n, REACT)],
    expected: VIEW | SEND,
  },
  {
    name: 'the guild id listed among the member roles does not turn the @everyone overwrite into a role overwrite',
    setup: { everyone: VIEW | SEND },
    member: member(GUILD_ID, ROLE_A),
    // Were the @everyone allow combined with role A's deny, REACT would survive.
    overwrites: [everyoneOw(REACT, 0n), roleOw(ROLE_A, 0n, REACT)],
    base: VIEW | SEND,
    expected: VIEW | SEND,
  },

  // --- role overwrites -------------------------------------------------------------------
  {
    name: 'a role deny removes a base permission',
    setup: { everyone: VIEW | SEND | HISTORY },
    member: member(ROLE_A, ROLE_B),
    overwrites: [roleOw(ROLE_A, 0n, HISTORY)],
    expected: VIEW | SEND,
  },
  {
    name: 'role deny vs another role allow on the same bit: allow wins',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A, ROLE_B),
    overwrites: [roleOw(ROLE_B, 0n, ATTACH | SEND), roleOw(ROLE_A, ATTACH | SEND, 0n)],
    expected: VIEW | SEND | ATTACH,
  },
  {
    name: 'role allow beats a deny of a higher role (positions do not matter)',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A, ROLE_C),
    overwrites: [roleOw(ROLE_A, EMBED, 0n), roleOw(ROLE_C, 0n, EMBED)],
    expected: VIEW | SEND | EMBED,
  },
  {
    name: 'a role deny beats an @everyone allow',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A),
    overwrites: [everyoneOw(ATTACH | EMBED, 0n), roleOw(ROLE_A, 0n, ATTACH)],
    expected: VIEW | SEND | EMBED,
  },
  {
    name: 'allows of several roles add up',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A, ROLE_B),
    overwrites: [roleOw(ROLE_A, ATTACH, 0n), roleOw(ROLE_B, EMBED, 0n)],
    expected: VIEW | SEND | ATTACH | EMBED,
  },
  {
    name: 'an overwrite for a role the member does not have is ignored',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A),
    overwrites: [roleOw(ROLE_C, MANAGE_MESSAGES, VIEW)],
    expected: VIEW | SEND,
  },
  {
    name: 'a role overwrite whose id is the user id is ignored',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A),
    overwrites: [roleOw(USER_ID, MANAGE_MESSAGES, SEND)],
    expected: VIEW | SEND,
  },

  // --- member overwrites -----------------------------------------------------------------
  {
    name: 'member allow beats role deny',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A),
    overwrites: [roleOw(ROLE_A, 0n, SEND | ATTACH), memberOw(USER_ID, SEND, 0n)],
    expected: VIEW | SEND,
  },
  {
    name: 'member deny beats role allow',
    setup: { everyone: VIEW },
    member: member(ROLE_A),
    overwrites: [roleOw(ROLE_A, SEND | REACT, 0n), memberOw(USER_ID, 0n, REACT)],
    expected: VIEW | SEND,
  },
  {
    name: 'member deny VIEW_CHANNEL beats @everyone and role allows',
    setup: { everyone: 0n },
    member: member(ROLE_A),
    overwrites: [everyoneOw(VIEW | SEND, 0n), roleOw(ROLE_A, VIEW, 0n), memberOw(USER_ID, 0n, VIEW)],
    expected: 0n,
  },
  {
    name: 'member allow VIEW_CHANNEL beats @everyone and role denies',
    setup: { everyone: VIEW | HISTORY },
    member: member(ROLE_A),
    overwrites: [everyoneOw(0n, VIEW), roleOw(ROLE_A, 0n, VIEW), memberOw(USER_ID, VIEW, 0n)],
    expected: VIEW | HISTORY,
  },
  {
    name: "another user's member overwrite is ignored",
    setup: { everyone: VIEW | SEND },
    member: member(),
    overwrites: [memberOw(OTHER_USER_ID, MANAGE_MESSAGES, VIEW)],
    expected: VIEW | SEND,
  },
  {
    name: "a member overwrite whose id is one of the member's role ids is ignored",
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_A),
    overwrites: [memberOw(ROLE_A, MANAGE_MESSAGES, VIEW)],
    expected: VIEW | SEND,
  },
  {
    name: 'the three levels compose in order: @everyone, roles, member',
    setup: { everyone: VIEW | SEND | REACT | HISTORY },
    member: member(ROLE_A, ROLE_B),
    overwrites: [
      memberOw(USER_ID, MANAGE_MESSAGES, HISTORY),
      roleOw(ROLE_B, ATTACH, 0n),
      roleOw(ROLE_A, 0n, REACT | ATTACH),
      everyoneOw(EMBED | HISTORY, SEND),
    ],
    // @everyone: -SEND +EMBED +HISTORY; roles: -REACT -ATTACH then +ATTACH; member: -HISTORY +MANAGE_MESSAGES.
    // SEND is gone, so EMBED and ATTACH go too.
    expected: VIEW | MANAGE_MESSAGES,
  },

  // --- allow and deny in one overwrite ---------------------------------------------------
  {
    name: 'allow and deny of the same bit in the @everyone overwrite: allow wins',
    setup: { everyone: VIEW },
    member: member(),
    overwrites: [everyoneOw(SEND, SEND)],
    expected: VIEW | SEND,
  },
  {
    name: 'allow and deny of the same bit in a role overwrite: allow wins',
    setup: { everyone: VIEW | SEND },
    member: member(ROLE_B),
    overwrites: [roleOw(ROLE_B, REACT, REACT | SEND)],
    expected: VIEW | REACT,
  },
  {
    name: 'allow and deny of the same bit in the member overwrite: allow wins',
    setup: { everyone: VIEW },
    member: member(ROLE_A),
    overwrites: [roleOw(ROLE_A, 0n, VIEW), memberOw(USER_ID, VIEW, VIEW)],
    expected: VIEW,
  },

  // --- implicit permissions --------------------------------------------------------------
  {
    name: 'no VIEW_CHANNEL strips everything even if other bits are allowed',
    setup: { everyone: SEND | HISTORY },
    member: member(ROLE_A),
    overwrites: [everyoneOw(ATTACH, 0n), roleOw(ROLE_A, MANAGE_MESSAGES | SEND, 0n), memberOw(USER_ID, EMBED, 0n)],
    base: SEND | HISTORY,
    expected: 0n,
  },
  {
    name: 'no VIEW_CHANNEL at guild level and no overwrites: nothing',
    setup: { everyone: SEND | MANAGE_GUILD | KICK },
    member: member(),
    overwrites: [],
    base: SEND | MANAGE_GUILD | KICK,
    expected: 0n,
  },
  {
    name: 'SEND_MESSAGES denied strips MENTION_EVERYONE, TTS, ATTACH_FILES, EMBED_LINKS but keeps READ_MESSAGE_HISTORY',
    setup: { everyone: VIEW | SEND | NEEDS_SEND | HISTORY | REACT },
    member: member(),
    overwrites: [everyoneOw(0n, SEND)],
    expected: VIEW | HISTORY | REACT,
    present: [HISTORY],
    absent: [SEND, MENTION_EVERYONE, ATTACH, EMBED, TTS],
  },
  {
    name: 'without SEND_MESSAGES, allowing the dependent bits does not help',
    setup: { everyone: VIEW },
    member: member(ROLE_A),
    overwrites: [roleOw(ROLE_A, NEEDS_SEND | HISTORY, 0n), memberOw(USER_ID, ATTACH, 0n)],
    expected: VIEW | HISTORY,
  },
  {
    name: 'with SEND_MESSAGES the dependent bits are kept',
    setup: { everyone: VIEW | SEND | NEEDS_SEND },
    member: member(),
    overwrites: [],
    expected: VIEW | SEND | NEEDS_SEND,
    present: [MENTION_EVERYONE, ATTACH, EMBED, TTS],
  },

  // --- odd bits, empty lists -------------------------------------------------------------
  {
    name: 'bits above the defined flags allowed by overwrites are dropped',
    setup: { everyone: VIEW },
    member: member(ROLE_A),
    overwrites: [everyoneOw(1n << 55n, 0n), roleOw(ROLE_A, (1n << 62n) | (1n << 47n), 0n)],
    expected: VIEW,
    absent: [1n << 55n, 1n << 62n, 1n << 47n],
  },
  {
    name: 'empty overwrite list: channel permissions are the base permissions',
    setup: { everyone: VIEW | SEND | HISTORY, b: MANAGE_MESSAGES | KICK },
    member: member(ROLE_B),
    overwrites: [],
    base: VIEW | SEND | HISTORY | MANAGE_MESSAGES | KICK,
    expected: VIEW | SEND | HISTORY | MANAGE_MESSAGES | KICK,
  },
];

describe('computePermissions (table)', () => {
  it('has at least 30 cases', () => {
    assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  });

  for (const c of cases) {
    it(c.name, () => {
      assert.ok(
        c.base !== undefined || c.expected !== undefined || c.present !== undefined || c.absent !== undefined,
        'case checks nothing',
      );
      const roles = rolesOf(c.setup);
      const base = computeBasePermissions(guild, c.member, roles);
      if (c.base !== undefined) {
        assert.equal(base, c.base, `base: got ${names(base)}, want ${names(c.base)}`);
      }
      const perms = computeChannelPermissions(base, guild, c.member, c.overwrites);
      if (c.expected !== undefined) {
        assert.equal(perms, c.expected, `channel: got ${names(perms)}, want ${names(c.expected)}`);
      }
      for (const flag of c.present ?? []) {
        assert.ok(has(perms, flag), `expected ${names(flag)} in ${names(perms)}`);
      }
      for (const flag of c.absent ?? []) {
        assert.ok(!has(perms, flag), `expected no ${names(flag)} in ${names(perms)}`);
      }
      assert.equal(computePermissions(guild, c.member, roles, c.overwrites), perms, 'computePermissions differs');
    });
  }
});

// ---------------------------------------------------------------------------------------
// Differential check against a direct transcription of Discord's documented pseudocode
// (plus this lib's documented additions: type-matched overwrites, implicit rules, masks).

function referencePermissions(
  g: GuildInfo,
  m: MemberInfo,
  roles: ReadonlyMap<bigint, RoleInfo>,
  overwrites: readonly Overwrite[],
): bigint {
  if (m.userId === g.ownerId) return ALL_PERMISSIONS;
  let base = roles.get(g.id)?.permissions ?? 0n;
  for (const id of m.roleIds) base |= roles.get(id)?.permissions ?? 0n;
  if ((base & ADMIN) === ADMIN) return ALL_PERMISSIONS;

  const roleOverwrites = new Map<bigint, Overwrite>();
  const memberOverwrites = new Map<bigint, Overwrite>();
  for (const o of overwrites) (o.type === 0 ? roleOverwrites : memberOverwrites).set(o.id, o);

  let perms = base;
  const everyone = roleOverwrites.get(g.id);
  if (everyone) {
    perms &= ~everyone.deny;
    perms |= everyone.allow;
  }
  let allow = 0n;
  let deny = 0n;
  for (const id of new Set(m.roleIds)) {
    if (id === g.id) continue;
    const o = roleOverwrites.get(id);
    if (o) {
      allow |= o.allow;
      deny |= o.deny;
    }
  }
  perms &= ~deny;
  perms |= allow;
  const own = memberOverwrites.get(m.userId);
  if (own) {
    perms &= ~own.deny;
    perms |= own.allow;
  }
  perms &= ALL_PERMISSIONS & ~ADMIN;
  if ((perms & VIEW) !== VIEW) return 0n;
  if ((perms & SEND) !== SEND) perms &= ~NEEDS_SEND;
  return perms;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('computePermissions (randomized, against the documented algorithm)', () => {
  it('agrees on 5000 random guilds', () => {
    const rand = prng(0xc0ffee);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)];
    // A small pool of interesting bits makes collisions between levels likely.
    const pool = [VIEW, SEND, ATTACH, EMBED, MENTION_EVERYONE, HISTORY, REACT, MANAGE_MESSAGES, 1n << 60n];
    const bits = (density: number): bigint => {
      let v = 0n;
      for (const b of pool) if (rand() < density) v |= b;
      if (rand() < 0.03) v |= ADMIN;
      return v;
    };
    const roleIds = [GUILD_ID, ROLE_A, ROLE_B, ROLE_C, UNKNOWN_ROLE];
    for (let i = 0; i < 5000; i++) {
      const roles = rolesOf({ everyone: rand() < 0.9 ? bits(0.4) : null, a: bits(0.2), b: bits(0.2), c: bits(0.2) });
      const m: MemberInfo = {
        userId: rand() < 0.03 ? OWNER_ID : USER_ID,
        roleIds: roleIds.filter(() => rand() < 0.4),
      };
      const overwrites: Overwrite[] = [];
      const count = Math.floor(rand() * 6);
      for (let k = 0; k < count; k++) {
        const type = rand() < 0.7 ? OverwriteType.Role : OverwriteType.Member;
        const id = type === OverwriteType.Role ? pick(roleIds) : pick([USER_ID, OTHER_USER_ID, ROLE_A]);
        if (overwrites.some((o) => o.id === id && o.type === type)) continue; // Discord keeps one per target
        overwrites.push({ id, type, allow: bits(0.2), deny: bits(0.3) });
      }
      const got = computePermissions(guild, m, roles, overwrites);
      const want = referencePermissions(guild, m, roles, overwrites);
      if (got !== want) {
        assert.fail(
          `case ${i}: got ${names(got)}, want ${names(want)}\n` +
            `member ${m.userId} roles [${m.roleIds.join(', ')}]\n` +
            `overwrites ${overwrites.map((o) => `${o.type}:${o.id} +${names(o.allow)} -${names(o.deny)}`).join('; ')}`,
        );
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('flags', () => {
  it('re-exports the Discord flag values', () => {
    assert.equal(Permission.ViewChannel, 1n << 10n);
    assert.equal(Permission.SendMessages, 0x800n);
    assert.equal(Permission.Administrator, 8n);
    assert.equal(Permission.ManageRoles, 1n << 28n);
  });

  it('ALL_PERMISSIONS holds every defined flag and nothing else', () => {
    let union = 0n;
    for (const [name, flag] of Object.entries(Permission)) {
      assert.ok(has(ALL_PERMISSIONS, flag), `${name} missing from ALL_PERMISSIONS`);
      union |= flag;
    }
    assert.equal(ALL_PERMISSIONS & ~union, 0n);
    assert.equal(ALL_PERMISSIONS & (1n << 63n), 0n);
    assert.ok(ALL_PERMISSIONS > (1n << 46n), 'expected the flags up to at least SEND_VOICE_MESSAGES');
  });

  it('has() requires every bit of a combined flag', () => {
    assert.equal(has(VIEW | SEND, VIEW), true);
    assert.equal(has(VIEW | SEND, VIEW | SEND), true);
    assert.equal(has(VIEW, VIEW | SEND), false);
    assert.equal(has(0n, VIEW), false);
    assert.equal(has(SEND, VIEW), false);
  });
});

describe('parsePermissions / serializePermissions', () => {
  it('parses decimal strings as Discord sends them', () => {
    assert.equal(parsePermissions('0'), 0n);
    assert.equal(parsePermissions('2112'), REACT | SEND);
    assert.equal(parsePermissions('66321471'), 66321471n);
    assert.equal(parsePermissions('007'), 7n);
    assert.equal(parsePermissions('18446744073709551615'), MAX_PERMISSIONS_VALUE);
    assert.equal(parsePermissions('000000000000000000000000001'), 1n);
  });

  it('keeps bits no flag defines (it is a codec, not a filter)', () => {
    assert.equal(parsePermissions(((1n << 63n) | VIEW).toString()), (1n << 63n) | VIEW);
  });

  it('round-trips', () => {
    for (const v of [0n, 1n, VIEW | SEND, ALL_PERMISSIONS, MAX_PERMISSIONS_VALUE]) {
      assert.equal(parsePermissions(serializePermissions(v)), v);
    }
    assert.equal(serializePermissions(REACT | SEND), '2112');
  });

  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['-1', /negative/],
    ['-2112', /negative/],
    ['1.5', /decimal digits/],
    ['1e3', /decimal digits/],
    [' 12', /decimal digits/],
    ['12 ', /decimal digits/],
    ['+12', /decimal digits/],
    ['0x10', /decimal digits/],
    ['abc', /decimal digits/],
    ['١٢', /decimal digits/], // Arabic-Indic digits
    ['18446744073709551616', /exceeds 64 bits/],
    ['99999999999999999999', /exceeds 64 bits/],
    ['1'.repeat(5000), /exceeds 64 bits/],
  ];
  for (const [input, message] of bad) {
    it(`rejects ${JSON.stringify(input.length > 24 ? input.slice(0, 24) + '…' : input)}`, () => {
      assert.throws(
        () => parsePermissions(input),
        (err: unknown) => err instanceof InvalidPermissionsError && message.test(err.message),
      );
    });
  }

  it('rejects non-strings, hinting at numbers', () => {
    assert.throws(
      () => parsePermissions(2112 as unknown as string),
      (err: unknown) => err instanceof InvalidPermissionsError && /as strings/.test(err.message),
    );
    assert.throws(() => parsePermissions(undefined as unknown as string), InvalidPermissionsError);
  });

  it('serialize rejects negative, too large and non-bigint values', () => {
    assert.throws(
      () => serializePermissions(-1n),
      (err: unknown) => err instanceof InvalidPermissionsError && /negative/.test(err.message),
    );
    assert.throws(
      () => serializePermissions(1n << 64n),
      (err: unknown) => err instanceof InvalidPermissionsError && /exceeds 64 bits/.test(err.message),
    );
    assert.throws(() => serializePermissions(8 as unknown as bigint), InvalidPermissionsError);
  });
});

// ---------------------------------------------------------------------------------------

describe('role hierarchy', () => {
  const roles = rolesOf({ everyone: VIEW, a: ADMIN, b: MANAGE_GUILD, c: 0n });

  it('highestRolePosition is the greatest position among the member roles', () => {
    assert.equal(highestRolePosition(member(ROLE_C, ROLE_A), roles), 3);
    assert.equal(highestRolePosition(member(ROLE_A, ROLE_B), roles), 2);
    assert.equal(highestRolePosition(member(ROLE_A), roles), 1);
  });

  it('highestRolePosition is 0 (@everyone) without roles, and skips unknown roles', () => {
    assert.equal(highestRolePosition(member(), roles), 0);
    assert.equal(highestRolePosition(member(UNKNOWN_ROLE), roles), 0);
    assert.equal(highestRolePosition(member(GUILD_ID), roles), 0);
    assert.equal(highestRolePosition(member(UNKNOWN_ROLE, ROLE_B), roles), 2);
  });

  const hierarchy: Array<{ name: string; actor: MemberInfo; target: number; want: boolean }> = [
    { name: 'owner with no roles can manage the highest role', actor: { userId: OWNER_ID, roleIds: [] }, target: 3, want: true },
    { name: 'owner can manage a role above every existing one', actor: { userId: OWNER_ID, roleIds: [] }, target: 1000, want: true },
    { name: 'higher role can manage a lower one', actor: member(ROLE_C), target: 2, want: true },
    { name: 'equal position cannot', actor: member(ROLE_B), target: 2, want: false },
    { name: 'lower position cannot', actor: member(ROLE_A), target: 2, want: false },
    { name: 'the highest of several roles counts', actor: member(ROLE_A, ROLE_C), target: 2, want: true },
    { name: 'ADMINISTRATOR does not bypass the hierarchy', actor: member(ROLE_A), target: 2, want: false },
    { name: 'a member with a role can manage @everyone (position 0)', actor: member(ROLE_A), target: 0, want: true },
    { name: 'a member without roles cannot manage @everyone (position 0)', actor: member(), target: 0, want: false },
    { name: 'unknown roles give no rank', actor: member(UNKNOWN_ROLE), target: 0, want: false },
  ];
  for (const h of hierarchy) {
    it(`canManageRole: ${h.name}`, () => {
      assert.equal(canManageRole(h.actor, h.target, guild, roles), h.want);
    });
  }

  it('the ADMINISTRATOR role really is an administrator, yet outranked', () => {
    // Guards the hierarchy case above: role A must grant ALL for that case to mean anything.
    assert.equal(computeBasePermissions(guild, member(ROLE_A), roles), ALL_PERMISSIONS);
    assert.equal(canManageRole(member(ROLE_A), 2, guild, roles), false);
  });
});
