#!/usr/bin/env bash
# Builds a local Debian base image for machines that reach no container registry.
# Usage: containers/bootstrap-base.sh TAG
# debootstrap fetches Debian's packages through its default mirror (override with DEBIAN_MIRROR),
# and `docker import` turns the resulting root filesystem into an image. About a minute.
set -euo pipefail
tag=${1:?usage: bootstrap-base.sh TAG}
suite=${DEBIAN_SUITE:-bookworm}
if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag already present"
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "installing debootstrap"
  apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
fi
root=$(mktemp -d /tmp/orchestrator-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "bootstrapping Debian $suite into $root (python3, numpy)"
debootstrap --variant=minbase --include=python3,python3-numpy,ca-certificates \
  "$suite" "$root" ${DEBIAN_MIRROR:-} >"$root.log" 2>&1 || { tail -20 "$root.log"; exit 1; }
rm -f "$root.log"
# Trim what a training container never needs, to keep the image small.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "built base image $tag"
