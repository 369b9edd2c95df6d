import { readFileSync } from 'node:fs';
import type { TemporalConfig } from './config';
import { ConfigError } from './config';

/** Options accepted by both Connection.connect (client) and NativeConnection.connect (worker). */
export interface TemporalConnectionOptions {
  address: string;
  tls?:
    | false
    | {
        serverNameOverride?: string;
        serverRootCACertificate?: Buffer;
        clientCertPair?: { crt: Buffer; key: Buffer };
      };
  apiKey?: string;
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError([{ variable, message: `cannot read ${path}: ${(error as Error).message}` }]);
  }
}

/** Local dev server: plaintext. Self-hosted cluster: mTLS. Temporal Cloud: mTLS or an API key over TLS. */
export function temporalConnectionOptions(temporal: TemporalConfig): TemporalConnectionOptions {
  if (!temporal.tls) return { address: temporal.address, apiKey: temporal.apiKey };
  return {
    address: temporal.address,
    apiKey: temporal.apiKey,
    tls: {
      serverNameOverride: temporal.tlsServerName,
      serverRootCACertificate: temporal.tlsCaPath ? readPem('TEMPORAL_TLS_CA_PATH', temporal.tlsCaPath) : undefined,
      clientCertPair:
        temporal.tlsCertPath && temporal.tlsKeyPath
          ? {
              crt: readPem('TEMPORAL_TLS_CERT_PATH', temporal.tlsCertPath),
              key: readPem('TEMPORAL_TLS_KEY_PATH', temporal.tlsKeyPath),
            }
          : undefined,
    },
  };
}
