export * from "./repo.js";
export * from "./infra.js";
export * from "./ports.js";
export * from "./service-process.js";
export * from "./otlp-receiver.js";
export * from "./embedded-process.js";
export * from "./discord-rest.js";
export * from "./push-endpoints.js";
