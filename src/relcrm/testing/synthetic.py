"""Synthetic, deterministic sample data: persons and what they felt, for demos and tests.

Real customer feelings are personal data, so nothing real can ship with relcrm. This
module makes up a believable CRM population instead. Each person is drawn from a hidden
*persona* (a delighted customer, a trapped one who complains in public, a lapsed fan, ...)
chosen so that every loyalty archetype of the scoring recipe (reference note, section 5)
shows up, with margins wide enough that rounding or a small change of constants does not
move a person to the next archetype. :data:`PERSONA_ARCHETYPES` is the answer key.

Everything is drawn from one ``random.Random(seed)`` and the ``now`` passed in, never from
the clock or the global generator, so the same arguments give the same data, byte for byte.

It lives in :mod:`relcrm.testing` (fixtures for tests, benchmarks, plugin authors and the
demo), not in :mod:`relcrm.sources`: no production path reads made-up people, and
``import relcrm`` does not load it (``relcrm.generate_sample`` imports it on first use).
Verbatims are raw source text: a few contain (fictitious) phone numbers, e-mail addresses
and account numbers, as real tickets do, so that redaction has something to find.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, Final, Literal, TypeAlias, TypeVar

from pydantic_core import to_json

from relcrm.models import (
    Archetype,
    ArchetypeDetail,
    Perception,
    Person,
    Preference,
)
from relcrm.sources.interchange import InterchangeRecord

Tone: TypeAlias = Literal["warm", "keen", "positive", "neutral", "negative", "angry"]
Special: TypeAlias = Literal["churn", "sarcasm", "trapped"] | None
Kind: TypeAlias = Literal[
    "nps", "csat", "ces", "ticket", "chat", "email", "call", "web", "social", "review", "event",
    "donation",
]  # fmt: skip

_T = TypeVar("_T")

TWIN_DELIGHTED: Final = "twin-delighted"
TWIN_TRAPPED: Final = "twin-trapped"
ANALYZER: Final = ("synthetic", "1.0")
"""What the text fields claim to come from: made up here, not by a real analyzer."""

# --------------------------------------------------------------------------------------
# Text banks: (topic, text, emotions, special). Emotions are Plutchik intensities.
# --------------------------------------------------------------------------------------

_Entry: TypeAlias = tuple[str, str, dict[str, float], Special]

_GENERIC: Final[dict[Tone, tuple[_Entry, ...]]] = {
    "warm": (
        ("support", "Maria on your support team sorted it out in five minutes. Honestly the "
         "best service I've had from any vendor.", {"joy": 0.7, "trust": 0.6}, None),
        ("onboarding", "Onboarding was smooth from day one. The team made us feel looked after.",
         {"joy": 0.6, "trust": 0.7}, None),
        ("product", "We love the new dashboard, the whole team opens it every morning.",
         {"joy": 0.8, "trust": 0.4}, None),
        ("delivery", "Arrived a day early and perfectly packed. Thank you!",
         {"joy": 0.7, "trust": 0.5, "surprise": 0.2}, None),
        ("billing", "Thanks for refunding the duplicate charge without me having to ask twice. "
         "That's why we stay with you.", {"trust": 0.7, "joy": 0.5}, None),
        ("support", "Every time I call, someone who really knows the product picks up. "
         "Much appreciated.", {"trust": 0.7, "joy": 0.5}, None),
    ),
    "keen": (
        ("product", "Really looking forward to the new reporting module you showed us.",
         {"anticipation": 0.7, "trust": 0.3, "joy": 0.2}, None),
        ("pricing", "The new plan fits us well; keen to see what the API add-on brings.",
         {"anticipation": 0.6, "trust": 0.3}, None),
        ("onboarding", "Good start so far. Can't wait to roll it out to our other two sites.",
         {"anticipation": 0.7, "joy": 0.3}, None),
        ("product", "Solid release. Hoping the mobile app gets the same treatment next quarter.",
         {"anticipation": 0.6, "trust": 0.3}, None),
    ),
    "positive": (
        ("support", "Issue resolved, thanks for the quick reply.",
         {"trust": 0.5, "joy": 0.3}, None),
        ("delivery", "Delivery was on time and the driver was friendly.",
         {"trust": 0.4, "joy": 0.4}, None),
        ("product", "Does what we need. The export feature saved me an hour this week.",
         {"joy": 0.4, "trust": 0.4}, None),
        ("onboarding", "Setup took a bit longer than planned but the guides were clear.",
         {"trust": 0.4, "anticipation": 0.2}, None),
        ("billing", "Invoice was clear this time, thanks for fixing the VAT line.",
         {"trust": 0.5}, None),
    ),
    "neutral": (
        ("billing", "Can you send a copy of the March invoice to our accounts team?", {}, None),
        ("product", "How do I change the default export format to CSV?", {"surprise": 0.1}, None),
        ("onboarding", "We need to add two more users to the workspace.", {}, None),
        ("delivery", "Please update the delivery address for our next order.", {}, None),
        ("pricing", "What is the price difference between the Team and Business plans?",
         {"anticipation": 0.2}, None),
        ("support", "Password reset link expired, could you send a new one?", {}, None),
        ("product", "It's fine. Does the job.", {}, None),
        ("billing", "Please call me back on +1 555 0142 about invoice 88112345.", {}, None),
    ),
    "negative": (
        ("billing", "I was charged twice for the same month. Please refund the second payment.",
         {"anger": 0.4, "sadness": 0.3}, None),
        ("delivery", "Order is a week late and tracking hasn't updated since Monday.",
         {"sadness": 0.4, "anger": 0.3, "fear": 0.2}, None),
        ("onboarding", "Onboarding has dragged on for six weeks and we still can't import our "
         "data.", {"sadness": 0.5, "disgust": 0.3}, None),
        ("support", "Third time explaining the same problem to a different agent.",
         {"anger": 0.5, "disgust": 0.4}, None),
        ("pricing", "The price went up 20% at renewal with no warning. Not happy.",
         {"anger": 0.5, "surprise": 0.3}, None),
        ("product", "The latest update broke the report we rely on every Monday.",
         {"sadness": 0.4, "anger": 0.4}, None),
        ("outage", "The platform was down for most of the morning again. We lost a day of "
         "orders.", {"fear": 0.4, "anger": 0.4, "sadness": 0.3}, None),
        ("billing", "Refund still not here. Send the confirmation to sam.ortiz@example.net, "
         "card ending 4242.", {"anger": 0.4, "sadness": 0.3}, None),
        ("outage", "Great, another outage. Just what I needed on a Monday.",
         {"anger": 0.6, "disgust": 0.4}, "sarcasm"),
        ("support", "Love waiting 45 minutes on hold to be told to restart it. Brilliant.",
         {"anger": 0.6, "disgust": 0.5}, "sarcasm"),
        ("pricing", "We're comparing other providers before our renewal comes up.",
         {"sadness": 0.3, "disgust": 0.3, "anticipation": 0.2}, "churn"),
        ("support", "I'd switch tomorrow if the contract let me.",
         {"anger": 0.6, "sadness": 0.4}, "trapped"),
        ("billing", "Only still with you because the exit fee is ridiculous.",
         {"anger": 0.5, "disgust": 0.4}, "trapped"),
    ),
    "angry": (
        ("outage", "Down AGAIN during our busiest hour. This is completely unacceptable.",
         {"anger": 0.9, "disgust": 0.5}, None),
        ("billing", "You charged my card after I cancelled. I want a full refund today.",
         {"anger": 0.9, "disgust": 0.3}, None),
        ("support", "Nobody has replied in nine days. Absolutely useless support.",
         {"anger": 0.8, "disgust": 0.6}, None),
        ("pricing", "Doubling the price mid-contract is a disgrace.",
         {"anger": 0.8, "disgust": 0.7}, None),
        ("delivery", "Second parcel lost this month. I'm done chasing you.",
         {"anger": 0.8, "sadness": 0.3}, None),
        ("billing", "If this billing mess isn't fixed by the end of the month we're cancelling.",
         {"anger": 0.7, "fear": 0.2}, "churn"),
        ("outage", "One more outage and we move to a competitor. Call me on 07700 900123.",
         {"anger": 0.7, "fear": 0.3}, "churn"),
    ),
}  # fmt: skip

_PUBLIC: Final[dict[Tone, tuple[_Entry, ...]]] = {
    "warm": (
        ("support", "Shoutout to @acme support, problem fixed in five minutes. Best in the "
         "business!", {"joy": 0.8, "trust": 0.6}, None),
        ("product", "@acme made our month-end close painless. Highly recommend.",
         {"joy": 0.7, "trust": 0.6}, None),
        ("delivery", "Ordered Monday, arrived Tuesday, perfect condition. @acme never lets me "
         "down.", {"joy": 0.7, "trust": 0.7}, None),
    ),
    "keen": (
        ("product", "Excited for the @acme roadmap. If the API lands as promised we're all in.",
         {"anticipation": 0.7, "joy": 0.3}, None),
    ),
    "positive": (
        ("product", "Been using @acme for a year now, solid and reliable.",
         {"trust": 0.6, "joy": 0.3}, None),
        ("onboarding", "Smooth switch to @acme, the migration team knew their stuff.",
         {"trust": 0.5, "joy": 0.4}, None),
    ),
    "neutral": (
        ("product", "Anyone know if @acme supports SSO on the Team plan?",
         {"anticipation": 0.2}, None),
        ("pricing", "Looks like @acme changed the Team plan on their pricing page.",
         {"surprise": 0.2}, None),
    ),
    "negative": (
        ("outage", "@acme down again? Can't log in for the second time this week.",
         {"anger": 0.5, "sadness": 0.3}, None),
        ("billing", "Still waiting for @acme to refund a double charge from last month. "
         "Disappointing.", {"sadness": 0.5, "anger": 0.4}, None),
        ("support", "Two weeks and no answer from @acme support. Avoid if you need help fast.",
         {"anger": 0.5, "disgust": 0.4}, None),
        ("outage", "Thanks @acme for yet another surprise maintenance window. Really.",
         {"anger": 0.5, "disgust": 0.4}, "sarcasm"),
    ),
    "angry": (
        ("outage", "@acme has been down for 6 hours and not a word from them. Unacceptable. "
         "#acmedown", {"anger": 0.9, "disgust": 0.5}, None),
        ("billing", "@acme charged me after I cancelled and now ignores my emails. Avoid!",
         {"anger": 0.9, "disgust": 0.6}, None),
        ("pricing", "@acme doubled our price mid-contract. Shameful. Looking for alternatives.",
         {"anger": 0.8, "disgust": 0.7}, "churn"),
    ),
}  # fmt: skip

_EVENT: Final[dict[Tone, _Entry]] = {
    "warm": ("event", "Loved the customer day in Lyon, the roadmap session was brilliant.",
             {"joy": 0.7, "anticipation": 0.4, "trust": 0.3}, None),
    "keen": ("event", "Great webinar, looking forward to trying the new automations.",
             {"anticipation": 0.7, "joy": 0.3}, None),
    "positive": ("event", "Useful workshop, good speakers.", {"joy": 0.4, "trust": 0.3}, None),
    "neutral": ("event", "The session was okay, mostly things we already knew.", {}, None),
    "negative": ("event", "The webinar started 20 minutes late and the audio kept cutting out.",
                 {"sadness": 0.3, "anger": 0.4}, None),
    "angry": ("event", "Paid for the conference and half the sessions were cancelled without "
              "notice.", {"anger": 0.8, "disgust": 0.4}, None),
}  # fmt: skip

_DONATION: Final[dict[Tone, _Entry]] = {
    "warm": ("donation", "Happy to give again this year. The library programme does so much "
             "good.", {"joy": 0.7, "trust": 0.6}, None),
    "keen": ("donation", "Glad to support the community fund. Keep me posted on the new "
             "project.", {"anticipation": 0.5, "trust": 0.5}, None),
    "positive": ("donation", "Pleased to renew my monthly gift.", {"trust": 0.5, "joy": 0.3}, None),
    "neutral": ("donation", "Please send the tax receipt for my December gift.", {}, None),
    "negative": ("donation", "I asked to stop the monthly gift and it was taken again.",
                 {"anger": 0.5, "sadness": 0.3}, None),
    "angry": ("donation", "Three calls asking for money in one week. Stop contacting me.",
              {"anger": 0.8, "disgust": 0.5}, None),
}  # fmt: skip

# Valence of the text, by tone (what a lexicon analyzer plus the CX layer would give).
_TEXT_VALENCE: Final[dict[Tone, tuple[float, float]]] = {
    "warm": (0.7, 0.95),
    "keen": (0.45, 0.7),
    "positive": (0.35, 0.6),
    "neutral": (-0.1, 0.15),
    "negative": (-0.65, -0.4),
    "angry": (-0.95, -0.7),
}
# Survey answers a person in that mood gives (drawn uniformly from the tuple).
_NPS: Final[dict[Tone, tuple[int, ...]]] = {
    "warm": (10, 10, 9),
    "keen": (8, 8, 8),  # keen on what is coming, not yet a promoter (a promoter is delighted)
    "positive": (8, 9),
    "neutral": (7, 7, 8),
    "negative": (3, 4, 5, 6),
    "angry": (0, 1, 2, 3),
}
_CSAT: Final[dict[Tone, tuple[int, ...]]] = {
    "warm": (5,),
    "keen": (4, 5),
    "positive": (4, 5),
    "neutral": (3,),
    "negative": (2,),
    "angry": (1,),
}
_CES2: Final[dict[Tone, tuple[int, ...]]] = {
    "warm": (6, 7),
    "keen": (5, 6),
    "positive": (5, 6),
    "neutral": (4,),
    "negative": (2, 3),
    "angry": (1, 2),
}
# The recipe's circumplex arousal per emotion (section 5.1); 0.3 when there is no emotion.
_AROUSAL: Final[dict[str, float]] = {
    "joy": 0.6,
    "trust": 0.3,
    "anticipation": 0.6,
    "surprise": 0.8,
    "fear": 0.8,
    "anger": 0.9,
    "disgust": 0.5,
    "sadness": 0.2,
}

# Where each kind of moment is recorded: channel, source system, touchpoint, public.
_KIND_CHANNEL: Final[dict[Kind, tuple[str, str, str | None, bool]]] = {
    "nps": ("survey", "qualtrics", "relationship", False),
    "csat": ("survey", "qualtrics", "support", False),
    "ces": ("survey", "qualtrics", "onboarding", False),
    "ticket": ("support", "zendesk", "support", False),
    "chat": ("chat", "intercom", "support", False),
    "email": ("email", "salesforce", None, False),
    "call": ("call", "talkdesk", "support", False),
    "web": ("web", "hotjar", "website", False),
    "social": ("social", "brandwatch", None, True),
    "review": ("review", "trustpilot", None, True),
    "event": ("event", "eventbrite", "event", False),
    "donation": ("donation", "salesforce", "appeal", False),
}
_PRIVATE_KINDS: Final[tuple[Kind, ...]] = (
    "nps", "csat", "ces", "ticket", "chat", "email", "call", "web", "event", "donation",
)  # fmt: skip
_ALL_KINDS: Final[tuple[Kind, ...]] = (*_PRIVATE_KINDS, "social", "review")

# --------------------------------------------------------------------------------------
# Personas
# --------------------------------------------------------------------------------------

Behaviour: TypeAlias = Literal["high", "low", "any", "none"]


@dataclass(frozen=True, slots=True)
class Moment:
    """Something that happens to a persona in the recent past: a few perceptions alike."""

    kinds: tuple[Kind, ...]
    tones: tuple[Tone, ...]
    age_days: tuple[float, float]
    count: tuple[int, int] = (1, 1)
    probability: float = 1.0
    special: Special = None


@dataclass(frozen=True, slots=True)
class Persona:
    """A hidden kind of customer: how they buy, what they say lately, what they said before."""

    name: str
    expected: tuple[Archetype, ArchetypeDetail | None]
    weight: int
    behaviour: Behaviour
    moments: tuple[Moment, ...]
    history_tones: tuple[Tone, ...] = ()
    history_count: tuple[int, int] = (1, 3)
    history_public: bool = False


_TRUE = Archetype.TRUE_LOYALTY
_LATENT = Archetype.LATENT_LOYALTY
_SPURIOUS = Archetype.SPURIOUS_LOYALTY
_NONE = Archetype.NO_LOYALTY

PERSONAS: Final[tuple[Persona, ...]] = (
    Persona(
        "delighted", (_TRUE, ArchetypeDetail.DELIGHTED), 8, "high",
        (
            Moment(("nps",), ("warm",), (5, 45)),
            Moment(("csat",), ("warm",), (5, 60)),
            Moment(("chat", "email", "event", "call"), ("warm",), (3, 60), (1, 2)),
        ),
        ("warm", "positive"),
    ),
    Persona(
        "advocate", (_TRUE, ArchetypeDetail.ADVOCATE), 5, "high",
        (
            Moment(("nps",), ("warm",), (5, 60)),
            Moment(("review", "social"), ("warm",), (3, 45), (2, 3)),
            Moment(("chat", "event"), ("positive",), (5, 80), probability=0.6),
        ),
        ("warm", "positive"), history_public=True,
    ),
    Persona(
        "loyal", (_TRUE, None), 14, "high",
        (
            Moment(("nps",), ("keen",), (5, 50)),
            Moment(("csat",), ("keen",), (5, 60)),
            Moment(("email", "event", "chat"), ("keen",), (5, 70), (1, 2)),
            Moment(("ticket",), ("neutral",), (5, 80), probability=0.5),
        ),
        ("keen", "positive", "neutral"),
    ),
    Persona(
        "latent_fan", (_LATENT, ArchetypeDetail.FAN_NOT_BUYING), 7, "low",
        (
            Moment(("nps",), ("warm",), (5, 50)),
            Moment(("email", "web", "event", "donation"), ("warm", "keen"), (5, 80), (1, 2)),
        ),
        ("warm", "positive"),
    ),
    Persona(
        "trapped", (_SPURIOUS, ArchetypeDetail.TRAPPED), 8, "high",
        (
            Moment(("nps",), ("negative",), (5, 50)),
            Moment(("ticket",), ("negative", "angry"), (3, 70), (2, 3)),
            Moment(("csat",), ("negative",), (5, 70)),
            Moment(("email", "call"), ("negative",), (3, 60), probability=0.6, special="trapped"),
        ),
        ("neutral", "positive", "negative"),
    ),
    Persona(
        "trapped_detractor", (_SPURIOUS, ArchetypeDetail.TRAPPED_DETRACTOR), 4, "high",
        (
            Moment(("nps",), ("negative", "angry"), (5, 50)),
            Moment(("ticket",), ("angry",), (3, 60), (1, 3)),
            Moment(("social", "review"), ("angry",), (2, 35), (2, 3)),
        ),
        ("neutral", "negative"),
    ),
    Persona(
        "inert", (_SPURIOUS, ArchetypeDetail.INERT), 14, "high",
        (
            Moment(("nps",), ("neutral",), (5, 60)),
            Moment(("csat",), ("neutral",), (5, 70)),
            Moment(("ticket", "chat", "email"), ("neutral",), (3, 80), (1, 2)),
        ),
        ("neutral",),
    ),
    Persona(
        "defecting", (_NONE, ArchetypeDetail.DEFECTING), 7, "low",
        (
            Moment(("csat",), ("negative", "angry"), (5, 50)),
            Moment(("ticket", "email"), ("negative", "angry"), (2, 40), (1, 3), special="churn"),
            Moment(("nps",), ("angry",), (5, 60), probability=0.8),
        ),
        ("neutral", "negative"),
    ),
    Persona(
        "vocal_defector", (_NONE, ArchetypeDetail.VOCAL_DEFECTOR), 4, "low",
        (
            Moment(("review", "social"), ("angry",), (2, 30), (2, 3)),
            Moment(("nps",), ("angry",), (5, 60), probability=0.6),
            Moment(("ticket",), ("negative",), (5, 60), probability=0.5),
        ),
        ("neutral", "negative"),
    ),
    Persona(
        "indifferent", (_NONE, ArchetypeDetail.INDIFFERENT), 10, "low",
        (
            Moment(("nps",), ("neutral",), (5, 50)),
            Moment(("web", "ces"), ("neutral",), (5, 70), (1, 2)),
        ),
        ("neutral", "positive"),
    ),
    Persona(
        "dormant", (Archetype.INSUFFICIENT_EVIDENCE, None), 12, "any",
        (Moment(_PRIVATE_KINDS, ("warm", "positive", "neutral", "negative"), (420, 720), (1, 2)),),
        history_count=(0, 0),
    ),
    Persona(
        "prospect", (Archetype.UNKNOWN_BEHAVIOR, None), 7, "none",
        (
            Moment(("event",), ("positive", "keen"), (5, 40)),
            Moment(("web", "chat"), ("neutral", "positive", "keen"), (3, 45), (2, 3)),
        ),
        ("neutral",), history_count=(0, 1),
    ),
)  # fmt: skip
"""The hidden personas, each with the archetype (and detail) the recipe gives it."""

PERSONA_ARCHETYPES: Final[Mapping[str, tuple[Archetype, ArchetypeDetail | None]]] = {
    persona.name: persona.expected for persona in PERSONAS
}
"""Answer key: persona name -> (archetype, detail) under the recipe's default constants."""

