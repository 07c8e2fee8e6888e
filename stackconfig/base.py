"""Shared base of every config model: camelCase keys in YAML, snake_case in Python, no unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Retention periods CloudWatch Logs accepts (PutRetentionPolicy rejects any other value).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)

# What a config key or environment variable name looks like when it holds a credential.
SECRET_NAME_HINTS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY",
                     "ACCESS_KEY", "CREDENTIAL", "AUTH")


class ConfigModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


def looks_secret(name: str) -> bool:
    """True for names such as DB_PASSWORD, jwtSecret, GOOGLE_API_KEY or DATABASE_URL-with-credentials keys."""
    normalized = "".join(ch if ch.isalnum() else "_" for ch in name).upper()
    compact = normalized.replace("_", "")
    return any(hint in normalized or hint.replace("_", "") in compact for hint in SECRET_NAME_HINTS)
