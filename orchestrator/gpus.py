"""The host's NVIDIA GPUs, decided purely: what detection found, what ORCHESTRATOR_GPUS keeps,
and which free GPUs a job gets.

Detection itself is an effect (runtime/nvidia.py runs `nvidia-smi`); this module parses its
answer and applies the setting:

    (unset)        the GPUs `nvidia-smi` lists; none (no driver, no GPU) is a CPU host
    none           no GPUs, whatever the host has
    0,2 | GPU-...  only these, by index or UUID (UUIDs are taken at their word where nothing
                   can be detected)
    simulate:N     N simulated GPUs: scheduled, assigned and shown to the container exactly as
                   real ones, but no device request reaches Docker
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.errors import ValidationError

SETTING = "ORCHESTRATOR_GPUS"
# `nvidia-smi --query-gpu` fields, in the order parse_query expects them.
QUERY_FIELDS = ("index", "uuid", "name", "memory.total")
SIMULATED_NAME = "Simulated NVIDIA GPU"
SIMULATED_MEMORY_MIB = 24576
# Stable simulated UUIDs: the same N GPUs on every run and every process on one store.
_SIMULATION_NAMESPACE = uuid.UUID("5d0c1c64-3f3a-4a40-9a55-6f7263686573")
MAX_SIMULATED = 64


@dataclass(frozen=True)
class Gpu:
    index: int
    uuid: str
    name: str
    memory_mib: int | None


@dataclass(frozen=True)
class GpuInventory:
    """The GPUs the scheduler may hand out, in index order, and where they came from."""

    gpus: tuple[Gpu, ...] = ()
    simulated: bool = False
    source: str = "no NVIDIA GPU detected"

    @property
    def uuids(self) -> tuple[str, ...]:
        return tuple(gpu.uuid for gpu in self.gpus)


@dataclass(frozen=True)
class GpuSetting:
    """ORCHESTRATOR_GPUS, parsed: `detect`, `none`, `list` (of items) or `simulate` (count)."""

    kind: str
    items: tuple[str, ...] = ()
    count: int = 0

    @property
    def needs_detection(self) -> bool:
        return self.kind in ("detect", "list")


DETECT = GpuSetting("detect")


def parse_setting(raw: str | None) -> GpuSetting:
    value = (raw or "").strip()
    if not value:
        return DETECT
    if value.lower() == "none":
        return GpuSetting("none")
    if value.lower().startswith("simulate:"):
        count = value.split(":", 1)[1].strip()
        if not count.isdigit() or not 1 <= int(count) <= MAX_SIMULATED:
            raise ValidationError(
                f"{SETTING}=simulate:N needs N from 1 to {MAX_SIMULATED}, got {raw!r}"
            )
        return GpuSetting("simulate", count=int(count))
    items = tuple(item.strip() for item in value.split(","))
    for item in items:
        if not (item.isdigit() or item.startswith("GPU-")):
            raise ValidationError(
                f"{SETTING} must be 'none', 'simulate:N' or a comma list of GPU indexes or"
                f" UUIDs (GPU-...), got {item!r}"
            )
    if len(set(items)) != len(items):
        raise ValidationError(f"{SETTING} lists a GPU twice: {raw!r}")
    return GpuSetting("list", items=items)


def parse_query(text: str) -> tuple[Gpu, ...]:
    """The answer of `nvidia-smi --query-gpu=index,uuid,name,memory.total
    --format=csv,noheader,nounits`: one GPU per line, e.g. `0, GPU-8f6e..., NVIDIA A10G, 23028`."""
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(QUERY_FIELDS) or not fields[0].isdigit():
            raise ValueError(f"unexpected nvidia-smi line: {line!r}")
        memory = fields[3]
        gpus.append(
            Gpu(int(fields[0]), fields[1], fields[2], int(memory) if memory.isdigit() else None)
        )
    return tuple(sorted(gpus, key=lambda gpu: gpu.index))


def simulated(count: int) -> tuple[Gpu, ...]:
    return tuple(
        Gpu(
            index,
            f"GPU-{uuid.uuid5(_SIMULATION_NAMESPACE, str(index))}",
            SIMULATED_NAME,
            SIMULATED_MEMORY_MIB,
        )
        for index in range(count)
    )


def inventory(setting: GpuSetting, detected: Sequence[Gpu] | None) -> GpuInventory:
    """What the scheduler may use, given the setting and what detection found (None: nothing
    could be asked, no `nvidia-smi`)."""
    if setting.kind == "none":
        return GpuInventory(source=f"{SETTING}=none")
    if setting.kind == "simulate":
        return GpuInventory(
            simulated(setting.count), True, f"simulated, {SETTING}=simulate:{setting.count}"
        )
    if setting.kind == "detect":
        if detected is None:
            return GpuInventory(source="no nvidia-smi answers here: a CPU host")
        return GpuInventory(tuple(detected), source="found by nvidia-smi")
    listed = _listed(setting.items, detected)
    return GpuInventory(listed, source=f"{SETTING}={','.join(setting.items)}")


def _listed(items: Sequence[str], detected: Sequence[Gpu] | None) -> tuple[Gpu, ...]:
    if detected is None:  # nothing to check against: UUIDs as given, indexes meaningless
        indexes = [item for item in items if item.isdigit()]
        if indexes:
            raise ValidationError(
                f"{SETTING} lists GPU indexes ({', '.join(indexes)}) but nvidia-smi is not"
                " available to resolve them: list GPU UUIDs instead"
            )
        return tuple(Gpu(i, item, "NVIDIA GPU (listed)", None) for i, item in enumerate(items))
    chosen = []
    for item in items:
        match = [gpu for gpu in detected if item in (str(gpu.index), gpu.uuid)]
        if not match:
            known = ", ".join(f"{gpu.index} ({gpu.uuid})" for gpu in detected) or "none"
            raise ValidationError(
                f"{SETTING} lists {item!r}, which this host does not have: {known}"
            )
        chosen.append(match[0])
    return tuple(sorted(chosen, key=lambda gpu: gpu.index))


def pick(count: int, available: Sequence[str], held: set[str]) -> tuple[str, ...] | None:
    """`count` free GPUs in index order, or None while too few are free."""
    free = [gpu for gpu in available if gpu not in held]
    return tuple(free[:count]) if len(free) >= count else None


def plural(count: int) -> str:
    return f"{count} GPU" if count == 1 else f"{count} GPUs"


def simulated_nvidia_smi(gpus: Sequence[Gpu]) -> str:
    """A stand-in `nvidia-smi` for a container in simulate mode: it answers `-L`/`--list-gpus`
    (what the SageMaker training toolkit counts for SM_NUM_GPUS) and `--query-gpu=...` for the
    container's own GPUs, renumbered from 0 as the NVIDIA runtime numbers them."""
    rows = []
    for position, gpu in enumerate(gpus):
        memory = gpu.memory_mib if gpu.memory_mib is not None else SIMULATED_MEMORY_MIB
        rows.append(f"{position}|{gpu.uuid}|{gpu.name}|{memory}")
    table = "\n".join(rows)
    return _SIMULATED_SCRIPT.replace("@ROWS@", table).replace("@COUNT@", str(len(rows)))


