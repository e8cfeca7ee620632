"""OGC API – Features at /ogc."""

from fastapi import APIRouter

router = APIRouter(prefix="/ogc", tags=["ogc"])
