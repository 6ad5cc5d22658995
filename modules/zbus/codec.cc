#include "modules/zbus/codec.h"

#include <array>
#include <exception>
#include <limits>

#include <msgpack.hpp>

namespace contd::zbus {
namespace {

using Obj = msgpack::object;

// ---- Encoding. msgpack-c's packer picks Go's headers for strings, bins, arrays and maps;
// integers go through pack_fix_* because its plain pack() compacts them and Go v4 does not.

class Writer {
public:
  Writer() : packer_(buffer_) {}

  void str(std::string_view s) {
    packer_.pack_str(static_cast<std::uint32_t>(s.size()));
    packer_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  }
  void bin(std::string_view s) {
    packer_.pack_bin(static_cast<std::uint32_t>(s.size()));
    packer_.pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
  }
  void nil() { packer_.pack_nil(); }
  void boolean(bool b) { b ? packer_.pack_true() : packer_.pack_false(); }
  void u64(std::uint64_t v) { packer_.pack_fix_uint64(v); }
  void i64(std::int64_t v) { packer_.pack_fix_int64(v); }
  void map(std::size_t n) { packer_.pack_map(static_cast<std::uint32_t>(n)); }
  void array(std::size_t n) { packer_.pack_array(static_cast<std::uint32_t>(n)); }
  void raw(std::string_view bytes) { buffer_.write(bytes.data(), bytes.size()); }

  // Go's ext -1 timestamp: 4 bytes (seconds) when it fits with no nanoseconds, 8 bytes
  // (nsec << 34 | secs) while secs fits 34 bits, else 12 bytes (nsec, then signed secs).
  void time(const GoTime& t) {
    const auto secs = static_cast<std::uint64_t>(t.secs);
    if (secs >> 34 == 0) {
      const std::uint64_t data = (std::uint64_t{t.nsec} << 34) | secs;
      if ((data & 0xffffffff00000000ULL) == 0) {
        char body[4];
        putBigEndian(body, data, 4);
        packer_.pack_ext(4, -1);
        packer_.pack_ext_body(body, 4);
        return;
      }
      char body[8];
      putBigEndian(body, data, 8);
      packer_.pack_ext(8, -1);
      packer_.pack_ext_body(body, 8);
      return;
    }
    char body[12];
    putBigEndian(body, t.nsec, 4);
    putBigEndian(body + 4, secs, 8);
    packer_.pack_ext(12, -1);
    packer_.pack_ext_body(body, 12);
  }

  std::string take() const { return std::string(buffer_.data(), buffer_.size()); }

private:
  static void putBigEndian(char* out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      out[i] = static_cast<char>(value & 0xff);
      value >>= 8;
    }
  }

