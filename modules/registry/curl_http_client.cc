// CurlHttpClient: one HTTP request per send() over libcurl's easy interface.
//
// Reuse: DNS answers and TLS sessions live in a curl share handle, which libcurl locks
// through our callbacks. Connections do not: libcurl documents a shared connection cache as
// unsafe between concurrent threads (KNOWN_BUGS, "A shared connection cache is not
// thread-safe"). Instead idle easy handles wait in a small pool, each keeping its own
// connections; send() takes one (curl_easy_reset keeps connections and caches), so a
// connection is only ever used by the thread that holds its handle.

#include "modules/registry/curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "modules/common/logging.h"

namespace contd::registry {
namespace {

constexpr std::size_t kMaxKeptBody = 4 << 20;
constexpr std::size_t kMaxIdleHandles = 8;
constexpr long kMaxRedirects = 5;
constexpr long kStallBytesPerSecond = 1024;

std::once_flag global_init_once;
CURLcode global_init_result = CURLE_OK;

// What a URL may show in a message or a log line: no user:password@, no query (presigned
// blob URLs and token requests carry secrets there).
std::string redactUrl(std::string_view url) {
  std::string_view rest = url.substr(0, url.find_first_of("?#"));
  std::string out;
  if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    out = std::string(rest.substr(0, scheme_end + 3));
    rest = rest.substr(scheme_end + 3);
    const auto authority_end = std::min(rest.find('/'), rest.size());
    if (const auto at = rest.substr(0, authority_end).rfind('@'); at != std::string_view::npos) {
      rest = rest.substr(at + 1);
    }
  }
  return out + std::string(rest);
}

std::string trim(std::string_view text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) {
    return {};
  }
  const auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

Code codeFor(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Code::kDeadlineExceeded;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Code::kInvalidArgument;
    case CURLE_OUT_OF_MEMORY:
    case CURLE_FAILED_INIT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return Code::kInternal;
    default:
      // Resolve, connect, send, receive, TLS, too many redirects, a broken answer: the
      // registry (or the way to it) is the trouble.
      return Code::kUnavailable;
  }
}

// The host[:port] of a URL ("https://127.0.0.1:5000/v2/" -> "127.0.0.1:5000").
std::string urlHost(std::string_view url) {
  const auto scheme_end = url.find("://");
  std::string_view rest = scheme_end == std::string_view::npos ? url : url.substr(scheme_end + 3);
  rest = rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    rest = rest.substr(at + 1);
  }
  return std::string(rest);
}

}  // namespace

std::optional<Error> plainHttpAnswer(bool tls_connect_failed, std::string_view detail,
                                     std::string_view url) {
  // OpenSSL reads a plain HTTP answer ("HTTP/1.0 400 ...") as a TLS record of an unknown
  // version: "wrong version number" (OpenSSL 1.1 and 3), "packet length too long" (older).
  if (!tls_connect_failed ||
      (detail.find("wrong version number") == std::string_view::npos &&
       detail.find("packet length too long") == std::string_view::npos)) {
    return std::nullopt;
  }
  return failedPrecondition("registry '" + urlHost(url) +
                            "' answered in plain HTTP; pull with --plain-http (contctl) / "
                            "plain_http (API) if it is meant to (TLS: " +
                            std::string(detail) + ")");
}

namespace {

// One transfer's state, shared with the callbacks.
struct Transfer {
  const BodySink* sink = nullptr;
  HttpResponse response;
  std::optional<Error> sink_error;

  bool success() const { return response.status >= 200 && response.status < 300; }
};

std::size_t onHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (after a redirect or a 100 Continue): start the answer afresh.
    transfer->response.headers.clear();
    transfer->response.body.clear();
    const auto space = line.find(' ');
    transfer->response.status =
        space == std::string_view::npos ? 0 : std::strtol(line.data() + space + 1, nullptr, 10);
    return line.size();
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos && colon > 0) {
    std::string name(line.substr(0, colon));
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    transfer->response.headers[name] = trim(line.substr(colon + 1));
  }
  return line.size();
}

std::size_t onBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view chunk(data, size * count);
  if (transfer->success() && transfer->sink != nullptr) {
    if (auto status = (*transfer->sink)(chunk); !status) {
      transfer->sink_error = status.error();
      return CURL_WRITEFUNC_ERROR;
    }
    return chunk.size();
  }
  std::string& body = transfer->response.body;
  if (body.size() < kMaxKeptBody) {
    body.append(chunk.substr(0, kMaxKeptBody - body.size()));
  }
  return chunk.size();
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

}  // namespace

