// Entry point of the relay service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { relayService } from "./service.js";

await runService(relayService);
