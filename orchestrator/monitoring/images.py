"""AWS's Model Monitor analyzer image, as the SageMaker SDK names it, runs ours.

`sagemaker.image_uris.retrieve("model-monitor", region)` gives
`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/sagemaker-model-monitor-analyzer[:tag]`, a
closed image that no machine here can pull. Any such URI, in any region and with any tag, runs
`orchestrator/model-quality:latest` (containers/model-quality, built by `make images`), which
follows the same container contract, so unmodified SDK code (ModelQualityMonitor.suggest_baseline,
monitoring schedules) works. Any other image is taken as given: bring your own analyzer.
"""

from __future__ import annotations

import re

ANALYZER_IMAGE = "orchestrator/model-quality:latest"
_AWS_ANALYZER = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/sagemaker-model-monitor-analyzer"
    r"(:[\w.-]+|@sha256:[0-9a-f]{64})?$"
)


def analyzer_image(uri: str) -> str:
    """The image that runs for `uri`: ours for AWS's analyzer, else `uri` itself."""
    return ANALYZER_IMAGE if _AWS_ANALYZER.match(uri) else uri