# The twins: identical behaviour, opposite feelings. Fixed moments, so the contrast is
# the same whatever the seed. Both started warm five months ago; one of them soured.
_TWIN_SCRIPTS: Final[dict[str, tuple[Moment, ...]]] = {
    TWIN_DELIGHTED: (
        Moment(("nps",), ("warm",), (24, 24)),
        Moment(("csat",), ("warm",), (52, 52)),
        Moment(("email",), ("warm",), (9, 9)),
        Moment(("event",), ("warm",), (75, 75)),
        Moment(("chat",), ("warm",), (33, 33)),
        Moment(("ces",), ("warm",), (40, 40)),
        Moment(("nps",), ("warm",), (150, 150)),
        Moment(("chat",), ("warm",), (125, 125)),
    ),
    TWIN_TRAPPED: (
        Moment(("nps",), ("angry",), (27, 27)),
        Moment(("ticket",), ("angry",), (44, 44)),
        Moment(("ticket",), ("negative",), (12, 12), special="trapped"),
        Moment(("ticket",), ("angry",), (4, 4)),
        Moment(("social",), ("angry",), (11, 11)),
        Moment(("social",), ("negative",), (3, 3)),
        Moment(("review",), ("angry",), (30, 30)),
        # Before the trouble started: the same warm start as the other twin.
        Moment(("nps",), ("warm",), (150, 150)),
        Moment(("chat",), ("warm",), (125, 125)),
    ),
}

