"""Ask the host's NVIDIA driver which GPUs it has, through `nvidia-smi`.

`nvidia-smi` rather than NVML bindings (nvidia-ml-py): it ships with every NVIDIA driver, so it
is present exactly where GPUs can be used; its `--query-gpu` CSV is a documented, stable
interface; and it costs no dependency. It is asked once per engine, and only when a job needs
GPUs or `orchestrator gpus` asks, so CPU-only runs never pay for it.
"""

from __future__ import annotations

import shutil
import subprocess

from orchestrator.errors import HostMisconfigured
from orchestrator.gpus import QUERY_FIELDS, Gpu, parse_query

TIMEOUT_SECONDS = 30.0


def detect_gpus() -> tuple[Gpu, ...] | None:
    """The GPUs `nvidia-smi` lists; None if there is no `nvidia-smi`: a CPU host. One that is
    there and fails (no driver loaded, a hung GPU) is HostMisconfigured: GPU jobs fail with
    its answer rather than silently run on CPUs, and the next job asks again."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return None
    command = [
        executable,
        f"--query-gpu={','.join(QUERY_FIELDS)}",
        "--format=csv,noheader,nounits",
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True
        )
        return parse_query(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        detail = getattr(exc, "stderr", None) or getattr(exc, "stdout", None) or exc
        raise HostMisconfigured(
            f"nvidia-smi could not list this host's GPUs ({str(detail).strip()[:300]}): check"
            " the NVIDIA driver, or set ORCHESTRATOR_GPUS=none to run GPU instance types on CPUs"
        ) from exc
