"""Search filter grammar: parsing, type checks, and execution on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from trainlab.exceptions import InvalidFilter
from trainlab.store.search import (
    SEARCHED_EXPERIMENTS,
    STRING_OPS,
    And,
    ColumnField,
    Comparison,
    NamedFields,
    Node,
    Or,
    OrderBy,
    SearchSchema,
    compile_filter,
    compile_order_by,
    experiments_filter,
    experiments_order_by,
    key_value_fields,
    like_to_glob,
    parse_filter,
    parse_order_by,
    runs_filter,
    runs_order_by,
)
from trainlab.store.sql.engine import make_engine, upgrade
from trainlab.store.sql.models import (
    DatasetModel,
    ExperimentModel,
    ExperimentTagModel,
    LatestMetricModel,
    LoggedModelModel,
    LoggedModelTagModel,
    ParamModel,
    RunInputModel,
    RunInputTagModel,
    RunModel,
    TagModel,
)


def cmp(kind: str, key: str, op: str, value: object = None) -> Comparison:
    return Comparison(kind, key, op, value)  # type: ignore[arg-type]


A = cmp("attribute", "a", "=", 1)
B = cmp("attribute", "b", "=", 2)
C = cmp("attribute", "c", "=", 3)
D = cmp("attribute", "d", "=", 4)

# -- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # precedence: AND binds tighter than OR; parentheses override; chains flatten
        ("a = 1 OR b = 2 AND c = 3", Or((A, And((B, C))))),
        ("a = 1 AND b = 2 OR c = 3", Or((And((A, B)), C))),
        ("(a = 1 OR b = 2) AND c = 3", And((Or((A, B)), C))),
        ("a = 1 and (b = 2 or c = 3) and d = 4", And((A, Or((B, C)), D))),
        ("a = 1 AND b = 2 AND c = 3", And((A, B, C))),
        ("(a = 1 AND b = 2) AND (c = 3)", And((A, B, C))),
        ("a = 1 OR (b = 2 OR c = 3)", Or((A, B, C))),
        ("((a = 1))", A),
        # keywords are case-insensitive
        ("a = 1 oR b = 2 AnD c = 3", Or((A, And((B, C))))),
        (
            "x like 'a' and y Is NoT nUlL",
            And((cmp("attribute", "x", "LIKE", "a"), cmp("attribute", "y", "IS NOT NULL"))),
        ),
        # every operator
        ("metrics.m = 1", cmp("metric", "m", "=", 1)),
        ("metrics.m != 1", cmp("metric", "m", "!=", 1)),
        ("metrics.m < 1", cmp("metric", "m", "<", 1)),
        ("metrics.m <= 1", cmp("metric", "m", "<=", 1)),
        ("metrics.m > 1", cmp("metric", "m", ">", 1)),
        ("metrics.m >= 1", cmp("metric", "m", ">=", 1)),
        ("params.p LIKE 'a%'", cmp("param", "p", "LIKE", "a%")),
        ("params.p ILIKE 'a%'", cmp("param", "p", "ILIKE", "a%")),
        ("run_id IN ('a', 'b')", cmp("attribute", "run_id", "IN", ("a", "b"))),
        ("run_id NOT IN ('a')", cmp("attribute", "run_id", "NOT IN", ("a",))),
        ("run_id in ('a', 'b',)", cmp("attribute", "run_id", "IN", ("a", "b"))),
        ("run_id IN ()", cmp("attribute", "run_id", "IN", ())),
        ("tags.t IS NULL", cmp("tag", "t", "IS NULL")),
        ("tags.t IS NOT NULL", cmp("tag", "t", "IS NOT NULL")),
        ("metrics.m>=-2.5", cmp("metric", "m", ">=", -2.5)),
        ("params.p='x'", cmp("param", "p", "=", "x")),
        # numbers
        ("metrics.m < 1e-3", cmp("metric", "m", "<", 0.001)),
        ("metrics.m < +.5", cmp("metric", "m", "<", 0.5)),
        ("metrics.m < 7.", cmp("metric", "m", "<", 7.0)),
        ("metrics.m < inf", cmp("metric", "m", "<", math.inf)),
        ("metrics.m > -Infinity", cmp("metric", "m", ">", -math.inf)),
        ("start_time > 99999999999999999999", cmp("attribute", "start_time", ">", 1e20)),
        # strings: single or double quotes, a doubled quote stands for itself
        ('params.p = "rf"', cmp("param", "p", "=", "rf")),
        ("params.p = 'it''s'", cmp("param", "p", "=", "it's")),
        ('params.p = "say ""hi"""', cmp("param", "p", "=", 'say "hi"')),
        ("params.p = 'a\\_b'", cmp("param", "p", "=", "a\\_b")),
        ("params.p = ''", cmp("param", "p", "=", "")),
        # keys: backticks, double quotes, dots and slashes
        ("metrics.`my metric` > 0", cmp("metric", "my metric", ">", 0)),
        ('metrics."my metric" > 0', cmp("metric", "my metric", ">", 0)),
        ("tags.`a``b` = 'x'", cmp("tag", "a`b", "=", "x")),
        ("tags.mlflow.user = 'x'", cmp("tag", "mlflow.user", "=", "x")),
        ("tags.\"mlflow.user\" = 'x'", cmp("tag", "mlflow.user", "=", "x")),
        ("metrics.train/loss-v2 < 1", cmp("metric", "train/loss-v2", "<", 1)),
        ("`Run name` = 'x'", cmp("attribute", "Run name", "=", "x")),
        ("\"run name\" = 'x'", cmp("attribute", "run name", "=", "x")),
        # every prefix alias
        *[
            (f"{prefix}.k = 'v'", cmp(kind, "k", "=", "v"))
            for prefix, kind in [
                ("metric", "metric"),
                ("metrics", "metric"),
                ("param", "param"),
                ("params", "param"),
                ("parameter", "param"),
                ("parameters", "param"),
                ("tag", "tag"),
                ("tags", "tag"),
                ("attribute", "attribute"),
                ("attributes", "attribute"),
                ("attr", "attribute"),
                ("run", "attribute"),
                ("dataset", "dataset"),
                ("datasets", "dataset"),
                ("`params`", "param"),
                ("TAGS", "tag"),
            ]
        ],
    ],
)
def test_parse(text: str, expected: Node) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", [None, "", "   \n\t"])
def test_parse_empty(text: str | None) -> None:
    assert parse_filter(text) is None
    assert runs_filter(text) == []
    assert experiments_filter(text) is None


