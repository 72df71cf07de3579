// claudegate: parse flags, load configuration, then serve until SIGTERM/SIGINT.
// Exit codes (PRODUCT.md): 0 clean shutdown, 1 runtime failure, 2 bad configuration.
#include <iostream>
#include <thread>

#include <malloc.h>
#include <spdlog/spdlog.h>

#include "claudegate/app.hpp"

int main(int argc, char** argv) {
  // glibc otherwise grows one malloc arena per thread that touched the heap and keeps bursts of
  // freed stream buffers there; two arenas are plenty for an Asio thread pool.
  mallopt(M_ARENA_MAX, 2);
  std::vector<std::string> args(argv + 1, argv + argc);
  return claudegate::RunApp(args, claudegate::config::ProcessEnvironment(), std::cout, std::cerr);
}
