// The scalar values of the zbus wire: strings, string slices, durations and times.
#include "modules/zbus/codec.h"

#include "modules/zbus/msgpack_io.h"

namespace contd::zbus {

using namespace msgpack_io;

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

Result<std::string> decodeString(std::string_view bytes) { return decodeWith(bytes, getString); }

Result<GoSlice<std::string>> decodeStringSlice(std::string_view bytes) {
  return decodeWith<GoSlice<std::string>>(bytes, [](const Obj& o, GoSlice<std::string>& out) {
    return getSlice<std::string>(o, out, getString);
  });
}

Result<std::int64_t> decodeDuration(std::string_view bytes) { return decodeWith(bytes, getInt64); }

Result<GoTime> decodeTime(std::string_view bytes) { return decodeWith(bytes, getTime); }

}  // namespace contd::zbus
