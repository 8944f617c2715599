"""Turning a checked answer into what every other source produces, through the same path.

- The score and comment become a :class:`~relcrm.models.Perception` (channel ``web``,
  provenance ``relcrm-voice`` and the link id) written by the source ingest
  (:func:`relcrm.sync.ingest_sources.ingest_items`): its verbatim is redacted before it
  is stored and read by the analyzer like any survey comment, and a person the store
  forgot is refused there too.
- Preferences that differ from what the person last said become
  :class:`~relcrm.models.Preference` statements (the history is kept); each newly ticked
  topic is a statement of its own. An unticked topic is not stated: the model has no
  "no longer interested" statement yet (docs/voice.md).
- A consent given or withdrawn on the page replaces the person's consent, dated now,
  with the source ``voice``.

``relcrm run`` (profile, then sync) carries all three to the CRMs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from relcrm.analyze import DEFAULT as DEFAULT_REDACTION
from relcrm.analyze import RedactionConfig
from relcrm.errors import StoreError
from relcrm.models import (
    Consent,
    CsatScore,
    NpsScore,
    Perception,
    Preference,
    PreferenceKind,
    Provenance,
)
from relcrm.sources.items import Identity, SourcedPerception
from relcrm.store import Store
from relcrm.store.voice_links import VoiceLink
from relcrm.sync.analysis import Analyzer
from relcrm.sync.ingest_sources import ingest_items
from relcrm.voice.form import FREQUENCIES, TOPICS, Answer, StatedPreferences
from relcrm.voice.settings import ScoreType

SOURCE_SYSTEM = "relcrm-voice"
CONSENT_SOURCE = "voice"


@dataclass(frozen=True)
class Recorded:
    """What one answer changed in the store."""

    perception_id: str | None
    preferences: int
    consent_changed: bool


def stated_preferences(store: Store, person_id: str) -> StatedPreferences:
    """What the person last said of each kind, as the form's values (to prefill it).

    Topics are every topic ever chosen (as ``preferences.topic`` reads them for the
    CRMs), so the boxes show what the CRM shows."""
    latest: dict[PreferenceKind, str] = {}
    chosen: set[str] = set()
    for preference in store.preferences_of(person_id):  # oldest first: the last one wins
        latest[preference.kind] = preference.value
        if preference.kind is PreferenceKind.TOPIC:
            chosen.add(preference.value.strip().casefold())
    frequency = {v: k for k, v in FREQUENCIES.items()}.get(latest.get(PreferenceKind.FREQUENCY, ""))
    topics = tuple(key for key, value in TOPICS.items() if value in chosen)
    return StatedPreferences(
        channel=latest.get(PreferenceKind.CHANNEL),
        frequency=frequency,
        language=latest.get(PreferenceKind.LANGUAGE),
        topics=topics if PreferenceKind.TOPIC in latest else None,
    )


def _statements(
    answer: StatedPreferences, last: StatedPreferences
) -> list[tuple[PreferenceKind, str]]:
    """The statements an answer makes: each kind whose value changed, and each topic newly
    chosen (one statement per topic, as every source states them)."""
    said: list[tuple[PreferenceKind, str]] = []
    if answer.channel is not None and answer.channel != last.channel:
        said.append((PreferenceKind.CHANNEL, answer.channel))
    if answer.frequency is not None and answer.frequency != last.frequency:
        said.append((PreferenceKind.FREQUENCY, FREQUENCIES[answer.frequency]))
    if answer.language is not None and answer.language != last.language:
        said.append((PreferenceKind.LANGUAGE, answer.language))
    known = set(last.topics or ())
    said.extend((PreferenceKind.TOPIC, TOPICS[t]) for t in answer.topics or () if t not in known)
    return said


def _perception(
    link: VoiceLink, answer: Answer, score: ScoreType, now: datetime
) -> Perception | None:
    if answer.score is None and not answer.comment:
        return None
    scores: dict[str, object] = {}
    if answer.score is not None:
        scores[score] = (
            NpsScore(value=answer.score) if score == "nps" else CsatScore(value=answer.score)
        )
    return Perception.model_validate(
        {
            "person_id": link.person_id,
            "occurred_at": now,
            "channel": "web",
            "verbatim": answer.comment,
            "provenance": {"source_system": SOURCE_SYSTEM, "source_record_id": link.id},
            **scores,
        }
    )


def record_answer(
    store: Store,
    link: VoiceLink,
    answer: Answer,
    *,
    now: datetime,
    score: ScoreType,
    analyzer: Analyzer | None,
    redaction: RedactionConfig = DEFAULT_REDACTION,
) -> Recorded:
    """Write ``answer`` (given through ``link``) to the store; see the module docstring.

    Raises :class:`StoreError` when the person is gone (erased since the page opened) or
    the ingest refused the perception; the caller then gives the link's answer back.
    """
    person = store.get_person(link.person_id)
    if person is None:
        raise StoreError("the link's person is no longer in the store", code="voice.gone")
    consent_changed = False
    if answer.consent is not None:
        granted = answer.consent == "yes"
        if granted != person.consent.granted or person.consent.updated_at is None:
            consent = Consent(granted=granted, updated_at=now, source=CONSENT_SOURCE)
            store.upsert_person(person.model_copy(update={"consent": consent}))
            consent_changed = True
    stamp = now.strftime("%Y%m%dT%H%M%S.%f")
    new = [
        Preference(
            person_id=link.person_id,
            kind=kind,
            value=value,
            stated_at=now,
            provenance=Provenance(
                source_system=SOURCE_SYSTEM, source_record_id=f"{link.id}@{stamp}#{index}"
            ),
        )
        for index, (kind, value) in enumerate(
            _statements(answer.preferences, stated_preferences(store, link.person_id))
        )
    ]
    written = store.add_preferences(new)
    perception_id: str | None = None
    perception = _perception(link, answer, score, now) if answer.part == "feedback" else None
    if perception is not None:
        item = SourcedPerception(
            record=f"voice link {link.id[:8]}",
            perception=perception,
            identities=(Identity("person", link.person_id),),
            create_person=False,
        )
        report = ingest_items([item], store, source="voice", analyzer=analyzer, redaction=redaction)
        if report.rejections:
            raise StoreError(
                f"the answer was refused: {report.rejections[0].message}",
                code="voice.answer_refused",
            )
        perception_id = perception.id
    return Recorded(perception_id, written, consent_changed)


__all__ = ["CONSENT_SOURCE", "SOURCE_SYSTEM", "Recorded", "record_answer", "stated_preferences"]
