// zosbase pkg.Container and the types inside it (MountInfo, logger.Logs, pkg.Stats).
#include "modules/zbus/codec.h"

#include <array>

#include "modules/zbus/msgpack_io.h"

namespace contd::zbus {

using namespace msgpack_io;

namespace {

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

}  // namespace

std::string encodeContainer(const Container& value) {
  Writer w;
  writeContainer(w, value);
  return w.take();
}

Result<Container> decodeContainer(std::string_view bytes) {
  return decodeWith(bytes, getContainer);
}

}  // namespace contd::zbus
