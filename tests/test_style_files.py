"""The style files committed under styles/ are what the service serves (regenerate them with
`python -m styles.export` after changing the palette or the catalog)."""

from __future__ import annotations

from styles.export import HERE, rendered


def test_committed_style_files_are_current():
    files = rendered()
    assert any(k.startswith("qgis/") for k in files) and any(k.startswith("maplibre/") for k in files)
    stale = [name for name, content in files.items()
             if not (HERE / name).exists() or (HERE / name).read_text(encoding="utf-8") != content]
    assert not stale, f"run `python -m styles.export`: out of date {stale}"
