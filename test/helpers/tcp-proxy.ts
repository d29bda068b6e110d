import * as net from 'node:net';
import { freePort } from './spawn-server';

/**
 * A TCP forwarder between the hub and a real server (PostgreSQL), to play outages without touching the server:
 * refuse() closes the listener and every connection (connection refused), silence() keeps connections open but
 * holds every byte back (a server or network that went quiet; TCP delivers late, never loses), restore() ends either.
 */
export interface TcpProxy {
  port: number;
  refuse(): Promise<void>;
  silence(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  const held: (() => void)[] = [];
  let silent = false;

  const forward = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk) => {
      if (silent) held.push(() => to.write(chunk));
      else to.write(chunk);
    });

  const onConnection = (client: net.Socket) => {
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  };

  let server: net.Server | null = null;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = net.createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = null;
      for (const sock of sockets) sock.destroy();
      if (!s) return resolve();
      s.close(() => resolve());
    });

  await listen();
  return {
    port,
    refuse: stopListening,
    silence: () => {
      silent = true;
    },
    restore: async () => {
      silent = false;
      for (const send of held.splice(0)) send();
      if (!server) await listen();
    },
    close: async () => {
      held.length = 0;
      await stopListening();
    },
  };
}
