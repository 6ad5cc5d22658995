#include "tests/integration/support/registry.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/integration/support/files.h"
#include "tests/integration/support/run_command.h"

namespace contd::testing {
namespace {

constexpr char kLoopback[] = "127.0.0.1";
// How often start() picks a new port when another process took the one it chose.
constexpr int kPortAttempts = 5;

// YAML single-quoted scalar: a quote is doubled, nothing else is special.
std::string yamlString(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') {
      out += '\'';
    }
  }
  return out + "'";
}

// 2*bytes lower-case hex digits from /dev/urandom.
Result<std::string> randomHex(std::size_t bytes) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string raw(bytes, '\0');
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) {
    return internalError("read /dev/urandom failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// A port on 127.0.0.1 that was free a moment ago: bind to port 0 and ask which one the
// kernel gave. Another process may take it before the registry binds; launch() notices.
Result<std::uint16_t> pickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return sysError("socket", errno);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    return sysError("bind a free port on 127.0.0.1", err);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// GET /v2/ on 127.0.0.1:<port> over a plain socket (HTTP/1.0, so the answer ends with the
// connection). The status code when a registry answered (the answer carries the
// Docker-Distribution-Api-Version header), else nullopt.
std::optional<int> probeRegistry(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return std::nullopt;
  }
  timeval timeout{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET /v2/ HTTP/1.0\r\nHost: " + std::string(kLoopback) + ":" +
                                std::to_string(port) +
                                "\r\nUser-Agent: contd-test-probe\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while (answer.size() < 65536 && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
        answer.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  ::close(fd);
  // "HTTP/1.x NNN ...", and the header only a distribution registry sends.
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12 ||
      answer.find("\r\nDocker-Distribution-Api-Version:") == std::string::npos) {
    return std::nullopt;
  }
  try {
    return std::stoi(answer.substr(9, 3));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}


// The bytes of `path` from `offset` on, "" when it cannot be read.
std::string readFrom(const std::string& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    return "";
  }
  const std::streamoff size = in.tellg();
  if (offset >= size) {
    return "";
  }
  in.seekg(offset);
  std::string text(static_cast<std::size_t>(size - offset), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::streamoff fileSize(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(size);
}

Status writeFile(const std::string& path, const std::string& content, mode_t mode = 0644) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return sysError("open '" + path + "'", errno);
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return sysError("write '" + path + "'", err);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) {
    return sysError("close '" + path + "'", errno);
  }
  return okStatus();
}

struct BlobGet {
  std::string digest;
  std::uint64_t bytes = 0;
};

// The successful blob GETs of `repository` in the access log lines of `log`:
//   <ip> - <user> [<time>] "GET /v2/<repo>/blobs/<digest> HTTP/1.1" <status> <bytes> "<ref>" "<ua>"
std::vector<BlobGet> parseBlobGets(const std::string& log, std::string_view repository) {
  const std::string prefix = "\"GET /v2/" + std::string(repository) + "/blobs/";
  std::vector<BlobGet> gets;
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("time=", 0) == 0) {
      continue;  // a logrus line, not the access log
    }
    const auto start = line.find(prefix);
    if (start == std::string::npos) {
      continue;
    }
    const auto digest_start = start + prefix.size();
    const auto digest_end = line.find(' ', digest_start);
    const auto request_end = line.find("\" ", digest_start);
    if (digest_end == std::string::npos || request_end == std::string::npos) {
      continue;
    }
    std::istringstream rest(line.substr(request_end + 2));
    std::string status;
    std::string bytes;
    rest >> status >> bytes;
    if (status.size() != 3 || status[0] != '2') {
      continue;
    }
    BlobGet get{line.substr(digest_start, digest_end - digest_start), 0};
    if (!bytes.empty() && bytes.find_first_not_of("0123456789") == std::string::npos) {
      get.bytes = std::stoull(bytes);
    }
    gets.push_back(std::move(get));
  }
  return gets;
}

// docker-registry's config.yml: filesystem storage under `dir`, deletes allowed, listening
// on `host`, and the basic or token auth that `options` asks for.
std::string registryConfig(const std::string& dir, const std::string& host,
                           const std::string& secret, const LocalRegistry::Options& options) {
  std::string config =
      "version: 0.1\n"
      "log:\n"
      "  level: info\n"
      "  accesslog:\n"
      "    disabled: false\n"
      "storage:\n"
      "  filesystem:\n"
      "    rootdirectory: " +
      yamlString(dir + "/storage") +
      "\n"
      "  delete:\n"
      "    enabled: true\n"
      "http:\n"
      "  addr: " +
      yamlString(host) +
      "\n"
      "  secret: " +
      yamlString(secret) + "\n";
  if (options.basic_auth) {
    config += "auth:\n"
              "  htpasswd:\n"
              "    realm: contd-test\n"
              "    path: " +
              yamlString(dir + "/htpasswd") + "\n";
  }
  if (options.token_auth) {
    const auto& token = *options.token_auth;
    config += "auth:\n"
              "  token:\n"
              "    realm: " +
              yamlString(token.realm) + "\n    service: " + yamlString(token.service) +
              "\n    issuer: " + yamlString(token.issuer) +
              "\n    rootcertbundle: " + yamlString(token.root_cert_bundle) + "\n";
  }
  return config;
}

}  // namespace

