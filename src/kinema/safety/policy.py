"""The prompt policy: a normalised blocklist with categories, and an optional semantic classifier.

A prompt is screened before its task is accepted (``kinema.api.admission``). The blocklist is
the shipped ``blocklist.toml``, plus the operator's ``blocklist_file`` and ``blocklist_add``,
less ``blocklist_remove``; matching is on whole canonical words (``kinema.safety.normalise``),
so ``Nude``, ``n u d e``, ``nud3`` and ``nude`` with Cyrillic look-alike letters all meet the term
``nude``, while ``prelude`` does not. The classifier (``prompt_classifier = "minilm"``) catches
what no list spells out.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from kinema.safety.normalise import readings, tokens

log = logging.getLogger(__name__)

CUSTOM_CATEGORY = "custom"
"""The category of a term added as a bare word in ``blocklist_add``."""


@dataclass(frozen=True)
class Violation:
    """Why a text was refused: for the operator's log, never for the client."""

    category: str
    source: str
    """``blocklist`` or ``classifier``."""
    detail: str
    """The term as written in the list, or the classifier's score."""


@dataclass(frozen=True)
class Term:
    """One blocklist entry in canonical words; ``prefix``: the last word matches any ending."""

    written: str
    words: tuple[str, ...]
    prefix: bool

    @classmethod
    def parse(cls, written: str) -> Term | None:
        """The term, or None for a blank one; ValueError when folding leaves one letter (a term
        like ``xxx`` folds to ``x`` and would refuse every prompt with an ``x`` in it)."""
        text = written.strip()
        prefix = text.endswith("*")
        words = tuple(tokens(text.rstrip("*")))
        if not words:
            return None
        if len("".join(words)) < 2:
            raise ValueError(f"blocklist term {text!r} folds to {''.join(words)!r}: too short")
        return cls(text, words, prefix)

    def matches_at(self, words: list[str], start: int) -> bool:
        end = start + len(self.words)
        if end > len(words):
            return False
        if self.prefix:
            *whole, last = self.words
            return words[start : end - 1] == whole and words[end - 1].startswith(last)
        return tuple(words[start:end]) == self.words

    @property
    def squashed(self) -> Term | None:
        """A phrase written as one word (``childporn``, ``sexscene``) is the same phrase."""
        if len(self.words) < 2:
            return None
        return Term(self.written, ("".join(self.words),), self.prefix)


@dataclass
class Category:
    """Terms refused on their own, terms refused with another category, classifier examples."""

    name: str
    terms: list[Term] = field(default_factory=list)
    combine_with: str | None = None
    combine_terms: list[Term] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


