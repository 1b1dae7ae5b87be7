"""The wire format under bad input: always a 4xx with a parseable AWS error, never a 5xx."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.api.server import MAX_BODY_BYTES, ApiServer
from tests.unit.test_search import deep_expressions, expressions

pytestmark = pytest.mark.docker  # the server runs with the real engine behind it

JSON11 = "application/x-amz-json-1.1"


def call(
    server: ApiServer, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def error_of(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert 400 <= status < 500, (status, body)
    document: dict[str, Any] = json.loads(body)
    assert set(document) == {"__type", "message"} and document["message"]
    assert headers["x-amzn-errortype"] == document["__type"]
    assert headers["x-amzn-requestid"]
    return document


def sagemaker(
    server: ApiServer, operation: str, body: bytes, content_type: str = JSON11
) -> dict[str, Any]:
    headers = {"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": content_type}
    return error_of(*call(server, "POST", "/", body, headers))


def test_malformed_requests(server: ApiServer) -> None:
    assert sagemaker(server, "NoSuchThing", b"{}")["__type"] == "UnknownOperationException"
    assert sagemaker(server, "ListTrainingJobs", b"{not json")["__type"] == "SerializationException"
    assert sagemaker(server, "ListTrainingJobs", b"[1, 2]")["__type"] == "SerializationException"
    assert sagemaker(server, "ListTrainingJobs", b"\xff\xfe")["__type"] == "SerializationException"
    wrong_type = sagemaker(server, "ListTrainingJobs", b"{}", content_type="text/plain")
    assert wrong_type["__type"] == "UnsupportedMediaTypeException"
    assert sagemaker(server, "ListTrainingJobs", b'{"MaxResults": "ten"}')["__type"] == (
        "ValidationException"
    )
    # GET / is the dashboard's page; any other GET the API does not know is an unknown operation
    assert error_of(*call(server, "GET", "/x", b"", {}))["__type"] == "UnknownOperationException"
    assert error_of(*call(server, "POST", "/", b"{}", {"Content-Type": JSON11}))["__type"] == (
        "UnknownOperationException"
    )
    assert error_of(*call(server, "DELETE", "/x", b"", {"Content-Length": "0"}))


def test_oversized_bodies_are_refused_unread(server: ApiServer) -> None:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=30)
    connection.putrequest("POST", "/")
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.putheader("Content-Type", JSON11)
    connection.putheader("X-Amz-Target", "SageMaker.ListTrainingJobs")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["__type"] == "RequestEntityTooLargeException"
    connection.close()


def test_successes_carry_a_request_id(server: ApiServer) -> None:
    status, headers, body = call(
        server,
        "POST",
        "/",
        b"{}",
        {"X-Amz-Target": "SageMaker.ListTrainingJobs", "Content-Type": JSON11},
    )
    assert status == 200 and headers["x-amzn-requestid"]
    assert json.loads(body) == {"TrainingJobSummaries": []}


def test_null_members_count_as_not_sent(server: ApiServer) -> None:
    headers = {"X-Amz-Target": "SageMaker.ListTrainingJobs", "Content-Type": JSON11}
    for body in (b'{"MaxResults": null}', b'{"SortBy": null, "NextToken": null}'):
        status, _, response = call(server, "POST", "/", body, headers)
        assert status == 200 and json.loads(response) == {"TrainingJobSummaries": []}, response


TARGETS = st.sampled_from(
    [
        "SageMaker.CreateTrainingJob",
        "SageMaker.DescribeTrainingJob",
        "SageMaker.ListTrainingJobs",
        "SageMaker.StopTrainingJob",
        "SageMaker.UpdateTrainingJob",
        "SageMaker.AddTags",
        "SageMaker.ListTags",
        "SageMaker.DeleteTags",
        "SageMaker.Search",
        "SageMaker.Nope",
        "Logs_20140328.GetLogEvents",
        "Logs_20140328.FilterLogEvents",
        "Logs_20140328.DescribeLogStreams",
        "Other.Thing",
        "",
    ]
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "TrainingJobName",
        "MaxResults",
        "ResourceArn",
        "Tags",
        "NextToken",
        "logStreamName",
        "logGroupName",
        "AlgorithmSpecification",
        "SortBy",
        "TagKeys",
        "RoleArn",
        "nextToken",
        "limit",
        "StatusEquals",
    ]
)
BODIES = (
    st.dictionaries(FIELDS, JSON_VALUES, max_size=5).map(lambda d: json.dumps(d).encode())
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
)


@settings(max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(["POST", "POST", "POST", "PUT", "GET"]),
    path=st.sampled_from(["/", "/", "/BatchPutMetrics", "/BatchGetMetrics", "/x?y=1"]),
    target=TARGETS,
    content_type=st.sampled_from([JSON11, JSON11, "application/json", "text/plain", ""]),
    body=BODIES,
)
def test_random_requests_never_break_the_server(
    server: ApiServer, method: str, path: str, target: str, content_type: str, body: bytes
) -> None:
    headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
    if target:
        headers["X-Amz-Target"] = target
    status, response_headers, response = call(server, method, path, body, headers)
    assert status < 500, response
    if status != 200:
        error_of(status, response_headers, response)


SEARCH_BODIES = st.one_of(
    deep_expressions(),
    expressions(),
    deep_expressions().map(lambda e: {**e, "Operator": "Xor"}),  # invalid: a 400, never a 500
).map(
    lambda expression: json.dumps(
        {"Resource": "TrainingJob", "SearchExpression": expression, "MaxResults": 5}
    ).encode()
)


@settings(max_examples=5000, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=SEARCH_BODIES)
def test_random_search_expressions_deep_and_wide_never_break_the_server(
    server: ApiServer, body: bytes
) -> None:
    headers = {"Content-Type": JSON11, "X-Amz-Target": "SageMaker.Search"}
    status, response_headers, response = call(server, "POST", "/", body, headers)
    assert status < 500, response
    if status != 200:
        assert error_of(status, response_headers, response)["__type"] == "ValidationException"
