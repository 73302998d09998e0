import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeError } from '../../errors/index.js';
import { DaemonErrors } from '../../errors/codes/daemon.js';
import type { ApiApp } from './app.js';

export interface Listening {
  port: number;
  addresses: Array<{ address: string; family: string; port: number }>;
  close(): Promise<void>;
}

/**
 * Binds the API to 127.0.0.1 and ::1 only (same port on both; port 0 picks a free one). Never a
 * wildcard address. If the machine has no IPv6 loopback, IPv4 alone is used and said so.
 */
export async function listenLoopback(api: ApiApp, port: number, warn: (msg: string) => void): Promise<Listening> {
  try {
    await api.app.listen({ host: '127.0.0.1', port });
  } catch (e) {
    throw makeError(DaemonErrors.LISTEN_FAILED, { host: '127.0.0.1', port, reason: (e as Error).message }, e);
  }
  const bound = (api.app.server.address() as AddressInfo).port;
  let v6: Server | undefined = createServer(api.handler());
  v6.keepAliveTimeout = api.app.server.keepAliveTimeout;
  try {
    await new Promise<void>((resolve, reject) => {
      v6?.once('error', reject);
      v6?.listen({ host: '::1', port: bound, ipv6Only: true }, () => resolve());
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    v6 = undefined;
    if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') warn('no IPv6 loopback on this machine; the API listens on 127.0.0.1 only');
    else {
      await api.app.close();
      throw makeError(DaemonErrors.LISTEN_FAILED, { host: '::1', port: bound, reason: (e as Error).message }, e);
    }
  }
  const servers: Server[] = [api.app.server, ...(v6 ? [v6] : [])];
  return {
    port: bound,
    addresses: servers.map((s) => {
      const a = s.address() as AddressInfo;
      return { address: a.address, family: a.family, port: a.port };
    }),
    async close() {
      api.sse.closeAll();
      if (v6) {
        const s = v6;
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      await api.app.close();
    },
  };
}
