"""Testing SageMaker training containers with pytest: the plugin's fixtures (plugin.py) and the
result of a job run to its end (results.py)."""

from orchestrator.testing.results import TrainingJobResult

__all__ = ["TrainingJobResult"]
