// Entry point of the gateway service in cluster mode: config, handlers, mesh server.
import { runService } from "@chorus/mesh";
import { gatewayService } from "./service.js";

await runService(gatewayService);
