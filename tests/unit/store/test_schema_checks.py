"""A database's schema revision, read without changing it, and who made it: trainlab (this
release or an older one), a newer trainlab, or another tool."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import pytest

from trainlab.exceptions import InvalidParameterValue
from trainlab.store.sql.engine import HEAD_REVISION, check_not_foreign, stored_revision


def _database(path: Path, revision: str | None) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE foo (x)")
        if revision is not None:
            conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
            conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))
    return f"sqlite:///{path}"


def test_the_revision_is_read_without_changing_the_file(tmp_path: Path) -> None:
    for name, revision in (("none.db", None), ("old.db", "0003"), ("ml.db", "f4a9b2c7d1e6")):
        uri = _database(tmp_path / name, revision)
        before = (tmp_path / name).read_bytes()
        assert stored_revision(uri) == revision
        assert (tmp_path / name).read_bytes() == before
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(name)) == [name]


@pytest.mark.parametrize(
    ("revision", "needle"),
    [
        ("f4a9b2c7d1e6", "holds another tool's database"),
        ("9999", f"was last upgraded by a newer trainlab (schema revision 9999; this one knows "
                  f"up to {HEAD_REVISION}): upgrade trainlab"),
    ],
)  # fmt: skip
def test_a_schema_trainlab_does_not_know_is_refused_with_whose_it_is(
    revision: str, needle: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=re.escape(needle)):
        check_not_foreign("sqlite:///x.db", revision)
    for known in (None, "0001", HEAD_REVISION):
        check_not_foreign("sqlite:///x.db", known)
