// zbus broker URLs: tcp://host:port and unix:///path, the user part as the AUTH password.

#include <gtest/gtest.h>

#include "modules/zbus/redis_connection.h"

namespace contd::zbus {
namespace {

TEST(BrokerUrl, UnixSocket) {
  auto address = parseBrokerUrl("unix:///var/run/redis.sock");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_TRUE(address->unix_socket);
  EXPECT_EQ(address->path, "/var/run/redis.sock");
  EXPECT_EQ(address->password, "");
  EXPECT_EQ(address->describe(), "unix:///var/run/redis.sock");
}

TEST(BrokerUrl, TcpWithPassword) {
  auto address = parseBrokerUrl("tcp://s%40cret@127.0.0.1:6379");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_FALSE(address->unix_socket);
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 6379);
  EXPECT_EQ(address->password, "s@cret");
  EXPECT_EQ(parseBrokerUrl("tcp://[::1]:7000")->host, "::1");
  // zbus sends the URL's user name: in user:pass@ only "user" counts.
  EXPECT_EQ(parseBrokerUrl("tcp://pw:ignored@localhost:1")->password, "pw");
  EXPECT_EQ(parseBrokerUrl("unix://pw@/run/r.sock")->password, "pw");
  EXPECT_EQ(parseBrokerUrl("unix://pw@/run/r.sock")->path, "/run/r.sock");
}

TEST(BrokerUrl, RefusesWhatZbusCannotDial) {
  for (const char* bad : {"", "redis://localhost:6379", "tcp://localhost", "tcp://:6379",
                          "tcp://host:0", "tcp://host:70000", "tcp://host:12a", "unix://",
                          "unix://relative.sock", "tcp://%zz@host:1"}) {
    EXPECT_FALSE(parseBrokerUrl(bad)) << bad;
  }
}

}  // namespace
}  // namespace contd::zbus
