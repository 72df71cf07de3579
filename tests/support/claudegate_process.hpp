// The claudegate binary as a child process of a test: started with exactly the environment the
// test names, stdout and stderr into one pipe, its own data directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>

namespace claudegate::testing {

struct ClaudegateSpec {
  std::vector<std::string> args{};  // after the program name
  // The whole environment: nothing is inherited but the sanitizers' settings (ASAN_OPTIONS and
  // friends), so a developer's shell never changes what a test sees.
  std::map<std::string, std::string> env{};
  std::optional<rlim_t> open_files{};  // soft and hard RLIMIT_NOFILE, as `prlimit --nofile=N:N`
};

/// A started claudegate. Unless the spec names CLAUDEGATE_DATA_DIR it gets a fresh data directory,
/// removed on destruction: daemons of tests running in parallel must never share one database
/// (two of them on ~/.local/state/claudegate waited on each other's SQLite lock at start-up).
/// Destruction kills a child still running (SIGKILL) and reaps it.
class ClaudegateProcess {
 public:
  explicit ClaudegateProcess(ClaudegateSpec spec);
  ~ClaudegateProcess();
  ClaudegateProcess(const ClaudegateProcess&) = delete;
  ClaudegateProcess& operator=(const ClaudegateProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool started() const { return pid_ > 0; }
  /// The read end of the pipe the child's stdout and stderr go to. Handing it to a reader of its
  /// own (ReleaseOutput) makes that reader responsible for closing it.
  [[nodiscard]] int output_fd() const { return output_fd_; }
  int ReleaseOutput();

  /// Everything read from the output so far.
  [[nodiscard]] const std::string& output() const { return output_; }
  /// Reads the output until `done(output())`, EOF or `timeout`; returns whether `done` held.
  bool ReadUntil(const std::function<bool(const std::string&)>& done,
                 std::chrono::milliseconds timeout);
  /// Reads until the daemon says "listening on http://127.0.0.1:<port>" (then the port) or the
  /// output ends or `timeout` passes (then 0).
  std::uint16_t WaitForPort(std::chrono::milliseconds timeout);
  /// Whether a read found the end of the output (the child and everything it started exited).
  [[nodiscard]] bool output_ended() const { return output_ended_; }

  void Signal(int signal_number) const;
  /// Reaps the child: its exit code, or minus the signal that ended it.
  int Wait();

 private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string output_;
  bool output_ended_ = false;
  std::string owned_data_dir_;
  std::optional<int> exit_code_;
};

/// The port in a "listening on http://127.0.0.1:<port>" line of `log`, or 0.
std::uint16_t ListeningPort(const std::string& log);

struct ClaudegateRun {
  int exit_code = -1;  // minus the signal when one ended it; SIGKILL after the timeout
  std::string output;  // stdout and stderr together
};

/// Runs the binary to completion, bounded by `timeout`.
ClaudegateRun RunClaudegate(ClaudegateSpec spec,
                            std::chrono::seconds timeout = std::chrono::seconds(20));

}  // namespace claudegate::testing
