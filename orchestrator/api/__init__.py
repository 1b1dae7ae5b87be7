"""The HTTP endpoint: SageMaker (JSON 1.1), sagemaker-metrics (rest-json), CloudWatch Logs."""
