"""OGC API – Tiles routes (filled in by the tiles module)."""

from fastapi import APIRouter

router = APIRouter(prefix="/ogc", tags=["tiles"])