# --------------------------------------------------------------------------------------
# People
# --------------------------------------------------------------------------------------

# (display, e-mail slug). Apostrophes stay in the slug: "o'brien@" is a legal address.
_FIRST: Final = (
    ("Siobhan", "siobhan"), ("José", "jose"), ("Zoë", "zoe"), ("Łukasz", "lukasz"),
    ("Amara", "amara"), ("Kenji", "kenji"), ("Priya", "priya"), ("Liam", "liam"),
    ("Fatima", "fatima"), ("Björn", "bjorn"), ("Chloé", "chloe"), ("Mateo", "mateo"),
    ("Aisha", "aisha"), ("Tomás", "tomas"), ("Hannah", "hannah"), ("Oluwaseun", "oluwaseun"),
    ("Mei", "mei"), ("Noah", "noah"), ("Ingrid", "ingrid"), ("Rahul", "rahul"),
    ("Elena", "elena"), ("Dmitri", "dmitri"), ("Grace", "grace"), ("Yusuf", "yusuf"),
    ("Camille", "camille"), ("Diego", "diego"), ("Anneke", "anneke"), ("Kwame", "kwame"),
)  # fmt: skip
_LAST: Final = (
    ("O'Brien", "o'brien"), ("García", "garcia"), ("Nguyễn", "nguyen"), ("Kowalski", "kowalski"),
    ("Okafor", "okafor"), ("Tanaka", "tanaka"), ("Sharma", "sharma"), ("Murphy", "murphy"),
    ("D'Angelo", "d'angelo"), ("Lindqvist", "lindqvist"), ("Moreau", "moreau"), ("Rossi", "rossi"),
    ("N'Diaye", "n'diaye"), ("Müller", "muller"), ("Cohen", "cohen"), ("Adeyemi", "adeyemi"),
    ("Chen", "chen"), ("Smith", "smith"), ("Haugen", "haugen"), ("Patel", "patel"),
    ("Popescu", "popescu"), ("Ivanova", "ivanova"), ("O'Neill", "o'neill"), ("Yılmaz", "yilmaz"),
    ("Dubois", "dubois"), ("Fernández", "fernandez"), ("de Vries", "devries"), ("Mensah", "mensah"),
)  # fmt: skip
_DOMAINS: Final = ("example.com", "example.org", "example.net", "mail.example.com")
_ALNUM: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class SampleData:
    """A generated population: persons, what they felt, what they asked for, and the key.

    ``personas`` maps each person id to its hidden persona (see :data:`PERSONA_ARCHETYPES`);
    it is for checking a profile engine, not something a source would know.
    """

    now: datetime
    persons: tuple[Person, ...]
    perceptions: tuple[Perception, ...]
    preferences: tuple[Preference, ...]
    twins: tuple[str, str]
    """(delighted twin id, trapped twin id): same facts, opposite feelings."""
    personas: Mapping[str, str]

    def records(self) -> Iterator[InterchangeRecord]:
        """Persons first, then perceptions, then preferences: ready for write_interchange."""
        yield from self.persons
        yield from self.perceptions
        yield from self.preferences

    def person(self, person_id: str) -> Person:
        return next(p for p in self.persons if p.id == person_id)

    def perceptions_of(self, person_id: str) -> list[Perception]:
        return [p for p in self.perceptions if p.person_id == person_id]


