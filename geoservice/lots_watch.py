"""A server process's publisher of the auction lots (cadastre/auction_lots.py): the applied-for
blocks' watcher (geoservice/applied_watch.py) on another channel. It listens for ``auction_lots``
(the auctions table's trigger: a lot put up, opened, closed, failed or cancelled, its end moved,
committed in any process, the ticker's included), gathers a burst for a moment and publishes the
lots being sold as the next version of the map's ``auction-lots`` layer; it also looks every
``poll`` seconds and once at start. Nothing is written when nothing changed (the digest)."""

from __future__ import annotations

from cadastre.auction_lots import CHANNEL, publish_if_changed
from geoservice.applied_watch import AppliedWatch


class LotsWatch(AppliedWatch):
    channel = CHANNEL
    label = "auction-lots"

    def once(self) -> bool:
        """Publish if the lots changed; True when a version was made."""
        with self.db.connection() as conn:
            return publish_if_changed(conn) is not None
