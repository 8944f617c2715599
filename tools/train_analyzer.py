"""Train relcrm's linear analyzer from data in the repository, and write the shipped model.

Usage::

    pip install -e '.[train]'
    python tools/train_analyzer.py            # writes src/relcrm/analyze/model/relcrm-linear.npz
    python tools/train_analyzer.py --sample-every 20 --out /tmp/quick.npz   # a quick run

Data (all in the repository; ``data/analyzer/README.md`` and ``data/goemotions/README.md``
say who wrote what and under which licence):

- ``data/analyzer/corpus/*.jsonl``: relcrm's in-domain feedback corpus; the writers listed
  under ``train`` in ``data/analyzer/splits.toml`` train, those under ``dev`` choose the
  regularisation and the flag thresholds, those under ``test`` are never read here;
- ``tests/data/analyzer/{tune,eval}.jsonl``: the 279 sentences relcrm-cx was built with
  (sentiment and emotions only);
- ``data/goemotions/train.tsv``: 43,410 Reddit comments, emotions mapped to Plutchik's
  eight and to three sentiment classes, weighted down against in-domain text.

Deterministic: the same data and versions of numpy and scikit-learn give the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from relcrm.analyze.features import FEATURE_VERSION, extract
from relcrm.analyze.goemotions import read as read_goemotions
from relcrm.analyze.lexicon_features import DENSE_NAMES, lexicon_scores
from relcrm.analyze.linear_model import (
    FLAGS,
    LANGUAGES,
    MODEL_FILE,
    SENTIMENTS,
    HeadLayout,
    LinearModel,
    save,
)
from relcrm.models import WHEEL

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "analyzer" / "corpus"
SPLITS = ROOT / "data" / "analyzer" / "splits.toml"
GOEMOTIONS = ROOT / "data" / "goemotions"
LEGACY = ROOT / "tests" / "data" / "analyzer"
OUT = ROOT / "src" / "relcrm" / "analyze" / "model" / MODEL_FILE

MODEL_VERSION = "1.0.0"


@dataclass
class Example:
    """One labelled text; ``None`` where the source does not label that head."""

    text: str
    source: str
    weight: float
    language: str | None = None
    sentiment: str | None = None
    emotions: tuple[str, ...] | None = None
    flags: dict[str, bool] | None = None
    meta: dict[str, str] = field(default_factory=dict)


def load_splits() -> dict[str, list[str]]:
    with SPLITS.open("rb") as handle:
        raw = tomllib.load(handle)
    return {name: list(raw[name]["writers"]) for name in ("train", "dev", "test")}


def corpus(writers: list[str], weight: float) -> list[Example]:
    examples: list[Example] = []
    for writer in writers:
        for line in (CORPUS / f"{writer}.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            examples.append(
                Example(
                    text=raw["text"],
                    source=writer,
                    weight=weight,
                    language=raw["language"],
                    sentiment=raw["sentiment"],
                    emotions=tuple(raw["emotions"]),
                    flags={flag: bool(raw[flag]) for flag in FLAGS},
                    meta={"failure_class": raw["failure_class"], "id": raw["id"]},
                )
            )
    return examples


def legacy(weight: float) -> list[Example]:
    examples: list[Example] = []
    for name in ("tune", "eval"):
        for line in (LEGACY / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            foreign = raw["category"] == "other_language"
            examples.append(
                Example(
                    text=raw["text"],
                    source=f"legacy-{name}",
                    weight=weight,
                    language=None if foreign else "en",
                    sentiment=raw["sentiment"],
                    emotions=tuple(raw["emotions"]),
                )
            )
    return examples


def goemotions(split: str, weight: float) -> list[Example]:
    return [
        Example(
            text=item.text,
            source=f"goemotions-{split}",
            weight=weight,
            language="en",
            sentiment=item.sentiment,
            emotions=tuple(e.value for e in item.emotions),
        )
        for item in read_goemotions(GOEMOTIONS, split)
    ]


@dataclass
class Matrix:
    """Sparse features of a set of examples, with the dense columns appended later."""

    examples: list[Example]
    sparse_rows: list[list[str]]
    cue_dense: list[dict[str, float]]
    words: list[list[str]]
    negations: list[list[bool]]


def featurise(examples: list[Example]) -> Matrix:
    rows: list[list[str]] = []
    dense: list[dict[str, float]] = []
    words: list[list[str]] = []
    negations: list[list[bool]] = []
    for example in examples:
        found = extract(example.text)
        rows.append(sorted(found.sparse))
        dense.append(found.dense)
        words.append(found.words)
        negations.append(found.negations)
    return Matrix(examples, rows, dense, words, negations)


def vocabulary(matrix: Matrix, min_count: int, max_size: int) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in matrix.sparse_rows:
        counts.update(row)
    kept = [name for name, count in counts.items() if count >= min_count]
    kept.sort(key=lambda name: (-counts[name], name))
    kept = sorted(kept[:max_size])
    return {name: index for index, name in enumerate(kept)}


def sparse_matrix(matrix: Matrix, vocab: dict[str, int]) -> sparse.csr_matrix:
    indptr = [0]
    indices: list[int] = []
    for row in matrix.sparse_rows:
        indices.extend(vocab[name] for name in row if name in vocab)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(matrix.sparse_rows), len(vocab)))


def dense_matrix(matrix: Matrix, languages: np.ndarray) -> np.ndarray:
    out = np.zeros((len(matrix.examples), len(DENSE_NAMES)), dtype=np.float32)
    column = {name: i for i, name in enumerate(DENSE_NAMES)}
    for i, example in enumerate(matrix.examples):
        shares = dict(zip(LANGUAGES, languages[i].tolist(), strict=True))
        values = {
            **lexicon_scores(example.text, shares, matrix.words[i], matrix.negations[i]),
            **matrix.cue_dense[i],
        }
        for name, value in values.items():
            out[i, column[name]] = value
    return out


def fit(
    x: sparse.csr_matrix, y: np.ndarray, weights: np.ndarray, c: float, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression (multinomial when ``classes`` > 2); weights as (features, outputs)."""
    model = LogisticRegression(C=c, max_iter=3000, tol=1e-5, solver="lbfgs")
    model.fit(x, y, sample_weight=weights)
    coef = model.coef_.T.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if classes > 2 and coef.shape[1] != classes:
        raise SystemExit(f"expected {classes} classes, the data had {coef.shape[1]}")
    return coef, intercept


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    result: np.ndarray = shifted / shifted.sum(axis=1, keepdims=True)
    return result


