#!/usr/bin/env bash
# Prints the base image the example Dockerfiles should build FROM.
# $BASE_IMAGE if set; else the public default when this engine has it or can pull it; else a
# Debian base bootstrapped here (for machines that reach no container registry).
set -euo pipefail
public=${PUBLIC_BASE_IMAGE:-python:3.11-slim}
local_tag=${LOCAL_BASE_IMAGE:-orchestrator/base:bookworm}
if [ -n "${BASE_IMAGE:-}" ]; then echo "$BASE_IMAGE"; exit 0; fi
if docker image inspect "$local_tag" >/dev/null 2>&1; then echo "$local_tag"; exit 0; fi
if docker image inspect "$public" >/dev/null 2>&1; then echo "$public"; exit 0; fi
if timeout 120 docker pull -q "$public" >/dev/null 2>&1; then echo "$public"; exit 0; fi
echo "no registry answers: bootstrapping $local_tag with debootstrap (about a minute)" >&2
"$(dirname "$0")/bootstrap-base.sh" "$local_tag" >&2
echo "$local_tag"
