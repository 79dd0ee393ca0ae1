/**
 * A TCP proxy a test controls (on 127.0.0.1, or a link address the test made): `pause()` holds every byte in both directions
 * (a network partition that kills nothing), `resume()` delivers what was held, in order, and
 * goes on.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  listenHost = '127.0.0.1',
): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const held: Array<[net.Socket, Buffer]> = [];
  let paused = false;
  const forward = (from: net.Socket, to: net.Socket) => {
    sockets.add(from);
    from.on('data', (chunk: Buffer) => (paused ? held.push([to, chunk]) : to.write(chunk)));
    from.on('error', () => from.destroy());
    from.on('close', () => {
      sockets.delete(from);
      to.destroy();
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, listenHost, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
