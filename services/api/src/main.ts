// Entry point of the api service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { apiService } from "./service.js";

await runService(apiService);