def data_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Settings:
    goemotions_weight: float = 0.1
    legacy_weight: float = 1.0
    min_count: int = 2
    max_features: int = 250_000
    c_language: float = 1.0
    c_sentiment: float = 0.05
    c_emotion: float = 0.05
    c_flag: float = 0.05
    sample_every: int = 1
    """Keep every n-th training text: 1 for the shipped model, more for a quick smoke run."""
    dense_scale: float = 3.0
    """Dense (lexicon) columns are multiplied by this while training, so the L2 penalty
    shrinks their few, strong weights less than the many sparse ones; the stored weights
    are multiplied back, so the runtime reads unscaled values."""


def train(settings: Settings) -> LinearModel:
    started = time.perf_counter()
    splits = load_splits()
    in_domain = corpus(splits["train"], 1.0)
    dev = corpus(splits["dev"], 1.0)
    step = settings.sample_every
    in_domain = in_domain[::step]
    examples = [
        *in_domain,
        *legacy(settings.legacy_weight)[::step],
        *goemotions("train", settings.goemotions_weight)[::step],
    ]
    print(f"training on {len(examples):,} texts ({len(in_domain):,} in-domain); dev {len(dev)}")
    matrix = featurise(examples)
    vocab = vocabulary(matrix, settings.min_count, settings.max_features)
    x_sparse = sparse_matrix(matrix, vocab)
    print(f"features: {len(vocab):,} sparse, {len(DENSE_NAMES)} dense")
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    layout = HeadLayout.standard()
    sparse_w = np.zeros((len(vocab), layout.width), dtype=np.float32)
    dense_w = np.zeros((len(DENSE_NAMES), layout.width), dtype=np.float32)
    bias = np.zeros(layout.width, dtype=np.float32)

    # 1. Language, from the sparse features only (the dense ones depend on it).
    known = [i for i, e in enumerate(examples) if e.language is not None]
    y_lang = np.array([LANGUAGES.index(examples[i].language or "en") for i in known])
    # Language is balanced by example, not by source weight: every language counts.
    coef, intercept = fit(
        x_sparse[known], y_lang, np.ones(len(known)), settings.c_language, len(LANGUAGES)
    )
    sparse_w[:, layout.languages] = coef
    bias[layout.languages] = intercept
    languages = softmax_rows(np.asarray(x_sparse @ coef) + intercept)
    x_dense = dense_matrix(matrix, languages)
    scale = settings.dense_scale
    x_all = sparse.hstack([x_sparse, sparse.csr_matrix(x_dense * scale)]).tocsr()

    def store(head: slice, columns: np.ndarray, offsets: np.ndarray) -> None:
        sparse_w[:, head] = columns[: len(vocab)]
        dense_w[:, head] = columns[len(vocab) :] * scale
        bias[head] = offsets

    # 2. Sentiment (three classes, multinomial).
    rows = [i for i, e in enumerate(examples) if e.sentiment is not None]
    y = np.array([SENTIMENTS.index(examples[i].sentiment or "") for i in rows])
    coef, intercept = fit(x_all[rows], y, weights[rows], settings.c_sentiment, 3)
    store(layout.sentiment, coef, intercept)

    # 3. Emotions: one binary head each (a text may carry two).
    rows = [i for i, e in enumerate(examples) if e.emotions is not None]
    for k, emotion in enumerate(WHEEL):
        y = np.array([emotion.value in (examples[i].emotions or ()) for i in rows], dtype=int)
        coef, intercept = fit(x_all[rows], y, weights[rows], settings.c_emotion, 2)
        column = layout.emotions.start + k
        store(slice(column, column + 1), coef, intercept)

    # 4. Flags, from the in-domain corpus only (nothing else labels them).
    rows = [i for i, e in enumerate(examples) if e.flags is not None]
    for k, flag in enumerate(FLAGS):
        y = np.array([bool((examples[i].flags or {})[flag]) for i in rows], dtype=int)
        coef, intercept = fit(x_all[rows], y, weights[rows], settings.c_flag, 2)
        column = layout.flags.start + k
        store(slice(column, column + 1), coef, intercept)

    paths = [*sorted(CORPUS.glob("*.jsonl")), GOEMOTIONS / "train.tsv", SPLITS]
    card = {
        "model_version": MODEL_VERSION,
        "feature_version": FEATURE_VERSION,
        "trained_on": {
            "corpus_writers": splits["train"],
            "corpus_texts": len(in_domain),
            "legacy_texts": sum(1 for e in examples if e.source.startswith("legacy")),
            "goemotions_texts": sum(1 for e in examples if e.source.startswith("goemotions")),
            "data_sha256_16": data_digest(paths),
        },
        "settings": settings.__dict__,
        "features": len(vocab),
    }
    model = LinearModel(
        vocabulary=vocab,
        sparse_weights=sparse_w,
        dense_names=DENSE_NAMES,
        dense_weights=dense_w,
        bias=bias,
        thresholds={flag: 0.5 for flag in FLAGS},
        card=card,
    )
    model = with_thresholds(model, dev)
    print(f"trained in {time.perf_counter() - started:.0f} s")
    return model


