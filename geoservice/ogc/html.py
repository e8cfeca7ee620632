"""Plain HTML views of the OGC API resources (f=html), rendered from the Jinja2 templates in
``templates/`` (package data): enough for a person to browse collections and features and follow
the same links a client would. Autoescaping is on, so every value from the data or the request
is escaped; the pages' own words come from the message catalog in the request's language."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from geoservice.kernel.i18n import translate

_env = Environment(loader=PackageLoader("geoservice.ogc", "templates"), autoescape=True, trim_blocks=True,
                   lstrip_blocks=True, undefined=StrictUndefined, auto_reload=False)
# Our own: Jinja's tojson sorts the keys and escapes for <script>; a property's JSON is shown as sent.
_env.filters["json"] = partial(json.dumps, ensure_ascii=False)


def render(template: str, lang: str, *, title: str, links: list[dict[str, Any]] | None = None,
           **context: Any) -> str:
    """A page: ``links`` (the resource's links) in the nav bar where they lead to HTML."""
    return _env.get_template(template).render(lang=lang, title=title, links=links or [],
                                              t=partial(translate, lang=lang), **context)
