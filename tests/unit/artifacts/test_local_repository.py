"""The local artifact repository and the symlinks, long names and files-as-folders a client
cannot create through the API but may find on disk."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trainlab.artifacts.local import UPLOAD_PREFIX, LocalArtifactRepository
from trainlab.client.artifact_repo import LocalRepo
from trainlab.exceptions import InvalidParameterValue, ResourceNotFound


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


def write(repo: LocalArtifactRepository, path: str, data: bytes) -> None:
    """In a thread of its own: the browser tests' session may hold this thread's event loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, repo.write_stream(path, _one(data))).result()


@pytest.fixture
def tree(tmp_path: Path) -> tuple[LocalArtifactRepository, Path, Path]:
    """A repository whose root holds ``run/file.txt`` and ``run/folder/inner.txt``, beside an
    outside ``secret.txt``."""
    root = tmp_path / "root"
    repo = LocalArtifactRepository(root)
    write(repo, "run/file.txt", b"file")
    write(repo, "run/folder/inner.txt", b"inner")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    return repo, root, secret


def test_deleting_a_symlink_to_the_root_removes_the_link_only(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    repo, root, _ = tree
    os.symlink(root, root / "run" / "root-link")
    repo.delete("run/root-link")
    assert not (root / "run" / "root-link").exists()
    assert (root / "run" / "file.txt").read_bytes() == b"file"


def test_deleting_a_symlink_to_a_folder_keeps_the_folder(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    repo, root, _ = tree
    os.symlink(root / "run" / "folder", root / "run" / "folder-link")
    repo.delete("run/folder-link")
    assert not os.path.lexists(root / "run" / "folder-link")
    assert (root / "run" / "folder" / "inner.txt").read_bytes() == b"inner"


def test_a_link_reached_through_a_link_is_removed_itself(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    repo, root, _ = tree
    os.symlink(root, root / "run" / "root-link")
    repo.delete("run/root-link/run/root-link")
    assert not os.path.lexists(root / "run" / "root-link")
    assert (root / "run" / "file.txt").exists()


def test_listing_leaves_out_links_that_lead_outside_nowhere_or_in_a_loop(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    repo, root, secret = tree
    run = root / "run"
    os.symlink(secret, run / "secret-link")
    os.symlink(secret.parent, run / "outside-link")
    os.symlink(run / "missing", run / "dangling")
    os.symlink(run / "loop", run / "loop")
    os.symlink(run / "file.txt", run / "inside-link")
    names = {(f.path, f.is_dir, f.file_size) for f in repo.list("run")}
    assert names == {
        ("file.txt", False, 4),
        ("folder", True, None),
        ("inside-link", False, 4),
    }


def test_links_to_the_folder_or_above_are_not_listed_so_downloads_end(
    tree: tuple[LocalArtifactRepository, Path, Path], tmp_path: Path
) -> None:
    repo, root, _ = tree
    os.symlink(".", root / "run" / "here")
    os.symlink(root, root / "run" / "folder" / "up")
    assert "here" not in {f.path for f in repo.list("run")}
    assert "up" not in {f.path for f in repo.list("run/folder")}
    client = LocalRepo(root.as_uri())
    client.download("", tmp_path / "copy")
    copied = sorted(
        p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*.txt")
    )
    assert copied == ["run/file.txt", "run/folder/inner.txt"]


def test_a_symlink_loop_is_a_bad_path(tree: tuple[LocalArtifactRepository, Path, Path]) -> None:
    repo, root, _ = tree
    os.symlink(root / "run" / "loop", root / "run" / "loop")
    for call in (repo.local_path, repo.list, repo.exists):
        with pytest.raises(InvalidParameterValue, match="cannot be resolved"):
            call("run/loop/x")
    with pytest.raises(InvalidParameterValue, match="cannot be resolved"):
        write(repo, "run/loop/x", b"x")


def test_a_file_in_the_way_of_a_folder_is_a_bad_path(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    repo, root, _ = tree
    with pytest.raises(InvalidParameterValue, match="a folder in it is an existing file"):
        write(repo, "run/file.txt/child.txt", b"x")
    assert (root / "run" / "file.txt").read_bytes() == b"file"


def test_upload_names_are_reserved(tree: tuple[LocalArtifactRepository, Path, Path]) -> None:
    repo, root, _ = tree
    with pytest.raises(InvalidParameterValue, match="reserved"):
        write(repo, f"run/{UPLOAD_PREFIX}x", b"x")
    with pytest.raises(InvalidParameterValue, match="reserved"):
        write(repo, f"run/{UPLOAD_PREFIX}x/inner.txt", b"x")  # a folder would be hidden too
    (root / "run" / f"{UPLOAD_PREFIX}left-over").write_bytes(b"partial")
    (root / "run" / ".upload-k3j_x9a2").write_bytes(b"partial")  # an earlier release's
    (root / "run" / ".upload-notes.txt").write_bytes(b"mine")
    listed = {f.path for f in repo.list("run")}
    assert f"{UPLOAD_PREFIX}left-over" not in listed and ".upload-k3j_x9a2" not in listed
    assert ".upload-notes.txt" in listed


def test_uploads_a_killed_server_left_are_removed_once_idle(
    tree: tuple[LocalArtifactRepository, Path, Path], tmp_path: Path
) -> None:
    repo, root, _ = tree
    hour_ago = os.path.getmtime(root / "run" / "file.txt") - 3601
    stale = [root / "run" / f"{UPLOAD_PREFIX}a1", root / "run" / "folder" / f"{UPLOAD_PREFIX}c"]
    fresh = root / "run" / f"{UPLOAD_PREFIX}b2"  # an upload in progress
    # a name an upload may have (an earlier release's temporary name looked like it), a file
    # outside the root
    kept = [root / "run" / ".upload-k3j_x9a2", tmp_path / f"{UPLOAD_PREFIX}outside"]
    (root / "run" / "link").symlink_to(tmp_path, target_is_directory=True)
    for path in [*stale, fresh, *kept]:
        path.write_bytes(b"partial")
    for path in [*stale, *kept]:
        os.utime(path, (hour_ago, hour_ago))
    assert repo.remove_stale_uploads() == 2
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and all(p.exists() for p in kept)
    assert (root / "run" / "file.txt").read_bytes() == b"file"


def test_the_embedded_client_lists_and_deletes_by_the_same_rules(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    _, root, secret = tree
    client = LocalRepo(root.as_uri())
    os.symlink(secret, root / "run" / "secret-link")
    os.symlink(root / "run" / "folder", root / "run" / "folder-link")
    listed = {f.path for f in client.list("run")}
    assert listed == {"run/file.txt", "run/folder", "run/folder-link"}
    os.symlink(root, root / "run" / "root-link")
    client.delete("run/root-link")
    assert (root / "run" / "file.txt").exists()
    with pytest.raises(InvalidParameterValue, match="a folder in it is an existing file"):
        client.upload_file(secret, "run/file.txt/x")


def test_a_name_no_filesystem_holds_is_not_found(
    tree: tuple[LocalArtifactRepository, Path, Path],
) -> None:
    """Not the filesystem's ENAMETOOLONG (a 500 over HTTP): the root exists, so the name is
    what the filesystem refuses."""
    repo, _, _ = tree
    name = "run/" + "x" * 256
    for call in (repo.delete, repo.file_path):
        with pytest.raises(ResourceNotFound, match="no file path is that long"):
            call(name)
    assert repo.list(name) == [] and not repo.exists(name)


def test_files_get_the_mode_the_umask_gives(tmp_path: Path) -> None:
    """Uploads and downloads are readable as a plain ``open`` would make them (mkstemp's 0600
    hid a team server's artifacts from its other accounts)."""
    mask = os.umask(0o022)
    os.umask(mask)
    expected = 0o666 & ~mask
    repo = LocalArtifactRepository(tmp_path / "root")
    write(repo, "a/b.txt", b"x")
    assert (tmp_path / "root" / "a" / "b.txt").stat().st_mode & 0o777 == expected
    LocalRepo((tmp_path / "root").as_uri()).download_file("a/b.txt", tmp_path / "out.txt")
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == expected


def test_a_full_disk_is_a_storage_failure_that_says_so_and_keeps_nothing(
    tree: tuple[LocalArtifactRepository, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from trainlab.exceptions import StorageFailure

    repo, root, _ = tree

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(StorageFailure, match="No space left on device") as raised:
        write(repo, "run/new/big.bin", b"x" * 1000)
    assert raised.value.http_status == 507 and str(root) in raised.value.message
    assert not (root / "run" / "new").exists()  # nor the folder made for it
    assert sorted(p.name for p in (root / "run").iterdir()) == ["file.txt", "folder"]
