// Entry point of the search service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { searchService } from "./service.js";

await runService(searchService);
