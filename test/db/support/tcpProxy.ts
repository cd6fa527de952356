// A TCP proxy in front of the test server, so a test can make the backend unreachable (close it and
// cut every open connection) without stopping the server other test files use, and bring it back.
import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './freePort';

export interface TcpProxy {
  port: number;
  /** Refuses new connections and cuts the open ones. */
  cut(): Promise<void>;
  /** Cuts the open connections and drops new ones until `restore` (the port stays bound). */
  drop(): void;
  /** Lets connections through again after `drop`. */
  restore(): void;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const destroyAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    cut: async () => {
      destroyAll();
      await new Promise((resolve) => server.close(resolve));
    },
    drop: () => {
      down = true;
      destroyAll();
    },
    restore: () => {
      down = false;
    },
  };
}
