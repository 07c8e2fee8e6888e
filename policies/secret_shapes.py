"""What a secret looks like: by its name (any case, any separator) and by the shape of its value.

Shared by the pack's container-environment rule, preflight's stack-file check and the stack config's
`environment` check, so all three refuse the same things. Plain Python on purpose: the config and
preflight import it as `policies.secret_shapes` without importing the pack or `pulumi_policy`; the
pack (which runs with `policies/` on sys.path) imports it as `secret_shapes`.
"""

from __future__ import annotations

import re

# Words that make a name secret-looking once split into tokens ("dbPassword", "DB_PASSWORD", "db-password").
SECRET_WORDS = {"password", "passwd", "pwd", "secret", "token", "passphrase", "credential", "credentials",
                "apikey", "privatekey", "dsn"}
# Two-word spellings of the same ("API_KEY", "private-key", "accessKey", "signing_key", "auth token").
SECRET_PAIRS = {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("signing", "key"),
                ("encryption", "key"), ("master", "key"), ("client", "secret"), ("auth", "token"),
                ("connection", "string")}
# Words that, glued to others ("PGPASSWORD", "ACCESSTOKEN", "clientsecret"), still end a secret's name.
SECRET_ENDINGS = ("password", "passwd", "secret", "token", "apikey", "privatekey", "passphrase")
# A name ending in one of these points at or describes a secret without holding it.
REFERENCE_SUFFIXES = {"arn", "arns", "name", "id", "ids", "path", "ref", "version", "length", "ttl", "lifetime",
                      "expiry", "expires", "timeout", "seconds", "days", "enabled", "header", "algorithm",
                      "field", "rotation", "policy", "type", "kms", "provider", "backend", "file", "url", "uri",
                      "endpoint"}

VALUE_SHAPES = {
    "a private key": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"),
    "an AWS access key id": re.compile(r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "a URL with an embedded password": re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE),
    "a connection string with a password": re.compile(r"(^|[?&;\s])(password|passwd|pwd)=[^&;\s]+", re.IGNORECASE),
    "a GitHub token": re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\b"),
    "a Slack token": re.compile(r"\b(xox[abposre]-[A-Za-z0-9-]{10,}|xapp-[0-9]-[A-Za-z0-9-]{10,})"),
    "a Stripe live key": re.compile(r"\b[sr]k_live_[A-Za-z0-9]{16,}"),
    "a JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    "a Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
}

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_NOT_SECRET_VALUES = {"", "true", "false", "yes", "no", "none", "null", "on", "off", "enabled", "disabled"}


def name_tokens(name: str) -> list[str]:
    spaced = _CAMEL_BOUNDARY.sub("_", name)
    return [token.lower() for token in _SEPARATORS.split(spaced) if token]


def is_secret_name(name: str) -> bool:
    """True for names that say they hold a secret (and are not a reference to one, like `*_SECRET_ARN`)."""
    tokens = name_tokens(name)
    if not tokens or tokens[-1] in REFERENCE_SUFFIXES:
        return False
    if any(token in SECRET_WORDS or token.endswith(SECRET_ENDINGS) for token in tokens):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(tokens, tokens[1:]))


def secret_value_shape(value: str) -> str | None:
    """The kind of secret a value looks like, or None."""
    for kind, pattern in VALUE_SHAPES.items():
        if pattern.search(value):
            return kind
    return None


def holds_secret_value(value: object) -> bool:
    """A literal that could be a secret: a non-empty string that is not a flag nor an ARN reference."""
    if isinstance(value, bool) or value is None:
        return False
    text = str(value).strip()
    return text.lower() not in _NOT_SECRET_VALUES and not text.startswith("arn:")
