"""The personal cabinet page (/cabinet), in the map viewer's look and with its language switch:
profile, contacts, notifications and, when its script is installed, the person's documents.
People sign in with NCALayer on the page; in development (GEOSERVICE_DEMO=1) also through a
one-time link printed by ``geoservice demo sign-in`` (/cabinet/demo-sign-in)."""

from __future__ import annotations

import html
import json
from datetime import timedelta

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from cadastre import accounts
from cadastre.registers import TableRegisters
from geoservice.api.accounts import set_session_cookie
from geoservice.deps import DatabaseDep, SettingsDep
from geoservice.kernel.db import Database
from geoservice.kernel.errors import Problem
from geoservice.kernel.i18n import negotiate
from geoservice.kernel.settings import Settings
from geoservice.viewer.routes import STATIC_DIR
from layers.access import client_address
from styles.mapbox import LANGS

router = APIRouter(tags=["cabinet"])

TITLE = {"kk": "Жеке кабинет", "ru": "Личный кабинет", "en": "Personal cabinet"}
# The documents section arrives with its own script (the signed-document store); without the
# script the cabinet has no such section at all.
DOCUMENTS_SCRIPT = "cabinet-documents.js"
# The applicant's applications and the officer's workbench, each shown when its script is
# installed (the workbench section only to officers and commission members: its script decides).
APPLICATIONS_SCRIPT = "cabinet-applications.js"
WORKBENCH_SCRIPT = "cabinet-workbench.js"
# The lots and the live auction hall (?auction=ID), for everyone signed in.
AUCTIONS_SCRIPT = "cabinet-auctions.js"
# Issue 11: a licence holder's reports of work and spend (shown when the account holds licences).
REPORTS_SCRIPT = "cabinet-reports.js"
# The authorities' dashboard (issue 11), for officers, auditors and administrators (its script decides).
ANALYTICS_SCRIPT = "cabinet-analytics.js"
# Issue 11: the holder's obligations and findings, and the officer's findings under supervision.
OBLIGATIONS_SCRIPT = "cabinet-obligations.js"
# Uploads and restores of the layers an officer's authority writes (its script hides it from others).
LAYERS_SCRIPT = "cabinet-layers.js"
SECTIONS = (("applications", APPLICATIONS_SCRIPT), ("workbench", WORKBENCH_SCRIPT), ("auctions", AUCTIONS_SCRIPT),
            ("obligations", OBLIGATIONS_SCRIPT), ("reports", REPORTS_SCRIPT), ("analytics", ANALYTICS_SCRIPT),
            ("layers", LAYERS_SCRIPT))

PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/viewer/static/vendor/maplibre-gl.css">
<link rel="stylesheet" href="/viewer/static/viewer.css">
<link rel="stylesheet" href="/viewer/static/cabinet.css">
<script id="cabinet-config" type="application/json">{config}</script>
<script type="module" src="/viewer/static/cabinet.js"></script>
</head>
<body class="cabinet">
<header id="bar">
  <h1 id="title">{title}</h1>
  <a id="map-link" href="/"></a>
  <span id="who" hidden><span id="who-name"></span> <span id="unread" class="badge" hidden></span></span>
  <button id="logout" type="button" hidden></button>
  <nav id="langs" aria-label="language"></nav>
</header>
<main id="cabinet">
  <section id="signin" hidden>
    <h2 id="signin-title"></h2>
    <p id="signin-intro"></p>
    <button id="signin-button" type="button"></button>
    <p id="signin-status" role="status"></p>
  </section>
  <section id="profile" hidden>
    <h2 id="profile-title"></h2>
    <dl id="profile-fields"></dl>
    <form id="contacts" autocomplete="on">
      <h3 id="contacts-title"></h3>
      <label><span id="email-label"></span><input id="email" name="email" type="email"></label>
      <label><span id="phone-label"></span><input id="phone" name="phone" type="tel"></label>
      <label><span id="address-label"></span><textarea id="address" name="address" rows="2"></textarea></label>
      <button id="contacts-save" type="submit"></button>
      <span id="contacts-status" role="status"></span>
    </form>
  </section>
  <section id="notifications" hidden>
    <h2 id="notifications-title"></h2>
    <ul id="notification-list"></ul>
    <p id="notifications-empty" hidden></p>
  </section>
{documents}{sections}</main>
</body>
</html>
"""
DOCUMENTS = """  <section id="documents" hidden></section>
  <script type="module" src="/viewer/static/{script}"></script>
"""
SECTION = """  <section id="{id}" hidden></section>
  <script type="module" src="/viewer/static/{script}"></script>
"""


@router.get("/cabinet", response_class=HTMLResponse, include_in_schema=False)
def cabinet(request: Request, settings: SettingsDep, lang: str | None = None) -> HTMLResponse:
    lang = lang.lower() if lang and lang.lower() in LANGS else negotiate(request.headers.get("accept-language"))
    config = {"lang": lang, "langs": list(LANGS), "title": TITLE, "demo": settings.demo,
              "documents": (STATIC_DIR / DOCUMENTS_SCRIPT).is_file(), "ncalayer": settings.ncalayer_url}
    body = PAGE.format(lang=lang, title=html.escape(TITLE[lang]),
                       config=json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
                       documents=DOCUMENTS.format(script=DOCUMENTS_SCRIPT) if config["documents"] else "",
                       sections="".join(SECTION.format(id=id_, script=script) for id_, script in SECTIONS
                                        if (STATIC_DIR / script).is_file()))
    return HTMLResponse(body, headers={"Content-Language": lang, "Cache-Control": "no-cache"})


def _demo_sign_in(db: Database, settings: Settings, token: str, client: str | None) -> accounts.SignIn:
    with db.connection() as conn:
        who: accounts.Identity | None = None
        try:
            who = accounts.consume_demo_link(conn, token)
            return accounts.sign_in(conn, TableRegisters(conn), who, method="demo", client=client,
                                    lifetime=timedelta(hours=settings.session_hours))
        except Problem as problem:
            accounts.refused(conn, problem, who, method="demo", client=client)
            conn.commit()
            raise


@router.get("/cabinet/demo-sign-in", include_in_schema=False)
async def demo_sign_in(request: Request, db: DatabaseDep, settings: SettingsDep,
                       token: str = Query("", max_length=200)) -> RedirectResponse:
    """Development only: a link from `geoservice demo sign-in` signs its person in, once."""
    if not settings.demo:
        raise Problem("signin.demo_off", 403)
    result = await run_in_threadpool(_demo_sign_in, db, settings, token, client_address(request))
    response = RedirectResponse("/cabinet", status_code=303)
    set_session_cookie(request, response, result)
    return response