def sample_to_interchange(sample: SampleData) -> Iterator[InterchangeRecord]:
    """The sample as interchange records (persons, perceptions, preferences)."""
    return sample.records()


def generate_sample(*, persons: int = 60, seed: int = 7, now: datetime) -> SampleData:
    """A realistic, deterministic population of ``persons`` people (twins included).

    The first persons after the twins cycle through every persona, so from
    ``2 + len(PERSONAS)`` persons on every archetype is present; the rest are drawn with
    the personas' weights. Perceptions span the two years before ``now``.
    """
    _check_now(now)
    if persons < 2:
        raise ValueError(f"persons must be at least 2 (the twins); got {persons}")
    rng = random.Random(seed)
    ids = _RecordIds(rng)

    others = persons - 2
    chosen = [PERSONAS[i % len(PERSONAS)] for i in range(min(others, len(PERSONAS)))]
    weights = [persona.weight for persona in PERSONAS]
    chosen += rng.choices(PERSONAS, weights=weights, k=others - len(chosen))
    rng.shuffle(chosen)
    withheld = set(rng.sample(range(others), k=min(others, max(1, round(others * 0.07)))))

    person_models: list[Person] = []
    perception_dicts: list[dict[str, Any]] = []
    preferences: list[Preference] = []
    personas: dict[str, str] = {}
    used_emails: set[str] = set()

    twin_facts = _twin_facts(now)
    for person_id, persona_name in (
        (TWIN_DELIGHTED, "delighted"),
        (TWIN_TRAPPED, "trapped_detractor"),
    ):
        person_models.append(
            _person(rng, person_id, now, twin_facts, granted=True, used_emails=used_emails)
        )
        personas[person_id] = persona_name
        for moment in _TWIN_SCRIPTS[person_id]:
            perception_dicts += _moment_perceptions(rng, ids, person_id, moment, now)
        history: tuple[Tone, ...] = (
            ("warm", "positive") if persona_name == "delighted" else ("positive", "neutral")
        )
        perception_dicts += _history(rng, ids, person_id, history, (2, 2), False, now)

    for index, persona in enumerate(chosen):
        person_id = f"p-{index + 1:04d}"
        facts = _facts(rng, persona.behaviour, now)
        person = _person(
            rng, person_id, now, facts, granted=index not in withheld, used_emails=used_emails
        )
        person_models.append(person)
        personas[person_id] = persona.name
        for moment in persona.moments:
            perception_dicts += _moment_perceptions(rng, ids, person_id, moment, now)
        perception_dicts += _history(
            rng,
            ids,
            person_id,
            persona.history_tones,
            persona.history_count,
            persona.history_public,
            now,
        )
        if rng.random() < 0.25:
            preferences += _preferences(rng, ids, person_id, now)

    perception_dicts.sort(key=lambda d: (d["occurred_at"], d["provenance"]["source_record_id"]))
    return SampleData(
        now=now,
        persons=tuple(person_models),
        perceptions=tuple(Perception.model_validate(d) for d in perception_dicts),
        preferences=tuple(preferences),
        twins=(TWIN_DELIGHTED, TWIN_TRAPPED),
        personas=personas,
    )


