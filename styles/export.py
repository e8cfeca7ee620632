"""Write the styles out as files, for QGIS users who load a .qml from disk and for anyone who
wants the MapLibre style JSON without running the service. The committed copies under
styles/qgis/ and styles/maplibre/ are this output (a test keeps them in sync)."""

from __future__ import annotations

import json
from pathlib import Path

from styles.mapbox import build_style
from styles.qml import LAYERS_WITH_QML, build_qml

HERE = Path(__file__).resolve().parent
DEFAULT_BASE = "http://127.0.0.1:8000"
LANGS = ("kk", "ru", "en")


def rendered(base: str = DEFAULT_BASE) -> dict[str, str]:
    """Relative path → file content."""
    files: dict[str, str] = {}
    for layer_id in LAYERS_WITH_QML:
        for lang in LANGS:
            suffix = "" if lang == "en" else f".{lang}"
            files[f"qgis/{layer_id}{suffix}.qml"] = build_qml(layer_id, lang)
    for lang in LANGS:
        style = build_style(base, lang)
        files[f"maplibre/map.{lang}.json"] = json.dumps(style, ensure_ascii=False, indent=1) + "\n"
    return files


def export(target: Path = HERE, base: str = DEFAULT_BASE) -> list[Path]:
    written = []
    for relative, content in rendered(base).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in export():
        print(p)
