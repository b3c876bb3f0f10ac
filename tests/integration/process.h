#pragma once
// A child process for integration tests: started with posix_spawn, stdout read line by line.
//
//   Process p({bin, "serve", "--listen", "127.0.0.1:0"});
//   std::string line = p.wait_for_line("listening on");   // blocks until it appears (or exit)
//   p.signal(SIGTERM); int status = p.wait();

#include <string>
#include <vector>

namespace sy::testing {

class Process {
 public:
  explicit Process(const std::vector<std::string>& argv);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The first stdout line containing `needle` (earlier lines are kept in output()).
  // Returns "" if the process closes its stdout first.
  std::string wait_for_line(const std::string& needle);
  void signal(int sig);
  // Waits for exit; returns the exit code, or 128+signal.
  int wait();
  const std::string& output() const { return output_; }
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string buffer_;
  std::string output_;
};

// The port in "... http://127.0.0.1:PORT ..." of a start-up line; 0 if none.
int port_in(const std::string& line);

}  // namespace sy::testing
