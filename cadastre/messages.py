"""Texts of the cabinet: accounts and sign-in, registers, notifications, documents, in kk/ru/en."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {}
