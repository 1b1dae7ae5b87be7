"""The command line's handling of bad input: one line naming the problem, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli.main import main


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "home"))
    return tmp_path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_describe_of_a_missing_job(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["describe", "nope"], capsys)
    assert code == 2
    assert err.strip() == (
        "orchestrator: ValidationException: Requested resource not found. (TrainingJob 'nope')"
    )


def test_run_with_malformed_json(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = home / "job.json"
    bad.write_text('{"TrainingJobName": ')
    code, _, err = _run(["run", str(bad)], capsys)
    assert code == 2 and "not valid JSON" in err and err.count("\n") == 1


def test_run_with_a_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["run", "file:///no/such/job.json"], capsys)
    assert code == 2 and "cannot read request file '/no/such/job.json'" in err


def test_run_with_an_invalid_request(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["run", '{"TrainingJobName": "x"}'], capsys)
    assert code == 2 and "ValidationException" in err and "roleArn" in err


def test_list_on_an_empty_store(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["list"], capsys)
    assert code == 0 and out.split() == ["NAME", "STATUS", "SECONDARY", "CREATED", "ENDED"]
    code, out, _ = _run(["list", "--json"], capsys)
    assert code == 0 and '"TrainingJobSummaries": []' in out


def test_list_with_a_bad_time(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["list", "--created-after", "soon"], capsys)
    assert code == 2 and "CreationTimeAfter must be a timestamp" in err


def test_stop_of_a_missing_job(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["stop", "nope"], capsys)
    assert code == 2 and "Requested resource not found" in err


def test_upload_of_a_missing_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["upload", "/no/such/dir", "s3://b/k"], capsys)
    assert code == 2 and "is not a file or folder" in err
