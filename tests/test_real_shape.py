"""The benchmark's real-shaped corpus stays shaped like the real sample.

benchmarks/shape.py measures both the 28 real files (tests/fixtures/real/) and a
corpus generate.py writes; each share and mean must be within tolerance of the
sample's, so that a change to the generator cannot quietly drift from what real
collections look like (and flatter the importer).
"""

from __future__ import annotations

import sys

import pytest
from conftest import REAL, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import generate
import shape

N = 1500
# Absolute tolerance for shares, relative for means: 1,500 records from a fixed
# seed measure the generator's parameters to within about 0.02; 28 files are what
# they are, so the tolerance is about what the sample can tell, not more.
SHARE_TOLERANCE = 0.06
MEAN_TOLERANCE = 0.15
# Not in the 28 files; generated in small shares on purpose (generate.BEYOND_SAMPLE).
BEYOND_SAMPLE = {"empty list"}


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    generate.generate(folder, N, shape="real")
    texts = shape.read(folder)
    return shape.measure(shape.read(REAL)), shape.measure(texts), shape.fallbacks(texts)


def _is_mean(name: str) -> bool:
    return name.endswith(("per record", "chars", "bytes"))


@pytest.mark.parametrize("name", [m for m in shape.METRICS if m not in BEYOND_SAMPLE])
def test_the_generated_corpus_is_within_tolerance_of_the_real_sample(measured, name):
    sample, corpus, _ = measured
    if _is_mean(name):
        assert corpus[name] == pytest.approx(sample[name], rel=MEAN_TOLERANCE), (name, corpus)
    else:
        assert corpus[name] == pytest.approx(sample[name], abs=SHARE_TOLERANCE), (name, corpus)


def test_what_the_sample_lacks_comes_in_small_shares(measured):
    sample, corpus, _ = measured
    for name in BEYOND_SAMPLE:
        assert sample[name] == 0
        assert 0 < corpus[name] <= 0.05, (name, corpus[name])


def test_the_sample_shows_what_the_generator_was_calibrated_on(measured):
    """If the fixtures changed, REAL in generate.py must be measured again."""
    sample, _, _ = measured
    real = generate.REAL
    assert sample["crlf"] == pytest.approx(real["crlf"])
    assert sample["video"] == pytest.approx(real["video"])
    assert sample["provider.images"] == pytest.approx(real["provider.images"])
    assert sample["related"] == pytest.approx(real["related"])
    assert sample["shared address"] == pytest.approx(real["shared address"])
    assert sample["video without webUrl"] == 1


def test_no_generated_real_shaped_file_falls_back_to_pyyaml(measured):
    _, _, (files, reasons) = measured
    assert files == N
    assert not reasons, shape.describe_fallbacks(files, reasons)


def test_the_old_shape_is_still_the_seed_shape(tmp_path):
    generate.generate(tmp_path, 200, shape="old")
    corpus = shape.measure(shape.read(tmp_path))
    assert corpus["crlf"] == 0 and corpus["video"] == 0
    assert corpus["related per record"] == 4
    assert corpus["ampWebUrl"] == 1


def test_generate_refuses_an_unknown_shape(tmp_path):
    with pytest.raises(ValueError, match="unknown shape"):
        generate.generate(tmp_path, 1, shape="square")


def test_shape_script_reports_the_sample_and_its_fallbacks():
    import subprocess

    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "shape.py")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "28 files" in result.stdout
    assert "crlf                        46%" in result.stdout
    assert "fast path: 0.0% of 28 files fall back to PyYAML" in result.stdout
