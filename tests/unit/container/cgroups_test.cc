// CgroupParents on a folder laid out like /sys/fs/cgroup (rmdir removes an empty folder
// there as it removes an empty cgroup): a container's leaf and its namespace's parent go
// where empty, and the parent stays while a task of its namespace is being created.

#include "modules/container/cgroups.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace contd::container {
namespace {

namespace fs = std::filesystem;

class CgroupParentsTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("contd-cgroups-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    for (const char* hierarchy : {"cpuset", "memory", "unified"}) {
      fs::create_directories(root_ / hierarchy / "ns1" / "web");
    }
  }
  void TearDown() override { fs::remove_all(root_); }

  bool existsAnywhere(const std::string& path) const {
    for (const char* hierarchy : {"cpuset", "memory", "unified"}) {
      if (fs::exists(root_ / hierarchy / path)) {
        return true;
      }
    }
    return false;
  }

  fs::path root_;
};

TEST_F(CgroupParentsTest, TheLeafAndTheEmptyParentGoInEveryHierarchy) {
  CgroupParents parents(root_);
  parents.removeEmpty("ns1", "web");
  EXPECT_FALSE(existsAnywhere("ns1/web"));
  EXPECT_FALSE(existsAnywhere("ns1"));
}

TEST_F(CgroupParentsTest, AParentWithAnotherContainerStays) {
  fs::create_directories(root_ / "memory" / "ns1" / "db");
  CgroupParents parents(root_);
  parents.removeEmpty("ns1", "web");
  EXPECT_FALSE(existsAnywhere("ns1/web"));
  EXPECT_TRUE(fs::exists(root_ / "memory" / "ns1" / "db"));
  EXPECT_FALSE(fs::exists(root_ / "cpuset" / "ns1"));  // empty there
}

TEST_F(CgroupParentsTest, TheParentStaysWhileATaskOfItsNamespaceIsCreated) {
  CgroupParents parents(root_);
  {
    const CgroupParents::Creating creating(parents, "ns1");
    parents.removeEmpty("ns1", "web");
    EXPECT_FALSE(existsAnywhere("ns1/web"));
    EXPECT_TRUE(fs::exists(root_ / "cpuset" / "ns1")) << "removed under a create";
    parents.removeEmpty("ns2", "other");  // another namespace is not held
  }
  parents.removeEmpty("ns1", "web");
  EXPECT_FALSE(existsAnywhere("ns1"));
}

}  // namespace
}  // namespace contd::container
