"""The dashboard `orchestrator serve` shows at its root URL: jobs, a job's timeline, metric
charts and live logs, comparison of runs, and the capacity the jobs hold.

Static assets live in `static/` (no build step); charts are Plotly.js, served from the `plotly`
package's own bundled copy (MIT). The JSON endpoints (`routes.py`) read through the same
operations the SageMaker API uses; `security.py` decides who may read and act.
"""
