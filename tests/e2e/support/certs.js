// Throwaway PKI for the fake upstream: a CA and a leaf certificate for 127.0.0.1 / localhost,
// made with the openssl CLI into a fresh temporary directory. The daemon verifies the fake
// upstream against this CA (SSL_CERT_FILE); verification is never switched off.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

function openssl(args, cwd) {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    const stderr = err.stderr ? err.stderr.toString() : '';
    throw new Error(`openssl ${args.join(' ')} failed: ${err.message}\n${stderr}`);
  }
}

/**
 * Creates a CA and a leaf certificate (subjectAltName IP:127.0.0.1, DNS:localhost).
 * @returns {{dir: string, caFile: string, ca: Buffer, key: Buffer, cert: Buffer, cleanup: () => void}}
 */
export function makeCerts() {
  const dir = mkdtempSync(path.join(tmpdir(), 'claudegate-e2e-certs-'));
  const ecParams = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];

  // The CA.
  openssl(
    [
      'req', '-x509', '-nodes', ...ecParams,
      '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-sha256',
      '-subj', '/CN=claudegate e2e throwaway CA',
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-addext', 'subjectKeyIdentifier=hash',
    ],
    dir,
  );

  // The leaf: a CSR signed by the CA, with the extensions a TLS client checks.
  openssl(
    ['req', '-new', '-nodes', ...ecParams, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1'],
    dir,
  );
  writeFileSync(
    path.join(dir, 'leaf.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'authorityKeyIdentifier=keyid,issuer',
      'subjectKeyIdentifier=hash',
      '',
    ].join('\n'),
  );
  openssl(
    [
      'x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
      '-set_serial', `0x${Date.now().toString(16)}`,
      '-out', 'leaf.pem', '-days', '2', '-sha256', '-extfile', 'leaf.ext',
    ],
    dir,
  );

  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    ca: readFileSync(path.join(dir, 'ca.pem')),
    key: readFileSync(path.join(dir, 'leaf.key')),
    cert: readFileSync(path.join(dir, 'leaf.pem')),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
