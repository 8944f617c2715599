"""The default analyzer (VADER + relcrm's CX layer) on hard cases from the tune set."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relcrm.analyze import Cue, CxAnalyzer, VaderAnalyzer, analyzer_named, available_analyzers
from relcrm.analyze.evaluation import evaluate, load_labelled, sentiment_of, top_emotions
from relcrm.analyze.language import guess_language
from relcrm.analyze.text import words
from relcrm.models import Emotion, TextAnalysis

TUNE = Path(__file__).resolve().parent.parent / "data" / "analyzer" / "tune.jsonl"
CX = CxAnalyzer()


def analyze(text: str) -> TextAnalysis:
    return CX.analyze(text)


def top(analysis: TextAnalysis) -> Emotion:
    return top_emotions(analysis, 1)[0]


def test_negated_criticism_is_praise() -> None:
    result = analyze("Not bad at all, the onboarding was smoother than expected.")
    assert result.valence >= 0.4
    assert Cue.PRAISE_IDIOM in result.cues
    assert top(result) is Emotion.JOY


def test_never_had_a_problem_is_praise_not_complaint() -> None:
    result = analyze("I never had a single problem with your product.")
    assert result.valence > 0.3
    assert {Emotion.TRUST, Emotion.JOY} & set(top_emotions(result, 2))


def test_negated_praise_is_anger() -> None:
    result = analyze("I am not happy with the support, the agent was rude.")
    assert result.valence < -0.3
    assert Cue.NEGATED_PRAISE in result.cues
    assert top(result) is Emotion.ANGER
    assert result.emotions.joy < 0.2


def test_sarcasm_around_an_outage() -> None:
    result = analyze("Great, another outage. Just what I needed on a Monday.")
    assert result.flags.sarcasm is True
    assert result.valence <= -0.5
    assert result.emotions.joy == 0.0
    assert top(result) is Emotion.ANGER
    assert Cue.SARCASM in result.cues


@pytest.mark.parametrize(
    "text",
    [
        "Love how you charge me twice for the same month.",
        "Thanks for nothing.",
        "Brilliant, I got charged after I cancelled.",
        "Oh perfect, the invoice is wrong again.",
    ],
)
def test_sarcastic_phrasings(text: str) -> None:
    result = analyze(text)
    assert result.flags.sarcasm is True
    assert result.valence <= -0.5


def test_praise_with_a_fixed_problem_is_not_sarcasm() -> None:
    result = analyze("Great, the outage was fixed within minutes.")
    assert result.flags.sarcasm is False


@pytest.mark.parametrize(
    "text",
    [
        "Could you please fix the login page? It rejects my password.",
        "Please reset my password.",
        "Would you mind sending the receipt to my work address, please?",
        "Please help me update the card on file, thanks in advance.",
    ],
)
def test_polite_request_is_not_praise(text: str) -> None:
    result = analyze(text)
    assert sentiment_of(result.valence) == "neutral", result.valence
    assert Cue.POLITE_REQUEST in result.cues


def test_plain_vader_reads_a_polite_request_as_praise() -> None:
    """The reason the polite-request rule exists; fails if VADER's lexicon changes."""
    assert VaderAnalyzer().analyze("Please help me update the card on file, thanks.").valence > 0.3


@pytest.mark.parametrize(
    "text",
    [
        "We're switching to a competitor at the end of the quarter.",
        "Cancelling my plan today, I've had enough.",
        "We are evaluating alternatives because your API keeps timing out.",
        "Please terminate our agreement when the notice period ends.",
    ],
)
def test_churn_intent(text: str) -> None:
    result = analyze(text)
    assert result.flags.churn_intent is True
    assert result.valence <= -0.3
    assert Cue.CHURN in result.cues


def test_switching_providers_in_the_past_is_not_churn() -> None:
    result = analyze("I was nervous about switching providers but your team made it painless.")
    assert result.flags.churn_intent is False
    assert result.valence > 0.3


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        (
            "I'm stuck with you until the contract ends, otherwise I'd have left already.",
            Cue.TRAPPED_CONTRACT,
        ),
        (
            "We only renewed because migrating off your platform would cost us a fortune.",
            Cue.TRAPPED_SWITCHING_COST,
        ),
        (
            "No choice but to stay, every other provider needs a new installation.",
            Cue.TRAPPED_NO_ALTERNATIVE,
        ),
        ("The early termination fee is the only thing keeping me here.", Cue.TRAPPED_CONTRACT),
    ],
)
def test_trapped_cues(text: str, cue: Cue) -> None:
    result = analyze(text)
    assert cue in result.cues
    assert result.valence <= -0.3
    assert result.flags.churn_intent is False
    assert {Emotion.ANGER, Emotion.SADNESS} & set(top_emotions(result, 2))


def test_mixed_feelings_follow_the_weightier_clause() -> None:
    late_but_lovely = analyze(
        "The delivery was late, but the replacement arrived quickly and the agent was lovely."
    )
    nice_but_slow = analyze("The interface looks nice, but it is painfully slow.")
    assert late_but_lovely.valence > 0.3
    assert nice_but_slow.valence < -0.1


def test_mixed_sentences_lower_confidence() -> None:
    mixed = analyze("The support team is wonderful. The billing is a disgrace.")
    clear = analyze("The support team is wonderful. The onboarding is excellent.")
    assert Cue.MIXED in mixed.cues
    assert mixed.confidence < clear.confidence


