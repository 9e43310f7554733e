import type { JsonObject } from "@bufbuild/protobuf";
import { z } from "zod";
import { bool, choice, int, snowflake, text } from "../guilds/guild-rules.js";
import { boundedList, byType, compactJson, formIssue, type Path } from "./form-schemas.js";

/**
 * Message components as Discord validates them: at most 5 action rows; a row holds 1 to 5
 * buttons, or one select menu (a select is as wide as a row) and never another row; non-link
 * buttons need a custom_id and no url, link buttons a url and no custom_id; custom_id is 1 to
 * 100 characters and unique within the message; string selects have 1 to 25 options and
 * 0 ≤ min_values ≤ max_values ≤ 25, both ≤ the number of options. Every error names the path
 * of the bad field (`components.0.components.1.custom_id`).
 *
 * What comes out is what Discord stores: unknown keys dropped, select defaults filled in,
 * and every component numbered (`id`, unique in the message, given ones kept).
 */

export const COMPONENT_LIMITS = {
  rows: 5,
  rowWidth: 5,
  customId: 100,
  buttonLabel: 80,
  buttonUrl: 512,
  placeholder: 150,
  options: 25,
  optionText: 100,
  values: 25,
  defaultValues: 25,
} as const;

export const ComponentType = { ActionRow: 1, Button: 2, StringSelect: 3, UserSelect: 5, RoleSelect: 6, MentionableSelect: 7, ChannelSelect: 8 } as const;
export const ButtonStyle = { Primary: 1, Secondary: 2, Success: 3, Danger: 4, Link: 5, Premium: 6 } as const;

/** Components numbered by the client: a non-negative 32-bit integer (0 counts as none). */
const componentId = () => int(0, 2 ** 31 - 1).nullish();

const emojiSchema = z.object({
  id: snowflake().nullish(),
  name: text(0, 32).nullish(),
  animated: bool().nullish(),
});

const buttonSchema = z
  .object({
    type: z.literal(ComponentType.Button),
    id: componentId(),
    style: choice(Object.values(ButtonStyle)),
    label: text(0, COMPONENT_LIMITS.buttonLabel).nullish(),
    emoji: emojiSchema.nullish(),
    custom_id: text(1, COMPONENT_LIMITS.customId).nullish(),
    url: text(1, COMPONENT_LIMITS.buttonUrl).nullish(),
    sku_id: snowflake().nullish(),
    disabled: bool().nullish(),
  })
  .superRefine((button, ctx) => {
    const has = (key: "custom_id" | "url" | "sku_id") => button[key] !== undefined && button[key] !== null;
    if (button.style === ButtonStyle.Link) {
      if (!has("url")) formIssue(ctx, ["url"], "BUTTON_COMPONENT_URL_REQUIRED", "A url is required");
      if (has("custom_id")) formIssue(ctx, ["custom_id"], "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE", "A custom id and url cannot both be specified");
    } else if (button.style === ButtonStyle.Premium) {
      if (!has("sku_id")) formIssue(ctx, ["sku_id"], "BUTTON_COMPONENT_SKU_ID_REQUIRED", "A sku id is required");
      if (has("custom_id")) formIssue(ctx, ["custom_id"], "BUTTON_COMPONENT_INVALID_PREMIUM_FIELD", "A premium button cannot have a custom id");
      if (has("url")) formIssue(ctx, ["url"], "BUTTON_COMPONENT_INVALID_PREMIUM_FIELD", "A premium button cannot have a url");
    } else {
      if (!has("custom_id")) formIssue(ctx, ["custom_id"], "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id is required");
      if (has("url")) formIssue(ctx, ["url"], "BUTTON_COMPONENT_CUSTOM_ID_URL_MUTUALLY_EXCLUSIVE", "A custom id and url cannot both be specified");
    }
  });

const selectFields = {
  id: componentId(),
  custom_id: text(1, COMPONENT_LIMITS.customId),
  placeholder: text(0, COMPONENT_LIMITS.placeholder).nullish(),
  min_values: int(0, COMPONENT_LIMITS.values).nullish(),
  max_values: int(1, COMPONENT_LIMITS.values).nullish(),
  disabled: bool().nullish(),
};

const optionSchema = z.object({
  label: text(1, COMPONENT_LIMITS.optionText),
  value: text(1, COMPONENT_LIMITS.optionText),
  description: text(0, COMPONENT_LIMITS.optionText).nullish(),
  emoji: emojiSchema.nullish(),
  default: bool().nullish(),
});

/** min_values ≤ max_values, and both within `available` choices when that is known. */
function checkValueCounts(select: { min_values?: number | null; max_values?: number | null }, ctx: z.RefinementCtx, available?: number) {
  const min = select.min_values ?? 1;
  const max = select.max_values ?? 1;
  if (min > max) formIssue(ctx, ["min_values"], "NUMBER_TYPE_MAX", `int value should be less than or equal to ${max}.`);
  if (available !== undefined) {
    if (max > available) formIssue(ctx, ["max_values"], "NUMBER_TYPE_MAX", `int value should be less than or equal to ${available}.`);
    else if (min > available) formIssue(ctx, ["min_values"], "NUMBER_TYPE_MAX", `int value should be less than or equal to ${available}.`);
  }
}

const stringSelectSchema = z
  .object({
    type: z.literal(ComponentType.StringSelect),
    ...selectFields,
    options: boundedList(optionSchema, { min: 1, max: COMPONENT_LIMITS.options }),
  })
  .superRefine((select, ctx) => {
    checkValueCounts(select, ctx, select.options.length);
    const seen = new Set<string>();
    select.options.forEach((option, index) => {
      if (seen.has(option.value)) formIssue(ctx, ["options", index, "value"], "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Component option value was already specified");
      seen.add(option.value);
    });
    const defaults = select.options.filter((option) => option.default).length;
    if (defaults > (select.max_values ?? 1)) formIssue(ctx, ["options"], "SELECT_COMPONENT_TOO_MANY_DEFAULT_VALUES", "Too many default values were specified");
  });

