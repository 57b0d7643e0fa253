"""The ``trainlab`` command as a real subprocess, against a SQLite file and against a real
server. Data is seeded through the store; every check reads the command's output."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import trainlab
from trainlab.client.resolve import store_for
from trainlab.entities import Metric, Param, RunStatus, RunTag
from trainlab.exceptions import InvalidParameterValue
from trainlab.store.sql.engine import HEAD_REVISION, scripted_head
from trainlab.store.sql.tracking import SqlTrackingStore

TRAINLAB = str(Path(sys.executable).with_name("trainlab"))


def cli(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env["COLUMNS"] = "250"  # rich tables: wide enough that no cell is cut
    env["TRAINLAB_SPOOL_DIR"] = str(cwd / "spool")
    return subprocess.run(
        [TRAINLAB, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env
    )


def one_line(text: str) -> str:
    """Rich wraps long messages at the terminal width: compare them as one line."""
    return " ".join(text.split())


def table_rows(stdout: str) -> list[list[str]]:
    """The body rows of a rich table, as stripped cells."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in stdout.splitlines()
        if line.startswith("│")
    ]


def assert_clean_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    message = one_line(proc.stderr)
    for needle in needles:
        assert needle in message, message


@dataclass
class Seeded:
    uri: str
    cwd: Path
    experiment: str
    experiment_id: str
    runs: dict[str, str]  # run name -> run id


# name, params, final acc, status
RUNS = [
    ("alpha", {"x": "1", "model": "rf"}, 0.90, RunStatus.FINISHED),
    ("beta", {"x": "2", "model": "rf"}, 0.70, RunStatus.FINISHED),
    ("gamma", {"x": "3", "model": "svm"}, 0.95, RunStatus.FINISHED),
    ("delta", {"x": "4", "model": "xgb"}, 0.80, RunStatus.FAILED),
]
RUNS_BY_NAME = {name: (params, acc, status) for name, params, acc, status in RUNS}


