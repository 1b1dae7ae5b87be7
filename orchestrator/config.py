"""Settings, built once at the entry point from flags and ORCHESTRATOR_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from orchestrator.errors import ValidationError
from orchestrator.gpus import DETECT, GpuSetting, parse_setting

DEFAULT_GRACE_SECONDS = 120.0


# `orchestrator serve`'s port unless --port says else.
DEFAULT_PORT = 8777


@dataclass(frozen=True)
class Settings:
    """Everything configurable; passed down, never read from the environment later."""

    home: Path
    stop_grace_seconds: float = DEFAULT_GRACE_SECONDS
    poll_seconds: float = 0.2
    lease_seconds: float = 30.0
    region: str = "us-east-1"
    account_id: str = "000000000000"
    # Capacity: None means "ask the host" (and, for CPUs, overcommit it; see capacity.py).
    cpus: float | None = None
    memory_gib: float | None = None
    cpu_overcommit: float | None = None
    # How often the engine loop adopts orphans, reaps leftovers and re-checks waiting jobs.
    tick_seconds: float = 1.0
    # How often the checkpoint sync rescans LocalPath for changes inotify did not report.
    checkpoint_scan_seconds: float = 5.0
    # Managed spot, simulated: the share of the running time that is billed (SageMaker's spot
    # savings are "up to 90%"; 70% is a typical figure), the pause before an interrupted job
    # gets capacity back, and an optional seeded random interruption rate for soak tests.
    spot_discount: float = 0.7
    spot_recapture_seconds: float = 5.0
    spot_interruptions_per_hour: float = 0.0
    spot_seed: int = 0
    # How many warm pools may be Available at once (the stand-in for the AWS quota).
    max_warm_pools: int = 4
    # ORCHESTRATOR_GPUS (see gpus.py): detect, none, a list, or simulate:N. Strict: a job
    # asking for more GPUs than the host has fails (CapacityError) instead of using them all.
    gpus: GpuSetting = DETECT
    gpus_strict: bool = False
    # Where s3:// lives: `local` (a directory under the home) or `s3` (boto3's configuration).
    object_store: str = "local"
    # Where host containers run: `docker` (the local engine) or `swarm` (the services of the
    # Swarm this engine manages; docs/many-hosts.md). On a node other than this machine, a
    # host run's files travel through `swarm_staging` (s3://bucket/prefix, on the S3 store)
    # into a folder under `swarm_node_dir` on that node.
    runtime: str = "docker"
    swarm_staging: str | None = None
    swarm_node_dir: str = "/var/lib/orchestrator-swarm"
    # `serve`'s dashboard (docs/dashboard.md): `auto` shows it on a loopback server without
    # credentials and hides it in SigV4 mode; `on` shows it there behind the credentials.
    dashboard: str = "auto"

    @property
    def warm_pools_root(self) -> Path:
        """Each pool's persistent cache (/opt/ml/sagemaker/warmpoolcache) lives below here."""
        return self.home / "warmpools"

    @property
    def database_path(self) -> Path:
        return self.home / "orchestrator.db"

    @property
    def object_store_root(self) -> Path:
        """Where s3://bucket/key lives when no real S3 is configured."""
        return self.home / "s3"

    @property
    def jobs_root(self) -> Path:
        return self.home / "jobs"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def default_home(env: Mapping[str, str]) -> Path:
    if env.get("ORCHESTRATOR_HOME"):
        return Path(env["ORCHESTRATOR_HOME"]).expanduser()
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "orchestrator"


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = _optional(env, name, "a number of seconds", positive=False)
    return default if value is None else value


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    value = _optional(env, name, "a fraction from 0 to 1", positive=False)
    if value is not None and value >= 1:
        raise ValidationError(f"{name} must be below 1, got {env[name]!r}")
    return default if value is None else value


def _optional(env: Mapping[str, str], name: str, what: str, positive: bool = True) -> float | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(f"{name} must be {what}, got {raw!r}") from None
    if value < 0 or (positive and value == 0) or value != value:
        rule = "greater than 0" if positive else "not negative"
        raise ValidationError(f"{name} must be {rule}, got {raw!r}")
    return value


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from ORCHESTRATOR_* variables (the CLI layers flags on top)."""
    env = os.environ if env is None else env
    return Settings(
        home=default_home(env),
        stop_grace_seconds=_float(env, "ORCHESTRATOR_STOP_GRACE_SECONDS", DEFAULT_GRACE_SECONDS),
        poll_seconds=_float(env, "ORCHESTRATOR_POLL_SECONDS", 0.2),
        lease_seconds=_float(env, "ORCHESTRATOR_LEASE_SECONDS", 30.0),
        region=env.get("ORCHESTRATOR_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
        cpus=_optional(env, "ORCHESTRATOR_CPUS", "a number of CPUs"),
        memory_gib=_optional(env, "ORCHESTRATOR_MEMORY_GIB", "a number of GiB"),
        cpu_overcommit=_optional(env, "ORCHESTRATOR_CPU_OVERCOMMIT", "a ratio such as 4"),
        tick_seconds=_float(env, "ORCHESTRATOR_TICK_SECONDS", 1.0) or 1.0,
        checkpoint_scan_seconds=_float(env, "ORCHESTRATOR_CHECKPOINT_SCAN_SECONDS", 5.0) or 5.0,
        spot_discount=_fraction(env, "ORCHESTRATOR_SPOT_DISCOUNT", 0.7),
        spot_recapture_seconds=_float(env, "ORCHESTRATOR_SPOT_RECAPTURE_SECONDS", 5.0),
        spot_interruptions_per_hour=_float(env, "ORCHESTRATOR_SPOT_INTERRUPTIONS_PER_HOUR", 0.0),
        spot_seed=int(_float(env, "ORCHESTRATOR_SPOT_SEED", 0.0)),
        max_warm_pools=int(_float(env, "ORCHESTRATOR_MAX_WARM_POOLS", 4.0)),
        gpus=parse_setting(env.get("ORCHESTRATOR_GPUS")),
        gpus_strict=_flag(env, "ORCHESTRATOR_GPUS_STRICT"),
        object_store=_choice(env, "ORCHESTRATOR_OBJECT_STORE", ("local", "s3")),
        runtime=_choice(env, "ORCHESTRATOR_RUNTIME", ("docker", "swarm")),
        swarm_staging=_s3_prefix(env, "ORCHESTRATOR_SWARM_STAGING"),
        swarm_node_dir=_absolute(env, "ORCHESTRATOR_SWARM_NODE_DIR", "/var/lib/orchestrator-swarm"),
        dashboard=_choice(env, "ORCHESTRATOR_DASHBOARD", ("auto", "on", "off")),
    )


def _s3_prefix(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith("s3://") or not raw[5:].split("/")[0]:
        raise ValidationError(f"{name} must be an s3://bucket/prefix URI, got {raw!r}")
    return raw


def _absolute(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not raw.startswith("/") or raw.rstrip("/").count("/") < 2:
        raise ValidationError(
            f"{name} must be an absolute path below a folder every node has, got {raw!r}"
        )
    return raw.rstrip("/")


def _choice(env: Mapping[str, str], name: str, options: tuple[str, ...]) -> str:
    raw = (env.get(name) or options[0]).strip().lower()
    if raw not in options:
        raise ValidationError(f"{name} must be one of {', '.join(options)}, got {env[name]!r}")
    return raw


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValidationError(f"{name} must be true or false, got {env[name]!r}")
