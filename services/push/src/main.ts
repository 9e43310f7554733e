// Entry point of the push service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { pushService } from "./service.js";

await runService(pushService);