  msgpack::sbuffer buffer_;
  msgpack::packer<msgpack::sbuffer> packer_;
};

template <typename T, typename F>
void writeSlice(Writer& w, const GoSlice<T>& slice, F&& element) {
  if (!slice) {
    w.nil();
    return;
  }
  w.array(slice->size());
  for (const auto& item : *slice) {
    element(item);
  }
}

void writeContainer(Writer& w, const Container& c) {
  w.map(16);
  w.str("Name");
  w.str(c.name);
  w.str("RootFS");
  w.str(c.root_fs);
  w.str("Env");
  writeSlice(w, c.env, [&](const std::string& s) { w.str(s); });
  w.str("WorkingDir");
  w.str(c.working_dir);
  w.str("Network");
  w.map(1);
  w.str("Namespace");
  w.str(c.network_namespace);
  w.str("Mounts");
  writeSlice(w, c.mounts, [&](const MountInfo& m) {
    w.map(2);
    w.str("Source");
    w.str(m.source);
    w.str("Target");
    w.str(m.target);
  });
  w.str("Entrypoint");
  w.str(c.entrypoint);
  w.str("Interactive");
  w.boolean(c.interactive);
  w.str("CPU");
  w.u64(c.cpu);
  w.str("Memory");
  w.u64(c.memory);
  w.str("Logs");
  writeSlice(w, c.logs, [&](const LogSink& l) {
    w.map(2);
    w.str("Type");
    w.str(l.type);
    w.str("Data");
    w.map(2);
    w.str("Stdout");
    w.str(l.stdout_url);
    w.str("Stderr");
    w.str(l.stderr_url);
  });
  w.str("Stats");
  writeSlice(w, c.stats, [&](const StatsSink& s) {
    w.map(2);
    w.str("Type");
    w.str(s.type);
    w.str("Endpoint");
    w.str(s.endpoint);
  });
  w.str("Elevated");
  w.boolean(c.elevated);
  w.str("CreatedAt");
  w.time(c.created_at);
  w.str("RootFsPropagation");
  w.str(c.root_fs_propagation);
  w.str("ShutdownTimeout");
  w.i64(c.shutdown_timeout_ns);
}

void writeObjectId(Writer& w, const ObjectId& id) {
  w.map(2);
  w.str("Name");
  w.str(id.name);
  w.str("Version");
  w.str(id.version);
}

// ---- Decoding: msgpack-c parses into a tree (with limits), then the tree is read the way
// Go's decoder reads it.

Error decodeError(std::string message) { return invalidArgument("msgpack: " + message); }

std::string_view typeName(const Obj& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "bool";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown";
}

Error unexpected(const Obj& o, std::string_view wanted) {
  return decodeError("expected " + std::string(wanted) + ", got " + std::string(typeName(o)));
}

// Parses one msgpack value. Every count and length is bounded by the payload size (each
// element takes at least one byte, so a larger count can only be a lie), so a hostile
// header cannot make msgpack-c allocate more than a small multiple of the input.
Result<msgpack::object_handle> parse(std::string_view bytes) {
  if (bytes.empty()) {
    return decodeError("EOF");
  }
  const std::size_t n = bytes.size();
  const msgpack::unpack_limit limit(n, n, n, n, n, kMaxDepth);
  try {
    std::size_t offset = 0;
    // Trailing bytes are ignored, as Go's msgpack.Unmarshal ignores them.
    return msgpack::unpack(bytes.data(), n, offset, nullptr, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    return decodeError("unexpected EOF");
  } catch (const std::exception& e) {
    return decodeError(e.what());
  }
}

// Go's DecodeString: nil is "", str and bin are both accepted.
Status getString(const Obj& o, std::string& out) {
  switch (o.type) {
    case msgpack::type::NIL:
      out.clear();
      return okStatus();
    case msgpack::type::STR:
      out.assign(o.via.str.ptr, o.via.str.size);
      return okStatus();
    case msgpack::type::BIN:
      out.assign(o.via.bin.ptr, o.via.bin.size);
      return okStatus();
    default:
      return unexpected(o, "string");
  }
}

// Go's integer decoding: any width, nil is 0, no floats.
Status getInt64(const Obj& o, std::int64_t& out) {
  switch (o.type) {
    case msgpack::type::NIL:
      out = 0;
      return okStatus();
    case msgpack::type::POSITIVE_INTEGER:
      out = static_cast<std::int64_t>(o.via.u64);
      return okStatus();
    case msgpack::type::NEGATIVE_INTEGER:
      out = o.via.i64;
      return okStatus();
    default:
      return unexpected(o, "integer");
  }
}

Status getUint64(const Obj& o, std::uint64_t& out) {
  std::int64_t value = 0;
  CONTD_RETURN_IF_ERROR(getInt64(o, value));
  out = o.type == msgpack::type::POSITIVE_INTEGER ? o.via.u64 : static_cast<std::uint64_t>(value);
  return okStatus();
}

Status getBool(const Obj& o, bool& out) {
  if (o.type != msgpack::type::BOOLEAN) {
    return unexpected(o, "bool");
  }
  out = o.via.boolean;
  return okStatus();
}

std::uint64_t readBigEndian(const char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value = (value << 8) | static_cast<unsigned char>(p[i]);
  }
  return value;
}

// Go's time decoding: an ext (of any type id, as Go does not check it) of 4, 8 or 12
// bytes, or the legacy [secs, nsec] array. nil is refused, as Go refuses it.
Status getTime(const Obj& o, GoTime& out) {
  if (o.type == msgpack::type::ARRAY && o.via.array.size == 2) {
    std::int64_t secs = 0;
    std::int64_t nsec = 0;
    CONTD_RETURN_IF_ERROR(getInt64(o.via.array.ptr[0], secs));
    CONTD_RETURN_IF_ERROR(getInt64(o.via.array.ptr[1], nsec));
    if (nsec < 0 || nsec >= 1'000'000'000) {
      return decodeError("time nanoseconds out of range");
    }
    out = GoTime{secs, static_cast<std::uint32_t>(nsec)};
    return okStatus();
  }
  if (o.type != msgpack::type::EXT) {
    return unexpected(o, "time (ext)");
  }
  const char* body = o.via.ext.data();
  switch (o.via.ext.size) {
    case 4:
      out = GoTime{static_cast<std::int64_t>(readBigEndian(body, 4)), 0};
      return okStatus();
    case 8: {
      const std::uint64_t data = readBigEndian(body, 8);
      out = GoTime{static_cast<std::int64_t>(data & ((std::uint64_t{1} << 34) - 1)),
                   static_cast<std::uint32_t>(data >> 34)};
      break;
    }
    case 12:
      out = GoTime{static_cast<std::int64_t>(readBigEndian(body + 4, 8)),
                   static_cast<std::uint32_t>(readBigEndian(body, 4))};
      break;
    default:
      return decodeError("invalid ext len=" + std::to_string(o.via.ext.size) +
                         " decoding time");
  }
  if (out.nsec >= 1'000'000'000) {
    return decodeError("time nanoseconds out of range");
  }
  return okStatus();
}

template <typename T>
using ElementDecoder = Status (*)(const Obj&, T&);

template <typename T>
Status getSlice(const Obj& o, GoSlice<T>& out, ElementDecoder<T> element) {
  if (o.type == msgpack::type::NIL) {
    out.reset();
    return okStatus();
  }
  if (o.type != msgpack::type::ARRAY) {
    return unexpected(o, "array");
  }
  out.emplace();
  out->resize(o.via.array.size);
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    CONTD_RETURN_IF_ERROR(element(o.via.array.ptr[i], (*out)[i]));
  }
  return okStatus();
}

