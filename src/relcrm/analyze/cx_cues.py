"""Customer-experience cues in six languages: what a word count cannot see.

Each cue is a set of phrase patterns matched on *normalised* text (lower case, accents
off, numbers as ``0``; see :func:`relcrm.analyze.features.normalise`), in English, French,
German, Spanish, Portuguese and Dutch. They were written from how customers write (in
surveys, tickets, chats, reviews, donor letters), not from any test set. The linear
analyzer reads them as features, so training decides how much each is worth; the few that
are precise enough also set flags directly (churn intent, "trapped", sarcasm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(patterns) + r")(?![\w'])")


_I = r"(?:i|we|i'm|we're|im|i'll|we'll|ill|i've|we've|ive|i'd|we'd|id)"
_YOU = r"(?:you|your|u|ur|this (?:company|bank|provider|place|shop|app|airline|hotel|service))"

CHURN = _any(
    # en: leaving, cancelling, switching, not renewing, not coming back
    r"cancel(?:l)?(?:ed|ing)? (?:my|our|the|this) (?:\w+ ){0,2}"
    r"(?:subscription|account|contract|membership|plan|policy|order|direct debit|standing order"
    r"|donation|donations|gift|giving|booking|service|card|line|package|sponsorship|renewal)",
    r"(?:how (?:do|can) (?:i|we)|want to|wanna|need to|going to|gonna|will|i'll|we'll) "
    r"(?:cancel|close|terminate|end|stop|quit|leave)\b",
    r"clos(?:e|ed|ing) (?:my|our|the) (?:\w+ )?account",
    r"terminat(?:e|ed|ing) (?:my|our|the|this) (?:\w+ )?(?:agreement|contract|account|policy)",
    r"(?:switch|switched|switching|mov(?:e|ed|ing)|go(?:ing)?|went|port(?:ed|ing)?) "
    r"(?:over )?(?:to|with) (?:a |another |the |a new |a different )?"
    r"(?:competitor|rival|other (?:provider|bank|company|supplier|network|insurer|airline))",
    r"(?:switching|moving|going|taking (?:my|our) (?:business|money|custom)) "
    r"(?:to (?:another|a different|a new|a cheaper)|elsewhere)",
    r"(?:found|find(?:ing)?|got|signed up with|sign(?:ing)? up with|went with|going with) "
    r"(?:a |another )?(?:cheaper|better|new|different) "
    r"(?:provider|supplier|deal|bank|insurer|option|company|gym|network|vendor|one)",
    r"(?:evaluating|looking at|looking for|exploring|considering|shopping (?:around|for)|"
    r"researching|comparing) (?:other |some )?(?:alternatives|options|providers|vendors|"
    r"suppliers|banks|insurers|competitors|quotes)",
    r"shopping around",
    r"(?:out|go(?:ing)?) to tender",
    r"(?:not|n't|never|won't|wont) (?:be )?renew(?:ing|ed)?",
    r"(?:decided|chosen|choose|chose) not to renew",
    r"(?:thinking|thought) (?:of|about) (?:leaving|switching|cancell?ing|moving)",
    r"(?:last|final) (?:time|order|booking|purchase|flight|stay|donation|visit|month)"
    r"(?: (?:with|from|at) " + _YOU + r")?(?! was great)",
    r"(?:never|not) (?:again|going back|coming back|returning|be back|ordering|booking|"
    r"flying|shopping|buying|using|donating|staying|recommending)",
    r"(?:won't|wont|will not|never) (?:be )?(?:order|book|fly|shop|buy|use|donat|stay|return|"
    r"come back|go back|be back|be using|be ordering|renew)\w*",
    r"(?:done|finished|through) with " + _YOU,
    r"(?:i'm|i am|we're|we are|im) (?:out|leaving|off|gone|done)\b",
    r"(?:leav|quit)(?:e|ing) (?:you|your|this|for)",
    r"port(?:ing)? (?:my|our) (?:number|numbers)",
    r"(?:stopped|stopping|stop) (?:my|our|the) (?:\w+ )?(?:donation|donations|giving|"
    r"direct debit|standing order|subscription|membership|payments)",
    r"(?:taking|take|moved|moving) (?:my|our) (?:\w+ )?(?:business|money|custom|account|"
    r"mortgage|savings|pension|policy|contract) (?:elsewhere|to)",
    r"(?:unsubscribe|unsubscribed|opt(?:ed)? out)",
    r"(?:will|'ll|going to|gonna|about to) (?:move|switch|take|transfer|port) (?:my|our|the) "
    r"(?:\w+ )?(?:policy|business|account|mortgage|contract|savings|pension|custom|number|"
    r"broadband|energy|money)",
    r"(?:a |got a |have a )?(?:quote|offer) from (?:another|a different|a new|a cheaper|a rival) "
    r"(?:insurer|provider|bank|supplier|company|broker|network|carrier|vendor)",
    # fr
    r"(?:resilier|resilie|resiliation|resilierai|annuler|annule|desabonn\w*|desinscri\w*)",
    r"(?:changer|change|passer|passe|partir|pars|quitter|quitte) (?:chez|de fournisseur|"
    r"d'operateur|de banque|d'assureur|a la concurrence|ailleurs|vers)",
    r"(?:plus jamais|ne (?:\w+ )?plus jamais|derniere fois|derniere commande|je m'en vais)",
    r"(?:vais|allons) (?:voir|aller) ailleurs",
    r"(?:ne|n') (?:\w+ )?(?:renouvel\w*|recommander\w*|reviendr\w*|commander\w*) (?:\w+ )?plus",
    # de
    r"(?:kundig\w*|gekundigt|abbestell\w*|storniert|stornieren|abgemeldet|abmelden)",
    r"(?:wechsle|wechseln|gewechselt|wechsel) (?:\w+ ){0,3}"
    r"(?:anbieter|bank|versicherung|konkurrenz|zu)",
    r"(?:anbieter|bank|versicherung|werkstatt|tarif|vertrag|kasse|stromanbieter|provider) "
    r"(?:\w+ )?(?:wechseln|gewechselt|kundigen|gekundigt)",
    r"(?:mache|machen|kaufe|kaufen|bestelle|bestellen|gehe|gehen|buche|buchen) (?:\w+ ){0,3}"
    r"(?:woanders|anderswo|bei der konkurrenz)",
    r"(?:nie wieder|nimmer wieder|das letzte mal|zum letzten mal|nicht mehr (?:bestellen|"
    r"buchen|kaufen|spenden|verlangern|kommen))",
    r"(?:vertrag|abo|mitgliedschaft) (?:\w+ )?(?:nicht verlangern|auslaufen lassen|beenden)",
    # es
    r"(?:dar(?:me|nos)? de baja|darme de baja|baja del servicio|cancelar (?:mi|el|la|nuestro)|"
    r"cancele|cancelado mi)",
    r"(?:me cambio|nos cambiamos|me voy|nos vamos|cambiarme|cambiarnos) (?:a|de|con)",
    r"(?:nunca mas|no vuelvo|no volvere|no volveremos|ultima vez|no (?:voy a |vamos a )?"
    r"renovar)",
    r"(?:buscando|buscar) (?:otra|otro|alternativas)",
    # pt
    r"(?:cancelar (?:o|a|meu|minha)|cancelei|vou cancelar|cancelamento)",
    r"(?:mudar|mudei|vou mudar|trocar|troquei|vou trocar) (?:de|para) "
    r"(?:operadora|banco|seguradora|fornecedor|outra|outro)",
    r"(?:nunca mais|nao volto|nao voltarei|ultima vez|nao vou renovar)",
    # nl
    r"(?:opgezegd|opzeggen|zeg (?:\w+ )?op|opzegging|stopgezet|afgemeld)",
    r"(?:overstappen|overgestapt|stap (?:\w+ )?over) (?:naar|bij)?",
    r"(?:nooit meer|laatste keer|niet meer (?:bestellen|boeken|kopen|doneren|verlengen))",
)
"""The customer says they leave, have left, or are looking to leave."""

TRAPPED = _any(
    # en: contracts and fees
    r"stuck (?:with|in|on) (?:you|your|this|the|them|a|an|my|our)",
    r"(?:tied|locked|trapped) (?:in|into|to) (?:a|this|the|our|my|an|you|your)",
    r"lock(?:s|ed)? (?:us|me|people|customers) in",
    r"lock-?in",
    r"until (?:the|my|our|this) (?:\w+ )?(?:contract|term|agreement|licen[cs]e|deal|fixed rate|"
    r"mortgage) (?:ends|is up|expires|runs out|finishes)",
    r"(?:exit|termination|cancellation|early termination|early exit|early repayment|"
    r"break|leaving) (?:fees?|penalt(?:y|ies)|charges?|costs?)",
    r"(?:penalty|fee) (?:for|to) (?:leave|leaving|cancel\w*|switch\w*|end\w*)",
    r"(?:months?|years?) left on (?:my|our|the) (?:contract|deal|term|plan)",
    # en: switching costs and no alternative
    r"(?:switching|moving|migrating|leaving|changing) (?:\w+ ){0,3}(?:is|would be|was|"
    r"isn't|is not) (?:\w+ )?(?:too|so|such|a) (?:much |big )?(?:\w+ )?"
    r"(?:hassle|expensive|costly|painful|hard|effort|pain|faff|nightmare)",
    r"(?:too much|such a|a) (?:hassle|faff|pain|effort) to (?:switch|move|change|leave|migrate)",
    r"(?:would|will) cost (?:me|us) (?:a fortune|more|too much|thousands)",
    r"(?:migrating|moving|switching|leaving|changing|porting|transferring)(?: \w+){0,6} "
    r"(?:would|will|'d|'ll) (?:cost|take|mean|set us back)",
    r"(?:only|still) (?:here|stay\w*|with you|renew\w*|paying|a customer|bank\w* with you)"
    r"(?: \w+){0,3} (?:because|cos|cause|since|due to|for)",
    r"the only (?:reason|thing) (?:i'm|i am|we're|we are|keeping|that keeps|i stay|we stay)",
    r"no (?:other )?(?:choice|alternative|option)s?",
    r"no other (?:\w+ )?(?:provider|option|choice|bank|supplier|vendor|network|line|way|route|"
    r"airline|operator|company|school|gp|surgery|pharmacy|insurer|broadband|shop|store)s?",
    r"(?:only|the only) (?:provider|option|supplier|network|bank|one) (?:that|who|in|around|"
    r"available|here)",
    r"hands are tied",
    r"(?:if|once) (?:i|we) could(?:,)? (?:i|we)(?:'d| would)",
    r"(?:i'd|i would|we'd|we would|id) (?:switch|leave|move|go|cancel|be gone|walk)"
    r"(?: \w+){0,3} (?:if|but|tomorrow|in a heartbeat|today)",
    r"(?:if it (?:wasn't|weren't|wasnt|werent) for|if not for|were it not for) "
    r"(?:the|my|our|this)",
    r"(?:can't|cant|cannot|can not|unable to|couldn't) (?:afford to )?(?:leave|switch|cancel|"
    r"get out|escape|move)",
    r"held hostage",
    r"stuck (?:for|until|till) (?:another|the next|the rest of|0|two|three|four|five|"
    r"several|many)",
    r"(?:still|another) (?:0|two|three|four|five|six|\w+) (?:months|years) (?:to go|left)",
    # fr
    r"(?:engage|bloque|coince|piege|lie)s? (?:\w+ ){0,2}(?:par|avec|jusqu)",
    r"(?:frais|penalites?) (?:de )?(?:resiliation|sortie|rupture)",
    r"(?:pas|aucun) (?:le )?choix",
    r"(?:seul|seule|unique) (?:operateur|fournisseur|option)",
    r"si je pouvais",
    r"(?:sinon|autrement) je (?:serais|serai) (?:deja )?(?:parti|partie|ailleurs)",
    # de
    r"(?:vertraglich )?gebunden|(?:im|in den|am) vertrag (?:gefangen|festgenagelt)",
    r"(?:vertrag|vertragslaufzeit) (?:\w+ ){0,3}(?:noch|lauft noch|bis)",
    r"(?:keine|gar keine) (?:andere )?(?:wahl|alternative)",
    r"(?:wechsel|kundigung) (?:\w+ ){0,3}(?:zu teuer|zu aufwendig|kostet)",
    r"(?:wenn ich konnte|wenn wir konnten|sonst ware (?:ich|wir) (?:langst )?weg)",
    # es / pt
    r"(?:atad|amarrad|atrapad|pres|obrigad)[oa]s? (?:\w+ ){0,2}(?:por|con|a|ao|pelo|pela|"
    r"ate|hasta)",
    r"(?:permanencia|penalizacion|multa|fidelizacao|fidelidade)",
    r"(?:no|nao) (?:tengo|tenemos|tenho|temos|hay|ha) (?:otra |outra )?"
    r"(?:opcion|opcao|alternativa|remedio|escolha)",
    r"(?:si pudiera|se pudesse|si pudiéramos|se pudessemos)",
    r"(?:ya|ja) (?:me|nos) (?:habria|teria) (?:ido|cambiado|mudado)",
    # nl
    r"(?:vast aan|vastzitten|(?:zitten|zit|zaten|zat) (?:\w+ )?vast|gebonden aan)",
    r"(?:opzegkosten|boete|afkoopsom)",
    r"(?:geen|weinig) (?:andere )?(?:keus|keuze|alternatief)",
    r"(?:anders|anders waren|anders was) (?:\w+ ){0,3}(?:allang|al lang|weg|overgestapt)",
    r"als ik (?:kon|zou kunnen)",
)
"""The customer stays without wanting to (Jones & Sasser's hostage)."""

SARCASM_FIXED = _any(
    r"thanks? for nothing",
    r"yeah,? right",
    r"nice try",
    r"just what (?:i|we) (?:needed|wanted)",
    r"(?:wow|oh),? (?:thanks|great|wonderful|perfect|brilliant|amazing)",
    r"(?:what|such) (?:a|an) (?:great|wonderful|fantastic|brilliant|lovely|amazing|stellar) "
    r"(?:way|start|experience|service)(?: to)?",
    r"(?:stellar|top notch|world class|first class|excellent|great|amazing) "
    r"(?:service|work|job|communication)(?:,| as always| again| once again| guys| team| lol)"
    r"(?! \w+ (?:helped|sorted|fixed))",
    r"(?:love|loving|gotta love|got to love|have to love|you have to love) "
    r"(?:how|it when|that|waiting|being|paying|the way)",
    r"(?:really|truly) (?:appreciate|love) (?:being|waiting|paying|the (?:hold|wait))",
    r"(?:slow )?clap",
    r"(?:well )?done,? (?:guys|team|everyone)(?:\W|$)",
    r"10/10 would (?:not|never)",
    r"keep up the (?:good|great) work(?= \W*(?:$|🙄|👏|😒))",
    r"merci pour rien",
    r"(?:super|genial|bravo|parfait|formidable|magnifique),? (?:encore|de nouveau|toujours)",
    r"(?:toll|super|klasse|prima|herrlich|wunderbar),? (?:schon wieder|wieder mal|mal wieder|"
    r"wieder)",
    r"(?:danke|vielen dank) fur nichts",
    r"(?:genial|estupendo|maravilloso|perfecto|genial),? (?:otra vez|de nuevo|como siempre)",
    r"(?:gracias|obrigad[oa]) por nada",
    r"(?:que maravilha|otimo|perfeito|lindo),? (?:de novo|outra vez|mais uma vez)",
    r"(?:geweldig|top|fantastisch|prachtig|lekker|super),? (?:weer|alweer|opnieuw|wederom)",
    r"bedankt voor niks",
)
"""Fixed ironic phrases; praise next to a problem is found by :func:`_praise_around_problem`."""

_SARCASTIC_OPENER = re.compile(
    r"^\W*(?:oh |yeah |wow,? |well,? |ah,? )?(?:great|wonderful|fantastic|perfect|brilliant|"
    r"lovely|nice|superb|amazing|awesome|excellent|cool|marvellous|marvelous|terrific|"
    r"splendid|love it|loving it|fab|super|genial|parfait|toll|geweldig|otimo|estupendo|"
    r"fantastico|maravilloso|prima|chapeau|bravo)\b\s*(?:[,.!…]|\s+(?:job|work|timing|stuff)\b)"
)
_PROBLEM_EVENT = _any(
    r"outages?", r"down(?:time)?", r"crash\w*", r"on hold", r"(?:still )?wait\w*", r"charg\w*",
    r"bill\w*", r"bugs?", r"errors?", r"again", r"late", r"delay\w*", r"cancel\w*",
    r"hung up", r"fees?", r"lost", r"los(?:e|ing)", r"wiped", r"deleted", r"broke\w*",
    r"wrong", r"twice", r"(?:second|third|fourth|fifth) (?:time|day|week)", r"increase\w*",
    r"disconnected", r"never", r"without (?:telling|warning|notice)", r"another", r"no (?:one|"
    r"signal|reply|response|answer|show|internet|wifi|power|water|heating)", r"stuck",
    r"missed", r"missing", r"cold", r"dirty", r"queue\w*", r"hours?", r"minutes", r"days",
    r"weeks", r"encore", r"panne", r"retard", r"wieder", r"ausfall", r"verspat\w*",
    r"otra vez", r"de nuevo", r"retraso", r"de novo", r"atras\w*", r"weer", r"storing",
    r"vertraging",
)  # fmt: skip
_RESOLUTION = _any(
    r"fixed",
    r"resolved",
    r"solved",
    r"sorted",
    r"restored",
    r"back up",
    r"working again",
    r"refunded",
    r"apologi[sz]\w*",
    r"made up for",
    r"compensat\w*",
    r"voucher",
    r"upgrad\w*",
    r"(?:called|rang) (?:me )?back",
    r"went out of (?:their|his|her) way",
    r"arrived",
    r"helped",
    r"thank you so much",
    r"thanks so much",
)

POLITE_CHASER = _any(
    r"just (?:checking|following) (?:in|up)",
    r"(?:checking|following) (?:in|up) (?:again|once more|on|about|regarding)",
    r"(?:any|an) (?:update|news|progress)",
    r"(?:still|yet to) (?:haven't|have not|not|no|hear|heard|receive|received|had|waiting)",
    r"(?:gentle|friendly|quick|second|third|final) (?:reminder|nudge|chaser|follow[- ]?up)",
    r"(?:as|like) (?:per|in) my (?:previous|last|earlier) (?:email|message|mail|call|"
    r"messages|emails)",
    r"(?:i|we) (?:still )?(?:haven't|have not|havent) (?:heard|received|had|got(?:ten)?)",
    r"(?:would|'d) (?:be grateful|appreciate it|really appreciate)(?: \w+){0,4} "
    r"(?:finally|at last|eventually|actually)",
    r"(?:sorry|apologies) (?:to|for) (?:chase|chasing|bother|bothering|nag|nagging)",
    r"(?:this is|it's|its) (?:now )?(?:my|the) (?:second|third|fourth|fifth|0\w*) "
    r"(?:email|message|call|time|request|attempt)",
    r"(?:it has|it's|its) (?:now )?been (?:0|two|three|four|five|six|several|a few|many) "
    r"(?:days|weeks|months)",
    r"(?:je me permets de (?:vous )?relancer|relance|toujours (?:pas|aucune|rien|sans)|"
    r"je reviens vers vous)",
    r"(?:nochmal|noch ?mal|erneut) (?:nachfragen|nachhaken|melden|erinnern)|"
    r"(?:immer noch|noch immer|bislang|bisher) (?:kein|keine|nichts|nicht)",
    r"(?:sigo esperando|seguimos esperando|todavia no|aun no|aún no|quisiera saber si)",
    r"(?:continuo aguardando|ainda (?:nao|sem|estou aguardando|aguardo))",
    r"(?:nog steeds (?:geen|niet|niets|wachten)|nog (?:niets|niks|geen) (?:gehoord|ontvangen))",
)
"""A courteous message about a problem that is still not solved."""

REQUEST = _any(
    r"(?:can|could|would|will) (?:you|someone|somebody|u) (?:please |kindly )?\w+",
    r"(?:how|where|when|what|which|who|why) (?:do|does|can|could|should|would|will|is|are|"
    r"much|many|long)\b",
    r"(?:is|are) (?:it|there|they|you|we) (?:possible|able|any|still|open)",
    r"(?:please|pls|plz|kindly) (?!don't|do not|stop|fix|sort|help me)\w+",
    r"(?:i|we) (?:would like|'d like|want|need|wish) to (?:know|ask|change|update|book|order|"
    r"add|move|confirm|check|request|register|arrange|transfer)",
    r"(?:i'm|i am|we're|we are) (?:writing|calling|contacting you|reaching out) (?:to|about|"
    r"regarding)",
    r"(?:do you|does it|does this|do they) (?:have|offer|support|accept|ship|deliver|work)",
    r"(?:est-ce que|pourriez-vous|pouvez-vous|serait-il possible|je souhaiterais|"
    r"je voudrais|merci de me)",
    r"(?:konnten sie|konnen sie|ist es moglich|ich mochte|ich wurde gerne|bitte um|wie kann)",
    r"(?:podrian|podrias|puede|pueden|me gustaria|quisiera|es posible|como puedo)",
    r"(?:podem|poderiam|pode|gostaria de|seria possivel|como posso|queria saber)",
    r"(?:kunnen jullie|kunt u|kun je|is het mogelijk|ik wil graag|ik zou graag|hoe kan ik)",
)
"""A request or question: neutral unless something else in the text complains."""

LUKEWARM = _any(
    r"(?:it's|it is|its|was|it was|that's|is|works|all|everything) "
    r"(?:fine|ok|okay|alright|all right|adequate|acceptable|average|decent|so-so|meh|passable)",
    r"^\W*(?:fine|ok|okay|meh|alright|average|adequate|decent|passable|so-so)\W*$",
    r"(?:i guess|i suppose|suppose so|guess so)",
    r"(?:nothing|none) (?:special|spectacular|to write home about|exceptional|amazing|"
    r"remarkable)",
    r"(?:not|wasn't|isn't) (?:bad|great|amazing|awful|terrible)(?:,| but| either| and)"
    r"(?: \w+){0,3} (?:not|wasn't|isn't|either|great|amazing|good)",
    r"does (?:the|its|it's) (?:job|trick)",
    r"(?:does|did) what it (?:says|should|said)",
    r"(?:could be|could have been) (?:better|worse)",
    r"(?:middle of the road|mixed bag|hit and miss|hit or miss|as expected|nothing more"
    r"|no more no less|par for the course|it'll do|it will do|can't complain)",
    r"(?:sans plus|correct(?:e)? sans|pas mal sans|moyen|bof|ca va|ca passe|rien de special"
    r"|rien d'extraordinaire)",
    r"(?:ganz okay|ganz ok|geht so|in ordnung|passt schon|na ja|naja|durchschnittlich|"
    r"nichts besonderes|ganz in ordnung)",
    r"(?:regular|normalito|ni fu ni fa|mas o menos|nada especial|sin mas|aceptable|correcto)",
    r"(?:razoavel|mais ou menos|nada de especial|normal|ok ok)",
    r"(?:gaat wel|prima(?:,| maar)|niks bijzonders|niets bijzonders|redelijk|matig|het is ok)",
)
"""A shrug: words that sound positive, a verdict that is neither."""

IMPLICIT_COMPLAINT = _any(
    r"never (?:showed|turned up|arrived|came|called|rang|got back|replied|answered|received|"
    r"fixed|sent|delivered|refunded|heard)",
    r"(?:didn't|did not|didnt|hasn't|has not|hasnt|haven't|have not|havent|still hasn't|"
    r"still not|still no) (?:show|turn up|arrive|arrived|come|call|ring|get back|reply|"
    r"replied|answer|received|fixed|sent|delivered|refunded|heard|been|worked|work)\w*",
    r"still (?:waiting|no|nothing|broken|not|down|missing|haven't|hasn't|charging|can't)",
    r"(?:no|zero|not a|not one) (?:response|reply|answer|update|call ?back|callback|apology|"
    r"refund|explanation|signal|service|show|one)",
    r"(?:nobody|no one|no-one|noone) (?:came|showed|called|answered|replied|knows|cares|"
    r"seems|can|could|will|bothered|picked up|got back|has)",
    r"(?:second|third|fourth|fifth|sixth|0\w*) (?:time|call|email|visit|week|day|month|"
    r"attempt)(?: in a row| this (?:week|month|year))?",
    r"(?:(?<=[.!?] )|(?<=[.!?])|^)(?:again|yet again|once again|as usual)\W*$",
    r"(?:down|broken|late|missing|wrong|failed|crashed|cancell?ed|delayed|cut off|charged|"
    r"out|off|offline|stuck|lost|closed|empty|cold|overcharged) (?:yet |once )?again",
    r"(?:charged|billed|debited) (?:me |us )?(?:twice|double|again|after|for something)",
    r"(?:on hold|waiting|queue\w*) (?:for )?(?:0|an|over an|two|three|several) (?:hours?|"
    r"minutes|mins|days|weeks)",
    r"(?:hung up|cut off|disconnected) (?:on|again)",
    r"(?:went|goes|gone) (?:unanswered|missing)",
    r"(?:wrong|missing|broken|damaged|cold|late) (?:order|item|parts?|size|delivery|food|"
    r"bill|amount|again)",
    r"(?:want|need|demand|expect) (?:a|my|our|an|the) (?:refund|apology|explanation|"
    r"compensation|money back)",
    r"where (?:is|are) my",
    r"(?:waste|wasted) (?:of )?(?:my |our )?(?:time|money|morning|afternoon|day)",
    r"(?:toujours|encore) (?:rien|pas|en attente)|personne ne|aucune reponse|jamais (?:recu|venu)",
    r"(?:immer noch|schon wieder|wieder mal|keine antwort|niemand (?:kam|meldet|ruft))",
    r"(?:sigo sin|otra vez|nadie (?:vino|contesta|responde)|sin respuesta|ni una respuesta)",
    r"(?:de novo|ninguem (?:veio|responde|atende)|sem resposta|ate agora nada)",
    r"(?:alweer|weer eens|niemand (?:kwam|reageert|belt)|geen reactie|nog steeds niet)",
)
"""Complaints without a single sentiment word ("Technician never showed. Again.")."""

PRAISE = _any(
    r"flawless(?:ly)?",
    r"no notes",
    r"(?:can't|cannot|cant|couldn't|could not) (?:fault|complain|ask for (?:more|better)|"
    r"recommend (?:you |them |it |this )?(?:enough|highly enough)|thank you enough)",
    r"spot on",
    r"(?:0+/0+|ten out of ten|five stars?|5 stars?|full marks|a\+)",
    r"chef'?s kiss",
    r"nailed it",
    r"above and beyond",
    r"(?:would|will|'d|'ll) (?:definitely |happily |absolutely )?(?:recommend|buy again|"
    r"order again|book again|fly again|come back|be back|return|use (?:you|them|it) again)",
    r"(?:highly|definitely|totally|100%?) recommend",
    r"(?:sorted|fixed|resolved|done|delivered|arrived) (?:in|within) (?:0|a|an|five|ten|two|"
    r"minutes|no time)",
    r"(?:works?|worked|working) (?:like a charm|perfectly|flawlessly|a treat|every time|"
    r"as (?:it should|promised|advertised|described))",
    r"(?:exactly|just) what (?:i|we) (?:needed|wanted|ordered|asked for)",
    r"(?:made|make|making) (?:my|our) (?:day|week|life|lives)",
    r"(?:in good hands|kept me (?:informed|updated|posted)|went the extra mile)",
    r"(?:never had|never once had|not had) (?:a|any|one|a single) (?:problem|issue|complaint)s?",
    r"no (?:complaints|issues|problems)(?: (?:at all|whatsoever|here|so far))?",
    r"(?:rock solid|top notch|first class|world class|second to none|best in class)",
    r"(?:you|they) (?:guys |lot )?(?:rock|are stars|are legends|are the best|are brilliant)",
    r"(?:nickel|impeccable|irreprochable|rien a (?:redire|dire)|au top|parfait|chapeau)",
    r"(?:einwandfrei|tadellos|nichts auszusetzen|top|spitze|klasse|sehr zu empfehlen)",
    r"(?:impecable|de diez|de 0|nada que objetar|sin pegas|de lujo|un diez)",
    r"(?:impecavel|nota 0|nota dez|sem defeitos|de primeira|show de bola|top)",
    r"(?:dik in orde|prima geregeld|niks op aan te merken|niets op aan te merken|"
    r"een aanrader|top geregeld)",
)
"""Praise, including dry and understated praise ("Flawless.", "Can't fault them.")."""

SLANG_POSITIVE = _any(
    r"slaps", r"banger", r"goated", r"(?:is|was|so|pure|straight|absolute) fire",
    r"legend(?:s|ary)?", r"(?:absolute|pure|proper|top) class", r"different class",
    r"proper (?:sound|good|class|decent|service|job)", r"(?:is|was|were|are) sound",
    r"(?:absolute|total) gem", r"no cap", r"(?:good|great|immaculate) vibes", r"obsessed",
    r"hits different", r"bussin", r"(?:is|was) ace", r"mint condition",
    r"🔥", r"💯", r"😍", r"🥰", r"❤", r"♥", r"👏", r"🙌", r"👌", r"👍", r"😊", r"🙏",
    r"⭐", r"🤩", r"💪", r"✅", r"😀", r"😁", r"😄", r"🎉",
)  # fmt: skip
SLANG_NEGATIVE = _any(
    r"(?:clown|shit|dumpster|tire) (?:show|fire)", r"clowns?", r"cowboys?", r"joke",
    r"shambles", r"scam(?:mers)?", r"rip-?off", r"daylight robbery", r"a mess", r"trash",
    r"garbage", r"rubbish", r"pants", r"naff", r"dodgy", r"shady", r"sus", r"cringe",
    r"wtf", r"smh", r"ffs", r"fml", r"rage ?quit", r"mid", r"l+ol+ no",
    r"🤡", r"💀", r"😡", r"🤬", r"😤", r"👎", r"🙄", r"😒", r"😠", r"😭", r"😢", r"😞",
    r"🤮", r"🤢", r"😩", r"😫", r"💩", r"🖕", r"❌",
)  # fmt: skip
ULTIMATUM = _any(
    r"done being (?:polite|patient|nice)",
    r"(?:speak|talk) to (?:a|your) (?:manager|supervisor|someone senior)",
    r"(?:escalat\w+|formal complaint|ombudsman|regulator|trading standards|small claims|"
    r"chargeback|solicitor|lawyer|legal action|the press|the media)",
    r"(?:last|final) (?:chance|warning)",
    r"unless (?:this|it) is (?:fixed|settled|resolved|sorted|refunded)",
    r"(?:i will|i'll) (?:lose it|report you|take this further|go to)",
    r"(?:avocat|mediateur|plainte|mise en demeure|anwalt|verbraucherzentrale|beschwerde|"
    r"abogado|reclamacion formal|oficina del consumidor|advogado|procon|reclame aqui|"
    r"advocaat|geschillencommissie|klacht indienen)",
)
"""Escalation language: ultimatums, threats of lawyers, regulators or the press."""

CONTRAST = _any(
    r"but", r"however", r"although", r"though", r"yet", r"except", r"shame (?:about|that)",
    r"mais", r"cependant", r"par contre", r"aber", r"jedoch", r"allerdings", r"pero",
    r"sin embargo", r"aunque", r"mas", r"porem", r"contudo", r"maar", r"echter", r"alleen",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CueHits:
    """Which cues one text triggers."""

    churn: bool = False
    trapped: bool = False
    sarcasm: bool = False
    polite_chaser: bool = False
    request: bool = False
    lukewarm: bool = False
    implicit_complaint: bool = False
    praise: bool = False
    slang_positive: bool = False
    slang_negative: bool = False
    contrast: bool = False
    question: bool = False
    ultimatum: bool = False

    def names(self) -> list[str]:
        """The names of the cues that fired."""
        return [f.name for f in fields(self) if getattr(self, f.name)]


_BARE_PRAISE = re.compile(
    r"^\W*(?:(?:oh|wow|well|just|absolutely|really|truly|simply|so|very|thanks|thank you|"
    r"cheers|love (?:it|this|that)|what a|keep it up|well done|bravo|chapeau|merci|danke|"
    r"gracias|obrigad[oa]|bedankt)\W+){0,3}"
    r"(?:great|wonderful|fantastic|perfect|brilliant|lovely|nice|superb|amazing|awesome|"
    r"excellent|marvellous|marvelous|terrific|splendid|stellar|impressive|fab|genius|"
    r"classy|top|super|genial|parfait|toll|geweldig|otimo|estupendo|fantastico|prima|"
    r"service|job|work|thanks|cheers)(?:\W+(?:service|job|work|stuff|guys|team|"
    r"everyone|again|as always|really|thanks|cheers))*[\W🙃🙄👏😒😂🤡💀]*$"
)
"""A sentence that is nothing but praise ("Brilliant. Absolutely brilliant.")."""

_SARCASTIC_FRAME = _any(
    r"(?:wonderful|great|lovely|nice|brilliant|fantastic|perfect|fun|love|loved|loving) "
    r"(?:to|being|having|getting) (?:spend|wait|be|get|have|start|end|find|pay|hear|see|"
    r"stand|sit|queue|chase|call|explain|repeat|spending|waiting|paying|chasing|standing)"
)
"""Praise framing an ordeal ("Wonderful to spend my lunch break on hold")."""


def _praise_around_problem(text: str) -> bool:
    """Praise wrapped around a problem: a praise opener on a sentence that reports one
    ("Great, another outage"), praise framing an ordeal, or a sentence of bare praise
    beside one that reports a problem ("4 days without internet. Brilliant.")."""
    parts = [p for p in re.split(r"(?<=[.!?…])\s+|\n+", text) if p.strip()]
    for sentence in parts:
        found = _SARCASTIC_OPENER.search(sentence) or _SARCASTIC_FRAME.search(sentence)
        if found is None:
            continue
        rest = sentence[found.end() :]
        if _RESOLUTION.search(rest):
            continue
        following = parts[parts.index(sentence) + 1 :][:1]
        if _PROBLEM_EVENT.search(rest) or any(_PROBLEM_EVENT.search(f) for f in following):
            return True
    praise = [p for p in parts if _BARE_PRAISE.search(p)]
    if praise and len(praise) < len(parts):
        others = [p for p in parts if not _BARE_PRAISE.search(p)]
        troubled = any(_PROBLEM_EVENT.search(p) or IMPLICIT_COMPLAINT.search(p) for p in others)
        return troubled and not any(_RESOLUTION.search(p) for p in others)
    return False


def find_cues(normalised: str) -> CueHits:
    """Every cue in ``normalised`` text (see :func:`relcrm.analyze.features.normalise`)."""
    sarcasm = bool(SARCASM_FIXED.search(normalised)) or _praise_around_problem(normalised)
    return CueHits(
        churn=bool(CHURN.search(normalised)),
        trapped=bool(TRAPPED.search(normalised)),
        sarcasm=sarcasm,
        polite_chaser=bool(POLITE_CHASER.search(normalised)),
        request=bool(REQUEST.search(normalised)),
        lukewarm=bool(LUKEWARM.search(normalised)),
        implicit_complaint=bool(IMPLICIT_COMPLAINT.search(normalised)),
        praise=bool(PRAISE.search(normalised)),
        slang_positive=bool(SLANG_POSITIVE.search(normalised)),
        slang_negative=bool(SLANG_NEGATIVE.search(normalised)),
        contrast=bool(CONTRAST.search(normalised)),
        question="?" in normalised,
        ultimatum=bool(ULTIMATUM.search(normalised)),
    )
