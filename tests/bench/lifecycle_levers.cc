// The lifecycle benchmark's levers (issue 12): the containers of a round (the variants, and
// the gRPC client once more under each lever's configuration), contd's configuration
// switched between them by a reload, and the table of what each lever costs or saves.

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/bench/bench_util.h"
#include "tests/bench/lifecycle_bench.h"

namespace contd::bench::lifecycle {

namespace {

constexpr auto kReloadTimeout = 10s;
constexpr auto kReloadPoll = 2ms;

std::string describe(const ContdChoice& choice) {
  return "runtime " + choice.runtime + ", shim group " + choice.shim_group +
         (choice.precompile ? ", filter precompiled" : "");
}

}  // namespace

std::vector<Slot> LifecycleBench::slots() const {
  std::vector<Slot> all;
  for (Variant variant : kVariants) {
    all.push_back(Slot{variant, -1});
  }
  if (options_.levers) {
    for (std::size_t i = 0; i < kLevers.size(); ++i) {
      all.push_back(Slot{Variant::kClient, static_cast<int>(i)});
    }
  }
  return all;
}

std::string LifecycleBench::idOf(const Slot& slot, int index, bool measured) const {
  // Warm-up ids start with "w", so that the log parser's prefixes ("cli-", ...) skip them.
  const std::string_view tag = slot.lever >= 0 ? kLevers[slot.lever].tag : tagOf(slot.variant);
  return (measured ? "" : "w") + std::string(tag) + "-" + std::to_string(index);
}

Result<double> LifecycleBench::runSlot(const Slot& slot, const std::string& id) {
  if (slot.lever >= 0) {
    CONTD_RETURN_IF_ERROR(useChoice(kLevers[slot.lever].choice()));
    return clientRun(id, kGracefulScript, options_.shutdown_timeout_ms);
  }
  if (slot.variant != Variant::kCtr) {
    CONTD_RETURN_IF_ERROR(useChoice(baseChoice()));
  }
  return runContainer(slot.variant, id);
}

ContdChoice LifecycleBench::baseChoice() const {
  return {options_.runtime, options_.shim_group, true};
}

Status LifecycleBench::writeConfig(const fs::path& path, const ContdChoice& choice) const {
  nlohmann::json config = {{"runtime", choice.runtime},
                           {"shim_group", choice.shim_group},
                           {"seccomp_precompile", choice.precompile}};
  if (!options_.seccomp) {
    config["seccomp_profile"] = "unconfined";
  } else if (!options_.seccomp_profile.empty()) {
    config["seccomp_profile"] = options_.seccomp_profile;
  }
  // Written aside and renamed, so that a reload never reads half a file.
  const fs::path fresh = path.string() + ".new";
  std::ofstream out(fresh);
  out << config.dump(2) << "\n";
  out.close();
  std::error_code ec;
  if (out) {
    fs::rename(fresh, path, ec);
  }
  if (!out || ec) {
    return internalError("write '" + path.string() + "' failed" +
                         (ec ? ": " + ec.message() : std::string()));
  }
  return okStatus();
}

Status LifecycleBench::useChoice(const ContdChoice& choice) {
  if (choice == contd_choice_) {
    return okStatus();
  }
  CONTD_RETURN_IF_ERROR(writeConfig(contd_config_, choice));
  if (::kill(contd_->pid(), SIGHUP) != 0) {
    return internalError("SIGHUP to contd (pid " + std::to_string(contd_->pid()) + ") failed");
  }
  CONTD_RETURN_IF_ERROR(awaitChoice(choice));
  contd_choice_ = choice;
  return okStatus();
}

Status LifecycleBench::awaitChoice(const ContdChoice& choice) {
  const auto deadline = Clock::now() + kReloadTimeout;
  for (;;) {
    v1::InfoResponse info;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
    if (const grpc::Status status = stub_->Info(&context, v1::InfoRequest(), &info); !status.ok()) {
      return unavailable("Info: " + status.error_message());
    }
    const auto config = nlohmann::json::parse(info.config_json(), nullptr, false);
    const bool loaded = config.is_object() && config.value("runtime", "") == choice.runtime &&
                        config.value("shim_group", "") == choice.shim_group &&
                        config.value("seccomp_precompile", !choice.precompile) == choice.precompile;
    if (loaded) {
      const v1::VersionResponse& in_effect = info.version();
      if (in_effect.runtime() != choice.runtime || in_effect.shim_group() != choice.shim_group) {
        return failedPrecondition(
            "contd was configured with " + describe(choice) + " but runs containers with runtime " +
            in_effect.runtime() + ", shim group " + in_effect.shim_group() +
            " (its log says why; crun on a hybrid cgroup v1 host needs `scripts/crun-cgroups "
            "setup`, which tests/bench/run-lifecycle runs)");
      }
      return okStatus();
    }
    if (Clock::now() > deadline) {
      return unavailable("contd did not take " + describe(choice) + " within 10 s of SIGHUP");
    }
    std::this_thread::sleep_for(kReloadPoll);
  }
}

void LifecycleBench::printLevers() const {
  if (!options_.levers) {
    return;
  }
  const Summary ctr_run = summaryOf(Variant::kCtr, true);
  const Summary ctr_del = summaryOf(Variant::kCtr, false);
  const Summary none_run = summarize(lever_samples_[0].run);
  std::printf("levers: the gRPC client under each configuration (medians; ctr: %s Run, %s Delete)\n",
              formatMs(ctr_run.median, ctr_run.count > 0).c_str(),
              formatMs(ctr_del.median, ctr_del.count > 0).c_str());
  std::printf("%s%s%s%s%s%s\n", padRight("", 42).c_str(), padLeft("Run ms", 8).c_str(),
              padLeft("/ ctr", 8).c_str(), padLeft("saved", 8).c_str(),
              padLeft("Delete", 10).c_str(), padLeft("/ ctr", 8).c_str());
  for (std::size_t i = 0; i < kLevers.size(); ++i) {
    const Summary run = summarize(lever_samples_[i].run);
    const Summary del = summarize(lever_samples_[i].remove);
    const bool r = run.count > 0;
    const bool d = del.count > 0;
    std::printf("%s%s%s%s%s%s\n", padRight(std::string(kLevers[i].label), 42).c_str(),
                padLeft(formatMs(run.median, r), 8).c_str(),
                padLeft(formatRatio(run.median, ctr_run.median), 8).c_str(),
                padLeft(i == 0 ? std::string("") : formatMs(none_run.median - run.median, r), 8)
                    .c_str(),
                padLeft(formatMs(del.median, d), 10).c_str(),
                padLeft(formatRatio(del.median, ctr_del.median), 8).c_str());
  }
  std::printf("saved = the Run median of \"none\" minus this one's. The configuration is switched\n"
              "by a reload before a Run when it differs from the previous container's; the\n"
              "precompiled filter needs crun (runc has no such input), so it is measured on crun.\n");
}

}  // namespace contd::bench::lifecycle