std::string missingRegistryPrerequisites() {
  std::string missing;
  for (const auto& [program, package] :
       {std::pair{"docker-registry", "docker-registry"}, std::pair{"skopeo", "skopeo"},
        std::pair{"htpasswd", "apache2-utils"}}) {
    if (!findOnPath(program)) {
      missing += std::string(missing.empty() ? "" : ", ") + program + " on PATH (package " +
                 package + ")";
    }
  }
  return missing.empty() ? missing : "needs " + missing;
}

LocalRegistry::LocalRegistry(TempDir dir, Options options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

Result<std::unique_ptr<LocalRegistry>> LocalRegistry::start() { return start(Options{}); }

Result<std::unique_ptr<LocalRegistry>> LocalRegistry::start(Options options) {
  if (options.basic_auth && options.token_auth) {
    return invalidArgument("local registry: basic_auth and token_auth exclude each other");
  }
  if (!findOnPath("docker-registry")) {
    return notFound("local registry: docker-registry is not on PATH (package docker-registry)");
  }
  auto dir = TempDir::make("contd-registry");
  if (!dir) {
    return dir.error();
  }
  std::unique_ptr<LocalRegistry> registry(new LocalRegistry(std::move(*dir), std::move(options)));
  std::error_code ec;
  std::filesystem::create_directories(registry->dir() + "/storage", ec);
  if (ec) {
    return internalError("local registry: create '" + registry->dir() + "/storage': " +
                         ec.message());
  }
  if (registry->options_.basic_auth) {
    // The registry accepts only bcrypt entries (-B). The password goes on the command
    // line, which is fine for a test password; it is kept out of error messages.
    auto entry = runCommand({"htpasswd", "-Bbn", registry->options_.user,
                             registry->options_.password});
    if (!entry) {
      return entry.error().wrap("local registry: htpasswd");
    }
    if (!entry->ok()) {
      return internalError("local registry: htpasswd -Bbn exited with " +
                           std::to_string(entry->exit_code) + ": " + entry->err);
    }
    std::string line = entry->out.substr(0, entry->out.find('\n'));
    CONTD_RETURN_IF_ERROR(writeFile(registry->dir() + "/htpasswd", line + "\n", 0600));
  }
  Status launched = okStatus();
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    auto port = pickFreePort();
    if (!port) {
      return port.error().wrap("local registry");
    }
    registry->port_ = *port;
    bool port_taken = false;
    launched = registry->launch(&port_taken);
    if (launched || !port_taken) {
      break;
    }
  }
  if (!launched) {
    return launched.error();
  }
  return registry;
}

