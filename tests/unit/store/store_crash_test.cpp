// kill -9 in the middle of writes leaves a sound database: integrity_check ok, every turn the
// store had flushed is there, and every turn that is there is whole (its response, its three input
// and two output items, and their five item-index rows). The writer is a separate process
// (store_crash_child.cpp), killed with SIGKILL.
#include <array>
#include <string>

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit/store/store_test_support.hpp"

namespace claudegate::store::testing {
namespace {

class StoreCrashTest : public ::testing::Test, public StoreFixture {};

// The next line the child prints, or "" when none comes within `timeout_ms` (or it exited).
std::string ReadLine(int fd, std::string& buffer, int timeout_ms) {
  for (;;) {
    if (auto end = buffer.find('\n'); end != std::string::npos) {
      std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 1);
      return line;
    }
    pollfd ready{fd, POLLIN, 0};
    if (::poll(&ready, 1, timeout_ms) <= 0) {
      return {};
    }
    std::array<char, 256> chunk{};
    const auto n = ::read(fd, chunk.data(), chunk.size());
    if (n <= 0) {
      return {};
    }
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
  }
}

TEST_F(StoreCrashTest, KillNineMidWriteLosesNoFlushedTurnAndLeavesNoHalfTurn) {
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::string program = CLAUDEGATE_STORE_CRASH_CHILD;
  std::string data_dir = settings.data_dir;
  std::array<char*, 3> argv{program.data(), data_dir.data(), nullptr};
  pid_t child = 0;
  ASSERT_EQ(::posix_spawn(&child, program.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  // Whatever fails below, the child does not outlive the test.
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper{child};

  // Let it flush a few batches, then kill it once it has queued half of the next one: its worker
  // is then in the middle of writing.
  std::string buffer;
  int flushed = 0;
  for (int batches = 0; batches < 5;) {
    const std::string line = ReadLine(pipe_fds[0], buffer, 60'000);
    ASSERT_FALSE(line.empty()) << "the child stopped";
    if (line.rfind("flushed ", 0) == 0) {  // anything else is a log line or progress
      flushed = std::stoi(line.substr(8));
      ++batches;
    }
  }
  for (;;) {
    const std::string line = ReadLine(pipe_fds[0], buffer, 60'000);
    ASSERT_FALSE(line.empty()) << "the child stopped";
    if (line.rfind("flushed ", 0) == 0) {
      flushed = std::stoi(line.substr(8));
    } else if (line.rfind("queued ", 0) == 0 && std::stoi(line.substr(7)) >= flushed + 50) {
      break;
    }
  }
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  reaper.pid = 0;
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ::close(pipe_fds[0]);

  EXPECT_EQ(Query("PRAGMA integrity_check"), "ok");
  const int present = std::stoi(Query("SELECT count(*) FROM turns"));
  EXPECT_GE(present, flushed);
  // Every present turn is whole: exactly 3 input and 2 output items, each indexed.
  EXPECT_EQ(Query("SELECT count(*) FROM turns AS t WHERE json_array_length(t.input) != 3 "
                  "OR json_array_length(t.response, '$.output') != 2 "
                  "OR (SELECT count(*) FROM item_index WHERE turn = t.seq) != 5"),
            "0");
  now = SystemUnixClock()();  // the child's turns carry the real time
  auto store = Open();
  for (int i = 0; i < flushed; ++i) {
    ASSERT_EQ(RunSync(store->Get("resp_" + std::to_string(i))).status, LookupStatus::kFound) << i;
  }
  auto conversation = RunSync(store->Conversation("resp_" + std::to_string(flushed - 1)));
  ASSERT_EQ(conversation.status, LookupStatus::kFound);
  EXPECT_EQ(conversation.value.size(), static_cast<std::size_t>(flushed) * 5);
}

}  // namespace
}  // namespace claudegate::store::testing
