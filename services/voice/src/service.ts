import type { ServiceModule } from "@chorus/mesh";
import { VoiceService } from "@chorus/contracts/chorus/voice/v1/voice_pb";

/** The voice service module: its contract handlers, started by main.ts or the embedded launcher. */
export const voiceService: ServiceModule = {
  name: "voice",
  contracts: [VoiceService],
  async start(ctx) {
    return {
      routes(router) {
        router.service(VoiceService, {
          getStatus: () => ({ node: ctx.nodeInfo(), workers: 0, routers: 0 }),
        });
      },
      async stop() {},
    };
  },
};