def test_lukewarm_verdict_is_neutral() -> None:
    assert analyze("It's not terrible, but it's not great either.").valence == 0.0
    assert analyze("The product is fine, nothing special.").valence == 0.0


def test_emotions_of_clear_cases() -> None:
    assert top(analyze("I'm worried my data will be lost during the migration.")) is Emotion.FEAR
    assert top(analyze("So excited about the AI assistant you announced!")) is Emotion.ANTICIPATION
    assert (
        top(analyze("Honestly heartbroken that you're shutting down the forum.")) is Emotion.SADNESS
    )
    assert top(analyze("It's disgusting how you treat long-term customers.")) is Emotion.DISGUST


def test_anticipation_without_sentiment_words_is_positive() -> None:
    assert analyze("Can't wait for the new mobile app to launch next month!").valence > 0.1


def test_shouting_raises_arousal() -> None:
    calm = analyze("Your app crashed again.")
    loud = analyze("Your app crashed AGAIN!!")
    assert loud.arousal > calm.arousal
    assert Cue.EMPHASIS in loud.cues


def test_cues_are_plain_phrases_never_the_text() -> None:
    texts = [line.split('"text": "')[1].split('"')[0] for line in TUNE.read_text().splitlines()]
    known = {cue.value for cue in Cue}
    for text in texts:
        for cue in analyze(text).cues:
            assert cue in known
            assert cue.lower() not in text.lower()


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_empty_text_is_neutral_with_no_confidence(text: str) -> None:
    result = analyze(text)
    assert (result.valence, result.arousal, result.confidence) == (0.0, 0.0, 0.0)
    assert result.emotions.is_empty()
    assert not result.flags.churn_intent and not result.flags.sarcasm
    assert result.analyzer == "relcrm-cx"


def test_long_text_is_scored_sentence_by_sentence() -> None:
    complaint = "The sync feature hasn't worked for a week. Your chatbot is useless. "
    text = (complaint * 200)[:10_000]
    assert len(text) == 10_000
    start = time.perf_counter()
    result = analyze(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    assert result.valence < -0.5  # VADER on the whole blob would saturate; per sentence it holds
    assert top(result) is Emotion.ANGER


def test_long_mixed_text_does_not_saturate() -> None:
    text = " ".join(["Great support, thank you!"] * 50 + ["The invoice was wrong."] * 50)
    assert -0.8 < analyze(text).valence < 0.8


@pytest.mark.parametrize(
    ("english", "other", "lang"),
    [
        (
            "The service was excellent and the staff very kind.",
            "El servicio de la tienda fue excelente y muy amable.",
            "es",
        ),
        (
            "The customer service is really useless, I am furious.",
            "Le service client est vraiment nul, je suis furieux.",
            "fr",
        ),
        (
            "Thank you, everything worked wonderfully!",
            "Vielen Dank, alles hat wunderbar geklappt!",
            "de",
        ),
        (
            "I am very unhappy with the late delivery.",
            "Estou muito insatisfeito com o atraso da entrega.",
            "pt",
        ),
    ],
)
def test_other_languages_lower_confidence(english: str, other: str, lang: str) -> None:
    english_result = analyze(english)
    other_result = analyze(other)
    assert guess_language(words(other)) == lang
    assert guess_language(words(english)) == "en"
    assert Cue.NOT_ENGLISH in other_result.cues
    assert Cue.NOT_ENGLISH not in english_result.cues
    assert other_result.confidence <= 0.5
    assert other_result.confidence < english_result.confidence
    assert sentiment_of(other_result.valence) == sentiment_of(english_result.valence)


def test_foreign_negation_flips() -> None:
    assert analyze("El producto no es bueno, estoy decepcionado.").valence < 0


text_strategy = st.text(max_size=400) | st.lists(
    st.sampled_from(
        [
            "great",
            "not",
            "outage",
            "please",
            "cancel my subscription",
            "!",
            "😡",
            "stuck with you",
            "el",
            "la",
            "très",
            ".",
            "?",
            "AGAIN",
            "love how",
            "charged twice",
            "no",
        ]
    ),
    max_size=30,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(text_strategy)
def test_bounds_hold_for_any_text(text: str) -> None:
    result = analyze(text)
    assert -1.0 <= result.valence <= 1.0
    assert 0.0 <= result.arousal <= 1.0
    assert 0.0 <= result.confidence <= 1.0
    assert all(0.0 <= value <= 1.0 for _, value in result.emotions.items())
    if not text.strip():
        assert result.confidence == 0.0


@settings(max_examples=100, deadline=None)
@given(text_strategy)
def test_deterministic(text: str) -> None:
    assert analyze(text) == analyze(text) == CxAnalyzer().analyze(text)


def test_tune_set_accuracy_floor() -> None:
    """Regression floor on the TUNE set (the eval set is held out and never asserted on)."""
    items = load_labelled(TUNE)
    assert len(items) >= 80
    report = evaluate(CX, items)
    baseline = evaluate(VaderAnalyzer(), items)
    assert report.accuracy >= 0.95, [m[0].text for m in report.misses]
    assert report.macro_f1 >= 0.9
    assert report.top1_agreement >= 0.85
    assert report.top2_agreement >= 0.95
    assert report.accuracy - baseline.accuracy >= 0.3


def test_no_network_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every installed analyzer works with sockets forbidden: nothing phones home."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an analyzer tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in available_analyzers():
        analyzer_named(name).analyze("Great, another outage. Please cancel my subscription.")
    CxAnalyzer().analyze("Works fine.")
