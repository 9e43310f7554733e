import type { ServiceModule } from "@chorus/mesh";
import { apiService } from "@chorus/service-api/service";
import { guildService } from "@chorus/service-guild/service";
import { relayService } from "@chorus/service-relay/service";
import { gatewayService } from "@chorus/service-gateway/service";
import { pushService } from "@chorus/service-push/service";
import { voiceService } from "@chorus/service-voice/service";
import { storageService } from "@chorus/service-storage/service";
import { searchService } from "@chorus/service-search/service";

/** Every Chorus service, in start order: the ones others depend on first, the edge last. */
export const allServices: readonly ServiceModule[] = [
  storageService,
  searchService,
  pushService,
  voiceService,
  relayService,
  guildService,
  gatewayService,
  apiService,
];
