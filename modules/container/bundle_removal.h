#pragma once
// Removing a task bundle containerd left behind (stale_bundle.h) without ever leaving it:
// no symlink is followed and no other mount is entered, so a bind mount or a link in the
// bundle can never make contd delete host files. Any thread.

#include <filesystem>
#include <string_view>

#include "modules/common/result.h"

namespace contd::container {

// Removes the directory tree `dir` (not following symlinks: a link is removed, never its
// target). A mount point met inside stops it: kFailedPrecondition naming it, and the
// tree is left partly removed. A missing `dir` is success.
Status removeTreeOnOneMount(const std::filesystem::path& dir);

// Removes the bundle <state>/io.containerd.runtime.v2.task/<ns>/<id> as containerd's
// Bundle.Delete does: unmounts its `rootfs` when something is mounted there, removes the
// work dir its `work` link names when that is <root>/io.containerd.runtime.v2.task/<ns>/<id>,
// then the bundle. Refuses (kFailedPrecondition) a path of another shape, one with a
// symlink on the way, and a bundle that is not a directory. A missing bundle is success.
Status removeTaskBundle(std::string_view ns, std::string_view id,
                        const std::filesystem::path& bundle);

}  // namespace contd::container