# --------------------------------------------------------------------------------------
# Bulk: volume for benchmarks
# --------------------------------------------------------------------------------------


def generate_bulk(
    *, persons: int, perceptions_per_person: int, seed: int, now: datetime
) -> Iterator[Person | Perception]:
    """Persons and perceptions for benchmarks, lazily: each person, then their perceptions.

    Same personas and texts as :func:`generate_sample`, built with less care per record
    (no twins, no preferences, ids from counters) so that a million is quick to make.
    Archetypes are plausible, not guaranteed: a fixed number of perceptions per person
    does not respect every persona's evidence budget.
    """
    for kind, data in _bulk_dicts(persons, perceptions_per_person, seed, now):
        if kind == "person":
            yield Person.model_validate(data)
        else:
            yield Perception.model_validate(data)


def generate_bulk_lines(
    *, persons: int, perceptions_per_person: int, seed: int, now: datetime
) -> Iterator[str]:
    """The same records as :func:`generate_bulk`, as interchange lines (with ``\\n``).

    Skips building models, so a benchmark can write a million-line file in seconds;
    reading the file back gives records equal to :func:`generate_bulk`'s.
    """
    for kind, data in _bulk_dicts(persons, perceptions_per_person, seed, now):
        # pydantic-core's encoder: compact, UTF-8 as is, and several times faster than json.
        yield f'{{"type":"{kind}",{to_json(data).decode()[1:]}\n'


