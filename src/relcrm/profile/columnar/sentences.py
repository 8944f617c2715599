"""The reason and outreach sentences, formatted from one person's aggregates.

Same wording and order as ``relcrm.profile.reasons.explain`` and
``relcrm.profile.judgement.outreach``; the inputs are one merged row of the recipe and of
``details.details_sql`` (plus the person's pet peeves), never the observations.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from relcrm.models import WHEEL, Emotion
from relcrm.profile.columnar.inputs import EMOTION_KEYS
from relcrm.profile.config import ProfileConfig
from relcrm.profile.reasons import count_phrase

_ADJECTIVE = {
    "anger": "angry",
    "disgust": "disgusted",
    "sadness": "disappointed",
    "fear": "worried",
    "joy": "happy",
    "trust": "appreciative",
    "anticipation": "eager",
    "surprise": "surprised",
}
_CONTACT_NOUN = {"ticket": "support contact", "social": "public post", "review": "review"}
_NEGATIVE = {Emotion.ANGER.value, Emotion.DISGUST.value, Emotion.SADNESS.value, Emotion.FEAR.value}
_POSITIVE = {Emotion.JOY.value, Emotion.TRUST.value, Emotion.ANTICIPATION.value}

Row = Mapping[str, Any]


def _signed(value: float) -> str:
    return f"{value:+.2f}".replace("-", "−")


def _behaviour(row: Row) -> str | None:
    parts: list[str] = []
    if row["renewals"]:
        parts.append(count_phrase(row["renewals"], "renewal"))
    if row["purchases_last_365d"] is not None:
        parts.append(count_phrase(row["purchases_last_365d"], "purchase") + " in the last year")
    tenure = row["tenure_days"]
    if len(parts) < 2 and tenure is not None and tenure >= 365:
        parts.append(
            f"a customer for {int(tenure // 365)} years"
            if tenure >= 730
            else "a customer for a year"
        )
    return ", ".join(parts[:2]) or None


def _group_emotion(row: Row, sign: str) -> str | None:
    totals = [row[f"{sign}_support_{key}"] or 0.0 for key in EMOTION_KEYS]
    best = max(range(len(WHEEL)), key=lambda i: (totals[i], -i))
    return EMOTION_KEYS[best] if totals[best] > 0 else None


def _evidence(row: Row, config: ProfileConfig, *, negative: bool) -> list[str]:
    sign = "neg" if negative else "pos"
    phrases: list[str] = []
    nps = row["last_nps"]
    if nps is not None and (config.nps_valence[int(nps)] < 0) == negative:
        phrases.append(f"NPS {int(nps)} on {row['nps_day']}")
    csat = row[f"csat_{sign}_score"]
    if csat is not None and not phrases:
        phrases.append(f"CSAT {csat + 0.0:g} on {row[f'csat_{sign}_day']}")  # -0.0 as 0
    support = row[f"{sign}_support"] or 0
    if support:
        emotion = _group_emotion(row, sign)
        tone = _ADJECTIVE.get(emotion, "") if emotion is not None else ""
        if negative and emotion not in _NEGATIVE:
            tone = "unhappy"
        if not negative and emotion not in _POSITIVE:
            tone = "positive"
        phrases.append(count_phrase(support, f"{tone} support contact"))
    public = row[f"{sign}_public"] or 0
    if public:
        phrases.append(
            count_phrase(public, "negative public post" if negative else "positive public post")
        )
    comments = row[f"{sign}_comments"] or 0
    if comments and len(phrases) < 3:
        phrases.append(count_phrase(comments, "critical comment" if negative else "warm comment"))
    return phrases


def _mood(attitude: float, config: ProfileConfig) -> str:
    if attitude >= config.attitude_high:
        return "positive"
    return "negative" if attitude <= config.attitude_unhappy else "mixed"


def _stated(row: Row, config: ProfileConfig, negative_facts: Callable[[], str]) -> str | None:
    basis = row["basis"]
    if basis == "stated_trapped":
        public = " and says so in public" if row["segment"] == "trapped_and_vocal" else ""
        behaviour = _behaviour(row)
        buys = f"Keeps buying ({behaviour})" if behaviour else "Still a customer"
        return (
            f"{buys} but says they stay only because they cannot leave{public}: {negative_facts()}."
        )
    if basis == "stated_churn":
        when = f" on {row['leaving_day']}" if row["leaving_day"] is not None else ""
        aloud = " in public" if row["archetype_detail"] == "vocal_defector" else ""
        return f"Said{aloud}{when} they are leaving or may leave: {negative_facts()}."
    if basis == "too_new":
        days = count_phrase(int(row["tenure_days"] or 0.0), "day")
        if row["evidence"] <= 0:
            return f"A customer for {days}: too new to judge, and no feedback yet."
        mood = _mood(row["attitude"], config)
        facts = (
            negative_facts()
            if mood != "positive"
            else ", ".join(_evidence(row, config, negative=False))
        )
        return f"A customer for {days}: too new to judge loyalty; first feedback {mood} ({facts})."
    return None


def _thin(row: Row) -> str:
    behaviour = _behaviour(row)
    doing = f" ({behaviour})" if behaviour else ""
    segment = row["segment"]
    if segment == "loyal":
        return f"Buys regularly{doing}; no recent feedback to say how they feel."
    if segment == "trapped":
        return f"Keeps buying{doing}, but the last feedback we have was negative."
    if segment == "latent":
        return f"Said good things last time, but is buying little{doing}."
    if segment == "at_risk":
        return f"Buying little{doing}, and the last feedback we have was negative."
    if segment == "drifting":
        return f"Buying less{doing}, and no recent feedback."
    return "Not enough recent feedback to judge how this person feels."


def _headline(row: Row, config: ProfileConfig) -> str:
    """The first reason. Each fact is formatted only on the branch that quotes it (the
    functions are pure: the same sentence as formatting every fact first)."""
    detail, archetype, attitude = row["archetype_detail"], row["archetype"], row["attitude"]

    def negative_facts() -> str:
        return ", ".join(_evidence(row, config, negative=True)) or (f"attitude {_signed(attitude)}")

    def positive_facts() -> str:
        return ", ".join(_evidence(row, config, negative=False)) or (
            f"attitude {_signed(attitude)}"
        )

    if row["basis"] in _STATED:
        stated = _stated(row, config, negative_facts)
        if stated is not None:
            return stated
    if archetype == "insufficient_evidence":
        return _thin(row)
    if archetype == "unknown_behavior":
        mood = _mood(attitude, config)
        facts = positive_facts() if mood == "positive" else negative_facts()
        return f"Feels {mood} ({facts}), but no purchase facts are known to judge loyalty."
    if detail == "advocate":
        return f"Loyal and speaks up for us in public: {positive_facts()}."
    if detail == "delighted":
        behaviour = _behaviour(row)
        suffix = f"; {behaviour}" if behaviour else ""
        return f"Delighted and loyal: {positive_facts()}{suffix}."
    if archetype == "true_loyalty":
        behaviour = _behaviour(row)
        return f"Loyal and mostly positive: {positive_facts()}" + (
            f"; {behaviour}." if behaviour else "."
        )
    if detail == "fan_not_buying":
        return f"Likes us but is not buying much: {positive_facts()}."
    if detail in _BUYING:
        behaviour = _behaviour(row)
        buys = f"Keeps buying ({behaviour})" if behaviour else "Keeps buying"
        if detail == "trapped_detractor":
            return f"{buys} but is unhappy and says so in public: {negative_facts()}."
        if detail == "trapped":
            return f"{buys} but is unhappy: {negative_facts()}."
        return f"{buys} without strong feelings either way (attitude {_signed(attitude)})."
    if detail == "vocal_defector":
        return f"Unhappy, buying little and complaining in public: {negative_facts()}."
    if detail == "defecting":
        return f"Unhappy and buying little: {negative_facts()}."
    return f"Neither buying much nor feeling strongly (attitude {_signed(attitude)})."


_STATED = frozenset({"stated_trapped", "stated_churn", "too_new"})
"""The bases whose headline :func:`_stated` writes."""
_BUYING = frozenset({"trapped_detractor", "trapped", "inert"})
"""The details whose headline opens with what the person keeps buying."""


def _health(row: Row) -> str:
    if row["band"] == "unknown":
        if row["seen_day"] is None:
            return "No feedback recorded yet."
        return f"Last heard from on {row['seen_day']} ({row['seen_channel']})."
    band = {"healthy": "healthy", "watch": "worth watching", "at_risk": "at risk"}[row["band"]]
    sentence = f"Health {row['health']:.0f}/100 ({band})"
    if row["dominant"] is not None:
        sentence += f"; the strongest feeling is {row['dominant']}"
    return sentence + "."


def _flags(row: Row, config: ProfileConfig) -> list[str]:
    sentences: list[str] = []
    if row["esc_day"] is not None:
        what = _CONTACT_NOUN.get(row["esc_kind"], "comment")
        sentences.append(f"Needs attention now: a heated, negative {what} on {row['esc_day']}.")
    if row["churn_day"] is not None and row["churn_w"] >= config.churn_risk_min_decay:
        sentences.append(f"Said they may leave on {row['churn_day']}.")
    return sentences


def _trend(row: Row, config: ProfileConfig) -> str | None:
    before, delta = row["attitude_before"], row["trend_delta"]
    if before is None or delta is None:
        return None
    span = (
        f"from {_signed(before)} to {_signed(before + delta)} over {config.trend_window_days} days"
    )
    if row["trend_direction"] == "declining":
        return f"Getting unhappier: attitude fell {span}."
    if row["trend_direction"] == "improving":
        return f"Getting happier: attitude rose {span}."
    return None


def _peeves(topics: Sequence[str]) -> str | None:
    if not topics:
        return None
    listed = topics[0] if len(topics) == 1 else ", ".join(topics[:-1]) + " and " + topics[-1]
    return f"Most unhappy about {listed}."


def reasons(row: Row, peeve_topics: Sequence[str], config: ProfileConfig) -> tuple[str, ...]:
    """Headline, health, then the most urgent of: flags, trend, pet peeves (at most four)."""
    sentences = [_headline(row, config), _health(row)]
    for sentence in [*_flags(row, config), _trend(row, config), _peeves(peeve_topics)]:
        if sentence and len(sentences) < 4:
            sentences.append(sentence)
    return tuple(sentences)


def outreach_reason(row: Row, config: ProfileConfig) -> str:
    """The one sentence saying why a human should (or need not) reach out now."""
    if row["esc_day"] is not None:
        what = _CONTACT_NOUN.get(row["esc_kind"], "comment")
        return f"A heated, negative {what} on {row['esc_day']}: call them."
    if row["leaving_recent_day"] is not None and row["attitude"] < config.attitude_high:
        return (
            f"Said on {row['leaving_recent_day']} they are leaving or may leave: "
            "talk to them before they go."
        )
    if row["segment"] in ("trapped", "trapped_and_vocal") and row["complaint_recent_day"]:
        return (
            f"Stays without wanting to and complained in public on {row['complaint_recent_day']}."
        )
    if row["needs_outreach"]:
        before, after = row["attitude_before"], row["attitude_before"] + row["trend_delta"]
        return (
            f"Turned from {_signed(before)} to {_signed(after)} in {config.trend_window_days} "
            "days: find out what happened."
        )
    return "Nothing calls for a human right now."
