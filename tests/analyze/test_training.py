"""The shipped model is trained by tools/train_analyzer.py from data in the repository:
the script runs (on a sample, to keep the test quick), and the model in the package was
trained on exactly the corpus, splits and GoEmotions files that are in the repository."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from relcrm.analyze.linear import LinearAnalyzer
from relcrm.analyze.linear_model import load, shipped_model

ROOT = Path(__file__).resolve().parents[2]


def _train_module() -> ModuleType:
    path = ROOT / "tools" / "train_analyzer.py"
    spec = importlib.util.spec_from_file_location("train_analyzer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_analyzer"] = module
    spec.loader.exec_module(module)
    return module


def test_the_shipped_model_was_trained_on_the_data_in_the_repository() -> None:
    train = _train_module()
    paths = [*sorted(train.CORPUS.glob("*.jsonl")), train.GOEMOTIONS / "train.tsv", train.SPLITS]
    assert shipped_model().card["trained_on"]["data_sha256_16"] == train.data_digest(paths), (
        "the corpus, the splits or GoEmotions changed since the model was trained: "
        "run python tools/train_analyzer.py"
    )
    splits = train.load_splits()
    assert shipped_model().card["trained_on"]["corpus_writers"] == splits["train"]
    assert not set(splits["test"]) & set(splits["train"] + splits["dev"])


@pytest.mark.slow
def test_the_training_script_makes_a_model_the_analyzer_loads(tmp_path: Path) -> None:
    train = _train_module()
    model = train.train(train.Settings(sample_every=25))
    out = tmp_path / "quick.npz"
    train.save(out, model)
    analyzer = LinearAnalyzer(load(out))
    assert analyzer.analyze("Absolutely brilliant service, thank you!").valence > 0
    assert analyzer.analyze("Terrible. Nobody ever answers the phone.").valence < 0
