// AWS IAM authentication to RDS, as Coder's CODER_PG_AUTH=awsiamrds: the password is a
// token signed with the pod's AWS credentials, valid 15 minutes, so a fresh one is made
// at every connect (the persistent connection outlives its token; only a reconnect needs
// a new one). Signing is local (SigV4 presigning): no AWS call is made to get a token.

import type { SignerConfig } from '@aws-sdk/rds-signer';
import type { PostgresConnectionSettings } from '../config/postgres-connection.js';

export const postgresAuthModes = ['password', 'awsiamrds'] as const;
export type PostgresAuth = (typeof postgresAuthModes)[number];

/** Where the token is for: RDS signs host, port and user into it. */
export interface DatabaseEndpoint {
  host: string;
  port: number;
  user: string;
}

/** Makes the password for one connect. The seam tests replace; rdsIamTokenProvider in production. */
export type AuthTokenProvider = (endpoint: DatabaseEndpoint) => Promise<string>;

/**
 * Tokens from @aws-sdk/rds-signer. Region and credentials come from the standard AWS chain
 * (AWS_REGION, web identity / IRSA, instance role, ~/.aws) unless given, as tests do.
 */
export function rdsIamTokenProvider(signerOptions: Pick<SignerConfig, 'credentials' | 'region'> = {}): AuthTokenProvider {
  const signers = new Map<string, { getAuthToken(): Promise<string> }>();
  return async (endpoint) => {
    const key = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
    let signer = signers.get(key);
    if (!signer) {
      // Loaded on first use: a password-authenticated monitor never pays for the AWS SDK.
      const { Signer } = await import('@aws-sdk/rds-signer');
      signer = new Signer({ hostname: endpoint.host, port: endpoint.port, username: endpoint.user, ...signerOptions });
      signers.set(key, signer);
    }
    return signer.getAuthToken();
  };
}

/** Host, port and user of the connection, or why IAM cannot use it. */
export function iamEndpoint(connection: PostgresConnectionSettings): DatabaseEndpoint | string {
  if (!connection.host || connection.host.startsWith('/')) return 'IAM authentication needs a TCP host name in --postgres.url (the RDS endpoint)';
  if (!connection.user) return 'IAM authentication needs the database user in --postgres.url (a role granted rds_iam)';
  return { host: connection.host, port: connection.port ?? 5432, user: connection.user };
}

/** Configuration problems of --postgres.auth=awsiamrds, for config to report with the rest. */
export function iamConfigProblems(auth: PostgresAuth, connection: PostgresConnectionSettings): string[] {
  if (auth !== 'awsiamrds') return [];
  const problems: string[] = [];
  const endpoint = iamEndpoint(connection);
  if (typeof endpoint === 'string') problems.push(`--postgres.auth=awsiamrds: ${endpoint}`);
  if (connection.passwordFile) {
    problems.push('--postgres.auth=awsiamrds: --postgres.password-file (DB_PASSWORD_PATH) has no use, the password is an IAM token; remove one of them');
  }
  return problems;
}
