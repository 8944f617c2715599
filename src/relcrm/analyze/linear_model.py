"""The trained weights of relcrm's linear analyzer, and how they are stored and loaded.

One file, ``analyze/model/relcrm-linear.npz``, written by ``tools/train_analyzer.py``: a
vocabulary of sparse features, their weights for every head (language, sentiment,
emotions, flags) stored as 8-bit integers with one scale per head column, the dense
features' weights, the biases, the flag thresholds, and a JSON card saying what it was
trained on. numpy reads it with ``allow_pickle=False``: no code is ever loaded from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from relcrm.analyze.features import FEATURE_VERSION
from relcrm.errors import ConfigurationError

LANGUAGES: tuple[str, ...] = ("en", "fr", "de", "es", "pt", "nl")
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
FLAGS: tuple[str, ...] = ("churn_intent", "trapped", "sarcasm")

MODEL_FILE = "relcrm-linear.npz"

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class HeadLayout:
    """Where each head's outputs sit in the weight matrices' columns."""

    languages: slice
    sentiment: slice
    emotions: slice
    flags: slice
    width: int

    @classmethod
    def standard(cls) -> HeadLayout:
        a = len(LANGUAGES)
        b = a + len(SENTIMENTS)
        c = b + 8
        d = c + len(FLAGS)
        return cls(slice(0, a), slice(a, b), slice(b, c), slice(c, d), d)


@dataclass(frozen=True)
class LinearModel:
    """Weights ready to use: float32 matrices and a feature -> row dictionary."""

    vocabulary: dict[str, int]
    sparse_weights: FloatArray  # rows: vocabulary, columns: HeadLayout
    dense_names: tuple[str, ...]
    dense_weights: FloatArray  # rows: dense_names, columns: HeadLayout
    bias: FloatArray
    thresholds: dict[str, float]
    card: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.card["model_version"])


def quantize(weights: FloatArray) -> tuple[npt.NDArray[np.int8], FloatArray]:
    """8-bit weights and one scale per column: a quarter of the size, < 1 % error."""
    scale = np.abs(weights).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    return np.round(weights / scale).astype(np.int8), scale.astype(np.float32)


def save(path: Path, model: LinearModel) -> None:
    """Write ``model`` to ``path`` (an .npz file)."""
    quantized, scale = quantize(model.sparse_weights)
    ordered = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    with path.open("wb") as handle:
        np.savez_compressed(
            handle,
            vocabulary=np.frombuffer("\n".join(ordered).encode("utf-8"), dtype=np.uint8),
            sparse_weights=quantized,
            sparse_scale=scale,
            dense_names=np.frombuffer("\n".join(model.dense_names).encode(), dtype=np.uint8),
            dense_weights=model.dense_weights.astype(np.float32),
            bias=model.bias.astype(np.float32),
            thresholds=np.frombuffer(json.dumps(model.thresholds).encode(), dtype=np.uint8),
            card=np.frombuffer(json.dumps(model.card, sort_keys=True).encode(), dtype=np.uint8),
        )


def _text(array: npt.NDArray[Any]) -> str:
    return bytes(array.astype(np.uint8)).decode("utf-8")


def load(path: Path) -> LinearModel:
    """Read a model written by :func:`save`, refusing one trained on other features."""
    with np.load(path, allow_pickle=False) as stored:
        card = json.loads(_text(stored["card"]))
        if card.get("feature_version") != FEATURE_VERSION:
            raise ConfigurationError(
                f"the analyzer model {path.name} was trained on features version "
                f"{card.get('feature_version')!r}, this relcrm extracts version "
                f"{FEATURE_VERSION!r}",
                code="config.analyzer_model_mismatch",
                hint="retrain it with tools/train_analyzer.py, or reinstall relcrm",
            )
        words = _text(stored["vocabulary"]).split("\n")
        weights = stored["sparse_weights"].astype(np.float32) * stored["sparse_scale"]
        return LinearModel(
            vocabulary={word: row for row, word in enumerate(words)},
            sparse_weights=np.ascontiguousarray(weights, dtype=np.float32),
            dense_names=tuple(_text(stored["dense_names"]).split("\n")),
            dense_weights=stored["dense_weights"].astype(np.float32),
            bias=stored["bias"].astype(np.float32),
            thresholds=json.loads(_text(stored["thresholds"])),
            card=card,
        )


@cache
def shipped_model() -> LinearModel:
    """The model inside the installed package, loaded once per process."""
    resource = files("relcrm.analyze").joinpath("model", MODEL_FILE)
    with as_file(resource) as path:
        if not path.exists():
            raise ConfigurationError(
                f"the analyzer model {MODEL_FILE} is missing from the relcrm package",
                code="config.analyzer_model_missing",
                hint="reinstall relcrm, or train it with tools/train_analyzer.py",
            )
        return load(path)