template <typename T>
struct FieldDef {
  std::string_view key;
  Status (*decode)(const Obj&, T&);
};

// A Go struct: a map matched by key (unknown keys skipped, missing ones zero), an array
// read positionally, or nil for the zero value.
template <typename T, std::size_t N>
Status getStruct(const Obj& o, T& out, const std::array<FieldDef<T>, N>& fields) {
  out = T{};
  if (o.type == msgpack::type::NIL) {
    return okStatus();
  }
  if (o.type == msgpack::type::ARRAY) {
    for (std::uint32_t i = 0; i < o.via.array.size && i < N; ++i) {
      CONTD_RETURN_IF_ERROR(fields[i].decode(o.via.array.ptr[i], out));
    }
    return okStatus();
  }
  if (o.type != msgpack::type::MAP) {
    return unexpected(o, "map");
  }
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    std::string key;
    CONTD_RETURN_IF_ERROR(getString(kv.key, key));
    for (const auto& field : fields) {
      if (field.key == key) {
        CONTD_RETURN_IF_ERROR(field.decode(kv.val, out));
        break;
      }
    }
  }
  return okStatus();
}

Status getMountInfo(const Obj& o, MountInfo& out) {
  static const std::array<FieldDef<MountInfo>, 2> kFields = {{
      {"Source", [](const Obj& v, MountInfo& m) { return getString(v, m.source); }},
      {"Target", [](const Obj& v, MountInfo& m) { return getString(v, m.target); }},
  }};
  return getStruct(o, out, kFields);
}

struct LogsData {
  std::string stdout_url;
  std::string stderr_url;
};

Status getLogSink(const Obj& o, LogSink& out) {
  static const std::array<FieldDef<LogsData>, 2> kData = {{
      {"Stdout", [](const Obj& v, LogsData& d) { return getString(v, d.stdout_url); }},
      {"Stderr", [](const Obj& v, LogsData& d) { return getString(v, d.stderr_url); }},
  }};
  static const std::array<FieldDef<LogSink>, 2> kFields = {{
      {"Type", [](const Obj& v, LogSink& l) { return getString(v, l.type); }},
      {"Data",
       [](const Obj& v, LogSink& l) -> Status {
         LogsData data;
         CONTD_RETURN_IF_ERROR(getStruct(v, data, kData));
         l.stdout_url = std::move(data.stdout_url);
         l.stderr_url = std::move(data.stderr_url);
         return okStatus();
       }},
  }};
  return getStruct(o, out, kFields);
}

Status getStatsSink(const Obj& o, StatsSink& out) {
  static const std::array<FieldDef<StatsSink>, 2> kFields = {{
      {"Type", [](const Obj& v, StatsSink& s) { return getString(v, s.type); }},
      {"Endpoint", [](const Obj& v, StatsSink& s) { return getString(v, s.endpoint); }},
  }};
  return getStruct(o, out, kFields);
}

Status getNetwork(const Obj& o, Container& out) {
  static const std::array<FieldDef<std::string>, 1> kFields = {{
      {"Namespace", [](const Obj& v, std::string& ns) { return getString(v, ns); }},
  }};
  return getStruct(o, out.network_namespace, kFields);
}

