"""Docs that must not drift from the code they describe."""

import re
from pathlib import Path

from streams.topics import markdown

ROOT = Path(__file__).resolve().parents[2]


def test_topics_doc_matches_the_registry() -> None:
    text = (ROOT / "docs/topics.md").read_text()
    table = text.split("<!-- topics:begin -->\n", 1)[1].split("<!-- topics:end -->", 1)[0]
    assert table == markdown(), (
        "docs/topics.md is stale: regenerate the table with `python -m streams.topics`"
    )


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make up" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_every_schema_linked_from_the_topics_doc_exists() -> None:
    text = (ROOT / "docs/topics.md").read_text()
    links = re.findall(r"\]\(\.\./(schemas/avro/[^)]+)\)", text)
    assert len(links) >= 30
    assert [link for link in links if not (ROOT / link).is_file()] == []
