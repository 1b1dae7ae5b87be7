"""The host bridge's decisions: which endpoints need the relay, what containers are told."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from orchestrator.engine.hostbridge import credentials_document, loopback_endpoint, relayed_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:9000", ("127.0.0.1", 9000)),
        ("http://localhost:4566/", ("127.0.0.1", 4566)),
        ("http://[::1]:9000", ("::1", 9000)),
        ("http://127.0.0.2", ("127.0.0.2", 80)),
        ("https://s3.us-east-1.amazonaws.com", None),
        ("http://minio.lan:9000", None),
        (None, None),
    ],
)
def test_only_an_endpoint_on_loopback_is_relayed(
    url: str | None, expected: tuple[str, int] | None
) -> None:
    assert loopback_endpoint(url) == expected


def test_a_relayed_endpoint_keeps_its_scheme_and_path() -> None:
    assert relayed_url("http://127.0.0.1:9000/base", 41000) == (
        "http://host.docker.internal:41000/base"
    )


def test_the_credentials_document_is_what_the_container_provider_reads() -> None:
    now = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)
    frozen = SimpleNamespace(access_key="AKIA", secret_key="s", token=None)
    assert credentials_document(frozen, now) == {
        "AccessKeyId": "AKIA",
        "SecretAccessKey": "s",
        "Token": "",
        "Expiration": "2026-12-02T11:00:00Z",
    }


def test_temporary_credentials_are_never_handed_on_past_their_expiry() -> None:
    now = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)
    soon = now + datetime.timedelta(minutes=20)
    frozen = SimpleNamespace(access_key="ASIA", secret_key="s", token="t")
    assert credentials_document(frozen, now, soon)["Expiration"] == "2026-12-02T10:20:00Z"
