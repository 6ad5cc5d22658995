#include "modules/zbus/msgpack_io.h"

#include <exception>

namespace contd::zbus::msgpack_io {
namespace {

void putBigEndian(char* out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

std::uint64_t readBigEndian(const char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value = (value << 8) | static_cast<unsigned char>(p[i]);
  }
  return value;
}

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

}  // namespace

void Writer::time(const GoTime& t) {
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

Error decodeError(std::string message) { return invalidArgument("msgpack: " + message); }

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

// An ext of any type id is taken, as Go does not check it; nil is refused, as Go refuses it.
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

}  // namespace contd::zbus::msgpack_io
