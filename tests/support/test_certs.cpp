#include "support/test_certs.hpp"

#include <array>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>  // mkdtemp

namespace claudegate::testing {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

[[noreturn]] void Fail(const std::string& what) {
  std::array<char, 256> detail{};
  ERR_error_string_n(ERR_get_error(), detail.data(), detail.size());
  throw std::runtime_error("test_certs: " + what + ": " + detail.data());
}

void Check(int ok, const char* what) {
  if (ok != 1) {
    Fail(what);
  }
}

PkeyPtr GenerateKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    Fail("EVP_PKEY_Q_keygen");
  }
  return key;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  const ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) {
    Fail(std::string("X509V3_EXT_conf_nid ") + value);
  }
  Check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

// Builds the unsigned skeleton every certificate shares: v3, random 159-bit serial, now-1h to
// now+1d, subject CN, public key.
X509Ptr NewCertificate(EVP_PKEY* key, const char* common_name) {
  X509Ptr cert(X509_new());
  if (!cert) {
    Fail("X509_new");
  }
  Check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");
  const BnPtr serial(BN_new());
  Check(BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    Fail("BN_to_ASN1_INTEGER");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60L * 60) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 60 * 60) == nullptr) {
    Fail("X509_gmtime_adj");
  }
  Check(X509_set_pubkey(cert.get(), key), "X509_set_pubkey");
  X509_NAME* name = X509_get_subject_name(cert.get());
  Check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("claudegate tests"), -1,
                                   -1, 0),
        "X509_NAME_add_entry_by_txt O");
  Check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0),
        "X509_NAME_add_entry_by_txt CN");
  return cert;
}

// A TLS server certificate for `key`, signed by `ca`, valid for the names in `alt_names`.
X509Ptr NewLeaf(EVP_PKEY* key, X509* ca, EVP_PKEY* ca_key, const char* common_name,
                const char* alt_names) {
  X509Ptr leaf = NewCertificate(key, common_name);
  Check(X509_set_issuer_name(leaf.get(), X509_get_subject_name(ca)), "X509_set_issuer_name");
  AddExtension(leaf.get(), ca, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(leaf.get(), ca, NID_key_usage, "critical,digitalSignature");
  AddExtension(leaf.get(), ca, NID_ext_key_usage, "serverAuth");
  AddExtension(leaf.get(), ca, NID_subject_alt_name, alt_names);
  AddExtension(leaf.get(), ca, NID_subject_key_identifier, "hash");
  AddExtension(leaf.get(), ca, NID_authority_key_identifier, "keyid:always");
  if (X509_sign(leaf.get(), ca_key, EVP_sha256()) == 0) {
    Fail("X509_sign leaf");
  }
  return leaf;
}

void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  const BioPtr bio(BIO_new_file(path.c_str(), "w"));
  if (!bio) {
    Fail("BIO_new_file " + path);
  }
  if (cert != nullptr) {
    Check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  }
  if (key != nullptr) {
    Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
          "PEM_write_bio_PrivateKey");
  }
}

// Owns one set for the life of the process and deletes its directory at exit.
struct ProcessCerts {
  TestCerts certs = MakeTestCerts();
  ProcessCerts() = default;
  ProcessCerts(const ProcessCerts&) = delete;
  ProcessCerts& operator=(const ProcessCerts&) = delete;
  ~ProcessCerts() { RemoveTestCerts(certs); }
};

}  // namespace

TestCerts MakeTestCerts() {
  // The CA: self-signed, CA:TRUE, may only sign certificates and CRLs.
  const PkeyPtr ca_key = GenerateKey();
  const X509Ptr ca = NewCertificate(ca_key.get(), "claudegate test CA");
  Check(X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get())), "X509_set_issuer_name");
  AddExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) {
    Fail("X509_sign CA");
  }

  // The leaf: signed by the CA, valid for localhost and 127.0.0.1 as a TLS server.
  const PkeyPtr leaf_key = GenerateKey();
  const X509Ptr leaf =
      NewLeaf(leaf_key.get(), ca.get(), ca_key.get(), "localhost", "DNS:localhost,IP:127.0.0.1");
  // A second leaf from the same CA, but for a host name no test dials.
  const PkeyPtr wrong_host_key = GenerateKey();
  const X509Ptr wrong_host = NewLeaf(wrong_host_key.get(), ca.get(), ca_key.get(),
                                     "wrong-host.invalid", "DNS:wrong-host.invalid");

  std::string dir_template =
      (std::filesystem::temp_directory_path() / "claudegate-certs-XXXXXX").string();
  std::vector<char> buffer(dir_template.begin(), dir_template.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error("test_certs: mkdtemp failed for " + dir_template);
  }
  TestCerts certs;
  certs.dir = buffer.data();
  certs.ca_file = certs.dir + "/ca.pem";
  certs.cert_file = certs.dir + "/cert.pem";
  certs.key_file = certs.dir + "/key.pem";
  certs.wrong_host_cert_file = certs.dir + "/wrong_host_cert.pem";
  certs.wrong_host_key_file = certs.dir + "/wrong_host_key.pem";
  try {
    WritePem(certs.ca_file, ca.get(), nullptr);
    WritePem(certs.cert_file, leaf.get(), nullptr);
    WritePem(certs.key_file, nullptr, leaf_key.get());
    WritePem(certs.wrong_host_cert_file, wrong_host.get(), nullptr);
    WritePem(certs.wrong_host_key_file, nullptr, wrong_host_key.get());
  } catch (...) {
    RemoveTestCerts(certs);
    throw;
  }
  return certs;
}

void RemoveTestCerts(const TestCerts& certs) {
  if (certs.dir.empty()) {
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(certs.dir, ec);
}

const TestCerts& SharedTestCerts() {
  static const ProcessCerts shared;
  return shared.certs;
}

const TestCerts& UntrustedTestCerts() {
  static const ProcessCerts untrusted;
  return untrusted.certs;
}

}  // namespace claudegate::testing
