// Dispatch and zosbase semantics: every vector request, fed through Dispatcher and
// ContainerModule over a scripted backend returning the vector's values, gives the
// vector's response byte for byte; protocol errors and malformed inputs as the Go server.

#include "modules/zbus/dispatcher.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "modules/container/command_line.h"
#include "tests/unit/zbus/vectors.h"

namespace contd::zbus {
namespace {

using nlohmann::json;
using testing::readVector;
using testing::toHex;
using testing::vectorEntry;

// Returns what a test put in, records what it was asked.
class ScriptedBackend : public ContainerBackend {
public:
  Result<std::string> run(std::string_view ns, const container::ContainerSpec& spec) override {
    calls.push_back("run " + std::string(ns));
    last_spec = spec;
    return std::string(spec.name);
  }
  Result<ContainerView> inspect(std::string_view ns, std::string_view id) override {
    calls.push_back("inspect " + std::string(ns) + " " + std::string(id));
    return inspect_result;
  }
  Status remove(std::string_view ns, std::string_view id) override {
    calls.push_back("remove " + std::string(ns) + " " + std::string(id));
    return remove_result;
  }
  Status signalDelete(std::string_view ns, std::string_view id) override {
    calls.push_back("signalDelete " + std::string(ns) + " " + std::string(id));
    return okStatus();
  }
  Result<std::vector<std::string>> list(std::string_view ns) override {
    calls.push_back("list " + std::string(ns));
    return list_result;
  }
  Result<std::vector<std::string>> listNamespaces() override {
    calls.push_back("listNamespaces");
    return namespaces_result;
  }
  Status exec(std::string_view ns, std::string_view id, std::chrono::nanoseconds timeout,
              const std::vector<std::string>& args) override {
    std::string call = "exec " + std::string(ns) + " " + std::string(id) + " " +
                       std::to_string(timeout.count());
    for (const auto& arg : args) {
      call += " " + arg;
    }
    calls.push_back(call);
    if (throw_in_exec) {
      throw std::runtime_error("boom");
    }
    return okStatus();
  }
  Result<std::string> logsTail(std::string_view ns, std::string_view id,
                               std::size_t lines) override {
    calls.push_back("logs " + std::string(ns) + " " + std::string(id) + " " +
                    std::to_string(lines));
    return logs_result;
  }

  std::vector<std::string> calls;
  container::ContainerSpec last_spec;
  Result<ContainerView> inspect_result = ContainerView{};
  Status remove_result = okStatus();
  Result<std::vector<std::string>> list_result = std::vector<std::string>{};
  Result<std::vector<std::string>> namespaces_result = std::vector<std::string>{};
  Result<std::string> logs_result = std::string();
  bool throw_in_exec = false;
};

class DispatcherVectors : public ::testing::Test {
protected:
  // Primes the backend with the values the vector's response carries.
  void prime(const std::string& name) {
    const json& response = vectorEntry(name, "response");
    const json& output = response.at("decoded").at("Output");
    std::optional<std::string> message;
    if (!output.at("Error").is_null()) {
      message = output.at("Error").at("Message").get<std::string>();
    }
    const json* data = nullptr;
    if (response.contains("parts") && !response.at("parts").is_null()) {
      data = &response.at("parts")[0].at("decoded");
    }
    if (message) {
      backend_.inspect_result = notFound(*message);
      backend_.remove_result = notFound(*message);
      backend_.list_result = notFound(*message);
      backend_.namespaces_result = notFound(*message);
      backend_.logs_result = notFound(*message);
      return;
    }
    if (data == nullptr) {
      return;
    }
    if (data->is_string()) {
      backend_.logs_result = data->get<std::string>();
    } else if (data->is_array()) {
      backend_.list_result = data->get<std::vector<std::string>>();
      backend_.namespaces_result = data->get<std::vector<std::string>>();
    } else if (data->is_object() && data->contains("RootFS")) {
      backend_.inspect_result = viewFor(testing::containerFromJson(*data));
    }
  }

