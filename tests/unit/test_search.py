"""Search: the grammar's rules, the SQL engine against the reference evaluator, paging."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.errors import ValidationError
from orchestrator.lifecycle import Secondary
from orchestrator.search import service as search_service
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore, NewPoint
from orchestrator.store.search_index import SearchIndex
from tests.unit.search_reference import matches

BASE = 1_700_000_000.0
INSTANCES = ["ml.m5.large", "ml.c5.xlarge", "ml.g5.xlarge"]
TEAMS = ["vision", "speech", "nlp"]


class Catalog:
    def __init__(self, tmp: Path) -> None:
        db = Database(tmp / "search.db")
        self.jobs, self.metrics, self.index = JobStore(db), MetricStore(db), SearchIndex(db)

    def add(self, name: str, rng: random.Random, created: float) -> None:
        channels = [
            {
                "ChannelName": channel,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{rng.choice(['catdata', 'dogdata'])}/{channel}",
                    }
                },
            }
            for channel in rng.sample(["train", "validation", "test"], rng.randint(0, 2))
        ]
        request: dict[str, Any] = {
            "TrainingJobName": name,
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "HyperParameters": {
                "lr": rng.choice(["0.1", "0.5", "1.7", "2", "3", "fast"]),
                "epochs": str(rng.randint(1, 20)),
            },
            "InputDataConfig": channels,
            "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
            "ResourceConfig": {"InstanceType": rng.choice(INSTANCES), "InstanceCount": 1},
            "StoppingCondition": {"MaxRuntimeInSeconds": rng.choice([600, 3600, 86400])},
            "EnableNetworkIsolation": rng.random() < 0.3,
            "Tags": [{"Key": "team", "Value": rng.choice(TEAMS)}] if rng.random() < 0.8 else [],
        }
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{name}"
        self.jobs.insert(name, arn, request, created)
        end = rng.choice([Secondary.COMPLETED, Secondary.FAILED])
        self.jobs.move(
            name,
            Secondary.STARTING,
            Secondary.DOWNLOADING,
            created + 1,
            training_start_time=created + 1,
        )
        self.jobs.move(name, Secondary.DOWNLOADING, Secondary.TRAINING, created + 2)
        self.jobs.move(name, Secondary.TRAINING, Secondary.UPLOADING, created + 3)
        final = Secondary.COMPLETED if end is Secondary.COMPLETED else Secondary.FAILED
        self.jobs.move(
            name,
            Secondary.UPLOADING,
            final,
            created + rng.randint(4, 400),
            training_end_time=created + 5,
        )
        if rng.random() < 0.9:
            self.metrics.append(
                arn,
                [
                    NewPoint("loss", created + 3, round(rng.random(), 3)),
                    NewPoint("acc", created + 3, rng.randint(0, 100)),
                ],
            )

    def search(self, **request: Any) -> dict[str, Any]:
        request.setdefault("Resource", "TrainingJob")
        return search_service.search(self.jobs, self.metrics, self.index, request)

    def names(self, expression: dict[str, Any] | None) -> list[str]:
        found, token = [], None
        while True:
            request: dict[str, Any] = {
                "MaxResults": 7,
                "SortBy": "TrainingJobName",
                "SortOrder": "Ascending",
            }
            if expression is not None:
                request["SearchExpression"] = expression
            if token:
                request["NextToken"] = token
            page = self.search(**request)
            found += [r["TrainingJob"]["TrainingJobName"] for r in page["Results"]]
            token = page.get("NextToken")
            if not token:
                assert page["TotalHits"]["Value"] == len(found)
                return found

    def records(self) -> list[dict[str, Any]]:
        return [
            search_service.search_record(self.jobs, self.metrics, r.name)
            for r in self.jobs.page(search_service.service.ListQuery(max_results=10_000))[0]
        ]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    made = Catalog(tmp_path_factory.mktemp("search"))
    rng = random.Random(42)
    for i in range(60):
        made.add(f"job-{i:03d}", rng, BASE + i * 60)
    return made


def expect(catalog: Catalog, expression: dict[str, Any]) -> list[str]:
    return sorted(r["TrainingJobName"] for r in catalog.records() if matches(r, expression))


EXAMPLES = [
    {"Filters": [{"Name": "Metrics.loss", "Operator": "LessThan", "Value": "0.3"}]},
    {"Filters": [{"Name": "HyperParameters.lr", "Operator": "LessThan", "Value": "0.5"}]},
    {"Filters": [{"Name": "HyperParameters.lr", "Operator": "Equals", "Value": "1"}]},
    {"Filters": [{"Name": "HyperParameters.lr", "Value": "fast"}]},
    {"Filters": [{"Name": "Tags.team", "Operator": "In", "Value": "vision, nlp"}]},
    {"Filters": [{"Name": "Tags.team", "Operator": "NotExists"}]},
    {"Filters": [{"Name": "ResourceConfig.InstanceType", "Operator": "Contains", "Value": "g5"}]},
    {
        "Filters": [
            {
                "Name": "CreationTime",
                "Operator": "GreaterThanOrEqualTo",
                "Value": "2023-11-14T22:43:20",
            }
        ]
    },
    {
        "Filters": [
            {"Name": "EnableNetworkIsolation", "Value": "true"},
            {"Name": "TrainingJobStatus", "Operator": "NotEquals", "Value": "Failed"},
        ]
    },
    {
        "NestedFilters": [
            {
                "NestedPropertyName": "InputDataConfig",
                "Filters": [
                    {"Name": "InputDataConfig.ChannelName", "Operator": "Equals", "Value": "train"},
                    {
                        "Name": "InputDataConfig.DataSource.S3DataSource.S3Uri",
                        "Operator": "Contains",
                        "Value": "catdata",
                    },
                ],
            }
        ]
    },
    {
        "Operator": "Or",
        "SubExpressions": [
            {"Filters": [{"Name": "Metrics.acc", "Operator": "GreaterThan", "Value": "90"}]},
            {"Filters": [{"Name": "StoppingCondition.MaxRuntimeInSeconds", "Value": "600"}]},
        ],
    },
    {"Filters": [{"Name": "InputDataConfig", "Operator": "Exists"}]},
    {
        "Filters": [
            {"Name": "Metrics.loss", "Operator": "LessThan", "Value": "0.6"},
            {"Name": "Tags.team", "Value": "vision"},
            {"Name": "HyperParameters.lr", "Value": "fast"},
            {"Name": "ResourceConfig.InstanceType", "Operator": "NotEquals", "Value": "x"},
        ]
    },
]


@pytest.mark.parametrize("expression", EXAMPLES)
def test_examples_match_the_reference(catalog: Catalog, expression: dict[str, Any]) -> None:
    expected = expect(catalog, expression)
    assert catalog.names(expression) == expected
    assert 0 < len(expected) < 60  # each example really filters


def test_integer_values_compare_hyperparameters_as_integers(catalog: Catalog) -> None:
    as_int = catalog.names({"Filters": [{"Name": "HyperParameters.lr", "Value": "1"}]})
    records = {r["TrainingJobName"]: r for r in catalog.records()}
    assert as_int and all(records[n]["HyperParameters"]["lr"] == "1.7" for n in as_int)


def test_default_sort_is_last_modified_descending(catalog: Catalog) -> None:
    results = catalog.search(MaxResults=100)["Results"]
    times = [r["TrainingJob"]["LastModifiedTime"] for r in results]
    assert times == sorted(times, reverse=True) and len(results) == 60


def test_sort_by_metric_puts_missing_values_last(catalog: Catalog) -> None:
    for order in ("Ascending", "Descending"):
        results = catalog.search(SortBy="Metrics.loss", SortOrder=order, MaxResults=100)["Results"]
        losses = [
            next(
                (
                    m["Value"]
                    for m in r["TrainingJob"].get("FinalMetricDataList", [])
                    if m["MetricName"] == "loss"
                ),
                None,
            )
            for r in results
        ]
        present = [v for v in losses if v is not None]
        assert present == sorted(present, reverse=order == "Descending")
        assert losses[len(present) :] == [None] * (60 - len(present))


def test_paging_sorted_by_metric_visits_every_job_once(catalog: Catalog) -> None:
    seen, token = [], None
    while True:
        page = catalog.search(
            SortBy="Metrics.acc", MaxResults=9, **({"NextToken": token} if token else {})
        )
        seen += [r["TrainingJob"]["TrainingJobName"] for r in page["Results"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert sorted(seen) == [f"job-{i:03d}" for i in range(60)]


def test_tokens_are_checked(catalog: Catalog) -> None:
    token = catalog.search(MaxResults=5)["NextToken"]
    with pytest.raises(ValidationError, match="another expression or sort"):
        catalog.search(MaxResults=5, SortBy="CreationTime", NextToken=token)
    for forged in ("garbage", "e30=", "eyJrIjogMX0="):
        with pytest.raises(ValidationError, match="Invalid NextToken"):
            catalog.search(NextToken=forged)


def test_results_are_full_records_with_tags(catalog: Catalog) -> None:
    from orchestrator.validation.model import shape_errors

    response = catalog.search(MaxResults=3)
    assert shape_errors(response, "SearchResponse") == []
    assert "Tags" in response["Results"][0]["TrainingJob"]


def test_changes_reach_the_index(tmp_path: Path) -> None:
    small = Catalog(tmp_path)
    small.add("only", random.Random(1), BASE)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:training-job/only"
    query = {"Filters": [{"Name": "Metrics.fresh", "Operator": "GreaterThan", "Value": "5"}]}
    assert small.names(query) == []
    small.metrics.append(arn, [NewPoint("fresh", BASE + 9, 7.0)])
    assert small.names(query) == ["only"]
    small.jobs.add_tags("only", {"stage": "prod"})
    assert small.names({"Filters": [{"Name": "Tags.stage", "Value": "prod"}]}) == ["only"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Filters": [{"Name": "Nope", "Value": "x"}]}, "Unknown property name 'Nope'"),
        (
            {"Filters": [{"Name": "TrainingJobName", "Operator": "GreaterThan", "Value": "a"}]},
            "not supported for text properties",
        ),
        (
            {"Filters": [{"Name": "Metrics.loss", "Operator": "Contains", "Value": "1"}]},
            "only supported for text properties",
        ),
        ({"Filters": [{"Name": "Metrics.loss", "Value": "low"}]}, "must be a number"),
        ({"Filters": [{"Name": "CreationTime", "Value": "yesterday"}]}, "ISO 8601"),
        (
            {
                "Filters": [
                    {"Name": "TrainingJobName", "Operator": "Contains", "Value": "a"},
                    {"Name": "RoleArn", "Operator": "Contains", "Value": "b"},
                ]
            },
            "'CONTAINS' operator usage limit of 1 exceeded.",
        ),
        (
            {"SubExpressions": [{"Filters": [{"Name": "TrainingJobName", "Value": "x"}] * 20}] * 3},
            "at most 50",
        ),
        ({"Filters": [{"Name": "TrainingJobName"}]}, "needs a Value"),
        ({"Operator": "And"}, "at least one of Filters"),
        (
            {
                "NestedFilters": [
                    {
                        "NestedPropertyName": "InputDataConfig",
                        "Filters": [{"Name": "ResourceConfig.InstanceType", "Value": "x"}],
                    }
                ]
            },
            "must be a property of",
        ),
        ({"Filters": [{"Name": "InputDataConfig", "Value": "x"}]}, "not a value property"),
    ],
)
def test_the_references_rules(catalog: Catalog, expression: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace("'", "'")):
        catalog.search(SearchExpression=expression)


def test_request_level_rules(catalog: Catalog) -> None:
    with pytest.raises(ValidationError, match="maxResults"):
        catalog.search(MaxResults=101)
    assert catalog.search(Resource="Endpoint") == {
        "Results": [],
        "TotalHits": {"Value": 0, "Relation": "EqualTo"},
    }  # a valid resource type this orchestrator holds none of
    with pytest.raises(ValidationError, match="resource"):
        catalog.search(Resource="Spaceship")
    with pytest.raises(ValidationError, match="not a sortable property"):
        catalog.search(SortBy="InputDataConfig")
    too_many = {"Filters": [{"Name": "TrainingJobName", "Value": "x"}] * 21}
    with pytest.raises(ValidationError, match="length less than or equal to 20"):
        catalog.search(SearchExpression=too_many)


# -- property-based: random expressions against the reference evaluator ------------------

NAMES = {
    "Metrics.loss": ["0.2", "0.5", "0.9"],
    "Metrics.acc": ["10", "50", "90"],
    "HyperParameters.lr": ["0.5", "1", "2", "fast", "1.7"],
    "HyperParameters.epochs": ["5", "10"],
    "Tags.team": [*TEAMS, "vision,speech"],
    "ResourceConfig.InstanceType": [*INSTANCES, "g5"],
    "TrainingJobStatus": ["Completed", "Failed"],
    "EnableNetworkIsolation": ["true", "false"],
    "StoppingCondition.MaxRuntimeInSeconds": ["600", "3600"],
    "CreationTime": ["2023-11-14T22:40:00", "2023-11-14T23:00:00"],
    "TrainingJobName": ["job-010", "job-05"],
}
TEXTUAL = {"Tags.team", "ResourceConfig.InstanceType", "TrainingJobStatus", "TrainingJobName"}


@st.composite
def filters(draw: st.DrawFn, contains_left: list[int]) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(NAMES)))
    operators = ["Equals", "NotEquals", "Exists", "NotExists"]
    if name in TEXTUAL:
        operators += ["In"] + (["Contains"] if contains_left[0] else [])
    elif name != "EnableNetworkIsolation":
        operators += ["GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"]
    operator = draw(st.sampled_from(operators))
    if name == "HyperParameters.lr" and operator.startswith(("Greater", "Less")):
        value = draw(st.sampled_from(["0.5", "1", "2", "1.7"]))
    else:
        value = draw(st.sampled_from(NAMES[name]))
    if operator == "Contains":
        contains_left[0] -= 1
    item = {"Name": name, "Operator": operator}
    if operator not in ("Exists", "NotExists"):
        item["Value"] = value
    return item


@st.composite
def expressions(
    draw: st.DrawFn, depth: int = 0, contains_left: list[int] | None = None
) -> dict[str, Any]:
    budget = contains_left if contains_left is not None else [1]
    expression: dict[str, Any] = {"Operator": draw(st.sampled_from(["And", "Or"]))}
    count = draw(st.integers(1, 3))
    expression["Filters"] = [draw(filters(budget)) for _ in range(count)]
    if draw(st.booleans()):
        channel = {
            "Name": "InputDataConfig.ChannelName",
            "Value": draw(st.sampled_from(["train", "validation", "test"])),
        }
        uri = {
            "Name": "InputDataConfig.DataSource.S3DataSource.S3Uri",
            "Operator": draw(st.sampled_from(["Equals", "NotEquals", "Exists", "NotExists"])),
            "Value": draw(st.sampled_from(["s3://catdata/train", "s3://dogdata/test"])),
        }
        if uri["Operator"] in ("Exists", "NotExists"):
            del uri["Value"]
        expression["NestedFilters"] = [
            {
                "NestedPropertyName": "InputDataConfig",
                "Filters": draw(st.permutations([channel, uri])),
            }
        ]
    if depth < 2 and draw(st.booleans()):
        expression["SubExpressions"] = [
            draw(expressions(depth + 1, budget)) for _ in range(draw(st.integers(1, 2)))
        ]
    return expression


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(expression=expressions())
def test_sql_engine_agrees_with_the_reference(catalog: Catalog, expression: dict[str, Any]) -> None:
    assert catalog.names(expression) == expect(catalog, expression)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10_000), expression=expressions())
def test_on_random_job_sets(
    tmp_path_factory: pytest.TempPathFactory, seed: int, expression: dict[str, Any]
) -> None:
    jobs = Catalog(tmp_path_factory.mktemp("random"))
    rng = random.Random(seed)
    for i in range(rng.randint(0, 12)):
        jobs.add(f"job-{i:03d}", rng, BASE + rng.randint(0, 3600))
    assert jobs.names(expression) == expect(jobs, expression)


@pytest.mark.parametrize("expression", EXAMPLES)
def test_every_plan_selects_the_same_jobs(
    catalog: Catalog, expression: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walking the sort index (many matches), equalities checked per candidate rather than
    gathered as sets, and And as INTERSECT (no estimates)."""
    from orchestrator.search import compiler
    from orchestrator.store import search_index

    expected = expect(catalog, expression)
    monkeypatch.setattr(search_index, "FEW_MATCHES", 0)
    assert catalog.names(expression) == expected
    monkeypatch.setattr(compiler, "SET_CHECK_RATIO", 0)
    assert catalog.names(expression) == expected
    plain = compiler.compile_expression
    monkeypatch.setattr(search_service, "compile_expression", lambda e, estimate=None: plain(e))
    assert catalog.names(expression) == expected


