"""The Mini App's HTML: the credential form for one exchange, and a short message page.

One small page, so it is assembled with `html.escape` rather than a template engine (no new dependency):
every value that is not a literal of this file is escaped, and the page has no inline script or style (the
Content-Security-Policy forbids both). Inputs carry no `name`: a form submitted without our script (which the
CSP also blocks with `form-action 'none'`) would send nothing.
"""

from __future__ import annotations

import json
from html import escape

from bot.diagnosis.formats import FORMATS, CredentialFormat
from bot.diagnosis.model import CampaignType
from bot.exchanges.catalog import ExchangeSpec
from bot.webapp.texts import script_texts, text

TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"


def _attrs(**values: str) -> str:
    return " ".join(f'{name.replace("_", "-")}="{escape(value, quote=True)}"' for name, value in values.items())


def _field(field_id: str, label: str, language: str, *, multiline: bool = False, hint: str = "") -> str:
    common = _attrs(
        id=field_id,
        data_credential="1",
        data_label=label,
        autocomplete="off",
        autocapitalize="none",
        autocorrect="off",
        spellcheck="false",
        aria_describedby=f"{field_id}-error",
    )
    if multiline:
        control = f'<textarea {common} class="masked" rows="3"></textarea>'
    else:
        control = f'<input {common} type="password" enterkeyhint="next">'
    reveal = _attrs(type="button", data_for=field_id, aria_controls=field_id, aria_pressed="false")
    hint_html = f'<p class="hint">{escape(hint)}</p>' if hint else ""
    return (
        '<div class="field">'
        f'<label for="{escape(field_id)}">{escape(label)}</label>'
        f'<div class="control">{control}<button class="reveal" {reveal}>{escape(text("show", language))}</button></div>'
        f"{hint_html}"
        f'<p class="error" id="{escape(field_id)}-error" role="alert" hidden></p>'
        "</div>"
    )


def _head(title: str, language: str, prefix: str, telegram_script: str | None) -> str:
    scripts = ""
    if telegram_script:
        scripts = (
            f'<script src="{escape(telegram_script)}"></script>'
            f'<script src="{escape(prefix)}/static/app.js" defer></script>'
        )
    return (
        "<!doctype html>"
        f'<html lang="{escape(language.replace("_", "-"))}"><head>'
        '<meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{escape(prefix)}/static/app.css">'
        f"{scripts}"
        "</head>"
    )


def render_form(
    spec: ExchangeSpec,
    *,
    campaign_type: CampaignType | None,
    language: str,
    prefix: str,
    telegram_script: str = TELEGRAM_SCRIPT,
) -> str:
    """The credential form for `spec`, in `language`; `prefix` is the Mini App's path on our server."""
    name = spec.display_name
    fmt = FORMATS.get(spec.id, CredentialFormat())
    fields = [
        _field("api_key", text("label_api_key", language), language),
        _field(
            "secret",
            text("label_secret_pem" if fmt.pem_secret else "label_secret", language),
            language,
            multiline=fmt.pem_secret,
        ),
    ]
    for cred in spec.extra_credentials:
        fields.append(_field(cred.name, cred.label, language, hint=text(f"hint_{cred.name}", language)))
    campaign_line = ""
    if campaign_type is not None:
        campaign = text(f"campaign_{campaign_type.value}", language)
        campaign_line = f'<p class="hint">{escape(text("campaign", language, campaign=campaign))}</p>'
    data = _attrs(
        id="page",
        data_api=f"{prefix}/api/submit",
        data_exchange=spec.id,
        data_exchange_name=name,
        data_campaign=campaign_type.value if campaign_type is not None else "",
        data_texts=json.dumps(script_texts(language), ensure_ascii=False),
    )
    return (
        _head(text("page_title", language, exchange=name), language, prefix, telegram_script) + f"<body><main {data}>"
        f"<h1>{escape(text('heading', language, exchange=name))}</h1>"
        f'<p class="intro">{escape(text("intro", language))}</p>'
        f'<p class="hint">{escape(text("read_only", language))}</p>'
        f"{campaign_line}"
        '<form id="key-form" method="post" novalidate autocomplete="off">'
        + "".join(fields)
        + '<p class="error" id="form-error" role="alert" hidden></p>'
        f'<button id="submit" class="primary" type="submit">{escape(text("submit", language))}</button>'
        "</form>"
        '<p id="status" class="status" aria-live="polite" hidden></p>'
        '<section id="result" class="result" aria-live="polite" hidden>'
        '<h2 id="verdict-title"></h2><ul id="verdict-details"></ul>'
        f'<p class="hint" id="verdict-note">{escape(text("result_note", language))}</p>'
        f'<button id="close" class="primary" type="button">{escape(text("close", language))}</button>'
        "</section>"
        "</main></body></html>"
    )


def render_message(message: str, *, language: str, prefix: str) -> str:
    """A page with one sentence and no script (unknown exchange, wrong address)."""
    return (
        _head(message, language, prefix, None)
        + f'<body><main id="page"><p class="intro" id="message">{escape(message)}</p></main></body></html>'
    )
