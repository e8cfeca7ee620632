"""User-facing messages in Kazakh, Russian and English, chosen by ``Accept-Language``.

Every message a person reads is a key in ``MESSAGES`` with a template per language; code raises
problems by key and the language is picked only when the answer is written. Each package keeps
its texts in its own ``messages`` module (a plain ``MESSAGES`` dict); the app edge registers
them all, explicitly, in ``geoservice/messages.py`` (the kernel imports none of them)."""

from __future__ import annotations

LANGUAGES = ("en", "ru", "kk")
DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a package's messages to the catalog. A key may be registered once: two packages
    defining the same code would make the text depend on import order."""
    for key, texts in messages.items():
        missing = set(LANGUAGES) - texts.keys()
        if missing:
            raise ValueError(f"message {key!r} lacks {sorted(missing)}")
        if key in MESSAGES and MESSAGES[key] is not texts:
            raise ValueError(f"message {key!r} is registered twice")
        MESSAGES[key] = texts


def negotiate(accept_language: str | None) -> str:
    """Pick the best of kk/ru/en from an Accept-Language header (q-values honoured)."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        q -= position * 1e-6  # earlier wins among equal q
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best



def translate(key: str, lang: str, **params: object) -> str:
    """The message in ``lang``. A parameter given as ``{"message": code, "params": {...}}`` is
    itself a message, put in the same language (e.g. an obligation's name inside a notice, stored
    once as data and read in whichever language the reader picks)."""
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    values = {name: _nested(value, lang) for name, value in params.items()}
    try:
        return template.format(**values)
    except (KeyError, IndexError):
        return template


def _nested(value: object, lang: str) -> object:
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        inner = value.get("params")
        return translate(value["message"], lang, **(inner if isinstance(inner, dict) else {}))
    return value
