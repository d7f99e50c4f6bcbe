"""The package's shape: layers that import only downwards, no cycles, a fast start.

Imports are read from the source (every `import`, also those inside functions),
so a lazy import that points the wrong way fails here too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "archive"

# Lower layers first. A module may import its own layer and the layers before it.
LAYERS = [
    {
        "archive.errors",
        "archive.messages",
        "archive.rows",
        "archive.identity",
        "archive.record_format",
        "archive.stories",
    },
    {"archive.output"},
    {"archive.store"},
    {"archive.ingest", "archive.query", "archive.serve"},
    {"archive.api"},  # the library (docs/library.md): above what it gathers
    {"archive.cli", "archive.__main__"},
]


def _module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = PACKAGE) -> set[str]:
    """The archive modules `path` imports, resolved to module names."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("archive")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("archive"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate, root) else target)
    return found


def _exists(module: str, root: Path) -> bool:
    relative = Path(*module.split(".")[1:])
    return (root / relative).with_suffix(".py").exists() or (root / relative).is_dir()


def _graph() -> dict[str, set[str]]:
    return {
        _module_name(path): _imports(path)
        for path in PACKAGE.rglob("*.py")
        if "__pycache__" not in path.parts
    }


def _layer(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in layer):
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def test_every_module_belongs_to_a_layer_and_imports_only_downwards() -> None:
    wrong = [
        f"{module} -> {target}"
        for module, targets in _graph().items()
        if module != "archive"
        for target in targets
        if target != "archive" and _layer(target) > _layer(module)
    ]
    assert wrong == []


