"""Problems a person must read: raised anywhere by message key, rendered once as
``application/problem+json`` (RFC 9457) in the request's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geoservice.kernel.i18n import MESSAGES, translate


@dataclass
class Location:
    """Where in the upload a problem is: file, feature number (1-based, in file order), field."""

    file: str | None = None
    feature: int | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("file", self.file), ("feature", self.feature), ("field", self.field))
                if v is not None}


@dataclass
class Issue:
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    location: Location = field(default_factory=Location)

    def render(self, lang: str) -> dict[str, Any]:
        return {"code": self.key, "message": translate(self.key, lang, **self.params),
                **self.location.as_dict()}


class Problem(Exception):
    """An error answer. ``key`` names the message; ``issues`` lists every place at fault."""

    def __init__(self, key: str, status: int = 400, *, issues: list[Issue] | None = None,
                 location: Location | None = None, retry_after: int | None = None, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.retry_after = retry_after  # seconds, sent as Retry-After (503, busy layer)
        self.params = params
        self.location = location or Location()
        self.issues = issues or []

    def render(self, lang: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:geoservice:problem:{self.key}",
            "title": translate(f"{self.key}.title", lang, **self.params)
            if f"{self.key}.title" in MESSAGES else translate(self.key, lang, **self.params),
            "status": self.status,
            "detail": translate(self.key, lang, **self.params),
            **self.location.as_dict(),
        }
        if self.issues:
            body["errors"] = [i.render(lang) for i in self.issues[:100]]
            if len(self.issues) > 100:
                body["errors_truncated"] = len(self.issues) - 100
        return body


class UploadError(Problem):
    """Upload rejected: nothing was stored."""

    def __init__(self, key: str, *, file: str | None = None, feature: int | None = None,
                 field: str | None = None, status: int = 422, issues: list[Issue] | None = None,
                 **params: Any) -> None:
        super().__init__(key, status, issues=issues, location=Location(file, feature, field), **params)
