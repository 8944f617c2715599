"""relcrm's customer-experience phrase rules: what VADER's word list cannot see.

Each rule is a regular expression over one lower-cased sentence. They catch praise
idioms and complaints without strong words, sarcasm, churn intent, "trapped" customers
and polite requests, whose courtesy words VADER would otherwise count as praise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from relcrm.analyze.cues import Cue


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(patterns) + r")(?!\w)")


PRAISE = _any(
    r"five stars?",
    r"5 stars?",
    r"would (?:definitely |happily )?(?:buy|recommend|use|order) (?:again|you|it|this|to)",
    r"(?:highly|definitely|totally) recommend",
    r"nailed it",
    r"saved my \w+",
    r"never had (?:a single|any|one) (?:problem|issue|complaint)s?",
    r"no complaints",
    r"above and beyond",
    r"rock solid",
    r"works? (?:fine|perfectly|great|like a charm|flawlessly)",
    r"made my day",
    r"in good hands",
    r"kept me informed",
    r"sorted (?:out|it)",
    r"not (?:bad|the worst)(?: at all)?",
)
"""Praise that VADER scores neutral or even negative ("never had a single problem")."""

COMPLAINT = _any(
    r"(?:zero|0|one|1) stars?",
    r"would(?: not|n't) recommend",
    r"never again",
    r"still waiting",
    r"no (?:response|reply|answer|update)s?",
    r"nobody (?:can|could|will|has|seems|is)",
    r"no one (?:can|could|will|has|seems|is)",
    r"(?:has|have)(?: not|n't) worked",
    r"(?:is|are)(?: not|n't) working",
    r"(?:does|do)(?: not|n't) work",
    r"not working",
    r"keeps? (?:timing out|crashing|failing|freezing|logging me out)",
    r"(?:charged|billed) (?:me )?(?:twice|again|after)",
    r"hung up on",
    r"bounced (?:between|around)",
    r"(?:want|need) (?:a|my) refund",
    r"(?:second|third|fourth|fifth) time",
    r"(?:down|broken|offline) (?:for|since|again)",
    r"not impressed",
    r"had enough",
    r"fed up",
    r"sick of",
    r"waste of (?:time|money)",
    r"missed (?:our|my) \w+",
    r"without (?:any )?(?:notice|warning|explanation)",
    r"(?:price|prices|fees?) (?:hike|went up|increase\w*|rose)",
    r"puts? (?:me|us) off",
    r"too many (?:emails|letters|calls|messages|texts)",
)
"""Complaints with no strong word ("still waiting for a response")."""

_OPENER = (
    r"(?:oh |yeah |wow,? )?(?:great|wonderful|fantastic|perfect|brilliant|lovely|nice|superb|"
    r"amazing|awesome|excellent|cool|marvellous|marvelous|terrific|splendid|just great)"
)
SARCASTIC_OPENER = re.compile(r"^\W*" + _OPENER + r"\s*(?:[,.!…]|\s+(?:job|work|timing)\b)")
SARCASTIC_FRAME = _any(
    r"(?:gotta |got to |just )?love (?:how|it when|that|waiting|being|paying)",
    r"thanks? (?:a lot|so much|very much)? ?for (?:the|nothing|cancel\w*|charg\w*|los\w*)",
    r"just what (?:i|we|everyone) (?:needed|need|wanted)",
    r"what a (?:great|wonderful|fantastic|brilliant|lovely) way to",
    r"totally normal",
    r"nice try",
)
SARCASM_FIXED = _any(r"thanks for nothing", r"yeah,? right", r"nice try", r"just what i needed")
PROBLEM_EVENT = _any(
    r"outages?",
    r"down(?:time)?",
    r"crash\w*",
    r"on hold",
    r"wait\w*",
    r"charg\w*",
    r"bill\w*",
    r"bugs?",
    r"errors?",
    r"again",
    r"late",
    r"delay\w*",
    r"cancel\w*",
    r"hung up",
    r"fees?",
    r"lost",
    r"los(?:e|ing)",
    r"wiped",
    r"deleted",
    r"broke\w*",
    r"wrong",
    r"twice",
    r"(?:second|third) time",
    r"increase\w*",
    r"disconnected",
    r"never works?",
    r"without (?:telling|warning|notice)",
)
"""Things going wrong: praise next to one of these is probably sarcasm."""
RESOLUTION = _any(
    r"fixed", r"resolved", r"solved", r"sorted", r"restored", r"back up", r"working again"
)

CHURN = _any(
    r"cancel(?:l)?(?:ing)? (?:my|our|the) (?:\w+ )?"
    r"(?:subscription|account|contract|membership|plan|gift|service)",
    r"cancel(?:l)?(?:ing)? (?:my|our) (?:\w+ )?(?:plan|order)",
    r"clos(?:e|ing) (?:my|our) account",
    r"terminat(?:e|ing) (?:my|our|the) (?:agreement|contract|account|subscription)",
    r"(?:switch|mov)(?:e|ing) to (?:a |another |the )?"
    r"(?:competitor|rival|other provider|new provider)",
    r"(?:switching|moving) to (?:another|a different|a new) \w+",
    r"(?:evaluating|looking at|looking for|exploring|considering) (?:other )?"
    r"(?:alternatives|other (?:providers|vendors|suppliers|options|banks))",
    r"tak(?:e|ing) (?:our|my) business elsewhere",
    r"(?:not|n't|never) (?:be )?renew(?:ing)?",
    r"decided not to renew",
    r"(?:thinking|thought) (?:of|about) leaving",
    r"leaving for (?:a|another|the)",
    r"find (?:a|another) (?:new |better |different )?(?:bank|provider|vendor|supplier|company)",
    r"(?:i'm|i am|we're|we are) (?:leaving|done with you)",
)
"""The customer says they are leaving or considering it."""

TRAPPED_CONTRACT = _any(
    r"stuck with (?:you|your|this|the|them)",
    r"tied (?:in|into|to) (?:a|this|the|our|my|an?) \w+",
    r"locked (?:in|into)",
    r"lock (?:us|me) in",
    r"lock-in",
    r"until (?:the|my|our) (?:contract|term|agreement|licen[cs]e) "
    r"(?:ends|is up|expires|runs out|renewal)",
    r"(?:exit|termination|cancellation|early termination|early exit) "
    r"(?:fees?|penalt(?:y|ies)|charges?)",
    r"penalty for (?:early )?(?:termination|cancelling|canceling|leaving)",
)
TRAPPED_SWITCHING = _any(
    r"switching (?:is|would be|was) (?:too|so) (?:much )?(?:\w+ )?"
    r"(?:hassle|expensive|costly|painful|hard)",
    r"(?:migrating|moving) (?:off|away from|out of) .{0,40}(?:would|will) (?:cost|take)",
    r"(?:moving|migrating) .{0,40} out would (?:cost|take)",
    r"would cost (?:me|us) a fortune",
    r"cancelling would cost",
    r"the only (?:reason|thing) (?:i'm|i am|we're|we are|keeping|that keeps)",
    r"(?:only )?(?:stay|stayed|renewed|renew|paying|keep paying) because",
)
TRAPPED_NO_ALTERNATIVE = _any(
    r"no (?:other )?(?:choice|alternative|option)s? but",
    r"no other (?:provider|option|choice|bank|supplier|vendor)s?",
    r"(?:every|any) other (?:provider|option|supplier) (?:needs|would|requires)",
    r"hands are tied",
)

POLITE_REQUEST = _any(
    r"could you(?: please)?",
    r"can you(?: please)?",
    r"would you(?: please| kindly| mind| be so kind)?",
    r"please (?:can|could) (?:you|someone)",
    r"kindly",
    r"i'?d appreciate (?:it )?if",
    r"would it be possible",
    r"please (?!don't|do not)\w+",
)
COURTESY = _any(
    r"(?:many |much )?thanks?(?: you)?(?: (?:so|very) much)?(?: in advance)?",
    r"much appreciated",
    r"appreciate it",
    r"please",
    r"kindly",
    r"cheers",
    r"kind regards",
    r"best regards",
)
"""Courtesy formulas: polite, not praise, when they wrap a request."""


@dataclass(frozen=True)
class RuleHits:
    """The rules one sentence triggered."""

    praise: bool = False
    complaint: bool = False
    sarcasm: bool = False
    churn: bool = False
    trapped: Cue | None = None
    polite_request: bool = False

    @property
    def any(self) -> bool:
        return (
            self.praise
            or self.complaint
            or self.sarcasm
            or self.churn
            or self.polite_request
            or self.trapped is not None
        )


def is_sarcastic(sentence: str, following: str = "") -> bool:
    """Praise wrapped around a problem ("great, another outage"), or a fixed phrase."""
    if SARCASM_FIXED.search(sentence):
        return True
    if RESOLUTION.search(sentence):
        return False
    if SARCASTIC_OPENER.search(sentence) or SARCASTIC_FRAME.search(sentence):
        rest = SARCASTIC_OPENER.sub("", sentence, count=1)
        return bool(PROBLEM_EVENT.search(rest) or PROBLEM_EVENT.search(following))
    return False


def trapped_kind(sentence: str) -> Cue | None:
    """Which kind of "trapped" the sentence describes, if any."""
    if TRAPPED_CONTRACT.search(sentence):
        return Cue.TRAPPED_CONTRACT
    if TRAPPED_SWITCHING.search(sentence):
        return Cue.TRAPPED_SWITCHING_COST
    if TRAPPED_NO_ALTERNATIVE.search(sentence):
        return Cue.TRAPPED_NO_ALTERNATIVE
    return None


def match(sentence: str, following: str = "") -> RuleHits:
    """Apply every rule to one lower-cased sentence (``following`` is the next one)."""
    sarcasm = is_sarcastic(sentence, following)
    return RuleHits(
        praise=not sarcasm and bool(PRAISE.search(sentence)),
        complaint=bool(COMPLAINT.search(sentence)),
        sarcasm=sarcasm,
        churn=bool(CHURN.search(sentence)),
        trapped=trapped_kind(sentence),
        polite_request=bool(POLITE_REQUEST.search(sentence)),
    )


def strip_courtesy(sentence: str) -> str:
    """The sentence without courtesy formulas, so only its substance is scored."""
    return COURTESY.sub(" ", sentence)


def is_courtesy_only(sentence: str) -> bool:
    """True for a sign-off such as "Thank you!" or "Many thanks." with nothing else."""
    return not re.sub(r"[\W_]+", "", strip_courtesy(sentence))