struct CurlHttpClient::Shared {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;
  std::mutex idle_mutex;
  std::vector<CURL*> idle;  // easy handles between two send()s, connections kept open

  ~Shared() {
    for (CURL* handle : idle) {
      curl_easy_cleanup(handle);
    }
    if (share != nullptr) {
      curl_share_cleanup(share);
    }
  }

  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Shared*>(user)->locks.at(data).lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Shared*>(user)->locks.at(data).unlock();
  }

  CURL* take() {
    {
      std::lock_guard lock(idle_mutex);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        curl_easy_reset(handle);
        return handle;
      }
    }
    return curl_easy_init();
  }

  void giveBack(CURL* handle) {
    {
      std::lock_guard lock(idle_mutex);
      if (idle.size() < kMaxIdleHandles) {
        idle.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }
};

Result<std::shared_ptr<CurlHttpClient>> CurlHttpClient::create(Options options) {
  std::call_once(global_init_once, [] { global_init_result = curl_global_init(CURL_GLOBAL_ALL); });
  if (global_init_result != CURLE_OK) {
    return internalError(std::string("curl_global_init: ") +
                         curl_easy_strerror(global_init_result));
  }
  auto shared = std::make_unique<Shared>();
  shared->share = curl_share_init();
  if (shared->share == nullptr) {
    return internalError("curl_share_init failed");
  }
  for (const curl_lock_data data : {CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION}) {
    if (const CURLSHcode code = curl_share_setopt(shared->share, CURLSHOPT_SHARE, data);
        code != CURLSHE_OK) {
      return internalError(std::string("curl_share_setopt(SHARE): ") + curl_share_strerror(code));
    }
  }
  curl_share_setopt(shared->share, CURLSHOPT_USERDATA, shared.get());
  curl_share_setopt(shared->share, CURLSHOPT_LOCKFUNC, &Shared::lock);
  curl_share_setopt(shared->share, CURLSHOPT_UNLOCKFUNC, &Shared::unlock);
  return std::shared_ptr<CurlHttpClient>(new CurlHttpClient(std::move(options), std::move(shared)));
}

CurlHttpClient::CurlHttpClient(Options options, std::unique_ptr<Shared> shared)
    : options_(std::move(options)), shared_(std::move(shared)) {}

CurlHttpClient::~CurlHttpClient() = default;

Result<HttpResponse> CurlHttpClient::send(const HttpRequest& request, const BodySink* sink) {
  const std::string what = request.method + " " + redactUrl(request.url);
  if (request.method != "GET" && request.method != "HEAD") {
    return invalidArgument(what + ": only GET and HEAD are supported");
  }
  CURL* handle = shared_->take();
  if (handle == nullptr) {
    return internalError(what + ": curl_easy_init failed");
  }
  Slist headers;
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    curl_slist* appended = curl_slist_append(headers.get(), line.c_str());
    if (appended == nullptr) {
      shared_->giveBack(handle);
      return internalError(what + ": curl_slist_append failed");
    }
    headers.release();
    headers.reset(appended);
  }

  Transfer transfer;
  transfer.sink = sink;
  char errbuf[CURL_ERROR_SIZE] = {};
  const long stall_seconds =
      std::max<long>(1, static_cast<long>((options_.stall_timeout.count() + 999) / 1000));
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_SHARE, shared_->share);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, kStallBytesPerSecond);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, stall_seconds);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &onHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &onBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  }

  const CURLcode code = curl_easy_perform(handle);
  std::string where = what;
  long redirects = 0;
  char* effective = nullptr;
  if (curl_easy_getinfo(handle, CURLINFO_REDIRECT_COUNT, &redirects) == CURLE_OK && redirects > 0 &&
      curl_easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK &&
      effective != nullptr) {
    where += " (redirected to " + redactUrl(effective) + ")";
  }
  // Nothing may point into this frame once the handle waits in the pool.
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
  shared_->giveBack(handle);

  if (transfer.sink_error) {
    return *transfer.sink_error;
  }
  if (code != CURLE_OK) {
    // The error buffer has the details (and usually ends with curl_easy_strerror's text).
    const std::string detail = errbuf[0] != '\0' ? trim(errbuf) : curl_easy_strerror(code);
    log::contd()->debug("http request={} failed curl={}", where, static_cast<int>(code));
    if (auto plain = plainHttpAnswer(code == CURLE_SSL_CONNECT_ERROR, detail, request.url)) {
      return *plain;
    }
    return makeError(codeFor(code), where + ": " + detail);
  }
  log::contd()->debug("http request={} status={}", where, transfer.response.status);
  return std::move(transfer.response);
}

}  // namespace contd::registry