def test_parse_nan_and_clause_text() -> None:
    node = parse_filter("params.p = 'x'  AND (metrics.m = NaN)")
    assert isinstance(node, And)
    first, second = node.items
    assert isinstance(first, Comparison) and isinstance(second, Comparison)
    assert first.text == "params.p = 'x'"
    assert second.text == "metrics.m = NaN"
    assert isinstance(second.value, float) and math.isnan(second.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.loss", OrderBy("metric", "loss", True)),
        ("metrics.loss DESC", OrderBy("metric", "loss", False)),
        ("params.`my param` asc", OrderBy("param", "my param", True)),
        ('tags."a b" desc', OrderBy("tag", "a b", False)),
        ("start_time", OrderBy("attribute", "start_time", True)),
        ("attr.run_name DeSc", OrderBy("attribute", "run_name", False)),
    ],
)
def test_parse_order_by(text: str, expected: OrderBy) -> None:
    assert parse_order_by(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "params.model = rf",
            "Invalid filter 'params.model = rf': unexpected 'rf' at position 16; expected a value "
            "(a quoted string or a number). String values must be quoted, e.g. 'rf'.",
        ),
        (
            "metrics.loss = ",
            "unexpected end of input; expected a value (a quoted string or a number).",
        ),
        (
            "metrics.loss",
            "unexpected end of input; expected a comparison operator (=, !=, <, <=, >, >=, LIKE, "
            "ILIKE, IN, NOT IN, IS [NOT] NULL).",
        ),
        ("metrics.a >> 1", "unexpected '>' at position 12; expected a value"),
        ("params.x = 'abc", "unterminated string starting at position 12."),
        ("tags.`abc = 'x'", "unterminated backtick-quoted key starting at position 6."),
        (
            "metrics.a > 1 metrics.b < 2",
            "unexpected 'metrics' at position 15; expected AND, OR or the end of the input.",
        ),
        ("metrics.a > 1 ; x", "unexpected ';' at position 15"),
        ("(metrics.a > 1", "unexpected end of input; expected ')'."),
        ("metrics.a > 1)", "unexpected ')' at position 14"),
        ("metrics.a = 1 OR", "unexpected end of input; expected a key (e.g. metrics.loss) or '('."),
        ("= 1", "unexpected '=' at position 1; expected a key (e.g. metrics.loss) or '('."),
        ("metrics. > 1", "unexpected '>' at position 10; expected a key name after the '.'."),
        ("x IS", "unexpected end of input; expected NULL or NOT NULL."),
        ("x NOT LIKE 'a'", "unexpected 'LIKE' at position 7; expected IN."),
        ("x IN 'a'", "unexpected \"'a'\" at position 6; expected '('."),
        ("x IN ('a' 'b')", "unexpected \"'b'\" at position 11; expected ',' or ')'."),
        ("()", "unexpected ')' at position 2"),
        (
            "foo.bar = 1",
            "Invalid entity type 'foo' in clause 'foo.bar = 1'. "
            "Valid types are: metrics, params, tags, attributes, datasets.",
        ),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter) as info:
        parse_filter(text)
    assert message in info.value.message
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    assert info.value.http_status == 400


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.loss up", "unexpected 'up' at position 14; expected ASC or DESC"),
        ("metrics.loss DESC x", "unexpected 'x' at position 19; expected the end of the input."),
        ("", "Invalid order_by clause '': unexpected end of input; expected a key"),
        ("bogus.loss", "Invalid entity type 'bogus'"),
    ],
)
def test_parse_order_by_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(message)):
        parse_order_by(text)


