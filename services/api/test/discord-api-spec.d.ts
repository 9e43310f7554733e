// discord-api-spec ships its Zod schemas as plain JavaScript (the "types" of its ./zod export
// point at the .js file), so TypeScript sees no declarations: these are the schemas the
// tests use, typed as what they are, Zod Mini schemas.
declare module "discord-api-spec/zod" {
  import type { ZodMiniType } from "zod/mini";
  export const UserResponseSchema: ZodMiniType;
  export const ApplicationCommandResponseSchema: ZodMiniType;
  export const UserPIIResponseSchema: ZodMiniType;
  export const ErrorResponseSchema: ZodMiniType;
  export const ErrorSchema: ZodMiniType;
  export const GuildWithCountsResponseSchema: ZodMiniType;
  export const GuildResponseSchema: ZodMiniType;
  export const EmojiResponseSchema: ZodMiniType;
  export const MyGuildResponseSchema: ZodMiniType;
  export const GuildRoleResponseSchema: ZodMiniType;
  export const GuildMemberResponseSchema: ZodMiniType;
  export const PrivateGuildMemberResponseSchema: ZodMiniType;
  export const GuildBanResponseSchema: ZodMiniType;
  export const GuildChannelResponseSchema: ZodMiniType;
  export const PrivateChannelResponseSchema: ZodMiniType;
  export const PrivateGroupChannelResponseSchema: ZodMiniType;
  export const GuildInviteResponseSchema: ZodMiniType;
}
declare module "discord-api-spec/zod" {
  export const ApplicationResponseSchema: import("zod/mini").ZodMiniType;
  export const PrivateApplicationResponseSchema: import("zod/mini").ZodMiniType;
}
declare module "discord-api-spec/zod" {
  export const MessageResponseSchema: import("zod/mini").ZodMiniType;
  export const PinnedMessagesResponseSchema: import("zod/mini").ZodMiniType;
  export const MessageReactionResponseSchema: import("zod/mini").ZodMiniType;
}
declare module "discord-api-spec/zod" {
  export const MessageAttachmentResponseSchema: import("zod/mini").ZodMiniType;
}
declare module "discord-api-spec/zod" {
  export const GuildIncomingWebhookResponseSchema: import("zod/mini").ZodMiniType;
}
