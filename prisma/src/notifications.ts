/**
 * PostgreSQL LISTEN on a connection of its own (a pooled connection goes back to the pool and
 * stops listening). @nova/db owns the pg driver; this is the one place outside Prisma that uses it.
 */

interface PgNotification {
  channel: string;
  payload?: string;
}

interface PgClient {
  readonly processID: number | null;
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'notification', listener: (message: PgNotification) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'end', listener: () => void): void;
}

// pg ships no type declarations of its own; the few members used here are typed above.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require('pg') as {
  Client: new (options: { connectionString: string; application_name: string; keepAlive: boolean }) => PgClient;
};

export interface NotificationConnection {
  /** The server process serving it (what pg_stat_activity.pid and pg_terminate_backend name). */
  readonly processId: number | undefined;
  close(): Promise<void>;
}

export interface ListenOptions {
  databaseUrl: string;
  channel: string;
  /** pg_stat_activity.application_name: lets an operator find the connection. */
  applicationName: string;
  onNotification(payload: string): void;
  /** The connection is gone (an error, or the server ended it): no notification comes any more. Called once. */
  onLost(error: Error | undefined): void;
}

/** Connects, runs LISTEN and resolves once notifications flow; rejects when it cannot. */
export async function listenForNotifications(options: ListenOptions): Promise<NotificationConnection> {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.channel)) throw new Error(`not a channel name: ${options.channel}`);
  const client = new Client({
    connectionString: options.databaseUrl,
    application_name: options.applicationName,
    // A connection that only listens sends nothing: keepalives find a dead peer.
    keepAlive: true,
  });
  let listening = false;
  let closing = false;
  let lost = false;
  // Before LISTEN has run, a failure is the rejection below, not a loss.
  const lose = (error: Error | undefined) => {
    if (!listening || lost || closing) return;
    lost = true;
    options.onLost(error);
  };
  client.on('error', (error) => lose(error));
  client.on('end', () => lose(undefined));
  client.on('notification', (message) => {
    if (message.channel === options.channel) options.onNotification(message.payload ?? '');
  });
  try {
    await client.connect();
    await client.query(`LISTEN ${options.channel}`);
    listening = true;
  } catch (error) {
    closing = true;
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    processId: client.processID ?? undefined,
    close: async () => {
      closing = true;
      await client.end().catch(() => undefined);
    },
  };
}
