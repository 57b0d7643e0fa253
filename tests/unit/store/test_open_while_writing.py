"""Opening an SQLite store to read it does not wait for another process's write."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from trainlab.store.sql.tracking import SqlTrackingStore


def test_a_store_opens_and_reads_while_another_connection_writes(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/t.db"
    SqlTrackingStore(uri, str(tmp_path / "a")).close()  # made, with its Default experiment
    writer = sqlite3.connect(tmp_path / "t.db")
    writer.execute("BEGIN IMMEDIATE")  # a long write of another process, holding the lock
    opened = threading.Event()

    def read() -> None:
        store = SqlTrackingStore(uri, str(tmp_path / "a"))
        assert store.get_experiment("0").name == "Default"
        store.close()
        opened.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert opened.wait(10), "opening the store waited for the writer's lock"
    finally:
        writer.rollback()
        writer.close()
        reader.join(70)