@pytest.mark.parametrize(
    ("like", "glob"),
    [
        ("abc", "abc"),
        ("a%", "a*"),
        ("_b_", "?b?"),
        ("a\\%b", "a%b"),
        ("a\\_b", "a_b"),
        ("a\\\\b", "a\\b"),
        ("x*y?z[w]", "x[*]y[?]z[[]w]"),
    ],
)
def test_like_to_glob(like: str, glob: str) -> None:
    assert like_to_glob(like) == glob


# -- type checking -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.loss > 'a'",
            "Expected a numeric value for metric 'loss' in clause \"metrics.loss > 'a'\", "
            "found 'a'.",
        ),
        ("metrics.loss = '0.5'", "Expected a numeric value for metric 'loss'"),
        (
            "params.lr = 0.1",
            "Expected a quoted string value for param 'lr' in clause 'params.lr = 0.1'; "
            "quote it, e.g. '0.1'.",
        ),
        ("tags.t IN ('a', 1)", "Expected a quoted string value for tag 't'"),
        ("start_time > 'yesterday'", "Expected a numeric value for attribute 'start_time'"),
        ("created > 'x'", "Expected a numeric value for attribute 'start_time'"),
        ("run_name = 5", "Expected a quoted string value for attribute 'run_name'"),
        ("datasets.name = 1", "Expected a quoted string value for dataset 'name'"),
        (
            "tags.env > 'a'",
            "Invalid comparator '>' for tag 'env' in clause \"tags.env > 'a'\". "
            "Valid comparators are: =, !=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL.",
        ),
        (
            "metrics.loss LIKE 'a%'",
            "Invalid comparator 'LIKE' for metric 'loss' in clause \"metrics.loss LIKE 'a%'\". "
            "Valid comparators are: =, !=, <, <=, >, >=, IS NULL, IS NOT NULL.",
        ),
        ("metrics.loss IN (1, 2)", "Invalid comparator 'IN' for metric 'loss'"),
        ("run_name > 'a'", "Invalid comparator '>' for attribute 'run_name'"),
        ("status IS NULL", "Invalid comparator 'IS NULL' for attribute 'status'"),
        ("end_time LIKE '1%'", "Invalid comparator 'LIKE' for attribute 'end_time'"),
        ("datasets.digest < 'a'", "Invalid comparator '<' for dataset 'digest'"),
        ("datasets.name IS NULL", "Invalid comparator 'IS NULL' for dataset 'name'"),
        (
            "attributes.foo = 'x'",
            "Invalid attribute key 'foo' in clause \"attributes.foo = 'x'\". Valid keys are: "
            "artifact_uri, end_time, lifecycle_stage, run_id, run_name, start_time, status, "
            "user_id (aliases: 'created' for start_time, 'run name' for run_name).",
        ),
        ("experiment_id = '1'", "Invalid attribute key 'experiment_id'"),
        (
            "datasets.size = 'x'",
            "Invalid dataset key 'size' in clause \"datasets.size = 'x'\". "
            "Valid keys are: context, digest, name.",
        ),
        ("metrics.loss < nan", "NaN can only be compared with = or != for metric 'loss'"),
        ("start_time = nan", "NaN can only be compared with = or != for attribute 'start_time'"),
        (
            "params.p LIKE 'abc\\'",
            "Invalid LIKE pattern for param 'p' in clause \"params.p LIKE 'abc\\'\": "
            "it ends with the escape character '\\'.",
        ),
        ("run_name ILIKE 'x\\\\\\'", "Invalid ILIKE pattern for attribute 'run_name'"),
        # errors inside OR branches are found too
        ("run_name = 'a' OR (tags.t = 'b' AND metrics.m > 'c')", "metric 'm'"),
    ],
)
def test_runs_filter_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(message)):
        runs_filter(text)


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        (["attributes.foo"], "Invalid attribute key 'foo' in order_by clause 'attributes.foo'."),
        (
            ["metrics.m", "datasets.name DESC"],
            "Cannot order runs by dataset 'name' ('datasets.name DESC').",
        ),
        (["metrics.loss sideways"], "Invalid order_by clause 'metrics.loss sideways'"),
        (["x.y"], "Invalid entity type 'x' in clause 'x.y'"),
    ],
)
def test_runs_order_by_rejects(order_by: list[str], message: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(message)):
        runs_order_by(order_by)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.x > 1",
            "Cannot search experiments by metrics (clause 'metrics.x > 1'). "
            "Valid types are: attributes, tags.",
        ),
        ("params.x = 'a'", "Cannot search experiments by params"),
        ("datasets.name = 'a'", "Cannot search experiments by datasets"),
        (
            "experiment_id = 'abc'",
            "Invalid id 'abc' for attribute 'experiment_id' in clause \"experiment_id = 'abc'\": "
            "ids are integers from 0 to 2147483647.",
        ),
        ("experiment_id IN ('1', '2x')", "Invalid id '2x' for attribute 'experiment_id'"),
        ("experiment_id = 1.5", "Invalid id 1.5 for attribute 'experiment_id'"),
        ("experiment_id = -1", "Invalid id -1 for attribute 'experiment_id'"),
        ("experiment_id = '2147483648'", "Invalid id '2147483648' for attribute 'experiment_id'"),
        ("experiment_id LIKE '1%'", "Invalid comparator 'LIKE' for attribute 'experiment_id'"),
        ("creation_time > '5'", "Expected a numeric value for attribute 'creation_time'"),
        ("name > 'a'", "Invalid comparator '>' for attribute 'name'"),
        (
            "run_id = 'a'",
            "Invalid attribute key 'run_id' in clause \"run_id = 'a'\". Valid keys are: "
            "creation_time, experiment_id, last_update_time, name.",
        ),
    ],
)
def test_experiments_filter_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidFilter, match=re.escape(message)):
        experiments_filter(text)