  // A view that ContainerModule turns back into `c`: with the mounts zosbase hides.
  static ContainerView viewFor(const Container& c) {
    ContainerView view;
    view.name = c.name;
    view.rootfs = c.root_fs;
    view.process_env = c.env.value_or(std::vector<std::string>{});
    view.process_args = *container::splitCommandLine(c.entrypoint);
    view.interactive = c.interactive;
    view.mounts = {{"proc", "/proc", "proc"},        {"tmpfs", "/dev", "tmpfs"},
                   {"devpts", "/dev/pts", "devpts"}, {"shm", "/dev/shm", "tmpfs"},
                   {"mqueue", "/dev/mqueue", "mqueue"}, {"sysfs", "/sys", "sysfs"}};
    for (const auto& m : c.mounts.value_or(std::vector<MountInfo>{})) {
      view.mounts.push_back({m.source, m.target, "bind"});
    }
    view.netns_path = "/var/run/netns/" + c.network_namespace;
    view.created_at = c.created_at.secs * 1'000'000'000LL + c.created_at.nsec;
    return view;
  }

  std::string dispatch(const std::string& request_bytes) {
    auto request = decodeRequest(request_bytes);
    EXPECT_TRUE(request) << request.error().message;
    return encodeResponse(dispatcher_.handle(*request));
  }

