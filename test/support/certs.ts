import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCerts {
  /** CA certificate (PEM) that signed the server and client certificates. */
  ca: string;
  caKey: string;
  /** Server certificate for SAN IP 127.0.0.1 and DNS localhost (server and client auth). */
  serverCert: string;
  serverKey: string;
  /** Client certificate (CN=strata-test-client) for mutual TLS. */
  clientCert: string;
  clientKey: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes a fresh CA plus server and client certificates (ECDSA P-256, valid one day) in `dir` with the openssl CLI. */
export function makeCerts(dir: string): TestCerts {
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ecKey, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=strata-test-ca']);
  const issue = (name: string, cn: string, ext: string): void => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, ['req', ...ecKey, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`]);
  };
  issue('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  issue('client', 'strata-test-client', 'extendedKeyUsage=clientAuth\n');
  const at = (name: string): string => join(dir, name);
  return {
    ca: at('ca.pem'),
    caKey: at('ca-key.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server-key.pem'),
    clientCert: at('client.pem'),
    clientKey: at('client-key.pem'),
  };
}
