// The Client contract (tests/contract/client_contract.h) against the real GrpcClient on a
// private containerd, runc and busybox.
//
// Needs root, containerd, runc, ip and busybox-static; skips without them (fails with CI=true).

#include <gtest/gtest.h>

#include "tests/contract/client_contract.h"
#include "tests/integration/containerd_fixture.h"

namespace contd::containerd {
namespace {

class GrpcClientContract : public ContainerdFixture {
protected:
  contract::ContractEnv env() {
    return {.client = client_.get(),
            .ns = ns_,
            .record = [this](const std::string& id,
                             std::vector<std::string> args) { return record(id, std::move(args)); },
            .io = [this](const std::string& id) { return fileIo(id); }};
  }
};

CONTD_CLIENT_CONTRACT_TESTS(GrpcClientContract)

}  // namespace
}  // namespace contd::containerd