def test_experiments_order_by_rejects() -> None:
    with pytest.raises(InvalidFilter, match="Invalid attribute key 'start_time'"):
        experiments_order_by(["start_time DESC"])
    with pytest.raises(InvalidFilter, match="Cannot search experiments by metrics"):
        experiments_order_by(["metrics.loss"])


@pytest.mark.parametrize("url", ["sqlite://", "postgresql+psycopg://"])
def test_user_input_only_reaches_sql_as_bound_parameters(url: str) -> None:
    text = "params.p = 'x'' OR 1=1 --' OR tags.`k'; DROP TABLE runs; --` LIKE '%'"
    where = [term.clause for term in runs_filter(text)]
    assert where
    compiled = select(RunModel.run_id).where(*where).compile(dialect=make_url(url).get_dialect()())
    assert "1=1" not in str(compiled)
    assert "DROP" not in str(compiled)
    assert {"x' OR 1=1 --", "k'; DROP TABLE runs; --"} <= set(compiled.params.values())


# -- execution on SQLite and PostgreSQL --------------------------------------------------------

NAN = math.nan
# run_id: (name, user, status, start_time, end_time)
RUNS = {
    "r1": ("Alpha-1", "alice", "FINISHED", 1000, 2000),
    "r2": ("alpha-2", "bob", "RUNNING", 2000, None),
    "r3": ("beta_1", "alice", "FINISHED", 3000, 3500),
    "r4": ("beta%x", "carol", "FAILED", 4000, 4500),
    "r5": ("gamma", "bob", "FINISHED", 5000, 5500),
    "r6": ("delta[*]?", "dave", "FINISHED", None, None),
}
PARAMS = {"r1": {"model": "rf"}, "r2": {"model": "RF"}, "r3": {"model": "xgboost"}}
PARAMS["r4"] = {"model": "lightgbm"}
TAGS = {
    "r1": {"env": "prod", "mlflow.user": "alice"},
    "r2": {"env": "dev"},
    "r3": {"env": "Prod"},
    "r5": {"env": "staging"},
}
METRICS = {
    "r1": {"loss": 0.5, "val/acc": 0.9},
    "r2": {"loss": 0.25, "val/acc": 0.7},
    "r3": {"loss": math.inf},
    "r4": {"loss": NAN},
    "r6": {"loss": -1.0},
}
# dataset id: (name, digest); run inputs: run -> [(dataset id, context or None)]
DATASETS = {1: ("mnist", "aaa"), 2: ("MNIST-small", "bbb"), 3: ("cifar", "ccc")}
INPUTS: dict[str, list[tuple[int, str | None]]] = {
    "r1": [(1, "training"), (3, "eval")],
    "r2": [(2, "training")],
    "r3": [(3, None)],
}
ALL = set(RUNS)


