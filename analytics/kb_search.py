"""Full-text search over the published knowledge base: SQLite FTS5 with BM25 ranking
(docs/knowledge-base.md, docs/adr/0018-kb-search.md).

`KbIndex` is an in-memory FTS5 table of one tenant's published articles, built from the
library read model (`processors.kb_search`), itself folded from `cc.kb-events`: the index is
disposable, `sync` brings it up to date (only the articles that changed are re-indexed).

Ranking: BM25 (FTS5's `bm25()`) with column weights — title 5, tags 3, body 1 — so a query
word in an article's title counts five times one in its body; the Porter stemmer with
Unicode case and diacritic folding (`porter unicode61 remove_diacritics 2`), so "blocked",
"blocking" and "Blöcked" all match "block". The query is the caller's problem in plain
words: every word is searched for (OR), stop words dropped, a small domain thesaurus
(`SYNONYMS`: "stolen" also searches "lost") added, so a paraphrase that shares two
words of five still finds the article; no FTS5 syntax gets through. Feedback nudges: the
score is multiplied by 1 + 0.1 * (helped - not helped) / (helped + not helped + 5), at most
+-10 %, enough to order near-ties, never enough to beat a clearly better text match.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from processors.kb_search import Doc, Library, published

__all__ = [
    "FEEDBACK_WEIGHT",
    "SYNONYMS",
    "WEIGHTS",
    "Hit",
    "KbIndex",
    "match_expression",
    "plain_text",
    "query_terms",
]

WEIGHTS = {"title": 5.0, "tags": 3.0, "body": 1.0}
FEEDBACK_WEIGHT = 0.1
MAX_TERMS = 32
POOL = 5
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "i'm",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
SYNONYMS: dict[str, tuple[str, ...]] = {
    # how callers say it -> how articles say it (a query word also searches these)
    "stolen": ("lost",),
    "theft": ("lost", "stolen"),
    "holiday": ("abroad", "travelling"),
    "vacation": ("abroad", "travelling"),
    "log": ("login", "access"),
    "logon": ("login", "access"),
    "passed": ("died", "death", "bereavement"),
    "died": ("death", "bereavement"),
    "deceased": ("died", "bereavement"),
    "atm": ("cash", "machine"),
    "moved": ("address",),
    "moving": ("address",),
    "charged": ("fee", "fees"),
    "code": ("pin",),
}
"""A small domain thesaurus (stemming handles word forms; this handles different words)."""
_WORD = re.compile(r"\w+", re.UNICODE)
_MARKDOWN = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|[`*_#>|~]+|^\s*[-+]\s+|^\s*\d+\.\s+", re.M)


@dataclass(frozen=True, slots=True)
class Hit:
    article_id: str
    version: int
    title: str
    category: str
    tags: tuple[str, ...]
    score: float
    """Higher is better: BM25 with the title boost, times the feedback factor."""
    snippet: str
    """The best passage of the body, matched words in [brackets]."""
    helped: int
    not_helped: int


def plain_text(markdown: str) -> str:
    """The Markdown body as the index and snippets see it: links keep their text, markup goes."""
    return re.sub(r"\s+", " ", _MARKDOWN.sub(lambda m: m.group(1) or " ", markdown)).strip()


def query_terms(query: str, synonyms: dict[str, tuple[str, ...]] = SYNONYMS) -> list[str]:
    """The words searched for: casefolded, stop words dropped (kept if nothing else is
    left), synonyms added, each once, at most `MAX_TERMS`."""
    words = [w.casefold() for w in _WORD.findall(query)]
    kept = [w for w in words if w not in _STOP and len(w) > 1] or words
    expanded = [x for w in kept for x in (w, *synonyms.get(w, ()))]
    return list(dict.fromkeys(expanded))[:MAX_TERMS]


def match_expression(query: str, synonyms: dict[str, tuple[str, ...]] = SYNONYMS) -> str:
    """The FTS5 MATCH expression for a caller's words (`query_terms`): each word quoted (no
    FTS5 syntax gets through), OR-ed; "" if no word."""
    return _or(query_terms(query, synonyms))


def _or(terms: list[str]) -> str:
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)


class KbIndex:
    """One tenant's published articles in an in-memory FTS5 index; safe across threads."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self._indexed: dict[str, tuple[int, int, int]] = {}
        self._rowids: dict[str, int] = {}
        self._next_rowid = 1
        self.revision = -1
        self._db.executescript(
            """
            CREATE VIRTUAL TABLE docs USING fts5(
                title, tags, body, category_key UNINDEXED, tag_keys UNINDEXED,
                tokenize = 'porter unicode61 remove_diacritics 2'
            );
            CREATE TABLE meta (
                rowid INTEGER PRIMARY KEY, article_id TEXT UNIQUE, version INTEGER,
                title TEXT, category TEXT, category_key TEXT, tags TEXT,
                helped INTEGER, not_helped INTEGER, boost REAL
            );
            """
        )

    @classmethod
    def build(cls, library: Library, tenant: str) -> KbIndex:
        index = cls(tenant)
        index.sync(library)
        return index

    def __len__(self) -> int:
        return len(self._indexed)

    def close(self) -> None:
        self._db.close()

    def sync(self, library: Library) -> int:
        """Bring the index up to `library` (a no-op at the revision it has); articles re-indexed."""
        if library.revision == self.revision:
            return 0
        docs = published(library, self.tenant)
        changed = self.update(docs)
        self.revision = library.revision
        return changed

    def update(self, docs: Iterable[Doc]) -> int:
        """Make the index hold exactly `docs` (the published articles); articles re-indexed."""
        wanted = {d.article_id: d for d in docs}
        with self._lock, self._db:
            gone = [a for a in self._indexed if a not in wanted]
            for article_id in gone:
                self._delete(article_id)
            changed = len(gone)
            for article_id, doc in wanted.items():
                key = (doc.version, doc.helped, doc.not_helped)
                if self._indexed.get(article_id) == key:
                    continue
                self._delete(article_id)
                self._insert(doc)
                self._indexed[article_id] = key
                changed += 1
        return changed

    def _delete(self, article_id: str) -> None:
        rowid = self._rowids.pop(article_id, None)
        self._indexed.pop(article_id, None)
        if rowid is not None:
            self._db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
            self._db.execute("DELETE FROM meta WHERE rowid = ?", (rowid,))

    def _insert(self, doc: Doc) -> None:
        rowid = self._next_rowid
        self._next_rowid += 1
        self._rowids[doc.article_id] = rowid
        votes = doc.helped + doc.not_helped
        boost = 1.0 + FEEDBACK_WEIGHT * (doc.helped - doc.not_helped) / (votes + 5)
        self._db.execute(
            "INSERT INTO docs (rowid, title, tags, body, category_key, tag_keys) VALUES (?, ?, ?, ?, ?, ?)",
            (
                rowid,
                doc.title,
                " ".join(doc.tags),
                plain_text(doc.body),
                doc.category.casefold(),
                "".join(f"\x1f{t.casefold()}\x1f" for t in doc.tags),
            ),
        )
        self._db.execute(
            "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rowid,
                doc.article_id,
                doc.version,
                doc.title,
                doc.category,
                doc.category.casefold(),
                "\x1f".join(doc.tags),
                doc.helped,
                doc.not_helped,
                boost,
            ),
        )

    def _discriminating(self, terms: list[str]) -> list[str]:
        """`terms` without those in more than half the articles, unless none would be left:
        BM25 gives such a term no weight (FTS5 clamps its IDF to 1e-6), but scoring it
        costs a BM25 evaluation for nearly every article."""
        if len(terms) < 2 or len(self._indexed) < 1000:
            return terms
        half = len(self._indexed) / 2
        count = "SELECT count(*) FROM docs WHERE docs MATCH ?"
        kept = [t for t in terms if self._db.execute(count, (_or([t]),)).fetchone()[0] <= half]
        return kept or terms

    def search(
        self, query: str, *, category: str | None = None, tag: str | None = None, limit: int = 10
    ) -> list[Hit]:
        """The best `limit` published articles for the caller's words, best first; optionally
        only those of `category` and/or with `tag` (both case-insensitive).

        Two steps: the best `POOL` x `limit` (at least 50) by BM25 alone, then those re-ranked
        with the feedback factor (at most +-10 %: an article outside the pool would need a
        text score far below the pool's to be lifted into the top `limit`)."""
        terms = query_terms(query)
        if not terms or limit < 1:
            return []
        w = WEIGHTS
        inner = [
            f"SELECT rowid, bm25(docs, {w['title']}, {w['tags']}, {w['body']}, 0, 0) AS rank_",
            " FROM docs WHERE docs MATCH ?",
        ]
        args: list[object] = []
        if category:
            inner.append(" AND category_key = ?")
            args.append(category.casefold())
        if tag:
            inner.append(" AND instr(tag_keys, ?) > 0")
            args.append(f"\x1f{tag.casefold()}\x1f")
        inner.append(" ORDER BY rank_ LIMIT ?")
        args.append(max(POOL * limit, 50))
        with self._lock:
            expression = _or(self._discriminating(terms))
            pool = self._db.execute("".join(inner), [expression, *args]).fetchall()
            if not pool:
                return []
            marks = ",".join("?" * len(pool))
            meta = {
                row[0]: row[1:]
                for row in self._db.execute(
                    "SELECT rowid, article_id, version, title, category, tags, helped, not_helped, boost"
                    f" FROM meta WHERE rowid IN ({marks})",
                    [r for r, _ in pool],
                )
            }
            ranked = sorted(
                ((-rank * meta[r][7], meta[r][0], r) for r, rank in pool), key=lambda x: (-x[0], x[1])
            )
            best = ranked[:limit]
            marks = ",".join("?" * len(best))
            snippets = dict(
                self._db.execute(
                    "SELECT rowid, snippet(docs, 2, '[', ']', '…', 16) FROM docs"
                    f" WHERE docs MATCH ? AND rowid IN ({marks})",
                    [expression, *(r for _, _, r in best)],
                ).fetchall()
            )
        hits = []
        for score, _, r in best:
            article_id, version, title, category, tags, helped, not_helped, _boost = meta[r]
            split = tuple(tags.split("\x1f")) if tags else ()
            hits.append(
                Hit(
                    article_id,
                    version,
                    title,
                    category,
                    split,
                    round(score, 6),
                    snippets.get(r, ""),
                    helped,
                    not_helped,
                )
            )
        return hits
