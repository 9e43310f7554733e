import { z } from "zod";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ApplicationCommandOptionType, ApplicationCommandType, ChannelType, Locale } from "discord-api-types/v10";
import type { ApplicationCommandSchema, ApplicationCommandOptionSchema } from "@chorus/contracts/chorus/chat/v1/application_command_pb";
import { badLength, discordIssue, lengthBetween, validate } from "../accounts/account-rules.js";

/**
 * The rules of application commands as Discord applies them (names, descriptions, options,
 * choices, limits), shared by the Discord edge and the Connect API. Every refusal names the
 * field path (`options.1.choices.0.name`) with a Discord form error code.
 */

export const COMMAND_NAME_LENGTH = { min: 1, max: 32 } as const;
export const COMMAND_DESCRIPTION_LENGTH = { min: 1, max: 100 } as const;
export const CHOICE_NAME_LENGTH = { min: 1, max: 100 } as const;
export const MAX_OPTIONS = 25;
export const MAX_CHOICES = 25;
export const MAX_CHOICE_STRING_LENGTH = 100;
export const MAX_STRING_OPTION_LENGTH = 6000;
/** Discord's limit on the characters of all names, descriptions and choice values of a command. */
export const MAX_COMMAND_CHARACTERS = 8000;
/** INTEGER and NUMBER values stay within ±2^53 (exact in a double and in JavaScript). */
const MAX_SAFE = 2 ** 53;

/** CHAT_INPUT command and option names, as Discord documents them (plus: lowercase). */
const CHAT_INPUT_NAME = /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

const COMMAND_TYPES = [ApplicationCommandType.ChatInput, ApplicationCommandType.User, ApplicationCommandType.Message] as const;
const LOCALES = new Set<string>(Object.values(Locale));
const CHANNEL_TYPES = new Set<number>(Object.values(ChannelType).filter((v): v is number => typeof v === "number"));
const { Subcommand, SubcommandGroup, String: StringOption, Integer, Number: NumberOption, Channel } = ApplicationCommandOptionType;
const WITH_CHOICES = new Set<number>([StringOption, Integer, NumberOption]);

/** The fields an edit (Discord's PATCH, the Connect update mask) may change; type and id never change. */
export const EDITABLE_COMMAND_FIELDS: ReadonlySet<string> = new Set([
  "name",
  "name_localizations",
  "description",
  "description_localizations",
  "options",
  "default_member_permissions",
  "dm_permission",
  "contexts",
  "integration_types",
  "nsfw",
]);

export type CommandInit = MessageInitShape<typeof ApplicationCommandSchema>;
type OptionInit = MessageInitShape<typeof ApplicationCommandOptionSchema>;

const isChatInputName = (name: string) => CHAT_INPUT_NAME.test(name) && name === name.toLowerCase();
const invalidName = () => discordIssue("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");

/** Localized values: keys Discord's locales, each value with the same rules as the field. */
function localizations(check: (value: string, ctx: z.RefinementCtx, path: (string | number)[]) => void) {
  return z
    .record(z.string(), z.string())
    .superRefine((map, ctx) => {
      for (const [locale, value] of Object.entries(map)) {
        if (!LOCALES.has(locale)) ctx.addIssue({ ...discordIssue("LOCALE_INVALID", `"${locale}" is not a valid locale.`), path: [locale] });
        else check(value, ctx, [locale]);
      }
    })
    .nullish();
}

const lengthCheck = (bounds: { min: number; max: number }) => (value: string, ctx: z.RefinementCtx, path: (string | number)[]) => {
  if (!lengthBetween(value, bounds)) ctx.addIssue({ ...badLength(bounds), path });
};

const optionNameCheck = (value: string, ctx: z.RefinementCtx, path: (string | number)[]) => {
  if (!lengthBetween(value, COMMAND_NAME_LENGTH)) ctx.addIssue({ ...badLength(COMMAND_NAME_LENGTH), path });
  else if (!isChatInputName(value)) ctx.addIssue({ ...invalidName(), path });
};

const optionName = z.string().superRefine((value, ctx) => optionNameCheck(value, ctx, []));
const description = z.string().superRefine((value, ctx) => lengthCheck(COMMAND_DESCRIPTION_LENGTH)(value, ctx, []));

