"""The one secret detector: does `name = value` hold a secret in plaintext? Judged on both together.

Used by the stack config's `environment` check (stackconfig/rules.py), preflight's stack-file check
(preflight/stack_secrets.py) and the pack's container rules (webstack_guard/secrets.py), so all three
refuse the same things. Plain Python on purpose: the config and preflight import it as
`policies.secret_shapes` without importing the pack or `pulumi_policy`; the pack (which runs with
`policies/` on sys.path) imports it as `secret_shapes`.

What counts (tests/policies/test_secret_shapes.py holds the table of real-world names):
- a value with a secret's shape (private key, AWS access key id, URL with `user:password@`, `password=`
  in a connection string, GitHub/Slack/Stripe live/Google tokens, JWTs), whatever the name;
- a name that says it holds a secret (password, pwd, secret, token, passphrase, credentials, api key,
  private/signing/secret/... key, client secret), unless it names a reference to or a property of one
  (`*_SECRET_ARN`, `*_TOKEN_TTL`, `PASSWORD_MIN_LENGTH`, `authTokenFromConfig`);
- a `*_DSN` whose value carries credentials (`https://<key>@sentry.io/1`); a DSN without them is an address;
- any other `*_KEY` (`FERNET_KEY`, `APP_KEY`, `LICENSE_KEY`) whose value looks like key material (20+
  characters of letters and digits); `CACHE_KEY: v2`, `S3_KEY: uploads/a.png` and public keys pass.
A flag (`true`, `off`, empty), an ARN and a `$VAR` reference hold no secret whatever the name. `*_KEY_ID`
names are identifiers (`KMS_KEY_ID`, `JWT_KEY_ID`); an AWS access key id is refused by its AKIA/ASIA shape.
"""

from __future__ import annotations

import re

# Words that make a name secret-looking once split into tokens ("dbPassword", "DB_PASSWORD", "db-password").
SECRET_WORDS = {"password", "passwd", "pwd", "secret", "token", "passphrase", "credential", "credentials",
                "apikey", "privatekey"}
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
                      "endpoint", "prefix", "age", "hashers", "region", "scope", "scopes", "audience", "issuer"}
# A name ending in these (`authTokenFromConfig`, `passwordFromConfig`) names the config entry holding the secret.
REFERENCE_ENDINGS = (("from", "config"),)
# Words before `KEY` that make it an identifier or a key meant to be public ("PUBLIC_KEY", "RECAPTCHA_SITE_KEY").
NOT_SECRET_KEYS = {"public", "publishable", "site", "cache", "sort", "partition", "primary", "foreign", "object",
                   "idempotency", "routing", "hash", "range", "lookup", "group", "dedup", "deduplication"}

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
# What `plaintext_secret` answers when the name gives the secret away (the value alone would not).
BY_NAME = "a secret-looking name"

_URL_WITH_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s@]+@", re.IGNORECASE)
_KEY_MATERIAL = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9+/=_-]{20,}$")
_VARIABLE_REFERENCE = re.compile(r"^\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)$")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
_NOT_SECRET_VALUES = {"", "true", "false", "yes", "no", "none", "null", "on", "off", "enabled", "disabled"}


def name_tokens(name: str) -> list[str]:
    spaced = _CAMEL_BOUNDARY.sub("_", name)
    return [token.lower() for token in _SEPARATORS.split(spaced) if token]


def _is_reference(tokens: list[str]) -> bool:
    return tokens[-1] in REFERENCE_SUFFIXES or any(tuple(tokens[-len(end):]) == end for end in REFERENCE_ENDINGS)


def is_secret_name(name: str) -> bool:
    """True for names that say they hold a secret (and are not a reference to one, like `*_SECRET_ARN`)."""
    tokens = name_tokens(name)
    if not tokens or _is_reference(tokens):
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
    """A literal that could be a secret: a non-empty string that is not a flag, an ARN nor a `$VAR` reference."""
    if isinstance(value, bool) or value is None:
        return False
    text = str(value).strip()
    return (text.lower() not in _NOT_SECRET_VALUES and not text.startswith("arn:")
            and not _VARIABLE_REFERENCE.match(text))


def _secret_by_name_and_value(tokens: list[str], text: str) -> bool:
    """The names that are secret only with a matching value: a DSN with credentials, a `*_KEY` with key material."""
    if tokens[-1] == "dsn":
        return bool(_URL_WITH_USERINFO.match(text))
    if tokens[-1] == "key" and not NOT_SECRET_KEYS.intersection(tokens[:-1]):
        return bool(_KEY_MATERIAL.match(text))
    return False


def plaintext_secret(name: str, value: object) -> str | None:
    """What gives `name = value` away as a plaintext secret: the value's shape, or BY_NAME; None when it holds none."""
    if not holds_secret_value(value):
        return None
    text = str(value).strip()
    shape = secret_value_shape(text)
    if shape:
        return shape
    tokens = name_tokens(name)
    if is_secret_name(name) or (tokens and _secret_by_name_and_value(tokens, text)):
        return BY_NAME
    return None
