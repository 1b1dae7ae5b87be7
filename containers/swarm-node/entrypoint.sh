#!/bin/sh
# Starts dockerd inside a node container (privileged, or with the flags in Dockerfile's header), on unix:///var/run/docker.sock and
# tcp://0.0.0.0:2375 without TLS. Extra arguments go to dockerd.
# Environment:
#   DOCKER_STORAGE_DRIVER  force a driver (overlay2, fuse-overlayfs, vfs); default: probed
#   DOCKERD_MTU            MTU of the node's own bridges (default: that of eth0)
set -eu
root=/var/lib/docker
mkdir -p "$root" /var/run

# securityfs (AppArmor) and a private /tmp, as moby's hack/dind does.
if [ -d /sys/kernel/security ] && ! mountpoint -q /sys/kernel/security; then
  mount -t securityfs none /sys/kernel/security 2>/dev/null || true
fi
mountpoint -q /tmp || mount -t tmpfs none /tmp

# Without --privileged (a host whose root lacks a capability, e.g. CAP_SYS_RESOURCE, cannot
# start privileged containers: runc "unable to apply caps"), Docker mounts /sys and the cgroup v1
# hierarchies read-only: with CAP_SYS_ADMIN they remount read-write.
if awk '$5 == "/sys" && $6 ~ /^ro/ {f=1} END {exit !f}' /proc/self/mountinfo; then
  mount -o remount,rw /sys
fi
awk '$5 ~ "^/sys/fs/cgroup(/|$)" && $6 ~ /^ro/ {print $5}' /proc/self/mountinfo | while read -r mp; do
  mount -o remount,bind,rw "$mp"
done

# cgroups. v1 (this project's hosts): nothing more. With --cgroupns=private the node sees its own
# cgroup as the root and its containers land in /docker/<id> below it, as on a real host; with the
# host's namespace they land in /docker/<id> beside the host's own containers.
# v2: move every process out of the root cgroup and delegate all controllers (hack/dind).
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/init
  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers \
    > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true
fi

# Storage driver: overlay2 where the kernel mounts overlay on $root (it must be a volume, not the
# container's overlay root), else fuse-overlayfs where /dev/fuse exists, else vfs (slow, copies).
probe_overlay() {
  d=$(mktemp -d "$root/.overlay-probe.XXXXXX") || return 1
  mkdir "$d/l" "$d/u" "$d/w" "$d/m"
  touch "$d/l/f"
  ok=1
  if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
    [ -e "$d/m/f" ] && ok=0
    umount "$d/m"
  fi
  rm -rf "$d"
  return $ok
}
driver=${DOCKER_STORAGE_DRIVER:-}
if [ -z "$driver" ]; then
  if probe_overlay; then driver=overlay2
  elif [ -c /dev/fuse ] && command -v fuse-overlayfs >/dev/null; then driver=fuse-overlayfs
  else driver=vfs
  fi
fi
mtu=${DOCKERD_MTU:-$(cat /sys/class/net/eth0/mtu 2>/dev/null || echo 1500)}
echo "swarm-node: storage driver $driver, mtu $mtu, root on $(stat -f -c %T "$root")" >&2

rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
exec dockerd \
  --host=unix:///var/run/docker.sock \
  --host=tcp://0.0.0.0:2375 \
  --tls=false \
  --storage-driver="$driver" \
  --mtu="$mtu" \
  "$@"
