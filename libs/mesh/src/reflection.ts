import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { createRegistry, toBinary, type DescFile, type DescService, type Registry } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import * as v1 from "@chorus/contracts/grpc/reflection/v1/reflection_pb";
import * as v1alpha from "@chorus/contracts/grpc/reflection/v1alpha/reflection_pb";

/** The request fields both reflection versions share (their messages are identical). */
type ReflectionRequest = v1.ServerReflectionRequest | v1alpha.ServerReflectionRequest;

/** Every file a service's contract needs, its imports included. */
function filesOf(services: readonly DescService[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  services.forEach((s) => visit(s.file));
  return [...seen.values()];
}

class ReflectionIndex {
  private readonly registry: Registry;
  private readonly files: Map<string, DescFile>;

  constructor(private readonly services: readonly DescService[]) {
    const files = filesOf(services);
    this.registry = createRegistry(...files);
    this.files = new Map(files.map((f) => [f.name, f]));
  }

  serviceNames(): string[] {
    return this.services.map((s) => s.typeName).sort();
  }

  /** The file plus its transitive imports, serialized; clients skip the ones they already know. */
  encode(file: DescFile): Uint8Array[] {
    return collect(file).map((f) => toBinary(FileDescriptorProtoSchema, f.proto));
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileContainingSymbol(symbol: string): DescFile | undefined {
    const desc = this.registry.get(symbol);
    if (desc) return desc.file;
    // Methods and fields are named <parent>.<name>: look the parent up.
    const dot = symbol.lastIndexOf(".");
    if (dot <= 0) return undefined;
    const parent = this.registry.get(symbol.slice(0, dot));
    if (parent?.kind === "service" && parent.methods.some((m) => m.name === symbol.slice(dot + 1))) return parent.file;
    if (parent?.kind === "message" && parent.fields.some((f) => f.name === symbol.slice(dot + 1))) return parent.file;
    return undefined;
  }

  answer(req: ReflectionRequest) {
    const request = req.messageRequest;
    const notFound = (what: string) => ({
      case: "errorResponse" as const,
      value: { errorCode: Code.NotFound, errorMessage: `${what} not found` },
    });
    const files = (file: DescFile | undefined, what: string) =>
      file ? { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: this.encode(file) } } : notFound(what);
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse" as const, value: { service: this.serviceNames().map((name) => ({ name })) } };
      case "fileByFilename":
        return files(this.fileByName(request.value), `file "${request.value}"`);
      case "fileContainingSymbol":
        return files(this.fileContainingSymbol(request.value), `symbol "${request.value}"`);
      case "fileContainingExtension":
        return notFound(`extension ${request.value.extensionNumber} of "${request.value.containingType}"`);
      case "allExtensionNumbersOfType": {
        const type = this.registry.getMessage(request.value);
        return type
          ? { case: "allExtensionNumbersResponse" as const, value: { baseTypeName: type.typeName, extensionNumber: [] } }
          : notFound(`type "${request.value}"`);
      }
      default:
        throw new ConnectError("empty reflection request", Code.InvalidArgument);
    }
  }
}

function collect(file: DescFile): DescFile[] {
  const out = [file];
  for (const dep of file.dependencies) for (const f of collect(dep)) if (!out.includes(f)) out.push(f);
  return out;
}

/**
 * Serves gRPC server reflection, v1 and v1alpha, for the given contracts, so that grpcurl,
 * buf curl and plain grpc-js tools can discover and call every service without our code.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const index = new ReflectionIndex(services);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: index.answer(req) };
      }
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      for await (const req of requests) {
        yield { validHost: req.host, originalRequest: req, messageResponse: index.answer(req) };
      }
    },
  });
}