Status LocalRegistry::launch(bool* port_taken) {
  *port_taken = false;
  if (pid_ != 0) {
    return failedPrecondition("local registry: already running as pid " + std::to_string(pid_));
  }
  auto secret = randomHex(16);
  if (!secret) {
    return secret.error().wrap("local registry");
  }
  const std::string config = registryConfig(dir(), host(), *secret, options_);
  const std::string config_path = dir() + "/config.yml";
  CONTD_RETURN_IF_ERROR(writeFile(config_path, config));

  const std::string log_path = logPath();
  const std::streamoff log_start = fileSize(log_path);
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return sysError("open '" + log_path + "'", errno);
  }
  auto pid = spawnProcess(
      SpawnOptions{{"docker-registry", "serve", config_path}, log_fd, log_fd, SIGTERM});
  ::close(log_fd);
  if (!pid) {
    return pid.error().wrap("start local registry");
  }
  pid_ = *pid;

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (;;) {
    // Ours answers only once it logged that it listens: a registry of another test that
    // took the port meanwhile answers the probe too.
    if (auto status = probeRegistry(port_);
        status &&
        (*status == 200 ||
         ((options_.basic_auth || options_.token_auth.has_value()) && *status == 401)) &&
        readFrom(log_path, log_start).find("listening on " + host()) != std::string::npos) {
      return okStatus();
    }
    if (reapIfExited(pid_)) {
      pid_ = 0;
      const std::string output = readFrom(log_path, log_start);
      *port_taken = output.find("address already in use") != std::string::npos;
      return unavailable("local registry on " + host() +
                         " exited during start-up; its log ends with:\n" + logTail());
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)stop();
      return unavailable("local registry did not answer GET http://" + host() + "/v2/ within " +
                         std::to_string(options_.start_timeout.count()) +
                         " ms; its log ends with:\n" + logTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

LocalRegistry::~LocalRegistry() {
  if (Status s = stop(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
  if (Status s = dir_.remove(); !s) {
    std::cerr << "contd test support: " << s.error().message << "\n";
  }
}

std::string LocalRegistry::host() const {
  return std::string(kLoopback) + ":" + std::to_string(port_);
}

std::string LocalRegistry::logPath() const { return dir() + "/registry.log"; }

std::string LocalRegistry::logText() const { return readFrom(logPath(), 0); }

std::string LocalRegistry::logTail(std::size_t max_bytes) const {
  return testing::logTail(logPath(), max_bytes);
}

std::vector<std::string> LocalRegistry::blobGets(std::string_view repository) const {
  std::vector<std::string> digests;
  for (auto& get : parseBlobGets(logText(), repository)) {
    digests.push_back(std::move(get.digest));
  }
  return digests;
}

std::uint64_t LocalRegistry::blobBytesSent(std::string_view repository) const {
  std::uint64_t sum = 0;
  for (const auto& get : parseBlobGets(logText(), repository)) {
    sum += get.bytes;
  }
  return sum;
}

std::vector<std::string> LocalRegistry::awaitBlobGets(std::string_view repository,
                                                      std::size_t count,
                                                      std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto gets = blobGets(repository);
    if (gets.size() >= count || std::chrono::steady_clock::now() >= deadline) {
      return gets;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status LocalRegistry::push(const std::string& archive_path, const std::string& format,
                           const std::string& repo_and_tag, bool all_platforms) {
  if (format != "oci-archive" && format != "docker-archive") {
    return invalidArgument("local registry push: format '" + format +
                           "' is neither oci-archive nor docker-archive");
  }
  if (archive_path.find(':') != std::string::npos) {
    return invalidArgument("local registry push: archive path '" + archive_path +
                           "' has a ':', which skopeo would take for a separator");
  }
  // skopeo reads registries.conf (mirrors could send it elsewhere), registries.d
  // (signature storage), auth files and proxies from the environment: give it empty
  // configs of its own and no proxy, so that it talks to this registry and nothing else.
  const std::string skopeo_dir = dir() + "/skopeo";
  std::error_code ec;
  for (const char* sub : {"/registries.d", "/tmp", "/home"}) {
    std::filesystem::create_directories(skopeo_dir + sub, ec);
    if (ec) {
      return internalError("local registry push: create '" + skopeo_dir + sub +
                           "': " + ec.message());
    }
  }
  CONTD_RETURN_IF_ERROR(writeFile(skopeo_dir + "/registries.conf", ""));

  std::vector<std::string> argv = {"env"};
  for (const char* proxy : {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                            "all_proxy", "ALL_PROXY"}) {
    argv.insert(argv.end(), {"-u", proxy});
  }
  argv.insert(argv.end(),
              {"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1",
               "CONTAINERS_REGISTRIES_CONF=" + skopeo_dir + "/registries.conf",
               "HOME=" + skopeo_dir + "/home", "TMPDIR=" + skopeo_dir + "/tmp", "skopeo",
               "--insecure-policy", "--registries.d", skopeo_dir + "/registries.d", "--tmpdir",
               skopeo_dir + "/tmp", "copy", "--retry-times", "0", "--dest-tls-verify=false"});
  std::size_t creds_index = 0;
  if (options_.basic_auth || options_.token_auth) {
    argv.push_back("--dest-creds");
    creds_index = argv.size();
    argv.push_back(options_.user + ":" + options_.password);
  } else {
    argv.push_back("--dest-no-creds");
  }
  if (all_platforms) {
    argv.push_back("--all");
  }
  argv.push_back(format + ":" + archive_path);
  argv.push_back("docker://" + host() + "/" + repo_and_tag);

  auto result = runCommand(argv, std::chrono::seconds(120));
  if (creds_index != 0) {
    argv[creds_index] = options_.user + ":<password>";  // keep it out of messages
  }
  // Messages show the skopeo command, without the env settings in front.
  const auto skopeo = std::find(argv.begin(), argv.end(), "skopeo");
  const std::string command = describeCommand(std::vector<std::string>(skopeo, argv.end()));
  if (!result) {
    return result.error().wrap("local registry push: " + command);
  }
  if (!result->ok()) {
    return internalError("local registry push: " + command + " exited with " +
                         std::to_string(result->exit_code) + ": " + result->err);
  }
  return okStatus();
}

std::string LocalRegistry::blobPath(const std::string& digest) const {
  // Layout of the distribution registry's filesystem driver (registry/storage/paths.go).
  const std::string hex = digest.rfind("sha256:", 0) == 0 ? digest.substr(7) : digest;
  return dir() + "/storage/docker/registry/v2/blobs/sha256/" + hex.substr(0, 2) + "/" + hex +
         "/data";
}

Status LocalRegistry::stop() {
  if (pid_ == 0) {
    return okStatus();
  }
  bool killed = false;
  auto status = terminateChild(pid_, options_.stop_timeout, &killed);
  if (!status) {
    return status.error().wrap("stop local registry");
  }
  if (killed) {
    std::cerr << "contd test support: registry pid " << pid_ << " ignored SIGTERM for "
              << options_.stop_timeout.count() << " ms; sent SIGKILL\n";
  }
  pid_ = 0;
  return okStatus();
}

Status LocalRegistry::restart() {
  // The port may still be held for a moment, or been taken by someone else meanwhile:
  // retry for a few seconds, then give up with the last error.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    bool port_taken = false;
    Status launched = launch(&port_taken);
    if (launched || !port_taken || std::chrono::steady_clock::now() >= deadline) {
      return launched;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace contd::testing
