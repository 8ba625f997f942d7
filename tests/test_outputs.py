import json
import os

import numpy as np
import pytest

from mlrecipes.outputs import software_versions, write_json, write_text, write_with


def test_write_json_is_readable_and_handles_numpy(tmp_path):
    path = write_json(tmp_path / "sub" / "metrics.json", {"accuracy": np.float32(0.5), "matrix": np.eye(2, dtype=int)})
    assert json.loads(path.read_text()) == {"accuracy": 0.5, "matrix": [[1, 0], [0, 1]]}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = write_text(tmp_path / "metrics.json", "old")

    def crash(path):
        path.write_text("half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_with(target, crash)
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["metrics.json"]


def test_written_files_have_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        path = write_text(tmp_path / "x.txt", "x")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_versions():
    versions = software_versions()
    assert set(versions) == {"python", "tensorflow", "keras", "mlrecipes"}
    assert versions["keras"].startswith("3.")