Status getContainer(const Obj& o, Container& out) {
  using C = Container;
  static const std::array<FieldDef<C>, 16> kFields = {{
      {"Name", [](const Obj& v, C& c) { return getString(v, c.name); }},
      {"RootFS", [](const Obj& v, C& c) { return getString(v, c.root_fs); }},
      {"Env", [](const Obj& v, C& c) { return getSlice<std::string>(v, c.env, getString); }},
      {"WorkingDir", [](const Obj& v, C& c) { return getString(v, c.working_dir); }},
      {"Network", getNetwork},
      {"Mounts", [](const Obj& v, C& c) { return getSlice<MountInfo>(v, c.mounts, getMountInfo); }},
      {"Entrypoint", [](const Obj& v, C& c) { return getString(v, c.entrypoint); }},
      {"Interactive", [](const Obj& v, C& c) { return getBool(v, c.interactive); }},
      {"CPU", [](const Obj& v, C& c) { return getUint64(v, c.cpu); }},
      {"Memory", [](const Obj& v, C& c) { return getUint64(v, c.memory); }},
      {"Logs", [](const Obj& v, C& c) { return getSlice<LogSink>(v, c.logs, getLogSink); }},
      {"Stats", [](const Obj& v, C& c) { return getSlice<StatsSink>(v, c.stats, getStatsSink); }},
      {"Elevated", [](const Obj& v, C& c) { return getBool(v, c.elevated); }},
      {"CreatedAt", [](const Obj& v, C& c) { return getTime(v, c.created_at); }},
      {"RootFsPropagation", [](const Obj& v, C& c) { return getString(v, c.root_fs_propagation); }},
      {"ShutdownTimeout", [](const Obj& v, C& c) { return getInt64(v, c.shutdown_timeout_ns); }},
  }};
  return getStruct(o, out, kFields);
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

Status getOptionalBytes(const Obj& o, std::optional<std::string>& out) {
  if (o.type == msgpack::type::NIL) {
    out.reset();
    return okStatus();
  }
  std::string value;
  CONTD_RETURN_IF_ERROR(getString(o, value));
  out = std::move(value);
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

// Parses `bytes` as one value and reads it with `read`.
template <typename T>
Result<T> decodeWith(std::string_view bytes, Status (*read)(const Obj&, T&)) {
  auto handle = parse(bytes);
  if (!handle) {
    return handle.error();
  }
  T value{};
  CONTD_RETURN_IF_ERROR(read(handle->get(), value));
  return value;
}

}  // namespace

GoTime GoTime::fromUnixNanos(std::int64_t unix_nanos) {
  if (unix_nanos == 0) {
    return GoTime{};
  }
  std::int64_t secs = unix_nanos / 1'000'000'000;
  std::int64_t nsec = unix_nanos % 1'000'000'000;
  if (nsec < 0) {
    nsec += 1'000'000'000;
    secs -= 1;
  }
  return GoTime{secs, static_cast<std::uint32_t>(nsec)};
}

std::string ObjectId::toString() const { return version.empty() ? name : name + "@" + version; }

std::string encodeString(std::string_view value) {
  Writer w;
  w.str(value);
  return w.take();
}

std::string encodeStringSlice(const GoSlice<std::string>& value) {
  Writer w;
  writeSlice(w, value, [&](const std::string& s) { w.str(s); });
  return w.take();
}

std::string encodeDuration(std::int64_t nanoseconds) {
  Writer w;
  w.i64(nanoseconds);
  return w.take();
}

std::string encodeTime(const GoTime& value) {
  Writer w;
  w.time(value);
  return w.take();
}

std::string encodeContainer(const Container& value) {
  Writer w;
  writeContainer(w, value);
  return w.take();
}

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

Result<std::string> decodeString(std::string_view bytes) { return decodeWith(bytes, getString); }

Result<GoSlice<std::string>> decodeStringSlice(std::string_view bytes) {
  return decodeWith<GoSlice<std::string>>(bytes, [](const Obj& o, GoSlice<std::string>& out) {
    return getSlice<std::string>(o, out, getString);
  });
}

Result<std::int64_t> decodeDuration(std::string_view bytes) { return decodeWith(bytes, getInt64); }

Result<GoTime> decodeTime(std::string_view bytes) { return decodeWith(bytes, getTime); }

Result<Container> decodeContainer(std::string_view bytes) {
  return decodeWith(bytes, getContainer);
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
