"""The prompt blocklist: folding, categories, combinations, and the operator's additions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinema.config import Settings
from kinema.safety.normalise import fold, readings, tokens
from kinema.safety.policy import Blocklist, PromptPolicy

SHIPPED = Blocklist.load()


@pytest.mark.parametrize(
    ("prompt", "category"),
    [
        ("a nude woman on a beach", "sexual"),
        ("A NUDE woman", "sexual"),
        ("a n u d e woman", "sexual"),
        ("a n.u.d.e woman", "sexual"),
        ("a nud3 woman", "sexual"),
        ("a p0rn0 video", "sexual"),
        ("a nuuuude woman", "sexual"),
        ("a nu\u200bde woman", "sexual"),  # zero-width space
        ("a nud\u0435 woman", "sexual"),  # Cyrillic e
        ("a \uff4e\uff55\uff44\uff45 woman", "sexual"),  # fullwidth
        ("a n\u00fcde woman", "sexual"),  # accent
        ("a sex-scene", "sexual"),
        ("a sexscene", "sexual"),
        ("a man being decapitated", "violence-gore"),
        ("DISMEMBERMENT in a cellar", "violence-gore"),
        ("a crowd shouting sieg heil", "hate"),
        ("I want to k1ll myself", "self-harm"),
        ("i k i l l myself", "self-harm"),
        ("a nude child", "sexual-minors"),
        ("two teenagers having sex", "sexual-minors"),
        ("lolicon art", "sexual-minors"),
    ],
)
def test_shipped_list_catches_evasions(prompt: str, category: str | None) -> None:
    violation = SHIPPED.check(prompt)
    assert (violation.category if violation else None) == category
    if violation:
        assert violation.source == "blocklist"


@pytest.mark.parametrize(
    "prompt",
    [
        "a red kite over the sea at sunset",
        "children playing football in a schoolyard",
        "a knight fighting a dragon, swords clashing",
        "an Essex village in the rain",
        "a prelude played on a grand piano",
        "a doctor performing surgery",
        "Al Gore giving a speech",
        "a 1080p timelapse of a city --rs 720p --dur 5",
        "a skillful juggler",
        "",
    ],
)
def test_benign_prompts_pass(prompt: str) -> None:
    assert SHIPPED.check(prompt) is None


def test_operator_adds_and_removes_terms(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text('[brand]\nterms = ["acme corp", "rival*"]\n[hate]\nterms = ["bigotword"]\n')
    blocklist = Blocklist.load(extra, add=["weapons:flamethrower", "bazooka"], remove=["Nude"])
    assert blocklist.check("an ACME  corp logo").category == "brand"  # type: ignore[union-attr]
    assert blocklist.check("rivalry ads").category == "brand"  # type: ignore[union-attr]
    assert blocklist.check("a bigotword").category == "hate"  # type: ignore[union-attr]
    assert blocklist.check("a flamethrower").category == "weapons"  # type: ignore[union-attr]
    assert blocklist.check("a bazooka").category == "custom"  # type: ignore[union-attr]
    assert blocklist.check("a nude statue") is None
    # Shipped terms not removed still apply.
    assert blocklist.check("topless") is not None


def test_a_term_that_folds_to_one_letter_is_refused() -> None:
    with pytest.raises(ValueError, match="'xxx' folds to 'x'"):
        Blocklist.load(add=["xxx"])
    assert SHIPPED.check("x marks the spot") is None


def test_a_broken_blocklist_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[x]\nterms = 'not a list'\n")
    with pytest.raises(ValueError, match=r"x\.terms must be a list of strings"):
        Blocklist.load(bad)
    bad.write_text("terms = [")
    with pytest.raises(ValueError, match=r"bad\.toml"):
        Blocklist.load(bad)


def test_settings_switch_the_blocklist_off() -> None:
    from kinema.api.app import prompt_policy

    on = prompt_policy(Settings(blocklist_add=["zebra"]))
    off = prompt_policy(Settings(prompt_blocklist=False))
    assert on.check("a zebra") is not None and on.classifier is None
    assert off.check("a nude zebra") is None


def test_the_minilm_setting_refuses_to_start_without_its_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kinema.api import app
    from kinema.safety import classifier

    monkeypatch.setattr(classifier, "classifier_installed", lambda: False)
    with pytest.raises(RuntimeError, match=r"kinema\[classifier\]"):
        app.prompt_policy(Settings(prompt_classifier="minilm"))


def test_policy_ignores_blank_text() -> None:
    assert PromptPolicy(SHIPPED, None).check("   ") is None


@given(st.text())
def test_folding_gives_only_plain_letters(text: str) -> None:
    for reading in readings(text):
        assert all(word.isascii() and word.isalpha() and word.islower() for word in reading)
    assert readings(text)[0] == tokens(text)
    assert fold(text.upper()) == fold(text.lower()) or not text.isascii()


@given(st.text(max_size=300))
def test_check_never_raises(text: str) -> None:
    SHIPPED.check(text)


@given(st.sampled_from(["nude", "porn", "decapitated", "sieg heil", "self harm"]),
       st.sampled_from([str.upper, str.title, lambda s: " ".join(s), lambda s: ".".join(s)]),
       st.sampled_from(["", "a photo of", "slowly, in the park", "Cinematic."]))  # fmt: skip
def test_any_spelling_of_a_term_is_caught(term: str, spell: object, around: str) -> None:
    assert callable(spell)
    prompt = f"{around} {spell(term)} {around}"
    assert SHIPPED.check(prompt) is not None, prompt
