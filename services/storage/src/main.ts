// Entry point of the storage service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { storageService } from "./service.js";

await runService(storageService);
