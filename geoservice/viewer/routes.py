"""The public map viewer at / and the basemap data it draws (country outline, graticule)."""

from fastapi import APIRouter

router = APIRouter(tags=["viewer"])
