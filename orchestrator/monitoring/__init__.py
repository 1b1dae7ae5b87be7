"""SageMaker Model Monitor: the documents its analyzers write (see `documents`).

Deliberately empty: importing the package must not pull in pydantic, so nothing on the
`orchestrator run` path pays for it.
"""