def test_ingest_and_query_do_not_import_each_other() -> None:
    def side(module: str) -> str:
        return module.split(".")[1] if module.count(".") else ""

    crossing = [
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if {side(module), side(target)} == {"ingest", "query"}
    ]
    assert crossing == []


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                cycle = trail[trail.index(target) :] if target in trail else trail
                raise AssertionError(" -> ".join([*cycle, target]))
            if target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_layer_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checks above read imports right: a lazy import of the CLI in store is caught."""
    root = tmp_path / "archive"
    (root / "store").mkdir(parents=True)
    (root / "cli.py").write_text("")
    module = root / "store" / "location.py"
    module.write_text("def later():\n    from ..cli import cli\n")
    assert _imports(module, root) == {"archive.cli"}
    assert _layer("archive.cli") > _layer(_module_name(module, root))


def _cli_and_heavy_modules(
    args: list[str], heavy: tuple[str, ...] = ("sqlalchemy", "sqlmodel", "alembic")
) -> list[str]:
    """Run `archive ARGS` in a fresh interpreter; its output, then the SQLAlchemy,
    SQLModel and Alembic modules (or those of `heavy`) it loaded (as the last line)."""
    code = (
        "import sys\n"
        "from archive.cli import cli\n"
        f"try:\n    cli({args!r}, prog_name='archive')\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules"
        f" if m.split('.')[0] in {heavy!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], ["sql", "--help"], ["export", "--help"]],
    ids=lambda args: " ".join(args),
)
def test_fast_commands_do_not_load_sqlalchemy(args: list[str]) -> None:
    """`archive --version`, `archive sql` and `archive export` start without SQLAlchemy
    (about 0.4 s of imports): the CLI loads it only inside the commands that need it."""
    assert _cli_and_heavy_modules(args)[-1] == "[]"


def test_archive_sql_runs_a_query_without_sqlalchemy(tmp_path: Path) -> None:
    from conftest import DATA

    db = tmp_path / "a.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)], check=True
    )
    lines = _cli_and_heavy_modules(
        ["--db", str(db), "sql", "SELECT count(*) AS n FROM article", "--format", "csv"]
    )
    assert lines[0] == "n"
    assert int(lines[1]) > 0
    assert lines[-1] == "[]"


@pytest.fixture(scope="module")
def data_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import DATA

    db = tmp_path_factory.mktemp("data") / "a.db"
    subprocess.run(
        [sys.executable, "-m", "archive", "--db", str(db), "import", "-q", str(DATA)], check=True
    )
    return db


SEED_URL = "https://gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest"
QUERY_COMMANDS = [
    ["providers", "--topic", "AI"],
    ["providers", "--topic", "AI", "--include-related"],
    ["topics", "--provider", "theguardian.com"],
    ["articles", "--topic", "AI", "--search", "police"],
    ["search", "facial", "recognition"],
    ["timeline", "--topic", "AI", "--by", "year"],
    ["cooccur", "--topic", "AI"],
    ["related", SEED_URL],
    ["related", "https://www.gothamist.com/news/de-blasio-will-reassess-nypds-use-facial-recognition-tech-after-protester-arrest?utm_source=x"],
    ["show", SEED_URL],
    ["show", "https://youtu.be/EXAMPLEvid2"],
    ["stats"],
    ["providers", "--topic", "AIX"],  # an empty answer, and its note
]  # fmt: skip


@pytest.mark.parametrize("args", QUERY_COMMANDS, ids=lambda args: " ".join(args)[:40])
def test_query_commands_answer_without_sqlalchemy(data_archive: Path, args: list[str]) -> None:
    """The query commands read through plain sqlite3 (query/reader.py), as `archive
    sql` does: they start without loading SQLAlchemy, SQLModel or Alembic."""
    lines = _cli_and_heavy_modules(["--db", str(data_archive), *args, "--format", "csv"])
    assert len(lines) >= 2, lines  # a header (rows, unless empty), and the modules
    assert lines[-1] == "[]"


def test_dump_writes_without_sqlalchemy(data_archive: Path, tmp_path: Path) -> None:
    lines = _cli_and_heavy_modules(["--db", str(data_archive), "dump", "-q", str(tmp_path / "out")])
    assert len(list((tmp_path / "out" / "data").iterdir())) == 17
    assert lines[-1] == "[]"


@pytest.mark.parametrize("url", [SEED_URL, "https://youtu.be/EXAMPLEvid2"])
def test_show_of_a_url_as_printed_does_not_load_ural(data_archive: Path, url: str) -> None:
    """ural takes about 0.1 s to load: an address exactly as `articles` or `related`
    print it is found without normalizing it (queries._written_address)."""
    lines = _cli_and_heavy_modules(["--db", str(data_archive), "show", url], heavy=("ural",))
    assert "sha256" in "\n".join(lines)
    assert lines[-1] == "[]"


def test_every_package_is_installed_by_pip_install() -> None:
    """pyproject lists the packages by hand (migrations/ ships inside archive): a new
    package missing from the list works in an editable install and is absent from
    `pip install .`, as archive.cli once was."""
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    packages = {
        _module_name(init)
        for init in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert packages - listed == set()


# The team's limits on size, outside tests: a longer function or class needs the line
# before it to say why, in a comment with `long:` and a reason.
ROOT = PACKAGE.parent
MAX_FUNCTION_LINES = 60
MAX_CLASS_LINES = 200
SIZED = [
    ROOT / "archive",
    ROOT / "migrations",
    ROOT / "benchmarks",
    ROOT / "docs" / "cog_helpers.py",
]


def _python_files(paths: list[Path]) -> list[Path]:
    return sorted(
        file
        for path in paths
        for file in ([path] if path.is_file() else path.rglob("*.py"))
        if "__pycache__" not in file.parts
    )


def _says_why(lines: list[str], node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    before = lines[first - 2].strip() if first >= 2 else ""
    return before.startswith("#") and before.partition("long:")[2].strip() != ""


def oversized(paths: list[Path], root: Path = ROOT) -> list[str]:
    """`file:line name (N lines)` for each function over MAX_FUNCTION_LINES and each
    class over MAX_CLASS_LINES (from its `def`/`class` line to its last) that has no
    `# long: reason` comment on the line before it (or before its decorators)."""
    found = []
    for file in _python_files(paths):
        text = file.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text, filename=str(file))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                limit = MAX_FUNCTION_LINES
            elif isinstance(node, ast.ClassDef):
                limit = MAX_CLASS_LINES
            else:
                continue
            size = node.end_lineno - node.lineno + 1
            if size > limit and not _says_why(lines, node):
                where = file.relative_to(root) if file.is_relative_to(root) else file
                found.append(f"{where}:{node.lineno} {node.name} ({size} lines > {limit})")
    return found


def test_no_function_over_60_lines_nor_class_over_200_outside_tests() -> None:
    offenders = oversized(SIZED)
    assert not offenders, (
        "split these by job, or say why on the line before: `# long: <reason>`\n"
        + "\n".join(offenders)
    )


def test_the_size_check_sees_a_long_function_and_accepts_a_reason(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(60))
    module = tmp_path / "m.py"
    module.write_text(f"import functools\n\n\n@functools.cache\ndef long_one():\n{body}")
    assert oversized([tmp_path], tmp_path) == ["m.py:5 long_one (61 lines > 60)"]
    module.write_text(f"def short_enough():\n{body[: body.rindex('    x59')]}")
    assert oversized([tmp_path], tmp_path) == []
    # A comment without a reason does not count; one with a reason does.
    for comment, expected in [("# long:", 1), ("# long: generated, kept as written", 0)]:
        module.write_text(f"{comment}\ndef long_one():\n{body}")
        assert len(oversized([tmp_path], tmp_path)) == expected
    methods = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(67))
    module.write_text(f"class Big:\n{methods}")
    assert oversized([tmp_path], tmp_path) == ["m.py:1 Big (201 lines > 200)"]