# POSIX sh, so it runs in any image with /bin/sh. Rows: index|uuid|name|memory MiB.
_SIMULATED_SCRIPT = r"""#!/bin/sh
# Simulated by orchestrator (ORCHESTRATOR_GPUS=simulate:N): no real GPU is attached.
ROWS='@ROWS@'
list() {
  printf '%s\n' "$ROWS" | while IFS='|' read -r i u n m; do
    [ -n "$u" ] && echo "GPU $i: $n (UUID: $u)"
  done
}
query() {
  fields=$1; header=1; units=1
  case "$2" in *noheader*) header=0;; esac
  case "$2" in *nounits*) units=0;; esac
  if [ $header = 1 ]; then echo "$fields" | sed 's/,/, /g'; fi
  printf '%s\n' "$ROWS" | while IFS='|' read -r i u n m; do
    [ -n "$u" ] || continue
    line=''
    for f in $(echo "$fields" | tr ',' ' '); do
      case "$f" in
        index) v=$i;; uuid|gpu_uuid) v=$u;; name|gpu_name) v=$n;; count) v=@COUNT@;;
        memory.total|memory.free) if [ $units = 1 ]; then v="$m MiB"; else v=$m; fi;;
        memory.used) if [ $units = 1 ]; then v="0 MiB"; else v=0; fi;;
        *) v='[N/A]';;
      esac
      if [ -z "$line" ]; then line=$v; else line="$line, $v"; fi
    done
    echo "$line"
  done
}
fields=''; format=''
for arg in "$@"; do
  case "$arg" in
    -L|--list-gpus) list; exit 0;;
    --query-gpu=*) fields=${arg#--query-gpu=};;
    --format=*) format=${arg#--format=};;
  esac
done
if [ -n "$fields" ]; then query "$fields" "$format"; exit 0; fi
echo "NVIDIA-SMI (simulated by orchestrator: ORCHESTRATOR_GPUS=simulate:N, no real GPU)"
list
"""