const DEFAULT_VALUE_TYPES: Record<number, readonly string[]> = {
  [ComponentType.UserSelect]: ["user"],
  [ComponentType.RoleSelect]: ["role"],
  [ComponentType.MentionableSelect]: ["user", "role"],
  [ComponentType.ChannelSelect]: ["channel"],
};

/** User, role, mentionable and channel selects: Discord fills their options in. */
function autoSelectSchema(type: 5 | 6 | 7 | 8) {
  const kinds = DEFAULT_VALUE_TYPES[type];
  const defaultValue = z.object({
    id: snowflake(),
    type: z.unknown().transform((value, ctx) => {
      if (typeof value === "string" && kinds.includes(value)) return value;
      formIssue(ctx, [], "BASE_TYPE_CHOICES", `Value must be one of {${kinds.map((k) => `'${k}'`).join(", ")}}.`);
      return z.NEVER;
    }),
  });
  return z
    .object({
      type: z.literal(type),
      ...selectFields,
      default_values: boundedList(defaultValue, { max: COMPONENT_LIMITS.defaultValues }).nullish(),
      ...(type === ComponentType.ChannelSelect ? { channel_types: boundedList(int(0, 255), { max: 32 }).nullish() } : {}),
    })
    .superRefine((select, ctx) => {
      checkValueCounts(select, ctx);
      const defaults = select.default_values?.length ?? 0;
      if (defaults > 0 && (defaults < (select.min_values ?? 1) || defaults > (select.max_values ?? 1))) {
        formIssue(ctx, ["default_values"], "SELECT_COMPONENT_DEFAULT_VALUES_COUNT", "The number of default values must be between min_values and max_values");
      }
    });
}

type RowChild = z.infer<typeof buttonSchema> | z.infer<typeof stringSelectSchema> | z.infer<ReturnType<typeof autoSelectSchema>>;

const rowChild = byType<RowChild>(
  new Map<number, z.ZodType<RowChild>>([
    [ComponentType.Button, buttonSchema],
    [ComponentType.StringSelect, stringSelectSchema],
    [ComponentType.UserSelect, autoSelectSchema(ComponentType.UserSelect)],
    [ComponentType.RoleSelect, autoSelectSchema(ComponentType.RoleSelect)],
    [ComponentType.MentionableSelect, autoSelectSchema(ComponentType.MentionableSelect)],
    [ComponentType.ChannelSelect, autoSelectSchema(ComponentType.ChannelSelect)],
  ]),
);

const actionRowSchema = z
  .object({
    type: z.literal(ComponentType.ActionRow),
    id: componentId(),
    components: boundedList(rowChild, { min: 1, max: COMPONENT_LIMITS.rowWidth }),
  })
  .superRefine((row, ctx) => {
    // A button is 1 wide, a select as wide as the row: what no longer fits is named.
    let width = 0;
    row.components.forEach((child, index) => {
      width += child.type === ComponentType.Button ? 1 : COMPONENT_LIMITS.rowWidth;
      if (width > COMPONENT_LIMITS.rowWidth) {
        formIssue(ctx, ["components", index], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width");
      }
    });
  });

type ActionRow = z.infer<typeof actionRowSchema>;

const topLevel = byType<ActionRow>(new Map([[ComponentType.ActionRow, actionRowSchema]]));

/** Every component of the rows with its path below `components`, rows first. */
function* everyComponent(rows: ActionRow[]): Generator<{ component: ActionRow | RowChild; path: Path }> {
  for (const [rowIndex, row] of rows.entries()) {
    yield { component: row, path: [rowIndex] };
    for (const [index, child] of row.components.entries()) yield { component: child, path: [rowIndex, "components", index] };
  }
}

/** The `components` field of a message. */
export const componentsSchema = boundedList(topLevel, { max: COMPONENT_LIMITS.rows })
  .superRefine((rows, ctx) => {
    const customIds = new Set<string>();
    const ids = new Set<number>();
    for (const { component, path } of everyComponent(rows)) {
      if ("custom_id" in component && typeof component.custom_id === "string") {
        if (customIds.has(component.custom_id)) formIssue(ctx, [...path, "custom_id"], "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id was already specified");
        customIds.add(component.custom_id);
      }
      if (component.id) {
        if (ids.has(component.id)) formIssue(ctx, [...path, "id"], "COMPONENT_ID_DUPLICATED", "Component id was already specified");
        ids.add(component.id);
      }
    }
  })
  .transform((rows): JsonObject[] => numberComponents(rows));

/** Gives every component without an id the next free number, in document order, as Discord does. */
function numberComponents(rows: ActionRow[]): JsonObject[] {
  const taken = new Set<number>();
  for (const { component } of everyComponent(rows)) if (component.id) taken.add(component.id);
  let next = 1;
  const nextId = () => {
    while (taken.has(next)) next++;
    taken.add(next);
    return next;
  };
  return rows.map((row) => {
    const rowId = row.id || nextId();
    const children = row.components.map((child) => {
      const id = child.id || nextId();
      if (child.type === ComponentType.Button) return compactJson({ ...child, id });
      // Selects: Discord answers with the value counts it applied.
      return compactJson({ ...child, id, min_values: child.min_values ?? 1, max_values: child.max_values ?? 1 });
    });
    return compactJson({ type: row.type, id: rowId, components: children });
  });
}
