"""Styles routes: /ogc/styles (MapLibre style JSON and QGIS QML)."""

from fastapi import APIRouter

router = APIRouter(prefix="/ogc", tags=["styles"])
