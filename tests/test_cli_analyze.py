"""``relcrm analyze``: texts in (JSON lines, plain lines, standard input), readings out."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from relcrm.analyze import DEFAULT_ANALYZER, analyzer_named
from relcrm.analyze.evaluation import sentiment_of
from relcrm.cli import app
from relcrm.models import Emotion

runner = CliRunner()

KEYS = [
    "id",
    "label",
    "valence",
    "arousal",
    "emotions",
    "flags",
    "confidence",
    "language",
    "analyzer",
    "analyzer_version",
]
ANGRY = "Charged twice again and nobody answers. This is a disgrace."
HAPPY = "Thank you, Maria sorted it out in five minutes. Wonderful service!"


def _lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_lines_and_plain_lines_mixed_in_one_file(tmp_path: Path) -> None:
    source = tmp_path / "texts.txt"
    source.write_text(
        json.dumps({"id": "t-1", "text": ANGRY, "channel": "email"})  # other keys ignored
        + "\n\n"  # a blank line: skipped, but counted for line numbers
        + HAPPY
        + "\n"
        + json.dumps({"text": "It is fine."})  # no id: its line number
        + "\n"
        + json.dumps({"id": 42, "text": "Meh."})  # an integer id, as a string
        + "\n"
        + "{not JSON, so this whole line is the text}\n"
        + '"a JSON string is a plain text line too"\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["analyze", str(source), "--json"])
    assert result.exit_code == 0, result.output
    records = _lines(result.stdout)
    assert [r["id"] for r in records] == ["t-1", "3", "4", "42", "6", "7"]
    analyzer = analyzer_named(DEFAULT_ANALYZER)
    texts = [ANGRY, HAPPY, "It is fine.", "Meh."]
    texts += ["{not JSON, so this whole line is the text}"]
    texts += ['"a JSON string is a plain text line too"']
    for record, text in zip(records, texts, strict=True):
        expected = analyzer.analyze(text)
        assert record["valence"] == expected.valence
        assert record["label"] == sentiment_of(expected.valence)
        assert record["analyzer"] == analyzer.name
        assert record["analyzer_version"] == analyzer.version
    assert records[0]["label"] == "negative"
    assert records[1]["label"] == "positive"


def test_json_output_has_exactly_the_documented_keys(tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps({"id": "a", "text": ANGRY}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(source), "--json"])
    assert result.exit_code == 0, result.output
    (record,) = _lines(result.stdout)
    assert list(record) == KEYS
    assert record["label"] in ("negative", "neutral", "positive")
    emotions = record["emotions"]
    assert isinstance(emotions, dict)
    assert list(emotions) == [emotion.value for emotion in Emotion]
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in emotions.values())
    flags = record["flags"]
    assert isinstance(flags, dict)
    assert list(flags) == ["churn_intent", "sarcasm", "trapped"]
    assert all(isinstance(v, bool) for v in flags.values())
    assert isinstance(record["valence"], float) and -1.0 <= record["valence"] <= 1.0
    assert isinstance(record["arousal"], float) and 0.0 <= record["arousal"] <= 1.0
    assert isinstance(record["confidence"], float) and 0.0 <= record["confidence"] <= 1.0
    assert record["language"] is None or isinstance(record["language"], str)


def test_standard_input_with_a_dash() -> None:
    result = runner.invoke(app, ["analyze", "-", "--json"], input=f"{HAPPY}\n{ANGRY}\n")
    assert result.exit_code == 0, result.output
    records = _lines(result.stdout)
    assert [(r["id"], r["label"]) for r in records] == [("1", "positive"), ("2", "negative")]


def test_a_json_object_without_a_string_text_is_rejected_naming_its_line(tmp_path: Path) -> None:
    source = tmp_path / "texts.jsonl"
    lines = [
        {"id": "ok-1", "text": HAPPY},
        {"id": "no-text", "body": "Secret words that must not be echoed"},
        {"id": "number", "text": 5},
        {"id": ["a", "list"], "text": "An id that is a list"},
        {"id": "ok-2", "text": ANGRY},
    ]
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(source), "--json"])
    assert result.exit_code == 1
    assert [r["id"] for r in _lines(result.stdout)] == ["ok-1", "ok-2"]
    assert "line 2: text: missing" in result.stderr
    assert "line 3: text: must be a string, not a number" in result.stderr
    assert "line 4: id: must be a string or an integer, not an array" in result.stderr
    assert "Secret words" not in result.stderr  # texts are never echoed in errors


def test_table_output(tmp_path: Path) -> None:
    long_text = "The invoice was wrong. " * 40 + "THE-END-OF-A-LONG-TEXT"
    source = tmp_path / "texts.jsonl"
    source.write_text(
        json.dumps({"id": "long", "text": long_text})
        + "\n"
        + json.dumps({"id": "[bold]markup[/bold]", "text": "I am [red]not markup[/red]"})
        + "\n"
        + "{broken\n"
        + json.dumps({"id": "bad"})
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["analyze", str(source)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "long" in result.stdout
    assert "THE-END-OF-A-LONG-TEXT" not in result.stdout  # a preview, cut short
    assert "[bold]markup[/bold]" in result.stdout  # shown as written, not as markup
    assert "[red]not markup[/red]" in result.stdout
    assert "negative" in result.stdout
    assert "3 texts read by" in result.stderr
    assert "1 line rejected" in result.stderr
    assert "line 4: text: missing" in result.stderr


def test_unknown_analyzer_and_missing_file_are_configuration_errors(tmp_path: Path) -> None:
    source = tmp_path / "texts.txt"
    source.write_text("Hello\n", encoding="utf-8")
    unknown = runner.invoke(app, ["analyze", str(source), "--analyzer", "no-such-analyzer"])
    assert unknown.exit_code == 2
    assert "no-such-analyzer" in unknown.stderr
    assert unknown.stdout == ""
    missing = runner.invoke(app, ["analyze", str(tmp_path / "absent.txt")])
    assert missing.exit_code == 2
    assert "no such file" in missing.stderr


def test_another_installed_analyzer() -> None:
    result = runner.invoke(app, ["analyze", "-", "--json", "--analyzer", "vader"], input=ANGRY)
    assert result.exit_code == 0, result.output
    (record,) = _lines(result.stdout)
    assert record["analyzer"] == analyzer_named("vader").name


def test_it_answers_each_line_as_it_comes_in_a_pipe() -> None:
    """A line is answered before the input ends: the command streams and flushes."""
    command = [sys.executable, "-c", "from relcrm.cli import main; main()", "analyze", "-"]
    with subprocess.Popen(
        [*command, "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            answers = []
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                for number, text in enumerate((ANGRY, HAPPY), start=1):
                    process.stdin.write(json.dumps({"id": f"t{number}", "text": text}) + "\n")
                    process.stdin.flush()
                    assert selector.select(timeout=60), "no answer while the input is open"
                    answers.append(json.loads(process.stdout.readline()))
            process.stdin.close()
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert [(a["id"], a["label"]) for a in answers] == [("t1", "negative"), ("t2", "positive")]