@pytest.fixture
def engine(db_uri: str) -> Iterator[Engine]:
    engine = make_engine(db_uri)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        session.add(
            ExperimentModel(
                experiment_id=1,
                name="exp",
                artifact_location="/tmp/a",
                creation_time=0,
                last_update_time=0,
            )
        )
        session.flush()
        for run_id, (name, user, status, start, end) in RUNS.items():
            session.add(
                RunModel(
                    run_id=run_id,
                    experiment_id=1,
                    name=name,
                    user_id=user,
                    status=status,
                    start_time=start,
                    end_time=end,
                    artifact_uri=f"/tmp/a/{run_id}",
                )
            )
        for dataset_id, (name, digest) in DATASETS.items():
            session.add(
                DatasetModel(
                    dataset_id=dataset_id,
                    experiment_id=1,
                    name=name,
                    digest=digest,
                    source_type="local",
                    source="/data",
                )
            )
        session.flush()
        for run_id, params in PARAMS.items():
            session.add_all(
                ParamModel(run_id=run_id, experiment_id=1, key=k, value=v)
                for k, v in params.items()
            )
        for run_id, tags in TAGS.items():
            session.add_all(
                TagModel(run_id=run_id, experiment_id=1, key=k, value=v) for k, v in tags.items()
            )
        for run_id, metrics in METRICS.items():
            session.add_all(
                LatestMetricModel(
                    run_id=run_id,
                    experiment_id=1,
                    key=k,
                    step=0,
                    timestamp=0,
                    # the store's convention: NaN is stored as 0 with is_nan set
                    value=0.0 if math.isnan(v) else v,
                    is_nan=math.isnan(v),
                )
                for k, v in metrics.items()
            )
        for run_id, inputs in INPUTS.items():
            for dataset_id, context in inputs:
                session.add(RunInputModel(run_id=run_id, dataset_id=dataset_id))
                if context is not None:
                    session.add(
                        RunInputTagModel(
                            run_id=run_id,
                            dataset_id=dataset_id,
                            key="mlflow.data.context",
                            value=context,
                        )
                    )
    yield engine
    engine.dispose()


def search(engine: Engine, filter_string: str | None, order_by: Sequence[str] = ()) -> list[str]:
    query = select(RunModel.run_id).order_by(*runs_order_by(order_by))
    where = [term.clause for term in runs_filter(filter_string)]
    if where:
        query = query.where(*where).params({SEARCHED_EXPERIMENTS: [1]})
    with Session(engine) as session:
        return list(session.scalars(query))