const choiceSchema = z.object({
  name: z.string().superRefine((value, ctx) => lengthCheck(CHOICE_NAME_LENGTH)(value, ctx, [])),
  name_localizations: localizations(lengthCheck(CHOICE_NAME_LENGTH)),
  // Checked against the option's type in checkOption; here only present and a string or number.
  value: z.unknown().superRefine((value, ctx) => {
    if (value === undefined) ctx.addIssue(discordIssue("BASE_TYPE_REQUIRED", "This field is required"));
    else if (typeof value !== "string" && typeof value !== "number") ctx.addIssue(discordIssue("BASE_TYPE_INVALID", "Must be a string or a number."));
  }) as z.ZodType<string | number>,
});

const lengthBound = z
  .number()
  .int()
  .superRefine((value, ctx) => {
    if (value < 0 || value > MAX_STRING_OPTION_LENGTH) {
      ctx.addIssue(discordIssue("NUMBER_TYPE_MAX", `int value should be between 0 and ${MAX_STRING_OPTION_LENGTH}.`));
    }
  });

const valueBound = z.number().superRefine((value, ctx) => {
  if (Math.abs(value) > MAX_SAFE) ctx.addIssue(discordIssue("NUMBER_TYPE_MAX", `Value should be between -${MAX_SAFE} and ${MAX_SAFE}.`));
});

interface OptionInput {
  type: number;
  name: string;
  name_localizations?: Record<string, string> | null;
  description: string;
  description_localizations?: Record<string, string> | null;
  required?: boolean | null;
  choices?: z.infer<typeof choiceSchema>[] | null;
  options?: OptionInput[] | null;
  channel_types?: number[] | null;
  min_value?: number | null;
  max_value?: number | null;
  min_length?: number | null;
  max_length?: number | null;
  autocomplete?: boolean | null;
}

const optionSchema: z.ZodType<OptionInput> = z.lazy(() =>
  z.object({
    type: z
      .number()
      .int()
      .superRefine((value, ctx) => {
        if (!(value in ApplicationCommandOptionType)) ctx.addIssue(discordIssue("BASE_TYPE_CHOICES", `Value must be one of {${Object.values(ApplicationCommandOptionType).filter((v) => typeof v === "number").join(", ")}}.`));
      }),
    name: optionName,
    name_localizations: localizations(optionNameCheck),
    description,
    description_localizations: localizations(lengthCheck(COMMAND_DESCRIPTION_LENGTH)),
    required: z.boolean().nullish(),
    choices: z.array(choiceSchema).nullish(),
    options: z.array(optionSchema).nullish(),
    channel_types: z.array(z.number().int()).nullish(),
    min_value: valueBound.nullish(),
    max_value: valueBound.nullish(),
    min_length: lengthBound.nullish(),
    max_length: lengthBound.nullish(),
    autocomplete: z.boolean().nullish(),
  }),
);

/** The request body of a command (POST, and each element of PUT; PATCH after merging). */
export const commandBodySchema = z
  .object({
    id: z.union([z.string(), z.number()]).nullish(),
    type: z
      .number()
      .int()
      .superRefine((value, ctx) => {
        if (!(COMMAND_TYPES as readonly number[]).includes(value)) ctx.addIssue(discordIssue("BASE_TYPE_CHOICES", `Value must be one of {${COMMAND_TYPES.join(", ")}}.`));
      })
      .nullish(),
    name: z.string(),
    name_localizations: z.record(z.string(), z.string()).nullish(),
    description: z.string().nullish(),
    description_localizations: z.record(z.string(), z.string()).nullish(),
    options: z.array(optionSchema).nullish(),
    default_member_permissions: z.union([z.string(), z.number()]).nullish(),
    dm_permission: z.boolean().nullish(),
    contexts: z.array(z.number().int()).nullish(),
    integration_types: z.array(z.number().int()).nullish(),
    nsfw: z.boolean().nullish(),
  })
  .superRefine((body, ctx) => checkCommand(body, ctx));

export type CommandBody = z.infer<typeof commandBodySchema>;

type Issue = (path: (string | number)[], code: string, message: string) => void;