def test_paging_by_walking_the_index(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestrator.store import search_index

    monkeypatch.setattr(search_index, "FEW_MATCHES", 0)
    for sort in ("Metrics.loss", "HyperParameters.lr", "Tags.team", "CreationTime"):
        for order in ("Ascending", "Descending"):
            seen, token = [], None
            expression = {
                "Filters": [
                    {"Name": "TrainingJobStatus", "Operator": "In", "Value": "Completed,Failed"}
                ]
            }
            while True:
                page = catalog.search(
                    SortBy=sort,
                    SortOrder=order,
                    MaxResults=7,
                    SearchExpression=expression,
                    **({"NextToken": token} if token else {}),
                )
                seen += [r["TrainingJob"]["TrainingJobName"] for r in page["Results"]]
                token = page.get("NextToken")
                if token is None:
                    break
            assert sorted(seen) == [f"job-{i:03d}" for i in range(60)], (sort, order)


def _planned(sizes: dict[str, int]) -> str:
    """The SQL for two metric ranges and a tag, given each filter's number of matches."""
    from orchestrator.search.compiler import compile_expression
    from orchestrator.search.expression import parse

    def estimate(query: tuple[str, list[Any]], cap: int) -> int:
        path = next(p for p in query[1] if p in sizes)
        return min(sizes[path], cap)

    expression = parse(
        {
            "Filters": [
                {"Name": "Metrics.m7", "Operator": "LessThan", "Value": "0.1"},
                {"Name": "Metrics.m8", "Operator": "GreaterThan", "Value": "0.5"},
                {"Name": "Tags.team", "Value": "vision"},
            ]
        }
    )
    return compile_expression(expression, estimate)[0]


def test_the_planner_drives_by_the_smallest_and_gathers_cheap_equalities() -> None:
    sql = _planned({"Metrics.m7": 10_000, "Metrics.m8": 50_000, "Tags.team": 33_000})
    driver, checks = sql.split(") d WHERE ", 1)
    assert "q.num < ?" in driver
    gathered, looked_up = checks.split(" AND EXISTS ", 1)
    assert gathered.startswith("d.job IN (SELECT q.job") and "q.text = ?" in gathered
    assert "+q.num > ?" in looked_up


def test_the_planner_looks_up_an_equality_too_large_to_gather() -> None:
    sql = _planned({"Metrics.m7": 1_000, "Metrics.m8": 50_000, "Tags.team": 900_000})
    driver, checks = sql.split(") d WHERE ", 1)
    assert "q.num < ?" in driver and "d.job IN" not in checks
    assert checks.count("EXISTS (SELECT 1 FROM search_props q WHERE q.job = d.job") == 2


def _page_plan(catalog: Catalog) -> str:
    """The query plan of the page read for a search matching most jobs."""
    conn = catalog.index.db.read()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        catalog.search(
            SearchExpression={"Filters": [{"Name": "Tags.team", "Operator": "Exists"}]},
            MaxResults=5,
        )
    finally:
        conn.set_trace_callback(None)
    page = next(s for s in reversed(statements) if "ORDER BY" in s and "search_match" in s)
    return " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {page}"))