# Each theme runs on one fresh database per backend. Several filters in a theme share a query
# shape with different values, which also proves the statement cache never reuses stale values.
FILTER_CASES: dict[str, dict[str, set[str]]] = {
    "params": {
        "params.model = 'rf'": {"r1"},
        'param.model = "RF"': {"r2"},
        "params.model LIKE 'rf'": {"r1"},
        "params.model LIKE 'R%'": {"r2"},
        "params.model LIKE '%boost'": {"r3"},
        "params.model LIKE '_F'": {"r2"},
        "params.model ILIKE 'rf'": {"r1", "r2"},
        "params.model ILIKE 'R%'": {"r1", "r2"},
        "params.model != 'rf'": {"r2", "r3", "r4"},
        "params.model IS NULL": {"r5", "r6"},
        "params.model IS NOT NULL": {"r1", "r2", "r3", "r4"},
        "params.model IN ('rf', 'xgboost', 'nope')": {"r1", "r3"},
        "params.model NOT IN ('rf', 'xgboost')": {"r2", "r4"},
        "params.missing = 'rf'": set(),
    },
    "tags": {
        "tags.env = 'prod'": {"r1"},
        "tags.env LIKE 'prod'": {"r1"},
        "tags.env LIKE 'P%'": {"r3"},
        "tags.env ILIKE 'PROD'": {"r1", "r3"},
        "tags.env != 'prod'": {"r2", "r3", "r5"},
        "tags.env IS NULL": {"r4", "r6"},
        "tags.mlflow.user = 'alice'": {"r1"},
        "tags.`mlflow.user` = 'alice'": {"r1"},
        'tags."mlflow.user" IS NOT NULL': {"r1"},
        "tags.env IN ('dev', 'staging')": {"r2", "r5"},
    },
    "attributes": {
        "run_name LIKE 'alpha%'": {"r2"},
        "run_name ILIKE 'alpha%'": {"r1", "r2"},
        "attributes.run_name = 'gamma'": {"r5"},
        "`Run name` = 'gamma'": {"r5"},
        "\"run name\" ILIKE 'GAMMA'": {"r5"},
        "run.run_name LIKE 'beta%'": {"r3", "r4"},
        "run_name LIKE 'beta\\%x'": {"r4"},
        "run_name LIKE 'beta_1'": {"r3"},
        "run_name LIKE 'beta\\_%'": {"r3"},
        "run_name LIKE 'delta[*]?'": {"r6"},
        "run_name LIKE 'delta[%'": {"r6"},
        "run_name ILIKE 'DELTA[*]_'": {"r6"},
        "run_name LIKE 'delta*'": set(),
        "attributes.run_id IN ('r1', 'r3', 'nope')": {"r1", "r3"},
        "attr.run_id NOT IN ('r1')": ALL - {"r1"},
        "run_id IN ()": set(),
        "run_id NOT IN ()": ALL,
        "status = 'RUNNING'": {"r2"},
        "status != 'FINISHED'": {"r2", "r4"},
        "user_id = 'alice'": {"r1", "r3"},
        "artifact_uri LIKE '%/r5'": {"r5"},
        "lifecycle_stage = 'active'": ALL,
        "start_time >= 3000": {"r3", "r4", "r5"},
        "created < 2000": {"r1"},
        "Created <= 2000": {"r1", "r2"},
        "attributes.start_time > 1500.5": {"r2", "r3", "r4", "r5"},
        "start_time < inf": {"r1", "r2", "r3", "r4", "r5"},
        "start_time != 1000": {"r2", "r3", "r4", "r5"},
        "end_time IS NULL": {"r2", "r6"},
        "end_time IS NOT NULL AND end_time < 4000": {"r1", "r3"},
    },
    "metrics": {
        "metrics.loss < 1": {"r1", "r2", "r6"},
        "metrics.loss > 0.3": {"r1", "r3"},
        "metrics.loss = 0.25": {"r2"},
        "metrics.loss = 0": set(),  # NaN is stored as 0 but is not 0
        "metrics.loss = inf": {"r3"},
        "metrics.loss > 1e308": {"r3"},
        "metrics.loss >= -inf": {"r1", "r2", "r3", "r6"},
        "metrics.loss != 0.5": {"r2", "r3", "r4", "r6"},
        "metrics.loss = nan": {"r4"},
        "metrics.loss != NaN": {"r1", "r2", "r3", "r6"},
        "metrics.loss IS NULL": {"r5"},
        "metrics.loss IS NOT NULL": {"r1", "r2", "r3", "r4", "r6"},
        "metrics.`val/acc` > 0.8": {"r1"},
        "metric.val/acc >= 0.7": {"r1", "r2"},
        "metrics.loss <= 3000000000": {"r1", "r2", "r6"},
    },
    "datasets": {
        "datasets.name = 'mnist'": {"r1"},
        "datasets.name LIKE 'mnist%'": {"r1"},
        "datasets.name ILIKE 'mnist%'": {"r1", "r2"},
        "datasets.name != 'mnist'": {"r1", "r2", "r3"},
        "datasets.digest IN ('bbb', 'ccc')": {"r1", "r2", "r3"},
        "dataset.digest NOT IN ('ccc')": {"r1", "r2"},
        "datasets.context = 'training'": {"r1", "r2"},
        "dataset.context = 'eval'": {"r1"},
        "datasets.context ILIKE 'TRAIN%' AND datasets.name = 'cifar'": {"r1"},
    },
    "logic": {
        # AND binds tighter: r2 OR (r3 AND inf > 1)
        "tags.env = 'dev' OR params.model = 'xgboost' AND metrics.loss > 1": {"r2", "r3"},
        "(tags.env = 'dev' OR params.model = 'xgboost') AND metrics.loss > 1": {"r3"},
        "tags.env = 'dev' or (params.model = 'xgboost' and metrics.loss > 1)": {"r2", "r3"},
        "params.model IS NULL OR run_name LIKE 'Alpha%'": {"r1", "r5", "r6"},
        "(user_id = 'bob' OR user_id = 'carol') AND (status = 'FAILED' OR start_time > 4500)": {
            "r4",
            "r5",
        },
        "tags.env = 'nope' OR tags.env = 'none'": set(),
    },
}


