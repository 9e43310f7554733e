import { Code, ConnectError } from "@connectrpc/connect";
import type { ApplicationCommand, ApplicationCommandOption } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { InvalidFieldsError, fieldError } from "../accounts/account-errors.js";

/**
 * The checks of a command invocation against the stored command: the command exists for the
 * application in this guild (or globally), the name and type match, and each option is one
 * of the command's, of its type, within its choices, min/max and lengths, with every required
 * one present. Each refusal is a 50035 naming the field (data.id, data.options.0.value...).
 */

/** Where commands are read (CommandStorageService). */
export interface CommandSource {
  get(applicationId: bigint, commandId: bigint): Promise<ApplicationCommand | undefined>;
}

const OptionType = { SubCommand: 1, SubCommandGroup: 2, String: 3, Integer: 4, Boolean: 5, User: 6, Channel: 7, Role: 8, Mentionable: 9, Number: 10, Attachment: 11 } as const;

const bad = (path: string, code: string, message: string) => new InvalidFieldsError([fieldError(path, code, message)]);

type Json = Record<string, unknown>;

function checkValue(option: ApplicationCommandOption, given: Json, path: string, autocomplete: boolean): void {
  const value = given.value;
  // A focused option (autocomplete) may hold a partial value: only its type is checked.
  const partial = autocomplete && given.focused === true;
  switch (option.type) {
    case OptionType.String: {
      if (typeof value !== "string") throw bad(`${path}.value`, "BASE_TYPE_STRING", "Must be a string.");
      if (partial) return;
      const length = [...value].length;
      if (option.minLength !== undefined && length < option.minLength) throw bad(`${path}.value`, "BASE_TYPE_MIN_LENGTH", `Must be ${option.minLength} or more in length.`);
      if (option.maxLength !== undefined && length > option.maxLength) throw bad(`${path}.value`, "BASE_TYPE_MAX_LENGTH", `Must be ${option.maxLength} or fewer in length.`);
      break;
    }
    case OptionType.Integer:
    case OptionType.Number: {
      if (partial && typeof value === "string") return;
      if (typeof value !== "number" || (option.type === OptionType.Integer && !Number.isInteger(value))) {
        throw bad(`${path}.value`, option.type === OptionType.Integer ? "NUMBER_TYPE_COERCE" : "NUMBER_TYPE_COERCE", `Value "${String(value)}" is not ${option.type === OptionType.Integer ? "int" : "a number"}.`);
      }
      if (partial) return;
      if (option.minValue !== undefined && value < option.minValue) throw bad(`${path}.value`, "NUMBER_TYPE_MIN", `Must be greater than or equal to ${option.minValue}.`);
      if (option.maxValue !== undefined && value > option.maxValue) throw bad(`${path}.value`, "NUMBER_TYPE_MAX", `Must be less than or equal to ${option.maxValue}.`);
      break;
    }
    case OptionType.Boolean:
      if (typeof value !== "boolean") throw bad(`${path}.value`, "BASE_TYPE_BOOLEAN", "Must be a boolean.");
      return;
    case OptionType.User:
    case OptionType.Channel:
    case OptionType.Role:
    case OptionType.Mentionable:
    case OptionType.Attachment:
      if (typeof value !== "string" || !/^\d{1,20}$/.test(value)) throw bad(`${path}.value`, "NUMBER_TYPE_COERCE", "Must be a snowflake.");
      return;
  }
  if (option.choices.length > 0 && !partial) {
    const allowed = option.choices.map((c) => c.value.value);
    if (!allowed.includes(value as string | number)) throw bad(`${path}.value`, "BASE_TYPE_CHOICES", `Value must be one of ${JSON.stringify(allowed)}.`);
  }
}

function checkOptions(declared: readonly ApplicationCommandOption[], given: unknown, path: string, autocomplete: boolean): void {
  if (given !== undefined && !Array.isArray(given)) throw bad(path, "BASE_TYPE_ARRAY", "Must be an array.");
  const list = (given ?? []) as unknown[];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    const at = `${path}.${i}`;
    if (typeof item !== "object" || item === null) throw bad(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    const option = item as Json;
    const spec = declared.find((d) => d.name === option.name);
    if (!spec) throw bad(`${at}.name`, "APPLICATION_COMMAND_OPTION_UNKNOWN", `The command has no option "${String(option.name)}".`);
    if (seen.has(spec.name)) throw bad(`${at}.name`, "APPLICATION_COMMAND_OPTION_DUPLICATE", `"${spec.name}" is given twice.`);
    seen.add(spec.name);
    if (option.type !== spec.type) throw bad(`${at}.type`, "APPLICATION_COMMAND_OPTION_TYPE_INVALID", `"${spec.name}" is of type ${spec.type}.`);
    if (option.focused !== undefined && !autocomplete) throw bad(`${at}.focused`, "BASE_TYPE_INVALID", "Only autocomplete interactions focus an option.");
    if (spec.type === OptionType.SubCommand || spec.type === OptionType.SubCommandGroup) checkOptions(spec.options, option.options, `${at}.options`, autocomplete);
    else checkValue(spec, option, at, autocomplete);
  });
  if (list.some((o) => (o as Json).type === OptionType.SubCommand || (o as Json).type === OptionType.SubCommandGroup)) return;
  if (!autocomplete) {
    const missing = declared.find((d) => d.required && !seen.has(d.name));
    if (missing) throw bad(path, "APPLICATION_COMMAND_OPTION_REQUIRED", `The option "${missing.name}" is required.`);
  }
}

/** The invocation's `data` as the application gets it, once checked against the stored command. */
export async function checkCommandInvocation(
  source: CommandSource,
  applicationId: bigint,
  guildId: bigint,
  data: Json,
  autocomplete: boolean,
): Promise<{ data: Json; requiredPermissions?: bigint }> {
  const id = typeof data.id === "string" && /^\d{1,20}$/.test(data.id) ? BigInt(data.id) : undefined;
  if (id === undefined) throw bad("data.id", "NUMBER_TYPE_COERCE", "Must be a snowflake.");
  const command = await source.get(applicationId, id);
  if (!command || (command.guildId !== 0n && command.guildId !== guildId)) throw bad("data.id", "APPLICATION_COMMAND_UNKNOWN", "Unknown application command.");
  if (data.name !== command.name) throw bad("data.name", "APPLICATION_COMMAND_NAME_MISMATCH", `The command is named "${command.name}".`);
  const type = data.type ?? 1;
  if (type !== command.type) throw bad("data.type", "APPLICATION_COMMAND_TYPE_INVALID", `The command is of type ${command.type}.`);
  checkOptions(command.options, data.options, "data.options", autocomplete);
  // Who may use it is the owner's to check (it knows the person's permissions in the channel).
  const required = command.defaultMemberPermissions;
  return {
    data: { ...data, type, ...(command.guildId !== 0n ? { guild_id: String(command.guildId) } : {}) },
    ...(required !== undefined && /^\d{1,20}$/.test(required) ? { requiredPermissions: BigInt(required) } : {}),
  };
}

/** A CommandSource over storage's CommandStorageService. */
export function storedCommands(get: (applicationId: bigint, commandId: bigint) => Promise<ApplicationCommand | undefined>): CommandSource {
  return {
    get: async (applicationId, commandId) => {
      try {
        return await get(applicationId, commandId);
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.NotFound) return undefined;
        throw err;
      }
    },
  };
}
