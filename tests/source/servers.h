// Real database servers for the source tests: a MariaDB and a PostgreSQL
// server started on 127.0.0.1 with a temporary data folder and a free port,
// stopped (process group killed) when the object goes away.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "harness.h"

namespace pinpipe::testing {

// Why a server could not start ("" when it runs).
class DbServer {
 public:
  virtual ~DbServer() = default;
  // URL with user and password for a database the tests may fill.
  virtual std::string url() const = 0;
  const std::string& error() const { return error_; }

 protected:
  std::string error_;
};

class MariaDbServer final : public DbServer {
 public:
  MariaDbServer() {
    if (access("/usr/sbin/mariadbd", X_OK) != 0 || access("/usr/bin/mariadb-install-db", X_OK)) {
      error_ = "mariadb-server is not installed (scripts/install-deps --test)";
      return;
    }
    if (geteuid() != 0) {
      error_ = "the MariaDB test server needs root (it runs as the mysql user)";
      return;
    }
    data_ = dir_ / "data";
    socket_ = dir_ / "mysqld.sock";
    port_ = PickFreePort();
    {
      Process install(
          {.argv = {"mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir=" + data_,
                    "--skip-test-db", "--auth-root-authentication-method=socket"},
           .log_file = dir_ / "install.log"});
      if (install.Wait(std::chrono::seconds(60)) != 0) {
        error_ = "mariadb-install-db failed: " + ReadFile(dir_ / "install.log");
        return;
      }
    }
    server_ = std::make_unique<Process>(
        ProcessOptions{.argv = {"mariadbd", "--no-defaults", "--user=mysql", "--datadir=" + data_,
                                "--socket=" + socket_, "--port=" + std::to_string(port_),
                                "--bind-address=127.0.0.1", "--skip-name-resolve",
                                "--innodb-flush-log-at-trx-commit=0",
                                "--innodb-buffer-pool-size=64M", "--skip-log-bin"},
                       .log_file = dir_ / "server.log"});
    if (!WaitForPort(port_, std::chrono::seconds(30))) {
      error_ = "mariadbd did not start: " + ReadFile(dir_ / "server.log");
      return;
    }
    Process setup({.argv = {"mariadb", "--no-defaults", "--socket=" + socket_, "-uroot", "-e",
                            "CREATE DATABASE pinterest CHARACTER SET utf8mb4; "
                            "CREATE USER 'pin'@'%' IDENTIFIED BY 's3cr:t@x'; "
                            "GRANT ALL ON pinterest.* TO 'pin'@'%';"},
                   .log_file = dir_ / "setup.log"});
    if (setup.Wait(std::chrono::seconds(30)) != 0) {
      error_ = "creating the test user failed: " + ReadFile(dir_ / "setup.log");
    }
  }
  std::string url() const override {
    // The password holds ':' and '@', percent-encoded in the URL.
    return "mysql://pin:s3cr%3At%40x@127.0.0.1:" + std::to_string(port_) + "/pinterest";
  }
  int port() const { return port_; }

 private:
  TempDir tmp_;
  std::filesystem::path dir_ = tmp_.path();
  std::string data_, socket_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

class PostgresServer final : public DbServer {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";
  PostgresServer() {
    if (access((std::string(kBin) + "postgres").c_str(), X_OK) != 0) {
      error_ = "postgresql 15 is not installed (scripts/install-deps --test)";
      return;
    }
    data_ = dir_ / "pgdata";
    port_ = PickFreePort();
    std::string pwfile = dir_ / "pw";
    WriteFile(pwfile, "p4ss word\n");
    chmod(pwfile.c_str(), 0644);
    {
      Process init(
          {.argv = {std::string(kBin) + "initdb", "-D", data_, "-U", "postgres",
                    "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"},
           .log_file = dir_ / "initdb.log",
           .run_as = "postgres"});
      if (init.Wait(std::chrono::seconds(60)) != 0) {
        error_ = "initdb failed: " + ReadFile(dir_ / "initdb.log");
        return;
      }
    }
    server_ = std::make_unique<Process>(ProcessOptions{
        .argv = {std::string(kBin) + "postgres", "-D", data_, "-p", std::to_string(port_), "-k",
                 dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                 "synchronous_commit=off"},
        .log_file = dir_ / "server.log",
        .run_as = "postgres"});
    // The port opens before the server accepts sessions; pg_isready waits
    // for "accepting connections".
    for (int i = 0; i < 300; ++i) {
      auto ready = RunCommand(
          {std::string(kBin) + "pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_)});
      if (ready.exit_code == 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    error_ = "postgres did not start: " + ReadFile(dir_ / "server.log");
  }
  std::string url() const override {
    return "postgresql://postgres:p4ss%20word@127.0.0.1:" + std::to_string(port_) + "/postgres";
  }
  int port() const { return port_; }

 private:
  TempDir tmp_;
  std::filesystem::path dir_ = tmp_.path();
  std::string data_;
  int port_ = 0;
  std::unique_ptr<Process> server_;
};

}  // namespace pinpipe::testing
