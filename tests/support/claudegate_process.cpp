#include "support/claudegate_process.hpp"

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace claudegate::testing {
namespace {

constexpr std::string_view kListeningLine = "listening on http://127.0.0.1:";

// What a sanitizer build needs to report in the child as it does in the test.
constexpr const char* kInheritedSettings[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                              "TSAN_OPTIONS"};

std::string MakeTempDir(const char* prefix) {
  std::string pattern = std::string("/tmp/") + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return {};
  }
  return pattern;
}

}  // namespace

ClaudegateProcess::ClaudegateProcess(ClaudegateSpec spec) {
  for (const char* name : kInheritedSettings) {
    if (const char* value = std::getenv(name); value != nullptr && !spec.env.contains(name)) {
      spec.env.emplace(name, value);
    }
  }
  if (!spec.env.contains("CLAUDEGATE_DATA_DIR")) {
    owned_data_dir_ = MakeTempDir("claudegate-data");
    spec.env.emplace("CLAUDEGATE_DATA_DIR", owned_data_dir_);
  }
  // Every string the child needs is built here, before fork(). The test process has threads (a
  // fake upstream, gtest's), and a lock one of them held at the moment of fork() - malloc's, the
  // sanitizer allocator's, the environment's - stays held forever in the child, so the child may
  // only call async-signal-safe functions until execve (fork(2), "After a fork() in a
  // multithreaded program ..."; signal-safety(7)). setenv() in the child once hung a daemon
  // before it printed a line.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : spec.env) {
    env_strings.push_back(name + "=" + value);
  }
  std::vector<char*> envp;
  for (auto& entry : env_strings) {
    envp.push_back(entry.data());
  }
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings = {CLAUDEGATE_BINARY};
  arg_strings.insert(arg_strings.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (auto& arg : arg_strings) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  const rlimit limit{spec.open_files.value_or(0), spec.open_files.value_or(0)};
  const bool set_limit = spec.open_files.has_value();

  int pipe_fds[2];
  // O_CLOEXEC: children of other tests must not hold this pipe open (its EOF would never come).
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return;
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(pipe_fds[1], 1);  // dup2 clears O_CLOEXEC on the copies
    ::dup2(pipe_fds[1], 2);
    if (set_limit) {
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    ::execve(CLAUDEGATE_BINARY, argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  if (pid_ < 0) {
    ::close(pipe_fds[0]);
    return;
  }
  output_fd_ = pipe_fds[0];
}

ClaudegateProcess::~ClaudegateProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
  if (output_fd_ >= 0) {
    ::close(output_fd_);
  }
  if (!owned_data_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(owned_data_dir_, ignored);
  }
}

int ClaudegateProcess::ReleaseOutput() { return std::exchange(output_fd_, -1); }

bool ClaudegateProcess::ReadUntil(const std::function<bool(const std::string&)>& done,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(output_)) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd ready{output_fd_, POLLIN, 0};
    if (output_fd_ < 0 || left.count() <= 0 ||
        ::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
      return false;
    }
    char chunk[4096];
    const auto n = ::read(output_fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      output_ended_ = true;
      return done(output_);
    }
    output_.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

std::uint16_t ClaudegateProcess::WaitForPort(std::chrono::milliseconds timeout) {
  ReadUntil([](const std::string& text) { return ListeningPort(text) != 0; }, timeout);
  return ListeningPort(output_);
}

void ClaudegateProcess::Signal(int signal_number) const {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, signal_number);
  }
}

int ClaudegateProcess::Wait() {
  if (exit_code_) {
    return *exit_code_;
  }
  if (pid_ <= 0) {
    return -1;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return *exit_code_;
}

std::uint16_t ListeningPort(const std::string& log) {
  const auto at = log.find(kListeningLine);
  if (at == std::string::npos) {
    return 0;
  }
  const auto end = log.find_first_not_of("0123456789", at + kListeningLine.size());
  if (end == std::string::npos || end == at + kListeningLine.size()) {
    return 0;  // the number may not be complete yet
  }
  return static_cast<std::uint16_t>(std::stoi(log.substr(at + kListeningLine.size())));
}

ClaudegateRun RunClaudegate(ClaudegateSpec spec, std::chrono::seconds timeout) {
  ClaudegateProcess process(std::move(spec));
  ClaudegateRun run;
  if (!process.started()) {
    return run;
  }
  // Until EOF, which comes when the child exits (nothing else holds the pipe's write end).
  process.ReadUntil([](const std::string&) { return false; }, timeout);
  if (!process.output_ended()) {
    process.Signal(SIGKILL);
  }
  run.exit_code = process.Wait();
  run.output = process.output();
  return run;
}

}  // namespace claudegate::testing