@pytest.mark.parametrize("theme", list(FILTER_CASES))
def test_runs_filter(engine: Engine, theme: str) -> None:
    cases = FILTER_CASES[theme]
    got = {text: set(search(engine, text)) for text in cases}
    assert got == cases


ORDER_CASES: dict[tuple[str, ...], list[str]] = {
    # default: start_time DESC (NULLs last), then run_id
    (): ["r5", "r4", "r3", "r2", "r1", "r6"],
    ("created DESC",): ["r5", "r4", "r3", "r2", "r1", "r6"],
    ("attributes.start_time ASC",): ["r1", "r2", "r3", "r4", "r5", "r6"],
    # numbers, then NaN, then missing - in both directions
    ("metrics.loss",): ["r6", "r2", "r1", "r3", "r4", "r5"],
    ("metrics.loss DESC",): ["r3", "r1", "r2", "r6", "r4", "r5"],
    # missing values last in both directions, tie broken by the default order
    ("params.model",): ["r2", "r4", "r1", "r3", "r5", "r6"],
    ("params.model DESC",): ["r3", "r1", "r4", "r2", "r5", "r6"],
    ("end_time",): ["r1", "r3", "r4", "r5", "r2", "r6"],
    ("end_time DESC",): ["r5", "r4", "r3", "r1", "r2", "r6"],
    ("tags.env", "metrics.loss DESC"): ["r3", "r2", "r1", "r5", "r6", "r4"],
    ("run_name",): ["r1", "r2", "r4", "r3", "r6", "r5"],
    ("`Run name` DESC",): ["r5", "r6", "r3", "r4", "r2", "r1"],
    ("user_id", "run_id DESC"): ["r3", "r1", "r5", "r2", "r4", "r6"],
    ("metrics.`val/acc` DESC", ""): ["r1", "r2", "r5", "r4", "r3", "r6"],
}


def test_runs_order_by(engine: Engine) -> None:
    got = {order: search(engine, None, order) for order in ORDER_CASES}
    assert got == ORDER_CASES


def test_runs_filter_and_order_together(engine: Engine) -> None:
    assert search(engine, "metrics.loss IS NOT NULL OR params.model = 'x'", ["metrics.loss"]) == [
        "r6",
        "r2",
        "r1",
        "r3",
        "r4",
    ]


EXPERIMENTS = {
    # id: (name, creation_time, last_update_time, tags)
    1: ("Default", 100, 100, {}),
    2: ("vision-A", 300, 400, {"team": "vision"}),
    3: ("Vision-b", 200, 500, {"team": "Vision", "stage": "x"}),
    4: ("nlp", 300, 300, {"team": "nlp"}),
}

EXPERIMENT_FILTERS: dict[str, set[int]] = {
    "name = 'nlp'": {4},
    "name LIKE 'vision%'": {2},
    "attributes.name ILIKE 'vision%'": {2, 3},
    "name IN ('nlp', 'Default')": {1, 4},
    "experiment_id = '2'": {2},
    "experiment_id = 2": {2},
    "experiment_id != '2'": {1, 3, 4},
    "experiment_id IN ('1', '3', 4)": {1, 3, 4},
    "experiment_id NOT IN ('1')": {2, 3, 4},
    "experiment_id = '002'": {2},
    "experiment_id = '2147483647'": set(),  # the largest id the column can hold
    "creation_time >= 300": {2, 4},
    "last_update_time < 400": {1, 4},
    "tags.team = 'vision'": {2},
    "tags.team LIKE 'V%'": {3},
    "tags.team ILIKE 'VISION'": {2, 3},
    "tags.team IS NULL": {1},
    "tags.stage IS NOT NULL": {3},
    "name = 'nlp' OR tags.team ILIKE 'vision' AND creation_time < 300": {3, 4},
    # more lists than MAX_JOINED_LISTS: intersected
    " AND ".join([*(f"tags.team != 'x{i}'" for i in range(9)), "tags.team LIKE '%ision%'"]): {2, 3},
}
EXPERIMENT_ORDERS: dict[tuple[str, ...], list[int]] = {
    (): [2, 4, 3, 1],
    ("name",): [1, 3, 4, 2],
    ("experiment_id DESC",): [4, 3, 2, 1],
    ("last_update_time DESC",): [3, 2, 4, 1],
    ("creation_time ASC",): [1, 3, 2, 4],
    ("tags.team DESC",): [2, 4, 3, 1],
}


