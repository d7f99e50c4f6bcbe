"""The library API docs/library.md shows: open_reader and the question functions."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import DATA, ROOT, Archive, imported

from archive.query import queries


def _library_example() -> str:
    page = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    return re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)


def test_the_library_example_runs(tmp_path: Path) -> None:
    (tmp_path / "data").symlink_to(DATA)
    done = subprocess.run(
        [sys.executable, "-c", _library_example()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("17 0 ")  # 17 new files, none rejected
    assert "Reuters 2 0.222" in lines


def test_values_come_back_typed(tmp_path: Path) -> None:
    archive = imported(Archive(tmp_path / "a.db"), DATA)
    with queries.open_reader(str(archive.path)) as reader:
        first = next(iter(queries.articles(reader, queries.Filters(topics=["AI"])).rows))
        fields = dict(queries.show(reader, first[7]).rows)
    assert first[0] == dt.datetime(2021, 9, 29, 23, 1, tzinfo=dt.timezone.utc)
    assert first[8] is False
    assert fields["published_at"] == first[0]
    assert isinstance(fields["imported_at"], dt.datetime)


def test_stats_lists_the_tables_of_the_models() -> None:
    """queries keeps its own copies so that it need not load SQLModel."""
    from archive.store import models

    assert queries.TABLE_NAMES == models.TABLE_NAMES
    assert queries.ISO_UTC_FORMAT == models.ISO_UTC_FORMAT
