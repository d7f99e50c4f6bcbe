"""Write a git repository shaped like a real record history, for `import --git`.

The shape is that of tests/fixtures/real-history (a news site's `_news/` folder,
committed by a bot every two hours; see its README): one commit adds `_news/.keep`,
then each "Update news" commit touches about three record files. New files
arrive at an even pace until FILES exist; most edits change only `secured` (a
signature), some also `quality` and `heat`, a few `excerpt`, `publishedDateTime`,
`webUrl`/`originalUrl` or `topics` (an article's address can change under the same
path). Commit times are in -0700 until November and -0800 after, as in the real
history. The full real history is 722 commits over 193 files: the default.

Records are benchmarks/generate.py's real shape. The repository is written with
`git fast-import` in about a second; the same arguments give the same commits.

    python benchmarks/history.py OUT_DIR [--commits 700] [--files 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import base64
import random
import re
import subprocess
from pathlib import Path

from generate import real_record

FOLDER = "_news"
START = 1600866000  # 2020-09-23 13:00 UTC, where the real history starts
STEP = 2 * 3600  # the bot's pace
DST_END = 1604224800  # 2020-11-01 10:00 UTC: -0700 before, -0800 after
FILES_PER_COMMIT = 3.3  # measured on the real history's first 150 commits
# Shares of edits that change more than `secured`, as in the real history.
EDITS = {"quality": 0.15, "excerpt": 0.03, "publishedDateTime": 0.02, "url": 0.01, "topics": 0.01}


def _field(text: str, name: str, value: str) -> str:
    """`text` with the line `name: ...` (top level) set to `value`."""
    return re.sub(rf"(?m)^{name}: .*?(\r?)$", lambda m: f"{name}: {value}{m[1]}", text, count=1)


def _edited(text: str, rng: random.Random, version: int) -> str:
    secured = base64.b64encode(rng.randbytes(180)).decode()
    text = _field(text, "secured", f'"{secured};{base64.b64encode(rng.randbytes(16)).decode()}"')
    if rng.random() < EDITS["quality"]:
        score = str(rng.randint(1, 200))
        text = _field(_field(text, "quality", score), "heat", score)
    if rng.random() < EDITS["excerpt"]:
        text = _field(text, "excerpt", f'"An updated summary, version {version}."')
    if rng.random() < EDITS["publishedDateTime"]:
        text = _field(text, "publishedDateTime", f"2020-10-{rng.randint(1, 28):02d}T12:00:00Z")
    if rng.random() < EDITS["url"]:
        url = f'"https://news{rng.randint(0, 50)}.example.com/moved/{version}"'
        text = _field(_field(text, "webUrl", url), "originalUrl", url)
    if rng.random() < EDITS["topics"]:
        text = re.sub(r"(?m)^topics:(\r?)$", r"topics:\1\n  - Moved Topic\1", text, count=1)
    return text


def _stream(commits: int, files: int, seed: int) -> bytes:
    """The fast-import stream of the whole history."""
    rng = random.Random(seed)
    out: list[bytes] = []
    texts: dict[str, str] = {}

    def commit(number: int, message: str, changes: dict[str, str]) -> None:
        when = START + number * STEP + rng.randint(0, 400)
        zone = "-0700" if when < DST_END else "-0800"
        header = (
            f"commit refs/heads/main\nmark :{number + 1}\n"
            f"committer SmartableAI <contact@smartable.ai> {when} {zone}\n"
            f"data {len(message)}\n{message}\n"
        )
        out.append(header.encode())
        if number:
            out.append(f"from :{number}\n".encode())
        for path, text in changes.items():
            data = text.encode()
            out.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")

    commit(0, "Initial commit", {f"{FOLDER}/.keep": ""})
    added = 0
    for number in range(1, commits):
        # New files at an even pace, so that the last commits still add some.
        due = max(1, round(files * number / (commits - 1)))
        changes: dict[str, str] = {}
        while added < due:
            path = f"{FOLDER}/{added:04d}-news.md"
            texts[path] = changes[path] = real_record(added, files, rng)
            added += 1
        touched = max(1, round(rng.expovariate(1 / FILES_PER_COMMIT))) - len(changes)
        for path in rng.sample(sorted(texts), min(max(touched, 0), len(texts))):
            if path not in changes:
                texts[path] = changes[path] = _edited(texts[path], rng, number)
        if not changes:  # the bot commits only when something changed
            path = rng.choice(sorted(texts))
            texts[path] = changes[path] = _edited(texts[path], rng, number)
        commit(number, "Update news", changes)
    return b"".join(out)


def write_history(folder: Path, commits: int = 700, files: int = 200, seed: int = 1) -> Path:
    """Create the repository in `folder` (emptied first); return it."""
    subprocess.run(["rm", "-rf", str(folder)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run(
        ["git", "-C", str(folder), "fast-import", "--quiet"],
        input=_stream(commits, files, seed),
        check=True,
    )
    subprocess.run(["git", "-C", str(folder), "checkout", "-q", "main"], check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--commits", type=int, default=700)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_history(args.out, args.commits, args.files, args.seed)


if __name__ == "__main__":
    main()
