// Entry point of the voice service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { voiceService } from "./service.js";

await runService(voiceService);
