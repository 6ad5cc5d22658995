#pragma once
// The zbus server's dispatch of one request to object container@0.0.1, as zbus v1.0.1 does
// it (docs/zbus-wire.md section 2.5), producing the Response to push to ReplyTo:
//   - an Object other than container@0.0.1: protocol error "unknown object";
//   - a Method other than the eight of pkg.ContainerModule: "not a function";
//   - a wrong number of Inputs: "invalid number of arguments expecting N got M";
//   - an Input that does not decode: "invalid argument type [i] expecting <Go type> got"
//     (variadic elements: "invalid argument type [k] expecting string", k = i + 3);
//   - an exception thrown by a method: "remote method call container@0.0.1.<M>() paniced: ..".
// Method failures become Output.Error (never empty) with Data as Go gives it: the encoded
// zero value for value-returning methods, nil for error-only ones.
//
// Thread-safety: handle() may run on many threads at once (as the module allows).

#include <string>

#include "modules/zbus/codec.h"
#include "modules/zbus/container_module.h"

namespace contd::zbus {

inline constexpr char kModuleName[] = "container";
inline constexpr char kObjectName[] = "container";
inline constexpr char kObjectVersion[] = "0.0.1";

class Dispatcher {
public:
  explicit Dispatcher(ContainerModule& module) : module_(module) {}

  // container@0.0.1
  static ObjectId object() { return ObjectId{kObjectName, kObjectVersion}; }
  // The status object's Action of a worker serving `request`: "[container@0.0.1].Run()".
  static std::string action(const Request& request);

  Response handle(const Request& request);

private:
  ContainerModule& module_;
};

}  // namespace contd::zbus