def _bulk_dicts(
    persons: int, per_person: int, seed: int, now: datetime
) -> Iterator[tuple[str, dict[str, Any]]]:
    _check_now(now)
    if persons < 0 or per_person < 0:
        raise ValueError("persons and perceptions_per_person must not be negative")
    rng = random.Random(seed)
    cumulative = list(accumulate(persona.weight for persona in PERSONAS))
    total = cumulative[-1]
    history = {
        persona.name: Moment(
            _ALL_KINDS if persona.history_public else _PRIVATE_KINDS,
            persona.history_tones,
            (180, 730),
        )
        for persona in PERSONAS
        if persona.history_tones and persona.history_count[1] > 0
    }
    for index in range(persons):
        persona = PERSONAS[bisect(cumulative, rng.random() * total)]
        person_id = f"b{index:07d}"
        first, first_slug = _pick(rng, _FIRST)
        last, last_slug = _pick(rng, _LAST)
        yield (
            "person",
            {
                "id": person_id,
                "display_name": f"{first} {last}",
                "emails": [f"{first_slug}.{last_slug}.{index}@{_pick(rng, _DOMAINS)}"],
                "consent": {"granted": rng.random() >= 0.05},
                "facts": _facts(rng, persona.behaviour, now),
            },
        )
        ids = _CounterIds(person_id)
        for _ in range(per_person):
            if persona.name in history and rng.random() < 0.3:
                moment = history[persona.name]
            else:
                moment = _pick(rng, persona.moments)
            tone = _pick(rng, moment.tones)
            age = rng.uniform(*moment.age_days)
            yield (
                "perception",
                _perception(
                    rng,
                    ids,
                    person_id,
                    _pick(rng, moment.kinds),
                    tone,
                    now - timedelta(days=age),
                    moment.special,
                ),
            )


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------


