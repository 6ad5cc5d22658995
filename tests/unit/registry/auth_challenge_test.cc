// parseChallenges: the WWW-Authenticate headers registries send, and some they should not.

#include "modules/registry/auth_challenge.h"

#include <gtest/gtest.h>

namespace contd::registry {
namespace {

using Params = std::map<std::string, std::string>;

TEST(AuthChallenge, Basic) {
  const auto challenges = parseChallenges(R"(Basic realm="Registry Realm")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "Registry Realm"}}));
}

TEST(AuthChallenge, BearerWithRealmServiceAndScopeHoldingCommas) {
  const auto challenges =
      parseChallenges(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
                      R"(scope="repository:library/busybox:pull,push")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "https://auth.docker.io/token"},
                                          {"service", "registry.docker.io"},
                                          {"scope", "repository:library/busybox:pull,push"}}));
}

TEST(AuthChallenge, SchemeAndParameterNamesAreCaseInsensitive) {
  const auto challenges = parseChallenges(R"(BEARER Realm="https://a/t", SERVICE=reg)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "https://a/t"}, {"service", "reg"}}));
}

TEST(AuthChallenge, BareTokenValuesAndSpacesAroundEquals) {
  const auto challenges = parseChallenges("Bearer realm = https, service=reg.example , x=1");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params,
            (Params{{"realm", "https"}, {"service", "reg.example"}, {"x", "1"}}));
}

TEST(AuthChallenge, SeveralChallengesInOneHeader) {
  const auto challenges = parseChallenges(
      R"(Basic realm="a, b", Bearer realm="https://auth/token",service="s", Negotiate)");
  ASSERT_EQ(challenges.size(), 3u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "a, b"}}));
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].params, (Params{{"realm", "https://auth/token"}, {"service", "s"}}));
  EXPECT_EQ(challenges[2].scheme, "negotiate");
  EXPECT_TRUE(challenges[2].params.empty());
}

TEST(AuthChallenge, SchemeWithoutParametersThenAnother) {
  const auto challenges = parseChallenges(R"(Basic, Bearer realm="r")");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_TRUE(challenges[0].params.empty());
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].params, (Params{{"realm", "r"}}));
}

TEST(AuthChallenge, QuotedStringEscapes) {
  const auto challenges = parseChallenges(R"(Basic realm="say \"hi\" \\ o\k")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params.at("realm"), R"(say "hi" \ ok)");
}

TEST(AuthChallenge, Token68IsSkippedAndTheNextChallengeStillRead) {
  const auto challenges = parseChallenges(R"(Basic dXNlcjpwYXNz==, Bearer realm="r")");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_TRUE(challenges[0].params.empty());
  EXPECT_EQ(challenges[1].params, (Params{{"realm", "r"}}));
}

TEST(AuthChallenge, EmptyAndGarbage) {
  EXPECT_TRUE(parseChallenges("").empty());
  EXPECT_TRUE(parseChallenges("   ,, ,").empty());
  EXPECT_TRUE(parseChallenges(R"(="x", @@@, =)").empty());
  EXPECT_TRUE(parseChallenges(R"(realm="x")").empty());
}

TEST(AuthChallenge, UnterminatedQuoteKeepsWhatCameBefore) {
  const auto challenges = parseChallenges(R"(Bearer service="s",realm="https://auth/token)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params, (Params{{"service", "s"}}));
}

TEST(AuthChallenge, JunkBetweenParametersIsSkipped) {
  const auto challenges = parseChallenges(R"(Bearer realm="r" junk, service="s", @@, scope=x)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params, (Params{{"service", "s"}, {"scope", "x"}}));
}

}  // namespace
}  // namespace contd::registry