  ScriptedBackend backend_;
  ContainerModule module_{backend_};
  Dispatcher dispatcher_{module_};
};

TEST_F(DispatcherVectors, EveryResponseIsByteIdentical) {
  CONTD_REQUIRE_VECTORS();
  std::size_t compared = 0;
  for (const auto& name : testing::pairedVectorNames()) {
    if (name == "status") {
      continue;  // served by the server loop; see ZbusCodec.StatusFromTheVectorsValues
    }
    SCOPED_TRACE(name);
    backend_ = ScriptedBackend{};
    prime(name);
    const std::string request = readVector(vectorEntry(name, "request").at("file").get<std::string>());
    std::string expected = readVector(vectorEntry(name, "response").at("file").get<std::string>());
    if (name == "proto_bad_argtype") {
      // The vectors' mirror server lives in package main; contd names zosbase's pkg.Container.
      auto response = decodeResponse(expected);
      ASSERT_TRUE(response);
      ASSERT_EQ(*response->error, "invalid argument type [1] expecting main.Container got");
      response->error = "invalid argument type [1] expecting pkg.Container got";
      expected = encodeResponse(*response);
    }
    EXPECT_EQ(toHex(dispatch(request)), toHex(expected));
    ++compared;
  }
  EXPECT_GE(compared, 18U);
}

TEST_F(DispatcherVectors, RequestsBecomeTheExpectedCalls) {
  CONTD_REQUIRE_VECTORS();
  auto calls = [&](const std::string& name) {
    backend_ = ScriptedBackend{};
    prime(name);
    dispatch(readVector(name + ".request.msgpack"));
    return backend_.calls;
  };
  EXPECT_EQ(calls("exec"), std::vector<std::string>{
                               "exec zbus-test zdb-0fa1 5000000000 redis-cli -p 9900 NSLIST"});
  EXPECT_EQ(calls("inspect"), std::vector<std::string>{"inspect zbus-test zdb-0fa1"});
  EXPECT_EQ(calls("list_empty"), std::vector<std::string>{"list nothing-here"});
  EXPECT_EQ(calls("listns"), std::vector<std::string>{"listNamespaces"});
  EXPECT_EQ(calls("logs"), std::vector<std::string>{"logs zbus-test zdb-0fa1 100"});
  EXPECT_EQ(calls("signaldelete"), std::vector<std::string>{"signalDelete zbus-test zdb-0fa1"});
  EXPECT_EQ(calls("delete"), std::vector<std::string>{"remove zbus-test zdb-0fa1"});
  EXPECT_TRUE(calls("list_error").empty());  // List("") never reaches the core
  EXPECT_TRUE(calls("run_error").empty());   // zosbase's checks come first
  EXPECT_TRUE(calls("proto_unknown_method").empty());
  EXPECT_TRUE(calls("proto_bad_argcount").empty());
  EXPECT_TRUE(calls("proto_bad_argtype").empty());
  EXPECT_TRUE(calls("proto_unknown_object").empty());

  // Run: every field of the Go Container lands in the spec.
  EXPECT_EQ(calls("run"), std::vector<std::string>{"run zbus-test"});
  const auto& spec = backend_.last_spec;
  EXPECT_EQ(spec.name, "zdb-0fa1");
  EXPECT_EQ(spec.rootfs, "/var/cache/modules/flistd/mountpoint/zdb-0fa1");
  EXPECT_EQ(spec.network_namespace, "zdb-ns-0fa1");
  EXPECT_EQ(spec.working_dir, "/data");
  EXPECT_EQ(spec.env.size(), 3U);
  ASSERT_EQ(spec.mounts.size(), 2U);
  EXPECT_EQ(spec.mounts[1].source, "/var/run/zdb_zdb-0fa1");
  EXPECT_EQ(spec.mounts[1].target, "/socket");
  EXPECT_EQ(spec.cpu, 2U);
  EXPECT_EQ(spec.memory_bytes, 0x10000000U);
  EXPECT_TRUE(spec.elevated);
  EXPECT_TRUE(spec.interactive);
  EXPECT_EQ(spec.rootfs_propagation, "rshared");
  EXPECT_EQ(spec.shutdown_timeout, std::chrono::seconds(20));
}

Request request(std::string method, std::vector<std::string> inputs) {
  return Request{.id = "id-1",
                 .inputs = std::move(inputs),
                 .object = Dispatcher::object(),
                 .reply_to = "id-1",
                 .method = std::move(method)};
}

class DispatcherTest : public DispatcherVectors {};

TEST_F(DispatcherTest, RunAppliesZosbaseDefaultsAndChecksInOrder) {
  Container c;
  c.name = "web";
  c.entrypoint = "/bin/sh -c 'sleep 1'";
  auto error = [&](const Container& data) {
    auto r = dispatcher_.handle(request("Run", {encodeString("ns"), encodeContainer(data)}));
    EXPECT_FALSE(r.error);
    EXPECT_EQ(r.output.data, encodeString(""));
    return r.output.error.value_or("");
  };
  EXPECT_EQ(error(c), "RootFS of the container creation data cannot be empty");
  c.root_fs = "/rootfs";
  EXPECT_EQ(error(c), "cannot create container without network namespace");
  c.network_namespace = "netns";
  c.entrypoint = "";
  EXPECT_EQ(error(c), "invalid entrypoint definition ''");
  c.entrypoint = "/bin/sh 'unterminated";
  EXPECT_EQ(error(c), "invalid entrypoint definition '/bin/sh 'unterminated'");
  // A caller's text is escaped and cut, never echoed whole.
  c.entrypoint = "/bin/sh '\n" + std::string(1 << 20, 'x');
  EXPECT_EQ(error(c), "invalid entrypoint definition '/bin/sh '\\x0a" + std::string(246, 'x') +
                          "...'");
  c.entrypoint = "/bin/sh";
  auto ok = dispatcher_.handle(request("Run", {encodeString("ns"), encodeContainer(c)}));
  EXPECT_EQ(ok.output, (Output{.data = encodeString("web"), .error = std::nullopt}));
  EXPECT_EQ(backend_.last_spec.cpu, 1U);
  EXPECT_EQ(backend_.last_spec.memory_bytes, 256ULL << 20);  // not zosbase's 256*1024*1204
  EXPECT_EQ(backend_.last_spec.shutdown_timeout, std::chrono::seconds(3));
  EXPECT_EQ(backend_.last_spec.network_namespace, "netns");
}

TEST_F(DispatcherTest, InspectShowsOnlyWhatZosbaseFills) {
  ContainerView view;
  view.name = "web";
  view.rootfs = "/rootfs";
  view.process_env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=b"};
  view.process_args = {"/bin/sh", "-c", "sleep 1"};
  view.mounts = {{"proc", "/proc", "proc"},
                 {"cgroup", "/sys/fs/cgroup", "cgroup"},
                 {"/etc/resolv.conf", "/etc/resolv.conf", "bind"},
                 {"/srv/data", "/data", "bind"}};
  view.netns_path = "/var/run/netns/zdb-ns";
  view.created_at = 1'700'000'000'123'456'789;
  backend_.inspect_result = view;
  auto r = dispatcher_.handle(request("Inspect", {encodeString("ns"), encodeString("web")}));
  ASSERT_FALSE(r.output.error);
  auto c = decodeContainer(*r.output.data);
  ASSERT_TRUE(c);
  Container expected;
  expected.name = "web";
  expected.root_fs = "/rootfs";
  expected.env = view.process_env;
  expected.entrypoint = "/bin/sh -c sleep 1";  // joined with spaces: quoting is lost
  expected.mounts = std::vector<MountInfo>{{"cgroup", "/sys/fs/cgroup"},
                                           {"/etc/resolv.conf", "/etc/resolv.conf"},
                                           {"/srv/data", "/data"}};
  expected.network_namespace = "zdb-ns";
  expected.created_at = GoTime{1'700'000'000, 123'456'789};
  EXPECT_EQ(*c, expected);
}

TEST_F(DispatcherTest, ListOfAnEmptyNamespaceIsAnEmptyArrayAndListNSOfNoneIsNil) {
  backend_.list_result = std::vector<std::string>{};
  auto list = dispatcher_.handle(request("List", {encodeString("ns")}));
  EXPECT_EQ(toHex(*list.output.data), "90");
  backend_.namespaces_result = std::vector<std::string>{};
  auto listns = dispatcher_.handle(request("ListNS", {}));
  EXPECT_EQ(toHex(*listns.output.data), "c0");
}

TEST_F(DispatcherTest, ProtocolErrorsAsTheGoServer) {
  auto error = [&](const Request& r) { return dispatcher_.handle(r).error.value_or("(none)"); };
  EXPECT_EQ(error(request("Exists", {})), "not a function");
  EXPECT_EQ(error(request("run", {})), "not a function");  // case-sensitive
  EXPECT_EQ(error(request("Watch", {})), "not a function");
  EXPECT_EQ(error(request("List", {})), "invalid number of arguments expecting 1 got 0");
  EXPECT_EQ(error(request("ListNS", {encodeString("x")})),
            "invalid number of arguments expecting 0 got 1");
  EXPECT_EQ(error(request("Exec", {encodeString("a"), encodeString("b")})),
            "invalid number of arguments expecting 3 got 2");
  EXPECT_EQ(error(request("List", {encodeDuration(5)})),
            "invalid argument type [0] expecting string got");
  EXPECT_EQ(error(request("Inspect", {encodeString("ns"), "\x91\x01"})),
            "invalid argument type [1] expecting pkg.ContainerID got");
  EXPECT_EQ(error(request("Logs", {encodeString("ns"), "\x01"})),
            "invalid argument type [1] expecting string got");
  EXPECT_EQ(error(request("Exec", {encodeString("ns"), encodeString("id"), encodeString("5s")})),
            "invalid argument type [2] expecting time.Duration got");
  EXPECT_EQ(error(request("Run", {encodeString("ns"), ""})),
            "invalid argument type [1] expecting pkg.Container got");
  // A variadic element: its position in Inputs plus the fixed parameter count, no "got".
  EXPECT_EQ(error(request("Exec", {encodeString("ns"), encodeString("id"), encodeDuration(1),
                                   encodeString("ok"), "\x01"})),
            "invalid argument type [7] expecting string");
  Request other = request("List", {encodeString("ns")});
  other.object.version = "0.0.2";
  EXPECT_EQ(error(other), "unknown object");
  // Protocol errors leave Output {nil, nil}.
  EXPECT_EQ(dispatcher_.handle(request("Exists", {})).output, Output{});
}

TEST_F(DispatcherTest, AnExceptionBecomesThePanicErrorAndNothingElse) {
  backend_.throw_in_exec = true;
  auto r = dispatcher_.handle(
      request("Exec", {encodeString("ns"), encodeString("id"), encodeDuration(1)}));
  EXPECT_EQ(r.error, "remote method call container@0.0.1.Exec() paniced: boom");
}

TEST_F(DispatcherTest, MethodErrorsAreNeverEmpty) {
  backend_.remove_result = Error{Code::kInternal, ""};
  auto r = dispatcher_.handle(request("Delete", {encodeString("ns"), encodeString("id")}));
  ASSERT_TRUE(r.output.error);
  EXPECT_FALSE(r.output.error->empty());
  EXPECT_FALSE(r.error);
}

TEST_F(DispatcherTest, ActionNamesTheObjectAndMethod) {
  EXPECT_EQ(Dispatcher::action(request("Run", {})), "[container@0.0.1].Run()");
}

}  // namespace
}  // namespace contd::zbus
