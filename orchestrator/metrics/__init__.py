"""Metrics: scraping MetricDefinitions out of container output, BatchPutMetrics, BatchGetMetrics."""