PRECISION_FLOOR = 0.75
"""A flag moves a profile's segment and can ask for a phone call, so a false flag costs
more than a missed one: thresholds keep dev precision at least this high."""


def with_thresholds(model: LinearModel, dev: list[Example]) -> LinearModel:
    """Each flag's threshold: the best F1 on the dev writers among thresholds whose
    precision reaches PRECISION_FLOOR (the best F1 overall if none does)."""
    from relcrm.analyze.linear import CUE_FLAGS, LinearAnalyzer  # the runtime, as shipped

    analyzer = LinearAnalyzer(model)
    scored = [analyzer.scores(e.text) for e in dev]
    probabilities = np.array([score.flags for score in scored])
    thresholds: dict[str, float] = {}
    for k, flag in enumerate(FLAGS):
        gold = np.array([(e.flags or {})[flag] for e in dev])
        cue = CUE_FLAGS.get(flag)
        by_cue = np.array([bool(cue and getattr(score.cues, cue)) for score in scored])
        candidates: list[tuple[bool, float, float, float, float]] = []
        for threshold in np.arange(0.1, 0.9, 0.025):
            predicted = (probabilities[:, k] >= threshold) | by_cue
            tp = int((predicted & gold).sum())
            fp = int((predicted & ~gold).sum())
            fn = int((~predicted & gold).sum())
            f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            candidates.append((precision >= PRECISION_FLOOR, f1, -threshold, precision, recall))
        floor_met, f1, negative, precision, recall = max(candidates)
        thresholds[flag] = round(-negative, 3)
        missed = "" if floor_met else ", floor missed"
        print(
            f"  {flag:<13} threshold {-negative:.3f}  dev F1 {f1:.3f} "
            f"(precision {precision:.3f}, recall {recall:.3f}{missed})"
        )
    return LinearModel(
        vocabulary=model.vocabulary,
        sparse_weights=model.sparse_weights,
        dense_names=model.dense_names,
        dense_weights=model.dense_weights,
        bias=model.bias,
        thresholds=thresholds,
        card={
            **model.card,
            "thresholds_from": f"dev writers: best F1 with precision >= {PRECISION_FLOOR}",
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=OUT)
    for name, value in Settings().__dict__.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    args = parser.parse_args()
    settings = Settings(**{name: getattr(args, name) for name in Settings().__dict__})
    model = train(settings)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save(args.out, model)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    sys.exit(main())
