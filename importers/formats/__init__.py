"""Readers of the individual upload formats, used by importers.sources."""
