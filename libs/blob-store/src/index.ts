export * from "./blob-store.js";
export * from "./filesystem-blob-store.js";
