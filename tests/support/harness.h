// Test harness shared by integration and end-to-end tests: temporary folders,
// free loopback ports, child processes (servers, the pinpipe binary, node
// peers) that are always stopped, and command execution with captured output.
//
// Not thread-safe; use from the test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pinpipe::testing {

// A fresh folder under $TMPDIR, removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int PickFreePort();

// True once something accepts TCP connections on 127.0.0.1:port, polling
// until `timeout` elapses.
bool WaitForPort(int port, std::chrono::milliseconds timeout);

struct ProcessOptions {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH
  std::map<std::string, std::string> env;  // added to (and overriding) the inherited environment
  std::string cwd;                         // "" = inherit
  std::string log_file;                    // stdout+stderr go here ("" = a temp file)
  std::string run_as;                      // run through `runuser -u <user> --` when root
};

// A child process in its own process group. The destructor kills the group
// (SIGTERM, then SIGKILL after a grace period) and reaps it.
class Process {
 public:
  explicit Process(ProcessOptions options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `signal` to the whole process group.
  void Signal(int signal);
  // Waits for exit; returns the exit code (128+signal if killed), or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGTERM, then SIGKILL after `grace`; returns the exit code.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // What the child printed so far.
  std::string Output() const;
  const std::string& log_file() const { return log_file_; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
  std::string log_file_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a command to completion (stdin from `input`), capturing its output.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         const std::map<std::string, std::string>& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Paths given to tests by CTest (see cmake/pinpipe.cmake).
std::string SourceDir();      // $PINPIPE_SOURCE_DIR
std::string PinpipeBinary();  // $PINPIPE_BINARY
std::string PeersDir();       // $PINPIPE_PEERS_DIR (tests/peers with node_modules)
std::string FixturesDir();    // tests/fixtures in the source dir (in the repository)

// Reads / writes a whole file.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, std::string_view data);

// Every regular file under `root` (none if it does not exist): relative path
// -> bytes, leaving out pinpipe's in-progress temporary files.
std::map<std::string, std::string> ReadTree(const std::string& root);

}  // namespace pinpipe::testing
