import { create, fromJson, toJson, type JsonObject, type JsonValue, type MessageInitShape } from "@bufbuild/protobuf";
import {
  AttachmentSchema,
  MessageReferenceSchema,
  MessageSchema,
  type Attachment,
  type Message,
  type MessageReference,
} from "@chorus/contracts/chorus/chat/v1/message_pb";

/**
 * The parts of a message that databases keep as JSON text columns: open-ended Discord
 * structures (embeds, components, interaction metadata) and small nested records. Both stores
 * use these so that a message reads back exactly as it was written, whatever the backend.
 */
export interface MessageJsonColumns {
  attachments: string | null;
  embeds: string | null;
  components: string | null;
  message_reference: string | null;
  interaction_metadata: string | null;
}

export function encodeJsonColumns(message: Pick<Message, "attachments" | "embeds" | "components" | "messageReference" | "interactionMetadata">): MessageJsonColumns {
  return {
    attachments: message.attachments.length ? JSON.stringify(message.attachments.map((a) => toJson(AttachmentSchema, a))) : null,
    embeds: message.embeds.length ? JSON.stringify(message.embeds) : null,
    components: message.components.length ? JSON.stringify(message.components) : null,
    message_reference: message.messageReference ? JSON.stringify(toJson(MessageReferenceSchema, message.messageReference)) : null,
    interaction_metadata: message.interactionMetadata ? JSON.stringify(message.interactionMetadata) : null,
  };
}

export function decodeAttachments(text: string | null | undefined): Attachment[] {
  return text ? (JSON.parse(text) as JsonValue[]).map((a) => fromJson(AttachmentSchema, a)) : [];
}

export function decodeObjects(text: string | null | undefined): JsonObject[] {
  return text ? (JSON.parse(text) as JsonObject[]) : [];
}

export function decodeReference(text: string | null | undefined): MessageReference | undefined {
  return text ? fromJson(MessageReferenceSchema, JSON.parse(text) as JsonValue) : undefined;
}

export function decodeObject(text: string | null | undefined): JsonObject | undefined {
  return text ? (JSON.parse(text) as JsonObject) : undefined;
}

/** A new Message from decoded fields (defaults for the rest). */
export function messageFrom(init: MessageInitShape<typeof MessageSchema>): Message {
  return create(MessageSchema, init);
}
