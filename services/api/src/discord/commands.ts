import type { ApplicationCommand, ApplicationCommandOption } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import type { APIApplicationCommand, APIApplicationCommandOption } from "discord-api-types/v10";
import type { CommandBody } from "../applications/command-rules.js";

const localizations = (map: Record<string, string>) => (Object.keys(map).length > 0 ? { ...map } : null);

/** JSON without Discord's optional keys that have no value here. */
type Json = Record<string, unknown>;

function discordOption(option: ApplicationCommandOption): Json {
  const json: Json = {
    type: option.type,
    name: option.name,
    name_localizations: localizations(option.nameLocalizations),
    description: option.description,
    description_localizations: localizations(option.descriptionLocalizations),
  };
  if (option.required) json.required = true;
  if (option.choices.length > 0) {
    json.choices = option.choices.map((c) => ({ name: c.name, name_localizations: localizations(c.nameLocalizations), value: c.value.value }));
  }
  if (option.options.length > 0) json.options = option.options.map(discordOption);
  if (option.channelTypes.length > 0) json.channel_types = [...option.channelTypes];
  if (option.minValue !== undefined) json.min_value = option.minValue;
  if (option.maxValue !== undefined) json.max_value = option.maxValue;
  if (option.minLength !== undefined) json.min_length = option.minLength;
  if (option.maxLength !== undefined) json.max_length = option.maxLength;
  if (option.autocomplete) json.autocomplete = true;
  return json;
}

/** Discord's application command object. */
export function discordCommand(command: ApplicationCommand): APIApplicationCommand {
  const json: Json = {
    id: command.id.toString(),
    application_id: command.applicationId.toString(),
    version: command.version.toString(),
    default_member_permissions: command.defaultMemberPermissions ?? null,
    type: command.type,
    name: command.name,
    name_localizations: localizations(command.nameLocalizations),
    description: command.description,
    description_localizations: localizations(command.descriptionLocalizations),
    contexts: command.contexts.length > 0 ? [...command.contexts] : null,
    integration_types: command.integrationTypes.length > 0 ? [...command.integrationTypes] : [0],
    nsfw: command.nsfw,
  };
  if (command.guildId !== 0n) json.guild_id = command.guildId.toString();
  // dm_permission only means something for global commands (Discord's default: true).
  else json.dm_permission = command.dmPermission ?? true;
  if (command.options.length > 0) json.options = command.options.map(discordOption);
  return json as unknown as APIApplicationCommand;
}

/** The stored command as a request body, so a PATCH can lay its fields over it. */
export function commandBody(command: ApplicationCommand): CommandBody {
  const stored = discordCommand(command) as unknown as Json;
  const body: Json = { ...stored };
  for (const key of ["id", "application_id", "version", "guild_id"]) delete body[key];
  body.options = (stored.options as APIApplicationCommandOption[] | undefined) ?? null;
  // A global command's dm_permission is whatever was sent, not the default the answer shows.
  body.dm_permission = command.dmPermission ?? null;
  body.integration_types = command.integrationTypes.length > 0 ? [...command.integrationTypes] : null;
  return body as unknown as CommandBody;
}