def test_a_page_of_many_matches_walks_the_sort_index(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many matches: the page is read along the sort property's index, stopping once full."""
    from orchestrator.store import search_index

    monkeypatch.setattr(search_index, "FEW_MATCHES", 0)
    plan = _page_plan(catalog)
    assert "jobs_modified" in plan and "TEMP B-TREE" not in plan, plan


def test_a_page_of_few_matches_sorts_just_them(catalog: Catalog) -> None:
    """Few matches: they are read and sorted, never a walk through every job."""
    plan = _page_plan(catalog)
    assert plan.startswith("SCAN m") and "jobs_modified" not in plan, plan


# -- deep and wide expressions within the limits (50 parts) ----------------------------------


@st.composite
def deep_expressions(draw: st.DrawFn) -> dict[str, Any]:
    """A chain of SubExpressions as deep as the 50-part limit allows, each level with a filter
    or two, And and Or mixed, sometimes a sibling at a level (wide as well as deep)."""
    budget = draw(st.integers(30, 50))
    contains_left = [0]
    innermost: dict[str, Any] = {"Operator": "And", "Filters": [draw(filters(contains_left))]}
    budget -= 1
    expression = innermost
    while budget >= 2:
        level: dict[str, Any] = {"Operator": draw(st.sampled_from(["And", "Or"]))}
        subs = [expression]
        budget -= 1  # the SubExpression itself
        if budget >= 3 and draw(st.integers(0, 4)) == 0:
            subs.append({"Operator": "Or", "Filters": [draw(filters(contains_left))]})
            budget -= 2
        if budget >= 2 and draw(st.booleans()):
            level["Filters"] = [draw(filters(contains_left))]
            budget -= 1
        level["SubExpressions"] = draw(st.permutations(subs))
        expression = level
    return expression


def _depth(expression: dict[str, Any]) -> int:
    return 1 + max((_depth(s) for s in expression.get("SubExpressions") or []), default=0)


def test_an_expression_fifty_levels_deep_is_answered(catalog: Catalog) -> None:
    expression: dict[str, Any] = {
        "Operator": "Or",
        "Filters": [{"Name": "TrainingJobStatus", "Operator": "Equals", "Value": "Completed"}],
    }
    for level in range(48):
        expression = {"Operator": ["And", "Or"][level % 2], "SubExpressions": [expression]}
    assert _depth(expression) == 49
    assert catalog.names(expression) == expect(catalog, expression)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(expression=deep_expressions())
def test_deep_expressions_agree_with_the_reference(
    catalog: Catalog, expression: dict[str, Any]
) -> None:
    assert catalog.names(expression) == expect(catalog, expression)


def test_visibility_conditions_keep_only_resources_with_those_tags(catalog: Catalog) -> None:
    everyone = catalog.names(None)
    visible = [{"Key": "Tags.team", "Value": "vision"}]
    found = catalog.search(VisibilityConditions=visible, MaxResults=100)
    names = [r["TrainingJob"]["TrainingJobName"] for r in found["Results"]]
    expected = expect(
        catalog, {"Filters": [{"Name": "Tags.team", "Operator": "Equals", "Value": "vision"}]}
    )
    assert sorted(names) == sorted(expected) and 0 < len(names) < len(everyone)
    # With an expression too: both must hold; they do not count toward its 50 parts.
    completed = {"Filters": [{"Name": "TrainingJobStatus", "Value": "Completed"}]}
    both = catalog.search(SearchExpression=completed, VisibilityConditions=visible, MaxResults=100)
    assert {r["TrainingJob"]["TrainingJobName"] for r in both["Results"]} == set(expected) & set(
        expect(catalog, completed)
    )
    with pytest.raises(ValidationError, match=r"Tags\.<key>"):
        catalog.search(VisibilityConditions=[{"Key": "team", "Value": "vision"}])


def test_cross_account_resources_are_none_on_a_single_account(catalog: Catalog) -> None:
    assert catalog.search(CrossAccountFilterOption="CrossAccount")["Results"] == []
    same = catalog.search(CrossAccountFilterOption="SameAccount", MaxResults=100)
    assert len(same["Results"]) == len(catalog.names(None))
