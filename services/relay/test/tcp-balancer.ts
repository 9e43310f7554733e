// One address in front of several gateway nodes, as a TCP load balancer puts them in
// production: each connection goes to the next node that accepts it (a dead node refuses,
// and the next one is tried); when either side closes, so does the other.
import { connect, createServer, type Server, type Socket } from "node:net";

export class TcpBalancer {
  private turn = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  /** `targets` is read at each connection: the ports behind the balancer. */
  constructor(private readonly targets: () => number[]) {
    this.server = createServer((client) => this.forward(client));
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", resolve);
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): Socket {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    return socket;
  }

  private forward(client: Socket): void {
    this.track(client);
    client.pause();
    const ports = this.targets();
    const first = this.turn++;
    const attempt = (i: number) => {
      if (i === ports.length || client.destroyed) return void client.destroy();
      const upstream = this.track(connect({ host: "127.0.0.1", port: ports[(first + i) % ports.length] }));
      let connected = false;
      upstream.on("error", () => {
        if (!connected) return attempt(i + 1);
        client.destroy();
      });
      upstream.once("connect", () => {
        connected = true;
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        upstream.once("close", () => client.destroy());
        client.once("close", () => upstream.destroy());
        client.on("error", () => upstream.destroy());
      });
    };
    attempt(0);
  }
}
