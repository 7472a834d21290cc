/**
 * Every TCP byte this process reads and writes — client HTTP, peer streams, forwarded calls,
 * Redis — for the node's `dsync_socket_bytes_*_total` metrics ("bytes on the wire per op" of
 * `dsync bench compare`). Sockets are seen through Node's `net.client.socket` and
 * `net.server.socket` diagnostics channels as they are made; a closed socket's counts move into
 * the totals, a live one's are read when asked.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** Bytes read and written over TCP by this process since {@link countSocketBytes} was first called. */
export interface SocketBytes {
  readonly read: number;
  readonly written: number;
}

const live = new Set<Socket>();
let closedRead = 0;
let closedWritten = 0;
let counting = false;

function track(message: unknown): void {
  const socket = (message as { socket?: Socket }).socket;
  if (socket === undefined || live.has(socket)) return;
  live.add(socket);
  socket.once('close', () => {
    live.delete(socket);
    closedRead += socket.bytesRead;
    closedWritten += socket.bytesWritten;
  });
}

/** Starts counting (once per process; later calls do nothing). Sockets made before are not counted. */
export function countSocketBytes(): void {
  if (counting) return;
  counting = true;
  subscribe('net.client.socket', track);
  subscribe('net.server.socket', track);
}

/** The bytes counted so far: closed sockets' totals plus every live socket's counts now. */
export function socketBytes(): SocketBytes {
  let read = closedRead;
  let written = closedWritten;
  for (const s of live) {
    read += s.bytesRead;
    written += s.bytesWritten;
  }
  return { read, written };
}
