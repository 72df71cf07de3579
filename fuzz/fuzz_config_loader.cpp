// Fuzzes config::LoadConfig with an arbitrary YAML file (LiteLLM's config plus the `claudegate:`
// section). The bytes go to one temp file per process; `os.environ/NAME` references resolve
// against a fixed fake environment. Checks: no crash or escaped exception (bad files must become a
// start-up error, never abort), and DescribeConfig() (what --check-config prints) does not depend
// on the secrets' values beyond what RedactSecret() deliberately shows (the `sk-` prefix and, for
// secrets of 20+ characters, the last 4): changing the rest must give the same text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

#include "claudegate/config/loader.hpp"

namespace {

std::string TempPath() {
  char pattern[] = "/tmp/claudegate-fuzz-config-XXXXXX";
  const int fd = ::mkstemp(pattern);
  if (fd < 0) {
    std::abort();
  }
  ::close(fd);
  return pattern;
}

// The same secret with everything but what RedactSecret() may show (the `sk-` family prefix and
// the last 4 characters of a long secret) replaced.
std::string Scrambled(const std::string& secret) {
  std::string other = secret;
  const std::size_t keep_tail = secret.size() >= 20 ? 4 : 0;
  for (std::size_t i = 3; i + keep_tail < other.size(); ++i) {
    other[i] = other[i] == 'Z' ? 'Q' : 'Z';
  }
  return other;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string kPath = TempPath();
  {
    std::ofstream file(kPath, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  claudegate::config::CommandLine flags;
  flags.config_path = kPath;
  const auto env = claudegate::config::MapEnvironment({
      {"FUZZ_KEY", "sk-fuzz-0123456789abcdef0123456789"},
      {"FUZZ_TOKEN", "sk-ant-oat01-fuzz"},
      {"FUZZ_EMPTY", ""},
  });
  auto config = claudegate::config::LoadConfig(flags, env);
  if (!config) {
    return 0;
  }
  const std::string described = claudegate::config::DescribeConfig(*config);
  config->master_key = Scrambled(config->master_key);
  config->credentials.api_key = Scrambled(config->credentials.api_key);
  config->credentials.oauth_token = Scrambled(config->credentials.oauth_token);
  if (claudegate::config::DescribeConfig(*config) != described) {
    std::fprintf(stderr, "DescribeConfig output depends on a secret's value:\n%s\n",
                 described.c_str());
    std::abort();
  }
  return 0;
}
