// Throwaway X.509 material for TLS tests, generated at run time with the OpenSSL 3 C API so that no
// private key or expiring certificate is ever checked in (STYLE.md: "a runtime cert with
// verification on"; never turn verification off, trust a test CA instead).
#pragma once

#include <string>

namespace claudegate::testing {

/// Paths of one generated CA and its leaf certificates, all PEM, in one private directory.
///
/// The leaf is signed by the CA, carries `subjectAltName = DNS:localhost, IP:127.0.0.1` and the
/// `serverAuth` extended key usage, and is valid from one hour ago to one day from now, so a client
/// that trusts `ca_file` can verify either "localhost" or "127.0.0.1" with
/// `ssl::host_name_verification`.
struct TestCerts {
  std::string dir;        ///< The mkdtemp directory holding the three files below.
  std::string ca_file;    ///< `dir/ca.pem`: the self-signed CA certificate (load_verify_file).
  std::string cert_file;  ///< `dir/cert.pem`: the leaf certificate (use_certificate_chain_file).
  std::string key_file;   ///< `dir/key.pem`: the leaf's unencrypted EC P-256 private key.
  /// A second leaf signed by the same CA but valid only for "wrong-host.invalid", for host-name
  /// verification tests: trusted chain, wrong name.
  std::string wrong_host_cert_file;
  std::string wrong_host_key_file;  ///< Its private key.
};

/// Generates a fresh CA and leaf into a new mkdtemp directory under the system temp directory.
///
/// The caller owns the directory (see `RemoveTestCerts`). Each call makes a new, unrelated CA.
/// @throws std::runtime_error when OpenSSL or the file system fails.
/// @par Thread Safety Safe to call concurrently.
TestCerts MakeTestCerts();

/// Deletes `certs.dir` and everything in it; errors are ignored.
void RemoveTestCerts(const TestCerts& certs);

/// The process-wide trusted set: generated on first use, its directory removed at exit.
/// @par Thread Safety Safe to call concurrently (function-local static).
const TestCerts& SharedTestCerts();

/// A second, unrelated CA and leaf for "wrong certificate" tests: a client that trusts only
/// `SharedTestCerts().ca_file` must reject a server presenting this leaf. Removed at exit.
const TestCerts& UntrustedTestCerts();

}  // namespace claudegate::testing
