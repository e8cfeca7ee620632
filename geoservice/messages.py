"""Every package's messages, registered once and explicitly by the app edge (the FastAPI app,
the CLI and the tests call ``register_all``). A package keeps its texts in its own ``messages``
module as a plain ``MESSAGES`` dict; adding a package with messages means adding it here."""

from __future__ import annotations

from types import ModuleType

from cadastre import messages as cadastre_messages
from cadastre.eds import messages as eds_messages
from geoservice.api import messages as api_messages
from geoservice.kernel import i18n
from geoservice.kernel import messages as kernel_messages
from geoservice.ogc import messages as ogc_messages
from geoservice.viewer import messages as viewer_messages
from importers import messages as importers_messages
from layers import messages as layers_messages
from styles import messages as styles_messages
from tiles import messages as tiles_messages

CATALOGS: tuple[ModuleType, ...] = (kernel_messages, layers_messages, importers_messages, tiles_messages,
                                    styles_messages, eds_messages, cadastre_messages, ogc_messages, viewer_messages,
                                    api_messages)


def register_all() -> None:
    """Idempotent: registering the same tables again changes nothing."""
    for module in CATALOGS:
        i18n.register(module.MESSAGES)
