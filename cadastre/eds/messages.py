"""Texts of signature verification: every check's problem, in kk/ru/en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {}
