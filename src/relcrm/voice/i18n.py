"""The page's words in English, French, German and Spanish, and which one a visitor gets.

The language is the ``?lang=`` override when it names a supported one, else the best
match of the browser's ``Accept-Language`` (quality values honoured, ``fr-CA`` matches
``fr``), else English. Every language has every key (a test checks it); a key missing
anyway falls back to English rather than failing the page.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "fr", "de", "es")
DEFAULT_LANGUAGE: Final = "en"
AUTONYMS: Final = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español"}
"""Language names in their own language, as language pickers show them."""

EN: Final[dict[str, str]] = {
    "title_feedback": "How did we do?",
    "title_preferences": "Your preferences",
    "intro_feedback": "Your answer takes a minute and goes straight to the team that looks "
    "after you.",
    "intro_preferences": "Tell us how and how often you would like to hear from us.",
    "score_legend_nps": "How likely are you to recommend us to a friend or colleague?",
    "score_low_nps": "0 = not at all likely",
    "score_high_nps": "10 = extremely likely",
    "score_legend_csat": "How satisfied are you with us?",
    "score_low_csat": "1 = very dissatisfied",
    "score_high_csat": "5 = very satisfied",
    "comment_label": "Anything you would like to tell us? (optional)",
    "comment_hint": "Please do not include card numbers or passwords.",
    "prefs_legend": "How we keep in touch",
    "channel_label": "Preferred channel",
    "channel_email": "Email",
    "channel_phone": "Phone",
    "channel_sms": "Text message",
    "channel_post": "Post",
    "frequency_label": "How often",
    "frequency_weekly": "Weekly",
    "frequency_monthly": "Monthly",
    "frequency_quarterly": "Quarterly",
    "frequency_changes": "Only when something changes",
    "topics_legend": "Topics you want to hear about",
    "topic_product_updates": "Product updates",
    "topic_billing": "Billing",
    "topic_events": "Events",
    "topic_tips": "Tips and how-tos",
    "language_label": "Language for our messages",
    "no_preference": "No preference",
    "consent_legend": "Your consent",
    "consent_yes": "You may keep my feedback and share it with the team that looks after me",
    "consent_no": "Please do not keep or share my feedback",
    "submit_feedback": "Send my answer",
    "submit_preferences": "Save my preferences",
    "answered_note": "Thank you, we already have your answer. You can still change your "
    "preferences here.",
    "thanks_title": "Thank you",
    "thanks_feedback": "Your answer has been saved.",
    "thanks_preferences": "Your preferences have been saved.",
    "page_language": "Language of this page",
    "error_summary": "Please correct the following:",
    "err_score": "Please choose a score.",
    "err_comment_long": "Your comment is too long (at most {max} characters).",
    "err_choice": "Please choose one of the options offered.",
    "invalid_link_title": "This link is not valid",
    "invalid_link_body": "The link may have been copied incompletely. Please use the whole "
    "link from your message.",
    "expired_link_title": "This link has expired",
    "expired_link_body": "For your privacy, links work for a limited time. Please ask us for "
    "a new one.",
    "stale_form_title": "This form has expired",
    "stale_form_body": "Please open the link from your message again and send the form once more.",
    "answered_title": "You have already answered",
    "answered_body": "This link was already used to answer. Thank you!",
    "rate_limited_title": "Too many requests",
    "rate_limited_body": "Please wait {seconds} seconds and try again.",
    "bad_request_title": "This request cannot be read",
    "bad_request_body": "Please go back to the form and send it again.",
    "not_found_title": "Page not found",
    "not_found_body": "Please use the link from your message.",
    "server_error_title": "Something went wrong on our side",
    "server_error_body": "Nothing was saved. Please try again in a few minutes.",
}

FR: Final[dict[str, str]] = {
    "title_feedback": "Comment avons-nous fait ?",
    "title_preferences": "Vos préférences",
    "intro_feedback": "Votre réponse prend une minute et va directement à l'équipe qui "
    "s'occupe de vous.",
    "intro_preferences": "Dites-nous comment et à quelle fréquence vous souhaitez avoir de "
    "nos nouvelles.",
    "score_legend_nps": "Quelle est la probabilité que vous nous recommandiez à un ami ou "
    "à un collègue ?",
    "score_low_nps": "0 = pas du tout probable",
    "score_high_nps": "10 = très probable",
    "score_legend_csat": "Quel est votre niveau de satisfaction ?",
    "score_low_csat": "1 = très insatisfait",
    "score_high_csat": "5 = très satisfait",
    "comment_label": "Souhaitez-vous nous dire quelque chose ? (facultatif)",
    "comment_hint": "N'indiquez ni numéro de carte ni mot de passe.",
    "prefs_legend": "Comment rester en contact",
    "channel_label": "Canal préféré",
    "channel_email": "E-mail",
    "channel_phone": "Téléphone",
    "channel_sms": "SMS",
    "channel_post": "Courrier",
    "frequency_label": "À quelle fréquence",
    "frequency_weekly": "Chaque semaine",
    "frequency_monthly": "Chaque mois",
    "frequency_quarterly": "Chaque trimestre",
    "frequency_changes": "Seulement quand quelque chose change",
    "topics_legend": "Les sujets qui vous intéressent",
    "topic_product_updates": "Nouveautés produit",
    "topic_billing": "Facturation",
    "topic_events": "Événements",
    "topic_tips": "Conseils et tutoriels",
    "language_label": "Langue de nos messages",
    "no_preference": "Pas de préférence",
    "consent_legend": "Votre consentement",
    "consent_yes": "Vous pouvez conserver mon avis et le partager avec l'équipe qui "
    "s'occupe de moi",
    "consent_no": "Merci de ne pas conserver ni partager mon avis",
    "submit_feedback": "Envoyer ma réponse",
    "submit_preferences": "Enregistrer mes préférences",
    "answered_note": "Merci, nous avons déjà votre réponse. Vous pouvez encore modifier vos "
    "préférences ici.",
    "thanks_title": "Merci",
    "thanks_feedback": "Votre réponse a été enregistrée.",
    "thanks_preferences": "Vos préférences ont été enregistrées.",
    "page_language": "Langue de cette page",
    "error_summary": "Merci de corriger les points suivants :",
    "err_score": "Merci de choisir une note.",
    "err_comment_long": "Votre commentaire est trop long ({max} caractères au plus).",
    "err_choice": "Merci de choisir une des options proposées.",
    "invalid_link_title": "Ce lien n'est pas valide",
    "invalid_link_body": "Le lien a peut-être été copié en partie. Utilisez le lien complet "
    "de votre message.",
    "expired_link_title": "Ce lien a expiré",
    "expired_link_body": "Pour protéger vos données, les liens ont une durée limitée. "
    "Demandez-nous-en un nouveau.",
    "stale_form_title": "Ce formulaire a expiré",
    "stale_form_body": "Ouvrez à nouveau le lien de votre message et renvoyez le formulaire.",
    "answered_title": "Vous avez déjà répondu",
    "answered_body": "Ce lien a déjà servi à répondre. Merci !",
    "rate_limited_title": "Trop de requêtes",
    "rate_limited_body": "Merci d'attendre {seconds} secondes avant de réessayer.",
    "bad_request_title": "Cette requête est illisible",
    "bad_request_body": "Revenez au formulaire et envoyez-le à nouveau.",
    "not_found_title": "Page introuvable",
    "not_found_body": "Utilisez le lien de votre message.",
    "server_error_title": "Un problème est survenu de notre côté",
    "server_error_body": "Rien n'a été enregistré. Réessayez dans quelques minutes.",
}

DE: Final[dict[str, str]] = {
    "title_feedback": "Wie war es mit uns?",
    "title_preferences": "Ihre Einstellungen",
    "intro_feedback": "Ihre Antwort dauert eine Minute und geht direkt an das Team, das Sie "
    "betreut.",
    "intro_preferences": "Sagen Sie uns, wie und wie oft Sie von uns hören möchten.",
    "score_legend_nps": "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder "
    "Kollegen empfehlen?",
    "score_low_nps": "0 = überhaupt nicht wahrscheinlich",
    "score_high_nps": "10 = äußerst wahrscheinlich",
    "score_legend_csat": "Wie zufrieden sind Sie mit uns?",
    "score_low_csat": "1 = sehr unzufrieden",
    "score_high_csat": "5 = sehr zufrieden",
    "comment_label": "Möchten Sie uns etwas sagen? (optional)",
    "comment_hint": "Bitte keine Kartennummern oder Passwörter angeben.",
    "prefs_legend": "Wie wir in Kontakt bleiben",
    "channel_label": "Bevorzugter Kanal",
    "channel_email": "E-Mail",
    "channel_phone": "Telefon",
    "channel_sms": "SMS",
    "channel_post": "Post",
    "frequency_label": "Wie oft",
    "frequency_weekly": "Wöchentlich",
    "frequency_monthly": "Monatlich",
    "frequency_quarterly": "Vierteljährlich",
    "frequency_changes": "Nur wenn sich etwas ändert",
    "topics_legend": "Themen, die Sie interessieren",
    "topic_product_updates": "Produktneuheiten",
    "topic_billing": "Rechnungen",
    "topic_events": "Veranstaltungen",
    "topic_tips": "Tipps und Anleitungen",
    "language_label": "Sprache unserer Nachrichten",
    "no_preference": "Keine Vorliebe",
    "consent_legend": "Ihre Einwilligung",
    "consent_yes": "Sie dürfen meine Rückmeldung speichern und an das Team weitergeben, "
    "das mich betreut",
    "consent_no": "Bitte meine Rückmeldung weder speichern noch weitergeben",
    "submit_feedback": "Antwort senden",
    "submit_preferences": "Einstellungen speichern",
    "answered_note": "Danke, Ihre Antwort liegt uns schon vor. Ihre Einstellungen können "
    "Sie hier weiterhin ändern.",
    "thanks_title": "Vielen Dank",
    "thanks_feedback": "Ihre Antwort wurde gespeichert.",
    "thanks_preferences": "Ihre Einstellungen wurden gespeichert.",
    "page_language": "Sprache dieser Seite",
    "error_summary": "Bitte korrigieren Sie Folgendes:",
    "err_score": "Bitte wählen Sie eine Bewertung.",
    "err_comment_long": "Ihr Kommentar ist zu lang (höchstens {max} Zeichen).",
    "err_choice": "Bitte wählen Sie eine der angebotenen Optionen.",
    "invalid_link_title": "Dieser Link ist ungültig",
    "invalid_link_body": "Der Link wurde vielleicht unvollständig kopiert. Bitte verwenden "
    "Sie den ganzen Link aus Ihrer Nachricht.",
    "expired_link_title": "Dieser Link ist abgelaufen",
    "expired_link_body": "Zum Schutz Ihrer Daten gelten Links nur begrenzte Zeit. Bitte "
    "fragen Sie uns nach einem neuen.",
    "stale_form_title": "Dieses Formular ist abgelaufen",
    "stale_form_body": "Bitte öffnen Sie den Link aus Ihrer Nachricht erneut und senden Sie "
    "das Formular noch einmal.",
    "answered_title": "Sie haben schon geantwortet",
    "answered_body": "Mit diesem Link wurde bereits geantwortet. Vielen Dank!",
    "rate_limited_title": "Zu viele Anfragen",
    "rate_limited_body": "Bitte warten Sie {seconds} Sekunden und versuchen Sie es erneut.",
    "bad_request_title": "Diese Anfrage ist nicht lesbar",
    "bad_request_body": "Bitte gehen Sie zum Formular zurück und senden Sie es erneut.",
    "not_found_title": "Seite nicht gefunden",
    "not_found_body": "Bitte verwenden Sie den Link aus Ihrer Nachricht.",
    "server_error_title": "Bei uns ist etwas schiefgegangen",
    "server_error_body": "Es wurde nichts gespeichert. Bitte versuchen Sie es in einigen "
    "Minuten erneut.",
}

ES: Final[dict[str, str]] = {
    "title_feedback": "¿Qué tal lo hicimos?",
    "title_preferences": "Sus preferencias",
    "intro_feedback": "Responder lleva un minuto y su respuesta llega directamente al "
    "equipo que le atiende.",
    "intro_preferences": "Díganos cómo y con qué frecuencia quiere saber de nosotros.",
    "score_legend_nps": "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
    "score_low_nps": "0 = nada probable",
    "score_high_nps": "10 = muy probable",
    "score_legend_csat": "¿Cuál es su grado de satisfacción con nosotros?",
    "score_low_csat": "1 = muy insatisfecho",
    "score_high_csat": "5 = muy satisfecho",
    "comment_label": "¿Quiere contarnos algo? (opcional)",
    "comment_hint": "No incluya números de tarjeta ni contraseñas.",
    "prefs_legend": "Cómo seguimos en contacto",
    "channel_label": "Canal preferido",
    "channel_email": "Correo electrónico",
    "channel_phone": "Teléfono",
    "channel_sms": "SMS",
    "channel_post": "Correo postal",
    "frequency_label": "Con qué frecuencia",
    "frequency_weekly": "Cada semana",
    "frequency_monthly": "Cada mes",
    "frequency_quarterly": "Cada trimestre",
    "frequency_changes": "Solo cuando algo cambie",
    "topics_legend": "Temas que le interesan",
    "topic_product_updates": "Novedades del producto",
    "topic_billing": "Facturación",
    "topic_events": "Eventos",
    "topic_tips": "Consejos y guías",
    "language_label": "Idioma de nuestros mensajes",
    "no_preference": "Sin preferencia",
    "consent_legend": "Su consentimiento",
    "consent_yes": "Pueden guardar mi opinión y compartirla con el equipo que me atiende",
    "consent_no": "No guarden ni compartan mi opinión",
    "submit_feedback": "Enviar mi respuesta",
    "submit_preferences": "Guardar mis preferencias",
    "answered_note": "Gracias, ya tenemos su respuesta. Aún puede cambiar sus preferencias aquí.",
    "thanks_title": "Gracias",
    "thanks_feedback": "Su respuesta se ha guardado.",
    "thanks_preferences": "Sus preferencias se han guardado.",
    "page_language": "Idioma de esta página",
    "error_summary": "Corrija lo siguiente:",
    "err_score": "Elija una puntuación.",
    "err_comment_long": "Su comentario es demasiado largo (como máximo {max} caracteres).",
    "err_choice": "Elija una de las opciones ofrecidas.",
    "invalid_link_title": "Este enlace no es válido",
    "invalid_link_body": "Puede que el enlace se haya copiado incompleto. Use el enlace "
    "completo de su mensaje.",
    "expired_link_title": "Este enlace ha caducado",
    "expired_link_body": "Para proteger su privacidad, los enlaces duran un tiempo limitado. "
    "Pídanos uno nuevo.",
    "stale_form_title": "Este formulario ha caducado",
    "stale_form_body": "Abra de nuevo el enlace de su mensaje y envíe el formulario otra vez.",
    "answered_title": "Ya ha respondido",
    "answered_body": "Este enlace ya se usó para responder. ¡Gracias!",
    "rate_limited_title": "Demasiadas solicitudes",
    "rate_limited_body": "Espere {seconds} segundos y vuelva a intentarlo.",
    "bad_request_title": "No se puede leer esta solicitud",
    "bad_request_body": "Vuelva al formulario y envíelo de nuevo.",
    "not_found_title": "Página no encontrada",
    "not_found_body": "Use el enlace de su mensaje.",
    "server_error_title": "Algo ha fallado por nuestra parte",
    "server_error_body": "No se ha guardado nada. Vuelva a intentarlo en unos minutos.",
}

CATALOGUE: Final[dict[str, dict[str, str]]] = {"en": EN, "fr": FR, "de": DE, "es": ES}


def _ranges(header: str) -> list[tuple[float, int, str]]:
    """Accept-Language entries as (-quality, position, primary tag), best first."""
    found: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-", 1)[0]
        if primary and quality > 0:
            found.append((-quality, position, primary))
    return sorted(found)


def choose_language(accept_language: str | None, override: str | None = None) -> str:
    """The language to answer in (see the module's docstring)."""
    if override and override.lower() in CATALOGUE:
        return override.lower()
    for _, _, primary in _ranges(accept_language or ""):
        if primary in CATALOGUE:
            return primary
    return DEFAULT_LANGUAGE


class Translator:
    """The words of one language; ``t(key, **values)`` formats the placeholders."""

    def __init__(self, language: str) -> None:
        self.language = language if language in CATALOGUE else DEFAULT_LANGUAGE
        self._words = CATALOGUE[self.language]

    def t(self, key: str, **values: object) -> str:
        text = self._words.get(key) or EN[key]
        return text.format(**values) if values else text


__all__ = [
    "AUTONYMS",
    "CATALOGUE",
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Translator",
    "choose_language",
]