def test_experiments_search(db_uri: str) -> None:
    engine = make_engine(db_uri)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        for experiment_id, (name, created, updated, tags) in EXPERIMENTS.items():
            session.add(
                ExperimentModel(
                    experiment_id=experiment_id,
                    name=name,
                    artifact_location=f"/tmp/{experiment_id}",
                    creation_time=created,
                    last_update_time=updated,
                )
            )
            session.flush()
            session.add_all(
                ExperimentTagModel(experiment_id=experiment_id, key=k, value=v)
                for k, v in tags.items()
            )

    def ids(filter_string: str | None, order_by: Sequence[str] = ()) -> list[int]:
        query = select(ExperimentModel.experiment_id).order_by(*experiments_order_by(order_by))
        where = experiments_filter(filter_string)
        if where is not None:
            query = query.where(where)
        with Session(engine) as session:
            return list(session.scalars(query))

    try:
        got_filters = {text: set(ids(text)) for text in EXPERIMENT_FILTERS}
        got_orders = {order: ids(None, order) for order in EXPERIMENT_ORDERS}
    finally:
        engine.dispose()
    assert got_filters == EXPERIMENT_FILTERS
    assert got_orders == EXPERIMENT_ORDERS


# A schema for another entity, built from the generic pieces the registry will use.
LOGGED_MODELS = SearchSchema(
    entity="logged models",
    kinds={
        "attribute": NamedFields(
            {"name": ColumnField("attribute 'name'", LoggedModelModel.name, "string", STRING_OPS)}
        ),
        "tag": key_value_fields(
            "tag",
            owner=LoggedModelTagModel.model_id,
            parent=LoggedModelModel.model_id,
            key=LoggedModelTagModel.key,
            value=LoggedModelTagModel.value,
        ),
    },
    default_order=(LoggedModelModel.model_id.asc(),),
)


def test_schema_for_another_entity(db_uri: str) -> None:
    engine = make_engine(db_uri)
    upgrade(engine)
    models = {"m1": ("fraud-v1", "risk"), "m2": ("Fraud-v2", "growth"), "m3": ("churn", None)}
    with Session(engine) as session, session.begin():
        session.add(
            ExperimentModel(
                experiment_id=1,
                name="e",
                artifact_location="/a",
                creation_time=0,
                last_update_time=0,
            )
        )
        session.flush()
        for model_id, (name, team) in models.items():
            session.add(
                LoggedModelModel(
                    model_id=model_id,
                    experiment_id=1,
                    name=name,
                    artifact_uri="/a",
                    status="READY",
                    creation_timestamp=0,
                    last_updated_timestamp=0,
                )
            )
            session.flush()
            if team is not None:
                session.add(LoggedModelTagModel(model_id=model_id, key="team", value=team))

    def ids(filter_string: str, order_by: Sequence[str] = ()) -> list[str]:
        where = compile_filter(LOGGED_MODELS, filter_string)
        assert where is not None
        query = select(LoggedModelModel.model_id).where(where)
        with Session(engine) as session:
            return list(session.scalars(query.order_by(*compile_order_by(LOGGED_MODELS, order_by))))

    try:
        assert ids("name LIKE 'fraud%' AND tags.team = 'risk'") == ["m1"]
        assert ids("name LIKE 'fraud%' OR tags.team = 'growth'") == ["m1", "m2"]
        assert ids("name ILIKE 'FRAUD%' OR tags.team IS NULL", ["name DESC"]) == ["m1", "m3", "m2"]
        assert ids("tags.team IN ('risk', 'growth')", ["tags.team"]) == ["m2", "m1"]
    finally:
        engine.dispose()
    with pytest.raises(InvalidFilter, match=re.escape("Cannot search logged models by metrics")):
        compile_filter(LOGGED_MODELS, "metrics.acc > 0.5")
