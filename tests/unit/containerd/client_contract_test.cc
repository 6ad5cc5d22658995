// The Client contract (tests/contract/client_contract.h) against the in-memory fake.

#include <gtest/gtest.h>

#include "tests/contract/client_contract.h"
#include "tests/fakes/fake_containerd.h"

namespace contd::testing {
namespace {

class FakeClientContract : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(fake_.ensureNamespace("contract")); }

  contract::ContractEnv env() {
    return {.client = &fake_,
            .ns = "contract",
            .record =
                [](const std::string& id, std::vector<std::string> /*args*/) {
                  containerd::ContainerRecord r;
                  r.id = id;
                  r.spec_json = "{}";
                  return r;
                },
            .io = [](const std::string&) { return containerd::TaskIo{}; }};
  }

  FakeContainerd fake_;
};

CONTD_CLIENT_CONTRACT_TESTS(FakeClientContract)

}  // namespace
}  // namespace contd::testing