class _Matcher:
    """Terms indexed by their first word, so a long prompt costs one dictionary look-up a word
    (plus a prefix test per one-word ``*`` term)."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.by_first: dict[str, list[Term]] = {}
        self.stems: list[Term] = []
        for term in terms:
            for candidate in (term, term.squashed):
                if candidate is None:
                    continue
                if candidate.prefix and len(candidate.words) == 1:
                    self.stems.append(candidate)
                else:
                    self.by_first.setdefault(candidate.words[0], []).append(candidate)

    def find(self, words: list[str]) -> Term | None:
        for i, word in enumerate(words):
            for term in self.by_first.get(word, ()):
                if term.matches_at(words, i):
                    return term
            for term in self.stems:
                if word.startswith(term.words[0]):
                    return term
        return None


class Blocklist:
    """Categories of terms; :meth:`check` names the first category a text falls in."""

    def __init__(self, categories: Mapping[str, Category]) -> None:
        self.categories = dict(categories)
        self._terms = {name: _Matcher(c.terms) for name, c in self.categories.items()}
        self._combined = {name: _Matcher(c.combine_terms) for name, c in self.categories.items()}

    @classmethod
    def load(
        cls,
        extra_file: Path | None = None,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
    ) -> Blocklist:
        """The shipped list, merged with ``extra_file``, plus ``add``, less ``remove``."""
        shipped = resources.files("kinema.safety").joinpath("blocklist.toml").read_text("utf-8")
        categories: dict[str, Category] = {}
        _merge(categories, tomllib.loads(shipped), "the shipped blocklist")
        if extra_file is not None:
            try:
                data = tomllib.loads(extra_file.read_text("utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ValueError(f"blocklist file {extra_file}: {exc}") from None
            _merge(categories, data, str(extra_file))
        for entry in add:
            name, sep, written = entry.partition(":")
            if not sep:
                name, written = CUSTOM_CATEGORY, entry
            term = Term.parse(written)
            if term is not None:
                categories.setdefault(name.strip(), Category(name.strip())).terms.append(term)
        dropped = {term.words + (("*",) if term.prefix else ()) for term in _parse_all(remove)}
        for category in categories.values():
            category.terms = [t for t in category.terms if _key(t) not in dropped]
            category.combine_terms = [t for t in category.combine_terms if _key(t) not in dropped]
        return cls(categories)

    def check(self, text: str) -> Violation | None:
        for words in readings(text):
            violation = self._check_words(words)
            if violation is not None:
                return violation
        return None

    def _check_words(self, words: list[str]) -> Violation | None:
        hits: dict[str, Term] = {}
        for name, matcher in self._terms.items():
            found = matcher.find(words)
            if found is not None:
                hits[name] = found
        # A combined category outranks the one it combines with (sexual-minors over sexual).
        for category in self.categories.values():
            if category.combine_with in hits:
                found = self._combined[category.name].find(words)
                if found is not None:
                    return Violation(category.name, "blocklist", found.written)
        for name, term in hits.items():
            return Violation(name, "blocklist", term.written)
        return None

    def examples(self) -> dict[str, list[str]]:
        """Each category's example sentences (the classifier's reference points)."""
        return {c.name: list(c.examples) for c in self.categories.values() if c.examples}


def _key(term: Term) -> tuple[str, ...]:
    return term.words + (("*",) if term.prefix else ())


def _parse_all(written: Iterable[str]) -> list[Term]:
    return [term for text in written if (term := Term.parse(text)) is not None]


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return list(value)


def _merge(categories: dict[str, Category], data: dict[str, Any], source: str) -> None:
    for name, body in data.items():
        if not isinstance(body, dict):
            raise ValueError(f"{source}: [{name}] must be a table with terms = [...]")
        category = categories.setdefault(name, Category(name))
        category.terms += _parse_all(_strings(body.get("terms", []), f"{source}: {name}.terms"))
        category.examples += _strings(body.get("examples", []), f"{source}: {name}.examples")
        combine = body.get("combine")
        if combine is not None:
            if not isinstance(combine, dict) or not isinstance(combine.get("with"), str):
                raise ValueError(f'{source}: {name}.combine needs with = "<category>"')
            category.combine_with = combine["with"]
            where = f"{source}: {name}.combine.terms"
            category.combine_terms += _parse_all(_strings(combine.get("terms", []), where))


class TextClassifier(Protocol):
    """A semantic screen: the category a text most resembles, if it passes the threshold."""

    def classify(self, text: str) -> Violation | None: ...

    def warm(self) -> None:
        """Load the model now rather than on the first request."""
        ...


class PromptPolicy:
    """What the API asks before accepting a prompt: the blocklist, then the classifier."""

    def __init__(self, blocklist: Blocklist | None, classifier: TextClassifier | None) -> None:
        self.blocklist = blocklist
        self.classifier = classifier

    def check(self, text: str) -> Violation | None:
        """The first reason to refuse ``text``, or None. May be slow with a classifier: call it
        from a worker thread."""
        if not text.strip():
            return None
        if self.blocklist is not None:
            violation = self.blocklist.check(text)
            if violation is not None:
                return violation
        if self.classifier is not None:
            return self.classifier.classify(text)
        return None
