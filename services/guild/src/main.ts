// Entry point of the guild service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { guildService } from "./service.js";

await runService(guildService);
