#pragma once
// What contd writes into containerd's container records: every io.contd.* key, in one
// place. contd keeps no database; after a restart everything it knows about a container is
// read back from these (docs/architecture.md, "State"). containerd limits a label to 4 KiB.
//
// Labels (containers.Container.labels):
//   io.contd.managed      = "true"                  made by contd; others are invisible to it
//   io.contd.image        = <image name>            made from an image (RemoveImage checks it)
//   io.contd.image.digest = <manifest digest>       the image the container was made from
//   io.contd.stopping     = "true"                  Delete/SignalDelete asked it to go
//   io.contd.state        = "backing-off"|"failed"|"stopped"
//                                                    restart policy state; absent when none
//   io.contd.next-retry   = <unix nanos>            when a backing-off container restarts
//   io.contd.restarts     = <count>                 restarts by the policy since Run/Start
//   io.contd.exits        = JSON array, oldest first (lifecycle_labels.h)
//   io.contd.health-kill  = "true"                  contd is ending it for failing its health
//                                                    check; its next recorded exit is a failure
//   io.contd.keeper       = "true"                  the shim group's keeper (shim_keeper.h), in
//                                                    each namespace under the id kKeeperId; the
//                                                    only label it has (it is not "managed")
//
// Annotations of the stored OCI runtime spec:
//   io.contd.container        = the ContainerSpec Run was given, defaults filled in (JSON)
//   io.contd.shutdown-timeout = the container's shutdown timeout in milliseconds

namespace contd {

inline constexpr char kManagedLabel[] = "io.contd.managed";
inline constexpr char kImageLabel[] = "io.contd.image";
inline constexpr char kImageDigestLabel[] = "io.contd.image.digest";
inline constexpr char kStoppingLabel[] = "io.contd.stopping";
inline constexpr char kStateLabel[] = "io.contd.state";
inline constexpr char kNextRetryLabel[] = "io.contd.next-retry";
inline constexpr char kRestartsLabel[] = "io.contd.restarts";
inline constexpr char kExitsLabel[] = "io.contd.exits";
inline constexpr char kHealthKillLabel[] = "io.contd.health-kill";
inline constexpr char kKeeperLabel[] = "io.contd.keeper";
// The keeper's container id; Run refuses it as a name.
inline constexpr char kKeeperId[] = "contd-shim-keeper";

inline constexpr char kSpecAnnotation[] = "io.contd.container";
inline constexpr char kShutdownTimeoutAnnotation[] = "io.contd.shutdown-timeout";

}  // namespace contd
