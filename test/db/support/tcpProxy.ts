// A TCP proxy in front of the test server, so a test can make the backend unreachable (close it and
// cut every open connection) without stopping the server other test files use.
import { connect, createServer, type Socket } from 'node:net';
import { freePort } from './freePort';

export interface TcpProxy {
  port: number;
  /** Refuses new connections and cuts the open ones. */
  cut(): Promise<void>;
  /** After cut(): accepts connections again, on the same port. */
  restore(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const serve = () =>
    createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
  const port = await freePort();
  let server = serve();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
    restore: async () => {
      server = serve();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    },
  };
}