@pytest.fixture(scope="module", params=["sqlite", "server"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    cwd = tmp_path_factory.mktemp("cli")
    if request.param == "server":
        uri = str(request.getfixturevalue("server").url)
    else:
        uri = f"sqlite:///{cwd}/cli.db"
    experiment = f"cli-{uuid.uuid4().hex[:10]}"
    store: Any = store_for(uri)
    try:
        exp_id = store.create_experiment(experiment)
        runs = {}
        for t, (name, params, acc, status) in enumerate(RUNS):
            run = store.create_run(exp_id, "tester", 1_700_000_000_000 + t, {}, name)
            run_id = run.info.run_id
            store.log_batch(
                run_id,
                metrics=[
                    Metric("acc", acc / 2, 1_700_000_000_000, step=0),
                    Metric("acc", acc, 1_700_000_000_100, step=1),
                ],
                params=[Param(k, v) for k, v in params.items()],
                tags=[RunTag("owner", f"owner-{name}")],
            )
            store.update_run_info(run_id, status=status, end_time=1_700_000_001_000 + t)
            runs[name] = run_id
    finally:
        if hasattr(store, "close"):
            store.close()
        if hasattr(store, "engine"):
            store.engine.dispose()
    return Seeded(uri, cwd, experiment, exp_id, runs)


# -- db upgrade ---------------------------------------------------------------------------------
def test_db_upgrade_new_then_current(db_uri: str, tmp_path: Path) -> None:
    first = cli("db", "upgrade", db_uri, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    head = HEAD_REVISION
    assert head == scripted_head()
    if db_uri.startswith("sqlite:///"):  # a new file: where it is, in case of a typo
        path = Path(db_uri.removeprefix("sqlite:///")).resolve()
        assert one_line(first.stdout) == f"Created a new store at {path} (schema {head}).", (
            first.stdout
        )
    else:
        assert one_line(first.stdout) == f"Schema upgraded from empty to {head}."
    again = cli("db", "upgrade", db_uri, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert one_line(again.stdout) == f"Schema already at revision {head}."


def test_the_migrated_schema_is_the_models_and_steps_down_and_up(db_uri: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from trainlab.store.sql.engine import _alembic_config, make_engine, upgrade
    from trainlab.store.sql.models import Base

    engine = make_engine(db_uri)
    try:
        upgrade(engine)
        command.downgrade(_alembic_config(engine), "0002")
        upgrade(engine)
        with engine.connect() as conn:
            dialect = conn.dialect.name

            def on_this_dialect(obj: Any, *_: Any) -> bool:  # ddl_if(dialect=...) indexes
                only = getattr(getattr(obj, "_ddl_if", None), "dialect", None)
                return only is None or only == dialect

            context = MigrationContext.configure(conn, opts={"include_object": on_this_dialect})
            diffs = compare_metadata(context, Base.metadata)
        assert diffs == []
    finally:
        engine.dispose()


def test_upgrading_copies_each_runs_experiment_onto_its_values(db_uri: str, tmp_path: Path) -> None:
    """Revision 0006 fills in the experiment of the params, tags and metric values written
    before it, from their runs."""
    from alembic import command
    from sqlalchemy import text

    from trainlab.entities import Metric, Param, RunTag
    from trainlab.store.sql.engine import _alembic_config
    from trainlab.store.sql.tracking import SqlTrackingStore

    store = SqlTrackingStore(db_uri, f"file://{tmp_path}/artifacts")
    try:
        expected = {}
        for name in (f"old-a-{tmp_path.name}", f"old-b-{tmp_path.name}"):
            exp = store.create_experiment(name)
            run = store.create_run(exp, run_name=name).info.run_id
            store.log_batch(run, [Metric("m", 1.0, 0, 0)], [Param("p", "v")], [RunTag("t", "y")])
            expected[run] = int(exp)
        command.downgrade(_alembic_config(store.engine), "0005")
        command.upgrade(_alembic_config(store.engine), "head")
        with store.engine.connect() as conn:
            for table in ("params", "tags", "latest_metrics"):
                rows = conn.execute(text(f"SELECT run_id, experiment_id FROM {table}")).all()
                got = {(run, exp) for run, exp in rows if run in expected}
                assert got == set(expected.items()), table
    finally:
        store.engine.dispose()


def test_upgrading_copies_the_points_linked_to_logged_models(db_uri: str, tmp_path: Path) -> None:
    """Revision 0007 gives logged models their own table of points, filled from the points
    linked to them before it."""
    from alembic import command

    from trainlab.client.rest_logged_models import logged_models_for
    from trainlab.store.sql.engine import _alembic_config
    from trainlab.store.sql.tracking import SqlTrackingStore

    store = SqlTrackingStore(db_uri, f"file://{tmp_path}/artifacts")
    try:
        exp = store.create_experiment(f"old-lm-{tmp_path.name}")
        run = store.create_run(exp).info.run_id
        models = logged_models_for(store)
        model_id = models.create_logged_model(exp, "clf", run).model_id
        store.log_batch(run, [Metric("acc", 0.5, 1, 0, None, "eval", "d1", model_id)])
        command.downgrade(_alembic_config(store.engine), "0006")
        command.upgrade(_alembic_config(store.engine), "head")
        (point,) = models.get_logged_model(model_id).metrics
        assert (point.key, point.value, point.dataset_name, point.run_id) == (
            "acc",
            0.5,
            "eval",
            run,
        )
    finally:
        store.engine.dispose()


def test_upgrading_clusters_the_values_of_runs_by_run(db_uri: str, tmp_path: Path) -> None:
    """Revision 0008 rebuilds params, tags and latest metric values as WITHOUT ROWID tables on
    SQLite (the primary key is the table), keeping every row and index; PostgreSQL keeps its
    tables. Stepping down rebuilds them with rowids."""
    from alembic import command
    from sqlalchemy import text

    from trainlab.entities import Metric, Param, RunTag
    from trainlab.store.sql.engine import _alembic_config
    from trainlab.store.sql.tracking import SqlTrackingStore

    tables = ("params", "tags", "latest_metrics")
    store = SqlTrackingStore(db_uri, f"file://{tmp_path}/artifacts")
    try:
        sqlite = store.engine.dialect.name == "sqlite"

        def clustered() -> list[bool]:
            with store.engine.connect() as conn:
                return [
                    "WITHOUT ROWID"
                    in conn.execute(
                        text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": t}
                    ).scalar_one()
                    for t in tables
                ]

        def indexes() -> set[str]:
            from sqlalchemy import inspect

            inspector = inspect(store.engine)
            return {ix["name"] for t in tables for ix in inspector.get_indexes(t)}

        exp = store.create_experiment(f"old-rowid-{tmp_path.name}")
        run = store.create_run(exp).info.run_id
        store.log_batch(
            run,
            [Metric("m", float("nan"), 1, 0), Metric("acc", 0.5, 2, 3)],
            [Param("p", "v" * 6000)],
            [RunTag("t", "y")],
        )
        before = store.get_run(run).data
        named = indexes()
        if sqlite:
            assert clustered() == [True, True, True]
        command.downgrade(_alembic_config(store.engine), "0007")
        if sqlite:
            assert clustered() == [False, False, False]
        assert indexes() == named
        command.upgrade(_alembic_config(store.engine), "head")
        if sqlite:
            assert clustered() == [True, True, True]
        assert indexes() == named
        after = store.get_run(run).data
        assert (after.params, after.tags) == (before.params, before.tags)
        assert {k: repr(m.value) for k, m in after.metrics.items()} == {"m": "nan", "acc": "0.5"}
        found = store.search_runs([exp], "params.p LIKE 'vvv%' AND metrics.acc = 0.5")
        assert [r.info.run_id for r in found] == [run]
    finally:
        store.engine.dispose()


def test_db_upgrade_unsupported_uri(tmp_path: Path) -> None:
    proc = cli("db", "upgrade", "mysql://x", cwd=tmp_path)
    assert_clean_error(proc, "'mysql://x'", "sqlite:///", "postgresql://")


def test_db_upgrade_of_a_database_not_made_yet_says_how_to_make_it(tmp_path: Path) -> None:
    uri = "postgresql://postgres:pw@127.0.0.1:5432/trainlab team"  # quoted in the command
    proc = cli("db", "upgrade", uri, cwd=tmp_path)
    assert_clean_error(
        proc,
        'database "trainlab team" does not exist.',
        "Create it first: createdb -h 127.0.0.1 -p 5432 -U postgres 'trainlab team'",
    )
    assert "pw" not in proc.stderr


# -- experiments list ---------------------------------------------------------------------------
def test_experiments_list_table(seeded: Seeded) -> None:
    # The server is shared by the session: list up to the limit so that ours is in the page.
    proc = cli(
        "experiments",
        "list",
        "--max-results",
        "50000",
        "--tracking-uri",
        seeded.uri,
        cwd=seeded.cwd,
    )
    assert proc.returncode == 0, proc.stderr
    rows = {cells[0]: cells[1] for cells in table_rows(proc.stdout)}
    assert rows[seeded.experiment_id] == seeded.experiment
    assert rows["0"] == "Default"


def test_experiments_list_json(seeded: Seeded) -> None:
    proc = cli(
        "experiments",
        "list",
        "--max-results",
        "50000",
        "--tracking-uri",
        seeded.uri,
        "--json",
        cwd=seeded.cwd,
    )
    assert proc.returncode == 0, proc.stderr
    listed = {e["name"]: e for e in json.loads(proc.stdout)}
    assert listed[seeded.experiment]["experiment_id"] == seeded.experiment_id
    assert listed[seeded.experiment]["lifecycle_stage"] == "active"
    assert listed["Default"]["experiment_id"] == "0"


# -- runs list ----------------------------------------------------------------------------------
_RF_OR_FAILED_XGB = "params.model = 'rf' OR (params.model = 'xgb' AND attributes.status = 'FAILED')"


@pytest.mark.parametrize(
    ("filters", "order_by", "expected"),
    [
        (["metrics.acc > 0.75"], ["metrics.acc DESC"], ["gamma", "alpha", "delta"]),
        ([_RF_OR_FAILED_XGB], ["params.x DESC"], ["delta", "beta", "alpha"]),
        ([_RF_OR_FAILED_XGB, "metrics.acc > 0.75"], ["params.x DESC"], ["delta", "alpha"]),
    ],
    ids=["metric-filter", "or-parens-status", "two-filters-both-hold"],
)
def test_runs_list_json(
    seeded: Seeded, filters: list[str], order_by: list[str], expected: list[str]
) -> None:
    args = ["runs", "list", "-e", seeded.experiment, "-c", "params.x"]
    for f in filters:
        args += ["-f", f]
    for o in order_by:
        args += ["-o", o]
    proc = cli(*args, "--tracking-uri", seeded.uri, "--json", cwd=seeded.cwd)
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)
    assert [r["info"]["run_id"] for r in runs] == [seeded.runs[n] for n in expected]
    assert [r["params"]["x"] for r in runs] == [RUNS_BY_NAME[n][0]["x"] for n in expected]
    assert [r["metrics"]["acc"]["value"] for r in runs] == [RUNS_BY_NAME[n][1] for n in expected]


def test_runs_list_table_with_columns(seeded: Seeded) -> None:
    proc = cli(
        "runs",
        "list",
        "-e",
        seeded.experiment,
        "-o",
        "params.x ASC",
        "-c",
        "params.model",
        "-c",
        "metrics.acc",
        "--tracking-uri",
        seeded.uri,
        cwd=seeded.cwd,
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 run(s)" in proc.stdout
    rows = table_rows(proc.stdout)
    assert [(r[0], r[1], r[2], r[4], r[5]) for r in rows] == [
        (seeded.runs[name], name, str(status), params["model"], f"{acc:.6g}")
        for name, params, acc, status in RUNS
    ]


def test_runs_list_names_a_column_no_run_has(seeded: Seeded) -> None:
    args = ("runs", "list", "-e", seeded.experiment, "--tracking-uri", seeded.uri)
    proc = cli(*args, "-c", "params.modle", "-c", "tags.nosuch", "-c", "params.x", cwd=seeded.cwd)
    assert proc.returncode == 0, proc.stderr
    assert (
        "no run listed has params.modle (closest: params.model); no run listed has tags.nosuch"
    ) in one_line(proc.stdout)
    assert "has params.x" not in one_line(proc.stdout)  # it has: no note


def test_runs_list_fits_a_narrow_terminal(seeded: Seeded) -> None:
    """At 80 columns the table shows 8 characters of each id (which commands take) and the
    metric columns that fit, and says so."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRAINLAB_")}
    env |= {"COLUMNS": "80", "TRAINLAB_SPOOL_DIR": str(seeded.cwd / "spool")}
    args = ["runs", "list", "-e", seeded.experiment, "-o", "params.x ASC"]
    proc = subprocess.run(
        [TRAINLAB, *args, "--tracking-uri", seeded.uri],
        capture_output=True, text=True, timeout=60, cwd=seeded.cwd, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    rows = table_rows(proc.stdout)
    assert [r[0] for r in rows] == [seeded.runs[name][:8] for name, *_ in RUNS]
    assert "run ids shortened to fit: --json lists them in full" in one_line(proc.stdout)
    shown = cli("runs", "show", rows[0][0], "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert shown.returncode == 0 and seeded.runs["alpha"] in shown.stdout, shown.stderr


def test_runs_list_bad_filter(seeded: Seeded) -> None:
    proc = cli(
        "runs",
        "list",
        "-e",
        seeded.experiment,
        "-f",
        "metrics.acc >> 1",
        "--tracking-uri",
        seeded.uri,
        cwd=seeded.cwd,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr  # usage
    assert "'metrics.acc >> 1'" in one_line(proc.stderr) and "position" in proc.stderr
    for args in (  # found when compiled, not parsed: the same exit code
        ("runs", "list", "-f", "params.depth = 6"),
        ("experiments", "list", "--filter", "name LIKE"),
        ("experiments", "list", "--view", "bogus"),
    ):
        proc = cli(*args, "--tracking-uri", seeded.uri, cwd=seeded.cwd)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, (args, proc.stderr)


def test_runs_list_unknown_experiment(seeded: Seeded) -> None:
    proc = cli("runs", "list", "-e", "no-such-exp", "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert_clean_error(proc, "No experiment named 'no-such-exp'", "trainlab experiments list")
    proc = cli("runs", "list", "-e", "9999", "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert_clean_error(proc, "No experiment named '9999' or with that id")


# -- runs show ----------------------------------------------------------------------------------
def test_runs_show(seeded: Seeded) -> None:
    run_id = seeded.runs["gamma"]
    proc = cli("runs", "show", run_id, "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert proc.returncode == 0, proc.stderr
    lines = [" ".join(line.replace("│", " ").split()) for line in proc.stdout.splitlines()]
    assert f"run id {run_id}" in lines
    assert "name gamma" in lines
    assert f"experiment {seeded.experiment} ({seeded.experiment_id})" in lines
    assert "status FINISHED" in lines
    assert "model svm" in lines and "x 3" in lines
    assert "acc 0.95 (step 1)" in lines
    assert "owner owner-gamma" in lines
    assert not any(line.startswith("code ") for line in lines)  # no git tags: no code row


def test_runs_show_names_the_code_version(seeded: Seeded) -> None:
    git = {"mlflow.source.git.commit": "0123456789abcdef0123", "trainlab.git.dirty": "True",
           "mlflow.source.git.branch": "main", "mlflow.source.name": "train.py"}  # fmt: skip
    store: Any = store_for(seeded.uri)
    try:
        exp_id = store.create_experiment(f"coded-{uuid.uuid4().hex[:10]}")
        run_id = store.create_run(exp_id, run_name="coded").info.run_id
        store.log_batch(run_id, tags=[RunTag(k, v) for k, v in git.items()])
    finally:
        if hasattr(store, "close"):
            store.close()
        if hasattr(store, "engine"):
            store.engine.dispose()
    proc = cli("runs", "show", run_id, "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert proc.returncode == 0, proc.stderr
    shown = " ".join(proc.stdout.split())
    assert "code 0123456789ab (with uncommitted changes) on main, train.py" in shown


def test_runs_show_json(seeded: Seeded) -> None:
    run_id = seeded.runs["delta"]
    proc = cli("runs", "show", run_id, "--json", "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert proc.returncode == 0, proc.stderr
    shown = json.loads(proc.stdout)
    assert shown["info"]["run_id"] == run_id
    assert shown["info"]["run_name"] == "delta"
    assert shown["info"]["status"] == "FAILED"
    assert shown["info"]["experiment_id"] == seeded.experiment_id
    assert shown["info"]["end_time"] == 1_700_000_001_003
    assert shown["params"] == {"x": "4", "model": "xgb"}
    assert shown["metrics"] == {"acc": {"value": 0.8, "step": 1, "timestamp": 1_700_000_000_100}}
    assert shown["tags"]["owner"] == "owner-delta"


def test_runs_show_and_artifacts_take_the_start_of_a_run_id(seeded: Seeded) -> None:
    run_id = seeded.runs["alpha"]
    proc = cli("runs", "show", run_id[:8], "--json", "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["info"]["run_id"] == run_id
    listed = cli("artifacts", "list", run_id[:8], "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert listed.returncode == 0, listed.stderr
    assert f"artifact(s) of run {run_id}" in listed.stdout.splitlines()[0]  # whole, to copy


def test_artifacts_list_of_a_logged_model_lists_its_files(tmp_path: Path) -> None:
    """MLflow 3 keeps a run's logged models apart from its artifacts: the CLI lists them as
    if they were among them, and says which they are."""
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{tmp_path}/t.db"
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with trainlab.start_run(experiment="m", tracking_uri=uri) as run:
        info = trainlab.log_model(model, "clf")
    for path in ("clf", "clf/"):
        proc = cli("artifacts", "list", run.run_id, path, "--json", "--tracking-uri", uri,
                   cwd=tmp_path)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert {"clf/MLmodel", "clf/model.pkl"} <= {f["path"] for f in json.loads(proc.stdout)}
        assert f"'clf' is the run's logged model {info.model_uri}" in one_line(proc.stderr)
    proc = cli("artifacts", "list", run.run_id, "nope", "--tracking-uri", uri, cwd=tmp_path)
    assert_clean_error(proc, "has no artifacts under 'nope'")
    root = cli("artifacts", "list", run.run_id, "--tracking-uri", uri, cwd=tmp_path)
    assert f"logged model 'clf': trainlab artifacts list {run.run_id} clf" in one_line(root.stdout)


def test_artifacts_download_of_a_logged_model_fetches_its_files(tmp_path: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    uri = f"sqlite:///{tmp_path}/t.db"
    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    with trainlab.start_run(experiment="m", tracking_uri=uri) as run:
        info = trainlab.log_model(model, "clf")
    out = tmp_path / "out"
    proc = cli("artifacts", "download", run.run_id[:8], "clf", "-d", str(out),
               "--tracking-uri", uri, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    local = Path(proc.stdout.strip())
    assert local.is_relative_to(out)
    assert list(trainlab.load_model(str(local)).predict([[0.0], [3.0]])) == [0, 1]
    assert f"'clf' is the run's logged model {info.model_uri}" in one_line(proc.stderr)
    missing = cli("artifacts", "download", run.run_id, "nothing", "-d", str(out),
                  "--tracking-uri", uri, cwd=tmp_path)  # fmt: skip
    assert_clean_error(missing, "nothing")
    (tmp_path / "a-file").write_text("x")
    for dst, code, needle in (
        (tmp_path / "a-file", 2, "is a file: give a folder"),
        (tmp_path / "a-file" / "sub", 1, "Cannot write into --dst"),
    ):
        proc = cli("artifacts", "download", run.run_id, "clf", "-d", str(dst),
                   "--tracking-uri", uri, cwd=tmp_path)  # fmt: skip
        assert proc.returncode == code and "Traceback" not in proc.stderr, proc.stderr
        assert needle in one_line(proc.stderr)
    blocked = tmp_path / "blocked"  # a folder where the download's MLmodel goes
    (blocked / local.relative_to(out) / "MLmodel").mkdir(parents=True)
    proc = cli("artifacts", "download", run.run_id, "clf", "-d", str(blocked),
               "--tracking-uri", uri, cwd=tmp_path)  # fmt: skip
    assert_clean_error(proc, "Cannot write into --dst", "Is a directory", "MLmodel).")
    assert ".trainlab-upload-" not in proc.stderr  # the temporary file is not the user's


def test_a_run_id_start_shorter_than_6_is_refused(seeded: Seeded) -> None:
    proc = cli("runs", "show", "abc", "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert_clean_error(proc, "'abc' is too short to name a run: give 6 or more characters")


def test_runs_show_unknown_run(seeded: Seeded) -> None:
    proc = cli("runs", "show", "0" * 32, "--tracking-uri", seeded.uri, cwd=seeded.cwd)
    assert_clean_error(proc, "0" * 32, "not found")


# -- server -------------------------------------------------------------------------------------
def test_server_with_unsupported_store_exits(tmp_path: Path) -> None:
    from tests.support.server import free_port

    proc = cli(
        "server",
        "--port",
        str(free_port()),
        "--backend-store-uri",
        "mysql://x",
        cwd=tmp_path,
        timeout=60,
    )
    assert_clean_error(proc, "Unsupported backend store URI 'mysql://x'", "sqlite:///")
    assert not (tmp_path / "trainlab-artifacts").exists()


@pytest.mark.usefixtures("aws_env")
def test_server_refuses_an_s3_bucket_that_is_not_there(tmp_path: Path, moto_server: Any) -> None:
    from tests.support.server import free_port

    proc = cli(
        "server", "--port", str(free_port()), "--backend-store-uri", f"sqlite:///{tmp_path}/s.db",
        "--artifacts-destination", "s3://no-such-bucket/runs", "--s3-endpoint-url", moto_server.url,
        cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert_clean_error(
        proc,
        "The S3 destination s3://no-such-bucket/runs/: object storage answered NoSuchBucket; "
        "check the server's S3 destination and credentials. (the destination: "
        "--artifacts-destination, --s3-endpoint-url; the credentials: the standard AWS variables)",
    )


def test_server_refuses_an_artifact_folder_it_cannot_write(tmp_path: Path) -> None:
    from tests.support.server import free_port

    (tmp_path / "a-file").write_text("x")
    proc = cli(
        "server", "--port", str(free_port()), "--backend-store-uri", f"sqlite:///{tmp_path}/s.db",
        "--artifacts-destination", str(tmp_path / "a-file" / "art"), cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert_clean_error(
        proc,
        f"The artifact destination '{tmp_path}/a-file/art' cannot hold files: Not a directory. "
        "(--artifacts-destination)",
    )
    assert not (tmp_path / "s.db").exists()  # refused before the database was made


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("s3:/bucket/art", "S3 destinations are written s3://bucket/prefix"),
        ("gs://bucket/art", "give a folder, or s3://bucket/prefix"),
        ("s3a://bucket/art", "give a folder, or s3://bucket/prefix"),
    ],
)
def test_server_refuses_a_destination_of_an_unknown_scheme(
    tmp_path: Path, given: str, hint: str
) -> None:
    # Before, each was a local folder of that name, where no other replica finds the files.
    from tests.support.server import free_port

    proc = cli(
        "server", "--port", str(free_port()), "--backend-store-uri", f"sqlite:///{tmp_path}/s.db",
        "--artifacts-destination", given, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"Unsupported artifact destination {given!r}: {hint}" in one_line(proc.stderr)
    assert list(tmp_path.iterdir()) == []  # no folder, and no database


def test_an_upper_case_s3_scheme_is_s3() -> None:
    from trainlab.artifacts.factory import normalized_destination

    assert normalized_destination("S3://bucket/art") == "s3://bucket/art"
    assert normalized_destination("file:///srv/art") == "/srv/art"


def test_server_on_a_taken_port_says_so(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        proc = cli(
            "server",
            "--port",
            port,
            "--backend-store-uri",
            f"sqlite:///{tmp_path}/s.db",
            cwd=tmp_path,
        )
    assert_clean_error(proc, f"Cannot listen on 127.0.0.1:{port}", "--port")
    assert not (tmp_path / "s.db").exists()  # refused before touching anything


@pytest.mark.parametrize("host", ["999.1.1.1", "192.0.2.77"])  # no such address; not this one's
def test_server_on_an_address_not_of_this_machine_says_so(tmp_path: Path, host: str) -> None:
    store = f"sqlite:///{tmp_path}/s.db"
    proc = cli("server", "--host", host, "--backend-store-uri", store, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"{host}" in proc.stderr and "give an address of this machine" in one_line(proc.stderr)
    assert not (tmp_path / "s.db").exists()


def test_the_server_log_says_which_store_and_destination(postgres_uri: str, tmp_path: Path) -> None:
    from tests.support.server import ServerProcess

    with_password = postgres_uri.replace("postgres@", "postgres:hunter2@", 1)
    assert "hunter2" in with_password
    server = ServerProcess(
        with_password, tmp_path / "art", workers=2, extra_args=["--log-level", "info"]
    )
    with server:
        pass
    log = server.log_path.read_text()
    shown = with_password.replace("hunter2", "***")
    assert (
        f"trainlab {trainlab.__version__}: runs in {shown}, artifacts in {tmp_path}/art, 2 workers"
        in log
    )
    assert "hunter2" not in log


# -- which store --------------------------------------------------------------------------------
def test_runs_list_without_an_experiment_lists_every_experiment(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/two.db"
    store: Any = store_for(uri)
    try:
        ids = {}
        for name in ("first", "second"):
            exp = store.create_experiment(name)
            ids[name] = store.create_run(exp, run_name=f"run-of-{name}").info.run_id
    finally:
        store.engine.dispose()
    proc = cli("runs", "list", "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {(r[0], r[1], r[2]) for r in table_rows(proc.stdout)}
    assert rows == {(ids[n], n, f"run-of-{n}") for n in ("first", "second")}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("runs", "list", "--tracking-uri", ""), "Invalid value for '--tracking-uri': it is empty"),
        (("train", "p.yaml", "-e", ""), "Invalid value for '--experiment' / '-e': it is empty"),
        (("tune", "p.yaml", "-e", " "), "Invalid value for '--experiment' / '-e': it is empty"),
        (("runs", "list", "-f", "name = 'x' AND"), "Invalid filter \"name = 'x' AND\""),
        (("runs", "list", "-o", ""), "Invalid order_by clause ''"),
        (("runs", "list", "-o", "metrics.x SIDEWAYS"), "expected ASC or DESC"),
        (("server", "--log-level", "bogus"), "--log-level 'bogus': use critical, error"),
        (("server", "--allowed-hosts", "x.org:80"), "'x.org:80': give host names without"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_opened(
    tmp_path: Path, args: tuple[str, ...], needle: str
) -> None:
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and needle in one_line(proc.stderr), proc.stderr
    assert not (tmp_path / "trainlab.db").exists()


def test_spool_flush_refuses_a_uri_no_store_answers(tmp_path: Path) -> None:
    proc = cli("spool", "flush", "--tracking-uri", "foo://x", cwd=tmp_path)
    assert_clean_error(proc, "Unsupported tracking URI 'foo://x'")


def test_a_url_with_a_path_says_to_give_the_servers_root(server: Any, tmp_path: Path) -> None:
    proc = cli("experiments", "list", "--tracking-uri", f"{server.url}/api", cwd=tmp_path)
    assert_clean_error(proc, f"The server at {server.url}/api has no ", "root URL")


def test_runs_list_columns_need_their_kind(tmp_path: Path) -> None:
    proc = cli("runs", "list", "-c", "valid_f1", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "params.KEY, metrics.KEY or tags.KEY" in one_line(proc.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "list"),
        ("runs", "show", "abc"),
        ("experiments", "list"),
        ("models", "list"),
        ("artifacts", "list", "abc"),
        ("promote", "wine", "--version", "1", "--policy", "policy.yaml"),
        ("rollback", "wine"),
    ],
)
def test_reading_commands_never_create_a_store(tmp_path: Path, args: tuple[str, ...]) -> None:
    proc = cli(*args, cwd=tmp_path)
    assert_clean_error(proc, f"No trainlab store at {tmp_path}/trainlab.db", "--tracking-uri")
    typo = cli(*args, "--tracking-uri", "sqlite:///nosuchdir/x.db", cwd=tmp_path)
    assert_clean_error(typo, "No trainlab store at", "nosuchdir/x.db")
    assert not (tmp_path / "trainlab.db").exists() and not (tmp_path / "nosuchdir").exists()


def test_a_server_that_is_down_is_said_so_in_seconds(tmp_path: Path) -> None:
    """At a prompt, seconds; the SDK's calls retry for a minute (a server restarting)."""
    from tests.support.server import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    proc = cli("runs", "list", "--tracking-uri", closed, cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    message = one_line(proc.stderr)
    assert "trying again for up to 5 s (TRAINLAB_HTTP_RETRY_SECONDS sets how long)" in message
    assert f"error: Cannot reach the tracking server at {closed}" in message


def test_reading_commands_leave_a_database_without_a_store_as_it_is(tmp_path: Path) -> None:
    """An empty file, another program's tables, another tool's schema (MLflow's revisions are
    alembic ids like this one): refused, the file unchanged, and the server refuses too."""
    (tmp_path / "empty.db").write_bytes(b"")
    for name, sql in (
        ("other.db", ["CREATE TABLE foo (x)"]),
        ("mlflow.db", ["CREATE TABLE alembic_version (version_num TEXT)",
                       "INSERT INTO alembic_version VALUES ('f4a9b2c7d1e6')"]),
    ):  # fmt: skip
        with contextlib.closing(sqlite3.connect(tmp_path / name)) as conn, conn:
            for statement in sql:
                conn.execute(statement)
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.db")}
    for name, needle in (
        ("empty.db", "the database holds no trainlab tables"),
        ("other.db", "trainlab db upgrade 'sqlite:///other.db'"),
        ("mlflow.db", "its schema revision 'f4a9b2c7d1e6' is not trainlab's"),
    ):
        for args in (("runs", "list"), ("models", "list"), ("experiments", "list")):
            proc = cli(*args, "--tracking-uri", f"sqlite:///{name}", cwd=tmp_path)
            assert_clean_error(proc, needle)
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.db")} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "spool") == sorted(before)
    with pytest.raises(InvalidParameterValue, match="another tool's database"):
        SqlTrackingStore(f"sqlite:///{tmp_path}/mlflow.db", str(tmp_path / "art"))


@pytest.mark.parametrize(
    ("uri", "needle"),
    [
        ("sqlite://trainlab.db", "it names no database file; give one, as in sqlite:///"),
        ("postgresql://postgres@127.0.0.1:1/x", "Connection refused"),
        ("mysql://x", "Unsupported tracking URI"),
        ("sqlite:///", "Invalid store URI 'sqlite:///': it names no database file"),
        ("sqlite:///.", "Cannot open the store 'sqlite:///.': unable to open database file"),
        (f"sqlite:///{'a' * 300}.db", "unable to open database file"),
        ("postgresql://postgres:secret@127.0.0.1:1/x", "'postgresql://postgres:***@127.0.0.1"),
        (
            "postgresql://postgres:secret@127.0.0.1:5432/trainlab_never_made",
            "Create it first: createdb -h 127.0.0.1 -p 5432 -U postgres trainlab_never_made",
        ),
    ],
)
def test_a_bad_tracking_uri_is_one_clear_line(tmp_path: Path, uri: str, needle: str) -> None:
    proc = cli("experiments", "list", "--tracking-uri", uri, cwd=tmp_path)
    assert_clean_error(proc, needle)


def test_the_start_of_a_run_id_finds_runs_of_deleted_experiments(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/gone.db"
    store: Any = store_for(uri)
    try:
        exp = store.create_experiment("gone")
        run_id = store.create_run(exp).info.run_id
        store.delete_experiment(exp)
    finally:
        store.engine.dispose()
    proc = cli("runs", "show", run_id[:8], "--json", "--tracking-uri", uri, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["info"]["run_id"] == run_id


def test_the_workers_of_a_killed_server_end_with_it(tmp_path: Path) -> None:
    """SIGKILL of `trainlab server --workers 2` (the supervisor): its workers went on serving the
    port, and the next start could not take it."""
    import psutil
    from tests.support.server import ServerProcess

    with ServerProcess(f"sqlite:///{tmp_path}/t.db", tmp_path / "a", workers=2) as server:
        assert server.proc is not None
        workers = psutil.Process(server.proc.pid).children(recursive=True)
        assert workers
        os.kill(server.proc.pid, signal.SIGKILL)  # the supervisor alone, not its group
        server.proc.wait()
        _, alive = psutil.wait_procs(workers, timeout=20)
        assert alive == [], alive
    with ServerProcess(f"sqlite:///{tmp_path}/t.db", tmp_path / "a", port=server.port):
        pass  # the port is free again


@pytest.mark.parametrize("kind", ["sqlite", "server"])
def test_delete_and_restore_runs_and_experiments(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    uri = (
        str(request.getfixturevalue("server").url)
        if kind == "server"
        else f"sqlite:///{tmp_path}/d.db"
    )
    store: Any = store_for(uri)
    name = f"del-{uuid.uuid4().hex[:8]}"
    exp_id = store.create_experiment(name)
    a, b = (store.create_run(exp_id, "u", 1, {}, n).info.run_id for n in ("a", "b"))
    flag = ("--tracking-uri", uri)

    def listed() -> set[str]:
        proc = cli("runs", "list", "-e", name, "--json", *flag, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        return {r["info"]["run_id"] for r in json.loads(proc.stdout)}

    gone = cli("runs", "delete", a[:8], "0" * 32, *flag, cwd=tmp_path)  # one of them unknown
    assert_clean_error(gone, f"Run with id={'0' * 32} not found")
    assert listed() == {a, b}  # nothing was deleted
    proc = cli("runs", "delete", a[:8], b, a, *flag, cwd=tmp_path)  # a run named twice: once
    assert proc.returncode == 0 and f"Deleted 2 run(s): {a}, {b}" in one_line(proc.stdout)
    assert f"trainlab runs restore {a} {b}" in one_line(proc.stdout)
    assert listed() == set() and store.get_run(a).info.lifecycle_stage == "deleted"
    logging = pytest.raises(InvalidParameterValue, match=f"trainlab runs restore {a}")
    with logging:
        store.log_batch(a, params=[Param("p", "1")])
    proc = cli("runs", "restore", a, *flag, cwd=tmp_path)
    assert proc.returncode == 0 and listed() == {a}
    assert_clean_error(cli("runs", "restore", a, *flag, cwd=tmp_path), f"Run {a} is already active")
    assert_clean_error(
        cli("runs", "delete", b, a, *flag, cwd=tmp_path), f"Run {b} is already deleted"
    )
    assert listed() == {a}  # a refused command changes nothing

    proc = cli("experiments", "delete", name, *flag, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"Deleted experiment {name!r} (id {exp_id}) and its runs" in one_line(proc.stdout)
    assert store.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert store.get_run(a).info.lifecycle_stage == "deleted"
    proc = cli("experiments", "restore", exp_id, *flag, cwd=tmp_path)
    assert proc.returncode == 0 and listed() == {a}  # b was deleted on its own before
    assert_clean_error(
        cli("experiments", "restore", name, *flag, cwd=tmp_path), "it is already active"
    )
    assert_clean_error(cli("experiments", "delete", "0", *flag, cwd=tmp_path), "cannot be deleted")
    if hasattr(store, "close"):
        store.close()


def test_runs_list_says_which_keys_of_a_filter_no_run_has(seeded: Seeded) -> None:
    flt = "metrics.accuracy > 0.5 AND params.x = '1' AND tags.team = 'a'"
    proc = cli("runs", "list", "-e", seeded.experiment, "-f", flt, "--tracking-uri", seeded.uri,
               cwd=seeded.cwd)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "No run here has metric 'accuracy', tag 'team':" in one_line(proc.stdout)
    matched = cli("runs", "list", "-e", seeded.experiment, "-f", "params.x = '9'",
                  "--tracking-uri", seeded.uri, cwd=seeded.cwd)  # fmt: skip
    assert "No run here has" not in matched.stdout  # the key is there; no value matched


def test_runs_end_ends_a_run_its_process_left_running(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    store: Any = store_for(uri)
    exp = store.create_experiment("ends")
    left, done = (store.create_run(exp, "u", 1, {}, n).info.run_id for n in ("left", "done"))
    store.update_run_info(done, status=RunStatus.FINISHED, end_time=2)
    flag = ("--tracking-uri", uri)
    assert_clean_error(cli("runs", "end", left, done, *flag, cwd=tmp_path), "has ended already")
    assert store.get_run(left).info.status == "RUNNING"  # nothing changed
    bad = cli("runs", "end", left, "--status", "paused", *flag, cwd=tmp_path)
    assert bad.returncode == 2 and "use KILLED, FAILED or FINISHED" in bad.stderr
    proc = cli("runs", "end", left[:8], *flag, cwd=tmp_path)
    assert proc.returncode == 0 and f"Ended 1 run(s) KILLED: {left}" in one_line(proc.stdout)
    info = store.get_run(left).info
    assert info.status == "KILLED" and info.end_time is not None
    # a run whose process still trains on this host is not ended under it
    alive = store.create_run(exp, "u", 1, {}, "alive").info.run_id
    from trainlab.training.trainer import TRAINER_TAG, trainer_tag

    store.set_tag(alive, RunTag(TRAINER_TAG, trainer_tag()[TRAINER_TAG]))  # this process
    proc = cli("runs", "end", alive, *flag, cwd=tmp_path)
    assert_clean_error(proc, "is still being trained by process")
    store.close()
