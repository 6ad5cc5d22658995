#pragma once
// The golden zbus vectors (tests/fixtures/zbus, captured from the real Go client and
// server), for the unit tests. The folder comes from the CMake cache variable
// CONTD_ZBUS_VECTORS_DIR; a missing folder fails the tests with a message saying so.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "modules/zbus/codec.h"

namespace contd::zbus::testing {

// The folder, or "" when it does not hold vectors.json.
std::string vectorsDir();
// vectors.json; an empty object when missing.
const nlohmann::json& vectorIndex();
// The entry of vector `name` in `direction` ("request", "response"); null when missing.
const nlohmann::json& vectorEntry(std::string_view name, std::string_view direction);
// The names of every vector with a request and a response.
std::vector<std::string> pairedVectorNames();
// The bytes of file `file` in the vectors folder ("" when missing).
std::string readVector(std::string_view file);

// Values from the index's "decoded" form ({"$uint64": n}, {"$ext": -1, "$hex": ...}).
Container containerFromJson(const nlohmann::json& decoded);
GoTime timeFromJson(const nlohmann::json& decoded);
GoSlice<std::string> stringSliceFromJson(const nlohmann::json& decoded);

std::string toHex(std::string_view bytes);

}  // namespace contd::zbus::testing

// Fails the current test when the vectors folder is missing.
#define CONTD_REQUIRE_VECTORS()                                                          \
  do {                                                                                   \
    if (::contd::zbus::testing::vectorsDir().empty()) {                                  \
      GTEST_FAIL() << "zbus vectors not found in '" << CONTD_ZBUS_VECTORS_DIR            \
                   << "': the repository ships them in tests/fixtures/zbus; or set "     \
                      "-DCONTD_ZBUS_VECTORS_DIR=<dir> to a folder holding them";         \
    }                                                                                    \
  } while (0)