class _RecordIds:
    """Source record ids that look like each system's own, unique per system."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[tuple[str, str]] = set()
        self._counters: dict[str, int] = {}

    def next(self, system: str, kind: str) -> str:
        while True:
            candidate = self._candidate(system, kind)
            if (system, candidate) not in self._seen:
                self._seen.add((system, candidate))
                return candidate

    def _candidate(self, system: str, kind: str) -> str:
        rng = self._rng
        if system == "qualtrics":
            return "R_" + "".join(rng.choices(_ALNUM, k=15))
        if system == "salesforce":
            prefix = "006" if kind == "donation" else "02s"
            return prefix + "5g00000" + "".join(rng.choices(_ALNUM, k=8))
        if system == "trustpilot":
            return f"{rng.getrandbits(96):024x}"
        if system == "talkdesk":
            return f"{rng.getrandbits(128):032x}"
        start = {"zendesk": 48_000, "intercom": 21_500_000_000, "brandwatch": 1_700_000_000}
        counter = self._counters.get(system, start.get(system, 100_000) + rng.randrange(500))
        self._counters[system] = counter + rng.randrange(1, 40)
        return str(counter)


class _CounterIds:
    """Cheap unique ids for bulk data: person id plus a running number."""

    def __init__(self, person_id: str) -> None:
        self._prefix = person_id
        self._count = 0

    def next(self, system: str, kind: str) -> str:
        self._count += 1
        return f"{self._prefix}-{kind}-{self._count}"


def _pick(rng: random.Random, options: Sequence[_T]) -> _T:
    """``rng.choice`` without its rejection sampling: a third of the cost, just as seeded."""
    return options[int(rng.random() * len(options))]


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware, e.g. datetime(2026, 1, 1, tzinfo=UTC)")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _moment_perceptions(
    rng: random.Random, ids: _RecordIds, person_id: str, moment: Moment, now: datetime
) -> list[dict[str, Any]]:
    if rng.random() >= moment.probability:
        return []
    return [
        _perception(
            rng,
            ids,
            person_id,
            _pick(rng, moment.kinds),
            _pick(rng, moment.tones),
            now - timedelta(days=rng.uniform(*moment.age_days)),
            moment.special,
        )
        for _ in range(rng.randint(*moment.count))
    ]


def _history(
    rng: random.Random,
    ids: _RecordIds,
    person_id: str,
    tones: Sequence[Tone],
    count: tuple[int, int],
    public: bool,
    now: datetime,
) -> list[dict[str, Any]]:
    """Older perceptions (6 to 24 months back): they shape trends, barely the archetype."""
    if not tones:
        return []
    kinds = _ALL_KINDS if public else _PRIVATE_KINDS
    moment = Moment(kinds, tuple(tones), (180, 730), count)
    return _moment_perceptions(rng, ids, person_id, moment, now)


def _pick_text(rng: random.Random, kind: Kind, tone: Tone, special: Special) -> _Entry:
    if kind == "event":
        return _EVENT[tone]
    if kind == "donation":
        return _DONATION[tone]
    bank = (_PUBLIC if kind in ("social", "review") else _GENERIC)[tone]
    if special is not None:
        matching = [entry for entry in bank if entry[3] == special]
        if matching:
            return _pick(rng, matching)
        # A tone with no such text (a churn threat in a warm mood): borrow a negative one.
        fallback = (_PUBLIC if kind in ("social", "review") else _GENERIC)["negative"]
        return _pick(rng, [entry for entry in fallback if entry[3] == special] or fallback)
    # Saying you leave or are locked in is a persona's story, not a random remark.
    return _pick(rng, [entry for entry in bank if entry[3] not in ("churn", "trapped")] or bank)


def _perception(
    rng: random.Random,
    ids: _RecordIds | _CounterIds,
    person_id: str,
    kind: Kind,
    tone: Tone,
    occurred_at: datetime,
    special: Special,
) -> dict[str, Any]:
    """One perception as interchange-ready JSON data (strings for times)."""
    channel, system, touchpoint, public = _KIND_CHANNEL[kind]
    data: dict[str, Any] = {
        "person_id": person_id,
        "occurred_at": _iso(occurred_at.replace(microsecond=0)),
        "channel": channel,
    }
    if touchpoint is not None:
        data["touchpoint"] = touchpoint
    if public:
        data["public"] = True
    with_text = True
    if kind == "nps":
        data["nps"] = {"value": _pick(rng, _NPS[tone]), "kind": "relational"}
        with_text = rng.random() < 0.8
    elif kind == "csat":
        data["csat"] = {"value": _pick(rng, _CSAT[tone])}
        if rng.random() < 0.6:
            data["ces"] = {"value": _pick(rng, _CES2[tone]), "version": "2.0"}
        with_text = rng.random() < 0.5
    elif kind == "ces":
        data["ces"] = {"value": _pick(rng, _CES2[tone]), "version": "2.0"}
        with_text = rng.random() < 0.4
    elif kind == "review":
        data["csat"] = {"value": _pick(rng, _CSAT[tone])}  # the star rating
    elif kind == "event" and rng.random() < 0.7:
        data["csat"] = {"value": _pick(rng, _CSAT[tone])}
    if with_text or special is not None:
        topic, text, emotions, flag = _pick_text(rng, kind, tone, special)
        if kind == "review":
            text = text.replace("@acme", "Acme")
        low, high = _TEXT_VALENCE[tone]
        intensities = {
            name: round(min(1.0, max(0.0, value * rng.uniform(0.85, 1.15))), 2)
            for name, value in emotions.items()
        }
        total = sum(intensities.values())
        arousal = (
            sum(value * _AROUSAL[name] for name, value in intensities.items()) / total
            if total > 0
            else 0.3
        )
        data["topic"] = topic
        data["valence"] = round(rng.uniform(low, high), 3)
        data["arousal"] = round(arousal, 3)
        if intensities:
            data["emotions"] = intensities
        if flag == "churn":
            data["flags"] = {"churn_intent": True}
        elif flag == "trapped":
            data["flags"] = {"trapped": True, "churn_intent": True}
        elif flag == "sarcasm":
            data["flags"] = {"sarcasm": True}
        data["verbatim"] = text
        data["confidence"] = 0.6
    data["provenance"] = {
        "source_system": system,
        "source_record_id": ids.next(system, kind),
        **({"analyzer": ANALYZER[0], "analyzer_version": ANALYZER[1]} if "valence" in data else {}),
    }
    return data


def _twin_facts(now: datetime) -> dict[str, Any]:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "customer_since": _iso(day - timedelta(days=1461)),
        "last_purchase_at": _iso(day - timedelta(days=21)),
        "purchases_last_365d": 8,
        "renewals": 3,
        "renewed_last_term": True,
    }


def _facts(rng: random.Random, behaviour: Behaviour, now: datetime) -> dict[str, Any]:
    """Behaviour facts that put B (recipe 5.3) well clear of the 0.5 line.

    high: tenure > 2 years, bought within 3 months, >= 3 purchases, renewed -> B >= 0.86.
    low, lapsed: nothing bought for 10+ months, did not renew -> B <= 0.33.
    low, new: one purchase 1-4 months ago, no renewal yet -> B <= 0.40.
    """
    if behaviour == "none":
        return {}
    if behaviour == "any":
        behaviour = _pick(rng, ("high", "low"))
    day = now.replace(minute=0, second=0, microsecond=0)
    if behaviour == "high":
        return {
            "customer_since": _iso(day - timedelta(days=rng.randint(800, 2600))),
            "last_purchase_at": _iso(day - timedelta(days=rng.randint(5, 90))),
            "purchases_last_365d": rng.randint(3, 12),
            "renewals": rng.randint(1, 6),
            "renewed_last_term": True,
        }
    if rng.random() < 0.6:
        return {
            "customer_since": _iso(day - timedelta(days=rng.randint(450, 1800))),
            "last_purchase_at": _iso(day - timedelta(days=rng.randint(300, 700))),
            "purchases_last_365d": 0,
            "renewals": rng.randint(0, 2),
            "renewed_last_term": False,
        }
    since = _iso(day - timedelta(days=rng.randint(30, 120)))
    return {
        "customer_since": since,
        "last_purchase_at": since,
        "purchases_last_365d": 1,
        "renewals": 0,
    }


def _person(
    rng: random.Random,
    person_id: str,
    now: datetime,
    facts: dict[str, Any],
    *,
    granted: bool,
    used_emails: set[str],
) -> Person:
    first, first_slug = _pick(rng, _FIRST)
    last, last_slug = _pick(rng, _LAST)
    domain = _pick(rng, _DOMAINS)
    local = _pick(
        rng,
        (f"{first_slug}.{last_slug}", f"{first_slug[0]}{last_slug}", f"{first_slug}_{last_slug}"),
    )
    email = f"{local}@{domain}"
    suffix = 2
    while email in used_emails:
        email = f"{local}{suffix}@{domain}"
        suffix += 1
    used_emails.add(email)
    emails = [email]
    home = f"{first_slug}.{last_slug.replace(chr(39), '')}@home.example.org"
    if rng.random() < 0.2 and home not in used_emails:
        used_emails.add(home)
        emails.append(home)
    # Identities are unique across persons (the store refuses to share one), so a
    # drawn phone or handle that someone already has is simply not given.
    phones = []
    if rng.random() < 0.7:
        phone = _pick(
            rng,
            (
                f"+1 555 01{rng.randint(0, 99):02d}",
                f"+44 20 7946 0{rng.randint(0, 999):03d}",
                f"+33 1 99 00 {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}",
            ),
        )
        key = "phone:" + "".join(ch for ch in phone if ch.isdigit())
        if key not in used_emails:
            used_emails.add(key)
            phones.append(phone)
    handles = []
    drawn = []
    if rng.random() < 0.4:
        drawn.append({"platform": "x", "handle": f"@{first_slug}{last_slug[:4]}".replace("'", "")})
    if rng.random() < 0.15:
        drawn.append({"platform": "instagram", "handle": f"{first_slug}.{rng.randint(1, 99)}"})
    for handle in drawn:
        key = f"handle:{handle['platform']}:{handle['handle'].lower()}"
        if key not in used_emails:
            used_emails.add(key)
            handles.append(handle)
    sf_object, sf_prefix = ("Lead", "00Q") if not facts else ("Contact", "003")
    crm_records = [
        {
            "system": "salesforce",
            "object": sf_object,
            "id": sf_prefix + "5g00000" + "".join(rng.choices(_ALNUM, k=8)),
        }
    ]
    if rng.random() < 0.3:
        crm_records.append(
            {"system": "hubspot", "object": "contact", "id": str(rng.randint(10**8, 10**9))}
        )
    consent_at = now - timedelta(days=rng.randint(30, 900))
    return Person.model_validate(
        {
            "id": person_id,
            "display_name": f"{first} {last}",
            "emails": emails,
            "phones": phones,
            "handles": handles,
            "crm_records": crm_records,
            "consent": {
                "granted": granted,
                "updated_at": _iso(consent_at.replace(microsecond=0)),
                "source": "signup form" if granted else "preference centre: opted out",
            },
            "facts": facts,
        }
    )


def _preferences(
    rng: random.Random, ids: _RecordIds, person_id: str, now: datetime
) -> list[Preference]:
    options = (
        ("channel", ("email", "phone", "sms")),
        ("frequency", ("monthly", "quarterly", "only when something changes")),
        ("language", ("en", "fr", "de", "es")),
        ("topic", ("product updates", "billing", "events")),
        ("time", ("mornings", "afternoons", "not on Fridays")),
    )
    stated_at = now - timedelta(days=rng.uniform(10, 400))
    return [
        Preference.model_validate(
            {
                "person_id": person_id,
                "kind": kind,
                "value": _pick(rng, values),
                "stated_at": _iso(stated_at.replace(microsecond=0)),
                "provenance": {
                    "source_system": "salesforce",
                    "source_record_id": ids.next("salesforce", "preference"),
                },
            }
        )
        for kind, values in rng.sample(options, k=rng.randint(1, 2))
    ]


__all__ = [
    "PERSONAS",
    "PERSONA_ARCHETYPES",
    "TWIN_DELIGHTED",
    "TWIN_TRAPPED",
    "Persona",
    "SampleData",
    "generate_bulk",
    "generate_bulk_lines",
    "generate_sample",
    "sample_to_interchange",
]
