// The zbus envelopes (Request, Response with its Output) and the server status object.
#include "modules/zbus/codec.h"

#include <array>

#include "modules/zbus/msgpack_io.h"

namespace contd::zbus {

using namespace msgpack_io;

namespace {

void writeObjectId(Writer& w, const ObjectId& id) {
  w.map(2);
  w.str("Name");
  w.str(id.name);
  w.str("Version");
  w.str(id.version);
}

Status getObjectId(const Obj& o, ObjectId& out) {
  static const std::array<FieldDef<ObjectId>, 2> kFields = {{
      {"Name", [](const Obj& v, ObjectId& id) { return getString(v, id.name); }},
      {"Version", [](const Obj& v, ObjectId& id) { return getString(v, id.version); }},
  }};
  return getStruct(o, out, kFields);
}

// [][]byte: every element bin or str (Go accepts both for []byte), nil an empty input.
Status getInputs(const Obj& o, std::vector<std::string>& out) {
  GoSlice<std::string> inputs;
  CONTD_RETURN_IF_ERROR(getSlice<std::string>(o, inputs, getString));
  out = inputs ? std::move(*inputs) : std::vector<std::string>{};
  return okStatus();
}

Status getOutputError(const Obj& o, std::optional<std::string>& out) {
  if (o.type == msgpack::type::NIL) {
    out.reset();
    return okStatus();
  }
  static const std::array<FieldDef<std::string>, 1> kFields = {{
      {"Message", [](const Obj& v, std::string& m) { return getString(v, m); }},
  }};
  std::string message;
  CONTD_RETURN_IF_ERROR(getStruct(o, message, kFields));
  out = std::move(message);
  return okStatus();
}

Status getOutput(const Obj& o, Output& out) {
  static const std::array<FieldDef<Output>, 2> kFields = {{
      {"Data", [](const Obj& v, Output& x) { return getOptionalBytes(v, x.data); }},
      {"Error", [](const Obj& v, Output& x) { return getOutputError(v, x.error); }},
  }};
  return getStruct(o, out, kFields);
}

Status getWorker(const Obj& o, WorkerStatus& out) {
  static const std::array<FieldDef<WorkerStatus>, 3> kFields = {{
      {"State", [](const Obj& v, WorkerStatus& w) { return getString(v, w.state); }},
      {"StartTime", [](const Obj& v, WorkerStatus& w) { return getTime(v, w.start_time); }},
      {"Action", [](const Obj& v, WorkerStatus& w) { return getString(v, w.action); }},
  }};
  return getStruct(o, out, kFields);
}

}  // namespace

std::string ObjectId::toString() const { return version.empty() ? name : name + "@" + version; }

std::string encodeStatus(const ServerStatus& value) {
  Writer w;
  w.map(2);
  w.str("Objects");
  w.array(value.objects.size());
  for (const auto& object : value.objects) {
    writeObjectId(w, object);
  }
  w.str("Workers");
  w.array(value.workers.size());
  for (const auto& worker : value.workers) {
    w.map(3);
    w.str("State");
    w.str(worker.state);
    w.str("StartTime");
    w.time(worker.start_time);
    w.str("Action");
    w.str(worker.action);
  }
  return w.take();
}

std::string encodeRequest(const Request& value) {
  Writer w;
  w.map(5);
  w.str("ID");
  w.str(value.id);
  w.str("Inputs");
  w.array(value.inputs.size());
  for (const auto& input : value.inputs) {
    w.bin(input);
  }
  w.str("Object");
  writeObjectId(w, value.object);
  w.str("ReplyTo");
  w.str(value.reply_to);
  w.str("Method");
  w.str(value.method);
  return w.take();
}

std::string encodeResponse(const Response& value) {
  Writer w;
  w.map(3);
  w.str("ID");
  w.str(value.id);
  w.str("Output");
  w.map(2);
  w.str("Data");
  if (value.output.data) {
    w.bin(*value.output.data);
  } else {
    w.nil();
  }
  w.str("Error");
  if (value.output.error) {
    w.map(1);
    w.str("Message");
    w.str(*value.output.error);
  } else {
    w.nil();
  }
  w.str("Error");
  if (value.error) {
    w.str(*value.error);
  } else {
    w.nil();
  }
  return w.take();
}

Result<ServerStatus> decodeStatus(std::string_view bytes) {
  return decodeWith<ServerStatus>(bytes, [](const Obj& o, ServerStatus& out) {
    static const std::array<FieldDef<ServerStatus>, 2> kFields = {{
        {"Objects",
         [](const Obj& v, ServerStatus& s) -> Status {
           GoSlice<ObjectId> objects;
           CONTD_RETURN_IF_ERROR(getSlice<ObjectId>(v, objects, getObjectId));
           s.objects = objects.value_or(std::vector<ObjectId>{});
           return okStatus();
         }},
        {"Workers",
         [](const Obj& v, ServerStatus& s) -> Status {
           GoSlice<WorkerStatus> workers;
           CONTD_RETURN_IF_ERROR(getSlice<WorkerStatus>(v, workers, getWorker));
           s.workers = workers.value_or(std::vector<WorkerStatus>{});
           return okStatus();
         }},
    }};
    return getStruct(o, out, kFields);
  });
}

Result<Request> decodeRequest(std::string_view bytes) {
  return decodeWith<Request>(bytes, [](const Obj& o, Request& out) {
    // A request that is not a map (or array) at all has no trustworthy ReplyTo.
    if (o.type != msgpack::type::MAP && o.type != msgpack::type::ARRAY) {
      return Status(unexpected(o, "map (request)"));
    }
    static const std::array<FieldDef<Request>, 5> kFields = {{
        {"ID", [](const Obj& v, Request& r) { return getString(v, r.id); }},
        {"Inputs", [](const Obj& v, Request& r) { return getInputs(v, r.inputs); }},
        {"Object", [](const Obj& v, Request& r) { return getObjectId(v, r.object); }},
        {"ReplyTo", [](const Obj& v, Request& r) { return getString(v, r.reply_to); }},
        {"Method", [](const Obj& v, Request& r) { return getString(v, r.method); }},
    }};
    return getStruct(o, out, kFields);
  });
}

Result<Response> decodeResponse(std::string_view bytes) {
  return decodeWith<Response>(bytes, [](const Obj& o, Response& out) {
    static const std::array<FieldDef<Response>, 3> kFields = {{
        {"ID", [](const Obj& v, Response& r) { return getString(v, r.id); }},
        {"Output", [](const Obj& v, Response& r) { return getOutput(v, r.output); }},
        {"Error", [](const Obj& v, Response& r) { return getOptionalBytes(v, r.error); }},
    }};
    return getStruct(o, out, kFields);
  });
}

}  // namespace contd::zbus
