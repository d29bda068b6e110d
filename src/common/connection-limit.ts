import type { Server, Socket } from 'node:net';
import { addressKey } from './client-address';

/**
 * Closes a new connection at once when its address already holds `max` open ones, so one client cannot take every
 * socket (e.g. with connections that never finish their headers). Counts the peer's own address, so it is only
 * meaningful without a proxy in front (behind one, every client arrives from the proxy's address).
 */
export function limitConnectionsPerAddress(server: Server, max: number): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const n = open.get(key) ?? 0;
    if (n >= max) {
      socket.destroy();
      return;
    }
    open.set(key, n + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
