"""The merge rules (archive/ingest/merge.py): one test per rule the README states,
on the pure functions, and the rules as the importer applies them across batches."""

from __future__ import annotations

from pathlib import Path

from conftest import write

from archive.ingest import merge
from archive.ingest.merge import RelatedEffect

# --- Related entries: "it becomes (or matches) an article row ... marked is_stub" ---


def test_a_related_entry_for_an_unknown_article_creates_a_stub() -> None:
    assert merge.related_effect(None) is RelatedEffect.CREATE_STUB


def test_a_related_entry_for_a_stub_fills_it() -> None:
    assert merge.related_effect(True) is RelatedEffect.FILL_STUB


def test_a_related_entry_never_overwrites_what_an_own_record_said() -> None:
    assert merge.related_effect(False) is RelatedEffect.NOTHING


# --- "later ones only fill in what is still empty" ---


def test_a_later_description_fills_only_empty_fields() -> None:
    known = {"title": "First", "heat": None, "quality": None}
    offered = {"title": "Second", "heat": 7, "quality": None}
    assert merge.fill_empty(known, offered) == {"heat": 7}


def test_fields_not_known_to_be_empty_are_taken_as_filled() -> None:
    """An archived stub's filled columns are not read: they cannot be filled again."""
    assert merge.fill_empty({"heat": None}, {"title": "Other", "heat": 3}) == {"heat": 3}


def test_the_first_of_two_later_descriptions_wins() -> None:
    known: dict[str, object] = {"heat": None}
    known.update(merge.fill_empty(known, {"heat": 1}))
    assert merge.fill_empty(known, {"heat": 2}) == {}
    assert known == {"heat": 1}


def test_a_stub_takes_the_images_of_the_first_entry_that_has_any() -> None:
    assert merge.takes_images(False, ["a.jpg"])
    assert not merge.takes_images(True, ["b.jpg"])
    assert not merge.takes_images(False, [])


# --- Identity table: "the first name and domain seen", "first width/height seen" ---


def test_a_provider_keeps_its_first_name_and_domain() -> None:
    known = {"name": "BBC", "domain": "bbc.co.uk", "extra": None}
    assert merge.fill_empty(known, {"name": "BBC News", "domain": "bbc.com", "extra": None}) == {}


def test_a_provider_first_seen_without_a_domain_or_logos_gets_them() -> None:
    known = {"name": "BBC", "domain": None, "extra": None}
    offered = {"name": "BBC News", "domain": "bbc.co.uk", "extra": {"images": []}}
    assert merge.fill_empty(known, offered) == {"domain": "bbc.co.uk", "extra": {"images": []}}


def test_an_image_keeps_its_first_size_and_fills_a_missing_one() -> None:
    assert merge.fill_empty({"width": 10, "height": None}, {"width": 20, "height": 30}) == {
        "height": 30
    }


# --- Schema: "a topic listed twice in one record is linked once" ---


def test_a_topic_listed_twice_is_linked_once_in_its_first_spelling() -> None:
    assert merge.unique_topics(["AI", "Privacy", " ai ", "privacy"]) == [
        ("ai", "AI"),
        ("privacy", "Privacy"),
    ]


# --- The rules as the importer applies them -----------------------------------------


def _record(url: str, related: list[dict[str, str]] | None = None, **fields: str) -> str:
    lines = ["---", f"webUrl: {url}"]
    lines += [f"{key}: {value}" for key, value in fields.items()]
    if related:
        lines.append("related:")
        for entry in related:
            first, *rest = entry.items()
            lines.append(f"  - {first[0]}: {first[1]}")
            lines += [f"    {key}: {value}" for key, value in rest]
    return "\n".join([*lines, "---", ""])


STUB = "https://example.com/stub"


def test_two_later_related_entries_in_one_batch_fill_an_archived_stub_once(
    archive, records: Path, tmp_path: Path
) -> None:
    """The stub is in the archive with `heat` empty; in the next import, the first of
    two related entries that give a heat fills it, and the second changes nothing."""
    write(records, "a.md", _record("https://example.com/a", [{"webUrl": STUB, "title": "Stub"}]))
    assert archive.run("import", str(records)).exit_code == 0
    later = tmp_path / "later"
    write(later, "b.md", _record("https://example.com/b", [{"webUrl": STUB, "heat": "1"}]))
    write(later, "c.md", _record("https://example.com/c", [{"webUrl": STUB, "heat": "2"}]))
    assert archive.run("import", str(later)).exit_code == 0
    assert archive.rows("SELECT title, heat, is_stub FROM article WHERE url = ?", STUB) == [
        ("Stub", 1, 1)
    ]


def test_two_later_related_entries_in_separate_imports_fill_a_stub_once(
    archive, tmp_path: Path
) -> None:
    for name, heat in (("a", None), ("b", "1"), ("c", "2")):
        folder = tmp_path / name
        entry = (
            {"webUrl": STUB, "title": "Stub"} if heat is None else {"webUrl": STUB, "heat": heat}
        )
        write(folder, f"{name}.md", _record(f"https://example.com/{name}", [entry]))
        assert archive.run("import", str(folder)).exit_code == 0
    assert archive.rows("SELECT title, heat FROM article WHERE url = ?", STUB) == [("Stub", 1)]


def test_an_own_record_in_the_same_batch_replaces_what_related_entries_filled(
    archive, records: Path
) -> None:
    write(records, "a.md", _record("https://example.com/a", [{"webUrl": STUB, "heat": "1"}]))
    write(records, "b.md", _record(STUB, title="Own", quality="3"))
    write(records, "c.md", _record("https://example.com/c", [{"webUrl": STUB, "heat": "2"}]))
    assert archive.run("import", str(records)).exit_code == 0
    assert archive.rows(
        "SELECT title, quality, heat, is_stub FROM article WHERE url = ?", STUB
    ) == [("Own", 3, None, 0)]
