"""Plain HTML views of the OGC API resources (f=html): enough for a person to browse
collections and features and follow the same links a client would."""

from __future__ import annotations

import json
from html import escape
from typing import Any

STYLE = ("body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;padding:0 1em;color:#222}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;"
         "vertical-align:top}code{background:#f4f4f4;padding:0 .2em}nav a{margin-right:1em}")


def page(title: str, body: str, links: list[dict[str, Any]] | None = None, lang: str = "en") -> str:
    shown = [link for link in (links or [])
             if link.get("type") in (None, "text/html") or link["rel"] in ("next", "prev")]
    nav = "".join(f'<a href="{escape(link["href"])}">{escape(link.get("title") or link["rel"])}</a>' for link in shown)
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f'<body><nav>{nav}</nav><h1>{escape(title)}</h1>{body}</body></html>')


def links_table(links: list[dict[str, Any]]) -> str:
    rows = "".join(f'<tr><td>{escape(link["rel"])}</td><td><a href="{escape(link["href"])}">'
                   f'{escape(link.get("title") or link["href"])}</a></td><td>{escape(link.get("type", ""))}</td></tr>'
                   for link in links)
    return f"<table><tr><th>rel</th><th>link</th><th>type</th></tr>{rows}</table>"


def value(v: Any) -> str:
    if isinstance(v, dict | list):
        return f"<code>{escape(json.dumps(v, ensure_ascii=False))}</code>"
    return escape("" if v is None else str(v))


def features_table(features: list[dict[str, Any]], item_href: str) -> str:
    if not features:
        return "<p>—</p>"
    names: list[str] = []
    for f in features:
        for k in (f.get("properties") or {}):
            if k not in names:
                names.append(k)
    head = "".join(f"<th>{escape(n)}</th>" for n in ["id", *names])
    rows = "".join(
        "<tr><td><a href=\"" + escape(item_href.format(id=str(f["id"]))) + "\">" + escape(str(f["id"])) + "</a></td>"
        + "".join(f"<td>{value((f.get('properties') or {}).get(n))}</td>" for n in names) + "</tr>"
        for f in features)
    return f"<table><tr>{head}</tr>{rows}</table>"


def properties_table(properties: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{value(v)}</td></tr>" for k, v in properties.items())
    return f"<table>{rows}</table>"
