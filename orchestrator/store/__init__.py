"""Persistence: every SQL statement of the orchestrator lives in this package."""

from orchestrator.store.jobs import JobRecord, JobStore, ListQuery, TransitionRecord

__all__ = ["JobRecord", "JobStore", "ListQuery", "TransitionRecord"]
