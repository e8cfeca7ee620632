"""User-facing messages in Kazakh, Russian and English, chosen by ``Accept-Language``.

Every message a person reads is a key in ``MESSAGES`` with a template per language; code raises
problems by key and the language is picked only when the answer is written."""

from __future__ import annotations

LANGUAGES = ("en", "ru", "kk")
DEFAULT_LANGUAGE = "en"

MESSAGES: dict[str, dict[str, str]] = {}


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a module's messages to the catalog (each module keeps its own next to its code)."""
    for key, texts in messages.items():
        missing = set(LANGUAGES) - texts.keys()
        if missing:
            raise ValueError(f"message {key!r} lacks {sorted(missing)}")
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


_CATALOG_MODULES = ("geoservice.messages", "importers.messages", "layers.grid", "tiles.messages",
                    "geoservice.ogc.cql2")
_loaded = False


def _load_catalogs() -> None:
    """Import every module that registers messages, so a message is found whatever code path
    (HTTP, CLI, tests) raised it."""
    global _loaded
    if not _loaded:
        import importlib

        for module in _CATALOG_MODULES:
            importlib.import_module(module)
        _loaded = True


def translate(key: str, lang: str, **params: object) -> str:
    _load_catalogs()
    texts = MESSAGES.get(key)
    if texts is None:
        return key
    template = texts.get(lang) or texts[DEFAULT_LANGUAGE]
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
