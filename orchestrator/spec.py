"""The typed view of a validated CreateTrainingJob request that the engine runs from.

Frozen dataclasses rather than pydantic models: the request was already validated against the
service model, so there is nothing left to coerce, and importing pydantic would add ~70 ms to
every `orchestrator run` (the start-latency benchmark counts it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.metrics.scraper import MetricDefinition


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    uri: str
    input_mode: str  # File or FastFile
    content_type: str | None = None
    distribution: str = "FullyReplicated"
    record_wrapper: str | None = None
    compression: str | None = None


@dataclass(frozen=True)
class JobSpec:
    """Everything the supervisor needs to run one training job."""

    name: str
    arn: str
    image: str
    output_path: str
    instance_type: str
    entrypoint: list[str] | None = None
    arguments: list[str] | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    channels: list[ChannelSpec] = field(default_factory=list)
    compress_model: bool = True
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_seconds: int = 86400
    network_isolation: bool = False
    training_input_mode: str = "File"
    metric_definitions: list[MetricDefinition] = field(default_factory=list)
