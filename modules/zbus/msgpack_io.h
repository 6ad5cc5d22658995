#pragma once
// The msgpack building blocks the zbus codec is made of: a Writer that emits the exact
// headers Go's msgpack v4 emits, and readers that accept what Go's decoder accepts. Internal
// to the codec files (codec_*.cc); users go through codec.h.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "modules/zbus/codec.h"

namespace contd::zbus::msgpack_io {

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
  void time(const GoTime& t);

  std::string take() const { return std::string(buffer_.data(), buffer_.size()); }

private:
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

// ---- Decoding: msgpack-c parses into a tree (with limits), then the tree is read the way
// Go's decoder reads it.

Error decodeError(std::string message);
Error unexpected(const Obj& o, std::string_view wanted);

// Parses one msgpack value, every count and length bounded by the payload size.
Result<msgpack::object_handle> parse(std::string_view bytes);

// Go's DecodeString: nil is "", str and bin are both accepted.
Status getString(const Obj& o, std::string& out);
// Go's integer decoding: any width, nil is 0, no floats.
Status getInt64(const Obj& o, std::int64_t& out);
Status getUint64(const Obj& o, std::uint64_t& out);
Status getBool(const Obj& o, bool& out);
// Go's time decoding: an ext of 4, 8 or 12 bytes, or the legacy [secs, nsec] array.
Status getTime(const Obj& o, GoTime& out);
// nil stays nullopt; anything else is read as a string (str or bin).
Status getOptionalBytes(const Obj& o, std::optional<std::string>& out);

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

}  // namespace contd::zbus::msgpack_io
