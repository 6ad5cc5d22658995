#include "modules/zbus/dispatcher.h"

#include <array>
#include <exception>
#include <string_view>
#include <vector>

namespace contd::zbus {
namespace {

using Inputs = std::vector<std::string>;

// The Go parameter type names zbus prints in "invalid argument type" errors.
constexpr std::string_view kGoString = "string";
constexpr std::string_view kGoContainerId = "pkg.ContainerID";
constexpr std::string_view kGoContainer = "pkg.Container";
constexpr std::string_view kGoDuration = "time.Duration";

// A method error as the Go stub reads it: an empty Message would read as success.
std::string methodMessage(const Error& error) {
  return error.message.empty() ? std::string("unknown error (") + std::string(codeName(error.code)) + ")"
                               : error.message;
}

template <typename T>
Result<T> argument(const Inputs& inputs, std::size_t i, Result<T> (*decode)(std::string_view),
                   std::string_view go_type) {
  auto value = decode(inputs[i]);
  if (!value) {
    return invalidArgument("invalid argument type [" + std::to_string(i) + "] expecting " +
                           std::string(go_type) + " got");
  }
  return value;
}

// Output of a method returning (T, error): Data is always present.
template <typename T>
Output valueOutput(const Result<T>& result, std::string (*encode)(const T&), const T& zero) {
  if (!result) {
    return Output{.data = encode(zero), .error = methodMessage(result.error())};
  }
  return Output{.data = encode(*result), .error = std::nullopt};
}

// Output of a method returning only error: Data is always nil.
Output errorOutput(const Status& status) {
  if (!status) {
    return Output{.data = std::nullopt, .error = methodMessage(status.error())};
  }
  return Output{};
}

std::string encodeStr(const std::string& value) { return encodeString(value); }

// Reads (ns string, id <id_type>) for the two-argument methods.
struct NsAndId {
  std::string ns;
  std::string id;
};
Result<NsAndId> nsAndId(const Inputs& inputs, std::string_view id_type) {
  auto ns = argument(inputs, 0, decodeString, kGoString);
  if (!ns) {
    return ns.error();
  }
  auto id = argument(inputs, 1, decodeString, id_type);
  if (!id) {
    return id.error();
  }
  return NsAndId{std::move(*ns), std::move(*id)};
}

using Handler = Result<Output> (*)(ContainerModule&, const Inputs&);

struct Method {
  std::string_view name;
  std::size_t fixed;  // number of fixed parameters
  bool variadic;      // a trailing ...string
  Handler call;
};

Result<Output> callRun(ContainerModule& module, const Inputs& inputs) {
  auto ns = argument(inputs, 0, decodeString, kGoString);
  if (!ns) {
    return ns.error();
  }
  auto data = argument(inputs, 1, decodeContainer, kGoContainer);
  if (!data) {
    return data.error();
  }
  return valueOutput<std::string>(module.run(*ns, *data), encodeStr, "");
}

Result<Output> callExec(ContainerModule& module, const Inputs& inputs) {
  auto ns = argument(inputs, 0, decodeString, kGoString);
  if (!ns) {
    return ns.error();
  }
  auto id = argument(inputs, 1, decodeString, kGoString);
  if (!id) {
    return id.error();
  }
  auto timeout = argument(inputs, 2, decodeDuration, kGoDuration);
  if (!timeout) {
    return timeout.error();
  }
  std::vector<std::string> args;
  for (std::size_t i = 3; i < inputs.size(); ++i) {
    auto word = decodeString(inputs[i]);
    if (!word) {
      // zbus numbers a variadic element by its position plus the fixed parameter count.
      return invalidArgument("invalid argument type [" + std::to_string(i + 3) +
                             "] expecting string");
    }
    args.push_back(std::move(*word));
  }
  return errorOutput(module.exec(*ns, *id, *timeout, args));
}

Result<Output> callListNS(ContainerModule& module, const Inputs& /*inputs*/) {
  return valueOutput<GoSlice<std::string>>(module.listNS(), encodeStringSlice, std::nullopt);
}

Result<Output> callList(ContainerModule& module, const Inputs& inputs) {
  auto ns = argument(inputs, 0, decodeString, kGoString);
  if (!ns) {
    return ns.error();
  }
  return valueOutput<GoSlice<std::string>>(module.list(*ns), encodeStringSlice, std::nullopt);
}

Result<Output> callInspect(ContainerModule& module, const Inputs& inputs) {
  auto args = nsAndId(inputs, kGoContainerId);
  if (!args) {
    return args.error();
  }
  return valueOutput<Container>(module.inspect(args->ns, args->id), encodeContainer, Container{});
}

Result<Output> callSignalDelete(ContainerModule& module, const Inputs& inputs) {
  auto args = nsAndId(inputs, kGoContainerId);
  if (!args) {
    return args.error();
  }
  return errorOutput(module.signalDelete(args->ns, args->id));
}

Result<Output> callDelete(ContainerModule& module, const Inputs& inputs) {
  auto args = nsAndId(inputs, kGoContainerId);
  if (!args) {
    return args.error();
  }
  return errorOutput(module.remove(args->ns, args->id));
}

Result<Output> callLogs(ContainerModule& module, const Inputs& inputs) {
  auto args = nsAndId(inputs, kGoString);
  if (!args) {
    return args.error();
  }
  return valueOutput<std::string>(module.logs(args->ns, args->id), encodeStr, "");
}

// Exactly the eight methods of zosbase's pkg.ContainerModule.
constexpr std::array<Method, 8> kMethods = {{
    {"Run", 2, false, callRun},
    {"Exec", 3, true, callExec},
    {"ListNS", 0, false, callListNS},
    {"List", 1, false, callList},
    {"Inspect", 2, false, callInspect},
    {"SignalDelete", 2, false, callSignalDelete},
    {"Delete", 2, false, callDelete},
    {"Logs", 2, false, callLogs},
}};

Response protocolError(const Request& request, std::string message) {
  return Response{.id = request.id, .output = Output{}, .error = std::move(message)};
}

}  // namespace

std::string Dispatcher::action(const Request& request) {
  return "[" + request.object.toString() + "]." + request.method + "()";
}

Response Dispatcher::handle(const Request& request) {
  if (request.object != object()) {
    return protocolError(request, "unknown object");
  }
  const Method* method = nullptr;
  for (const auto& candidate : kMethods) {
    if (candidate.name == request.method) {
      method = &candidate;
    }
  }
  if (method == nullptr) {
    return protocolError(request, "not a function");
  }
  const std::size_t got = request.inputs.size();
  if (method->variadic ? got < method->fixed : got != method->fixed) {
    return protocolError(request, "invalid number of arguments expecting " +
                                      std::to_string(method->fixed) + " got " +
                                      std::to_string(got));
  }
  try {
    auto output = method->call(module_, request.inputs);
    if (!output) {
      return protocolError(request, output.error().message);
    }
    return Response{.id = request.id, .output = std::move(*output), .error = std::nullopt};
  } catch (const std::exception& e) {
    // Go's server turns a panic into this protocol error; the worker lives on.
    return protocolError(request, "remote method call " + object().toString() + "." +
                                      request.method + "() paniced: " + e.what());
  }
}

}  // namespace contd::zbus