function checkCommand(body: CommandBody, ctx: z.RefinementCtx): void {
  const issue: Issue = (path, code, message) => ctx.addIssue({ ...discordIssue(code, message), path });
  const type = body.type ?? ApplicationCommandType.ChatInput;
  // An unknown type is reported on its own: the other rules depend on it.
  if (!(COMMAND_TYPES as readonly number[]).includes(type)) return;
  const chatInput = type === ApplicationCommandType.ChatInput;
  const nameCheck = (value: string, path: (string | number)[]) => {
    if (!lengthBetween(value, COMMAND_NAME_LENGTH)) issue(path, "BASE_TYPE_BAD_LENGTH", `Must be between ${COMMAND_NAME_LENGTH.min} and ${COMMAND_NAME_LENGTH.max} in length.`);
    else if (chatInput && !isChatInputName(value)) issue(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
  };
  nameCheck(body.name, ["name"]);
  for (const [locale, value] of Object.entries(body.name_localizations ?? {})) {
    if (!LOCALES.has(locale)) issue(["name_localizations", locale], "LOCALE_INVALID", `"${locale}" is not a valid locale.`);
    else nameCheck(value, ["name_localizations", locale]);
  }
  const descriptions = Object.entries(body.description_localizations ?? {});
  if (chatInput) {
    if (!lengthBetween(body.description ?? "", COMMAND_DESCRIPTION_LENGTH)) issue(["description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    for (const [locale, value] of descriptions) {
      if (!LOCALES.has(locale)) issue(["description_localizations", locale], "LOCALE_INVALID", `"${locale}" is not a valid locale.`);
      else if (!lengthBetween(value, COMMAND_DESCRIPTION_LENGTH)) issue(["description_localizations", locale], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    }
    checkOptions(body.options ?? [], ["options"], "command", issue);
  } else {
    // Context menu commands (USER, MESSAGE) carry neither a description nor options.
    if ((body.description ?? "") !== "") issue(["description"], "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have a description.");
    if (descriptions.length > 0) issue(["description_localizations"], "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION", "Context menu commands cannot have a description.");
    if ((body.options ?? []).length > 0) issue(["options"], "APPLICATION_COMMAND_CONTEXT_MENU_OPTIONS", "Context menu commands cannot have options.");
  }
  if (body.default_member_permissions !== undefined && body.default_member_permissions !== null) {
    const value = body.default_member_permissions;
    const text = typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
    if (typeof text !== "string" || !/^\d{1,20}$/.test(text) || BigInt(text) >= 1n << 64n) {
      issue(["default_member_permissions"], "NUMBER_TYPE_COERCE", `Value "${String(value)}" is not snowflake.`);
    }
  }
  checkEnumList(body.contexts, ["contexts"], [0, 1, 2], issue);
  checkEnumList(body.integration_types, ["integration_types"], [0, 1], issue);
  if (body.id !== undefined && body.id !== null && !/^\d{1,20}$/.test(String(body.id))) issue(["id"], "NUMBER_TYPE_COERCE", `Value "${String(body.id)}" is not snowflake.`);
  if (commandCharacters(body) > MAX_COMMAND_CHARACTERS) {
    issue([], "APPLICATION_COMMAND_TOO_LARGE", `Command exceeds maximum size (${MAX_COMMAND_CHARACTERS})`);
  }
}

function checkEnumList(values: readonly number[] | null | undefined, path: string[], allowed: readonly number[], issue: Issue): void {
  if (values === null || values === undefined) return;
  if (values.length === 0) issue(path, "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.");
  values.forEach((v, i) => {
    if (!allowed.includes(v)) issue([...path, i], "BASE_TYPE_CHOICES", `Value must be one of {${allowed.join(", ")}}.`);
  });
}

/** Where a level of options sits: on the command, in a subcommand group, or in a subcommand. */
type Parent = "command" | "group" | "subcommand";

function checkOptions(options: readonly OptionInput[], path: (string | number)[], parent: Parent, issue: Issue): void {
  if (options.length > MAX_OPTIONS) issue(path, "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_OPTIONS} or fewer in length.`);
  const names = new Set<string>();
  let optionalSeen = false;
  const nestedCount = options.filter((o) => o.type === Subcommand || o.type === SubcommandGroup).length;
  options.forEach((option, i) => {
    const at = [...path, i];
    if (names.has(option.name)) issue([...at, "name"], "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique");
    names.add(option.name);
    const nested = option.type === Subcommand || option.type === SubcommandGroup;
    if (parent === "group" && option.type !== Subcommand) {
      issue([...at, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "A sub-command group holds only sub-commands");
    } else if (parent === "subcommand" && nested) {
      issue([...at, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-commands and groups cannot be nested in a sub-command");
    } else if (parent === "command" && nested && nestedCount !== options.length) {
      // A level holds subcommands (and groups) or plain options, never both.
      issue([...at, "type"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Sub-command and sub-command group option types are mutually exclusive to all other types");
    }
    if (nested) {
      if (option.required) issue([...at, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Sub-commands and groups cannot be required");
      checkOptions(option.options ?? [], [...at, "options"], option.type === SubcommandGroup ? "group" : "subcommand", issue);
    } else {
      if (option.required) {
        if (optionalSeen) issue([...at, "required"], "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID", "Required options must be placed before non-required options");
      } else optionalSeen = true;
      if ((option.options ?? []).length > 0) issue([...at, "options"], "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Only sub-commands and groups have options");
    }
    checkOption(option, at, issue);
  });
}

function checkOption(option: OptionInput, at: (string | number)[], issue: Issue): void {
  const choices = option.choices ?? [];
  const has = (v: unknown) => v !== undefined && v !== null;
  if (choices.length > 0 && !WITH_CHOICES.has(option.type)) issue([...at, "choices"], "APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "Only STRING, INTEGER and NUMBER options have choices");
  if (choices.length > MAX_CHOICES) issue([...at, "choices"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_CHOICES} or fewer in length.`);
  if (option.autocomplete) {
    if (!WITH_CHOICES.has(option.type)) issue([...at, "autocomplete"], "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_INVALID", "Only STRING, INTEGER and NUMBER options can autocomplete");
    else if (choices.length > 0) issue([...at, "autocomplete"], "AUTOCOMPLETE_AND_CHOICES_ERROR", "Autocomplete cannot be enabled on an option with choices");
  }
  if (WITH_CHOICES.has(option.type)) {
    const choiceNames = new Set<string>();
    choices.forEach((choice, i) => {
      const valuePath = [...at, "choices", i, "value"];
      if (option.type === StringOption) {
        if (typeof choice.value !== "string") issue(valuePath, "BASE_TYPE_STRING", "Must be a string.");
        else if ([...choice.value].length > MAX_CHOICE_STRING_LENGTH) issue(valuePath, "BASE_TYPE_BAD_LENGTH", `Must be between 1 and ${MAX_CHOICE_STRING_LENGTH} in length.`);
      } else if (typeof choice.value !== "number") issue(valuePath, "NUMBER_TYPE_COERCE", `Value "${String(choice.value)}" is not ${option.type === Integer ? "int" : "a valid number"}.`);
      else if (option.type === Integer && !Number.isInteger(choice.value)) issue(valuePath, "NUMBER_TYPE_COERCE", `Value "${choice.value}" is not int.`);
      else if (Math.abs(choice.value) > MAX_SAFE) issue(valuePath, "NUMBER_TYPE_MAX", `Value should be between -${MAX_SAFE} and ${MAX_SAFE}.`);
      if (choiceNames.has(choice.name)) issue([...at, "choices", i, "name"], "APPLICATION_COMMAND_OPTION_CHOICE_NAME_ALREADY_EXISTS", "Choice names must be unique");
      choiceNames.add(choice.name);
    });
  }
  const valueBounds = has(option.min_value) || has(option.max_value);
  if (valueBounds && option.type !== Integer && option.type !== NumberOption) {
    issue([...at, has(option.min_value) ? "min_value" : "max_value"], "APPLICATION_COMMAND_OPTION_VALUE_BOUNDS_INVALID", "Only INTEGER and NUMBER options have min_value and max_value");
  } else if (valueBounds) {
    for (const key of ["min_value", "max_value"] as const) {
      const v = option[key];
      if (option.type === Integer && has(v) && !Number.isInteger(v)) issue([...at, key], "NUMBER_TYPE_COERCE", `Value "${v}" is not int.`);
    }
    if (has(option.min_value) && has(option.max_value) && option.min_value! > option.max_value!) {
      issue([...at, "min_value"], "APPLICATION_COMMAND_OPTION_MIN_MAX_INVALID", "min_value must be less than or equal to max_value");
    }
  }
  const lengthBounds = has(option.min_length) || has(option.max_length);
  if (lengthBounds && option.type !== StringOption) {
    issue([...at, has(option.min_length) ? "min_length" : "max_length"], "APPLICATION_COMMAND_OPTION_LENGTH_BOUNDS_INVALID", "Only STRING options have min_length and max_length");
  } else if (lengthBounds) {
    if (option.max_length === 0) issue([...at, "max_length"], "NUMBER_TYPE_MIN", "int value should be greater than or equal to 1.");
    if (has(option.min_length) && has(option.max_length) && option.min_length! > option.max_length!) {
      issue([...at, "min_length"], "APPLICATION_COMMAND_OPTION_MIN_MAX_INVALID", "min_length must be less than or equal to max_length");
    }
  }
  if (has(option.channel_types)) {
    if (option.type !== Channel) issue([...at, "channel_types"], "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID", "Only CHANNEL options have channel_types");
    else option.channel_types!.forEach((t, i) => {
      if (!CHANNEL_TYPES.has(t)) issue([...at, "channel_types", i], "BASE_TYPE_CHOICES", `Value must be one of {${[...CHANNEL_TYPES].join(", ")}}.`);
    });
  }
}

function commandCharacters(body: CommandBody): number {
  const count = (s: string | null | undefined) => [...(s ?? "")].length;
  const locales = (m: Record<string, string> | null | undefined) => Object.values(m ?? {}).reduce((n, v) => n + count(v), 0);
  const ofOption = (o: OptionInput): number =>
    count(o.name) +
    count(o.description) +
    locales(o.name_localizations) +
    locales(o.description_localizations) +
    (o.choices ?? []).reduce((n, c) => n + count(c.name) + locales(c.name_localizations) + count(String(c.value)), 0) +
    (o.options ?? []).reduce((n, child) => n + ofOption(child), 0);
  return count(body.name) + count(body.description) + locales(body.name_localizations) + locales(body.description_localizations) + (body.options ?? []).reduce((n, o) => n + ofOption(o), 0);
}

/** Validates a command body (InvalidFieldsError naming every bad field) and returns it. */
export function validateCommand(input: unknown): CommandBody {
  return validate(commandBodySchema, input);
}

function optionInit(option: OptionInput): OptionInit {
  return {
    type: option.type,
    name: option.name,
    nameLocalizations: option.name_localizations ?? {},
    description: option.description,
    descriptionLocalizations: option.description_localizations ?? {},
    required: option.required ?? false,
    choices: (option.choices ?? []).map((c) => ({
      name: c.name,
      nameLocalizations: c.name_localizations ?? {},
      value: typeof c.value === "string" ? { case: "stringValue" as const, value: c.value } : { case: "numberValue" as const, value: c.value },
    })),
    options: (option.options ?? []).map(optionInit),
    channelTypes: option.channel_types ?? [],
    minValue: option.min_value ?? undefined,
    maxValue: option.max_value ?? undefined,
    minLength: option.min_length ?? undefined,
    maxLength: option.max_length ?? undefined,
    autocomplete: option.autocomplete ?? false,
  };
}

/** The stored form of a validated body (without id, application, guild and version). */
export function commandInit(body: CommandBody): CommandInit {
  const chatInput = (body.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput;
  const permissions = body.default_member_permissions;
  return {
    type: body.type ?? ApplicationCommandType.ChatInput,
    name: body.name,
    nameLocalizations: body.name_localizations ?? {},
    description: chatInput ? (body.description ?? "") : "",
    descriptionLocalizations: chatInput ? (body.description_localizations ?? {}) : {},
    options: chatInput ? (body.options ?? []).map(optionInit) : [],
    defaultMemberPermissions: permissions === null || permissions === undefined ? undefined : BigInt(permissions).toString(),
    dmPermission: body.dm_permission ?? undefined,
    contexts: body.contexts ?? [],
    integrationTypes: body.integration_types ?? [],
    nsfw: body.nsfw ?? false,
  };
}
