"""The typed view of a validated CreateTrainingJob request that the engine runs from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChannelSpec(_Frozen):
    name: str
    uri: str
    input_mode: str  # File or FastFile
    content_type: str | None = None
    distribution: str = "FullyReplicated"
    record_wrapper: str | None = None
    compression: str | None = None


class JobSpec(_Frozen):
    """Everything the supervisor needs to run one training job."""

    name: str
    arn: str
    image: str
    entrypoint: list[str] | None = None
    arguments: list[str] | None = None
    hyperparameters: dict[str, str] = {}
    environment: dict[str, str] = {}
    channels: list[ChannelSpec] = []
    output_path: str
    compress_model: bool = True
    instance_type: str
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_seconds: int = 86400
    network_isolation: bool = False
    training_input_mode: str = "File"
