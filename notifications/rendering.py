"""Turning a kind, a channel, a language and a context into message text.

Each channel's files live in templates/notifications/<kind>/ (email.txt, email.html,
sms.txt, push.txt, slack.txt); an active TemplateOverride for the same kind, file and
language (or for all languages) takes precedence over the file, so staff can change a
message without a deploy. Text files are rendered without HTML escaping. The first line of
email.txt is `Subject: …` and of push.txt `Title: …`."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError, engines
from django.template.loader import get_template
from django.utils import translation

from notifications.kinds import CHANNEL_FILES, EMAIL, PUSH
from notifications.models import TemplateOverride

logger = logging.getLogger(__name__)

HEADER = {EMAIL: "Subject", PUSH: "Title"}


@dataclass(frozen=True)
class Rendered:
    subject: str   # email subject, push title; "" for SMS and Slack
    body: str
    html: str = ""


def language_or_default(language: str | None) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def render(*, kind: str, channel: str, language: str | None, context: dict,
           overrides: dict[str, str] | None = None) -> Rendered:
    """`overrides` maps a file name to template source to use instead of the stored ones
    (the admin's preview of a draft)."""
    language = language_or_default(language)
    parts = {}
    with translation.override(language):
        for file in CHANNEL_FILES[channel]:
            source = (overrides or {}).get(file)
            parts[file] = _render_file(kind, file, language, context, source)
    text = parts[CHANNEL_FILES[channel][0]].strip()
    subject = ""
    if channel in HEADER:
        subject, text = _split_header(text, HEADER[channel])
    html = parts.get("email.html", "").strip() if channel == EMAIL else ""
    return Rendered(subject=subject, body=text, html=html)


def file_source(kind: str, file: str) -> str:
    """The shipped template file's source (the admin pre-fills an override with it)."""
    template = get_template(f"notifications/{kind}/{file}")
    return template.template.source


def compile_source(source: str):
    """Raises TemplateSyntaxError for a broken override (the admin refuses to save it)."""
    return engines["django"].from_string(source)


def _render_file(kind: str, file: str, language: str, context: dict, source: str | None) -> str:
    template = None
    if source is None:
        source = _override_source(kind, file, language)
    if source is not None:
        try:
            template = compile_source(source)
        except TemplateSyntaxError:
            logger.exception("template override %s/%s is broken; using the file", kind, file)
    if template is None:
        try:
            template = get_template(f"notifications/{kind}/{file}")
        except TemplateDoesNotExist:
            return ""
    autoescape = file.endswith(".html")
    return template.template.render(Context(context, autoescape=autoescape))


def _override_source(kind: str, file: str, language: str) -> str | None:
    rows = {o.language: o.source for o in TemplateOverride.objects.filter(
        kind=kind, file=file, language__in=[language, ""], active=True)}
    return rows.get(language, rows.get(""))


def _split_header(text: str, name: str) -> tuple[str, str]:
    first, _, rest = text.partition("\n")
    prefix = f"{name}:"
    if first.startswith(prefix):
        return first[len(prefix):].strip(), rest.strip()
    return "", text
