"""The one atomic writer (core/atomic.py) and the draft-version helpers (core/ids.py)."""

from __future__ import annotations

import pytest

from promptbench.core.atomic import FolderNotWritable, atomic_output, write_atomic
from promptbench.core.ids import draft_sha, draft_version, is_draft_version, new_id


def test_a_new_file_gets_its_mode_and_a_rewrite_keeps_the_files(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    write_atomic(path, "héllo\r\n")
    assert path.read_bytes() == "héllo\r\n".encode() and path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    write_atomic(path, b"again")
    assert path.read_bytes() == b"again" and path.stat().st_mode & 0o777 == 0o600
    write_atomic(tmp_path / "private.json", b"{}", new_mode=0o600)
    assert (tmp_path / "private.json").stat().st_mode & 0o777 == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(path) as fh:
            fh.write("half of the new")
            raise RuntimeError("stopped")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_folder_that_cannot_hold_the_file_is_named(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(FolderNotWritable) as caught:
        write_atomic(tmp_path / "file" / "x.txt", b"")   # its "folder" is a file
    assert caught.value.filename == str(tmp_path / "file") and not caught.value.permission_denied


def test_draft_versions():
    version = draft_version("1a2b3c4d5e6f")
    assert version == "draft:1a2b3c4d5e6f" and is_draft_version(version) and draft_sha(version) == "1a2b3c4d5e6f"
    assert not is_draft_version("3f7107a2") and not is_draft_version(None) and draft_sha("3f7107a2") == ""
    assert len(new_id()) == 16 and new_id() != new_id()
