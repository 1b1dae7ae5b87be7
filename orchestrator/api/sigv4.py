"""AWS Signature Version 4 verification, for a server that listens beyond loopback.

The expected signature is recomputed from the request exactly as the AWS documentation
describes (canonical request, string to sign, derived key) and compared in constant time.
Failures are answered with the codes and messages AWS uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote

from orchestrator.errors import ProtocolError

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = dt.timedelta(minutes=15)
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request\s*,"
    r"\s*SignedHeaders=([a-z0-9;\-]+)\s*,\s*Signature=([0-9a-f]{64})\s*$"
)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class SignedRequest:
    method: str
    path: str  # with its query string
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    path, _, query = request.path.partition("?")
    uri = quote(path or "/", safe="/-_.~")
    headers = "".join(
        f"{name}:{' '.join(request.headers.get(name, '').split())}\n" for name in signed_headers
    )
    payload = request.headers.get("x-amz-content-sha256") or _sha256(request.body)
    return "\n".join(
        [request.method, uri, _canonical_query(query), headers, ";".join(signed_headers), payload]
    )


def signature(secret: str, amz_date: str, scope: list[str], canonical: str) -> str:
    day, region, service = scope
    to_sign = "\n".join(
        [ALGORITHM, amz_date, f"{day}/{region}/{service}/aws4_request", _sha256(canonical.encode())]
    )
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), region), service), "aws4_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _check_date(amz_date: str, now: dt.datetime) -> None:
    try:
        signed_at = dt.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise ProtocolError(
            "IncompleteSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.",
        ) from None
    if signed_at < now - MAX_SKEW:
        raise ProtocolError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {_stamp(now - MAX_SKEW)}"
            f" ({_stamp(now)} - 15 min.)",
            403,
        )
    if signed_at > now + MAX_SKEW:
        raise ProtocolError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than"
            f" {_stamp(now + MAX_SKEW)} ({_stamp(now)} + 15 min.)",
            403,
        )


def verify(request: SignedRequest, credentials: Credentials, now: dt.datetime) -> None:
    """Raise ProtocolError unless the request carries a valid signature by `credentials`."""
    header = request.headers.get("authorization")
    if not header:
        raise ProtocolError(
            "MissingAuthenticationTokenException", "Missing Authentication Token", 403
        )
    match = _AUTH.match(header)
    if match is None:
        raise ProtocolError(
            "IncompleteSignatureException",
            "Authorization header requires Credential, SignedHeaders and Signature"
            " in the AWS4-HMAC-SHA256 format.",
        )
    key_id, day, region, service, signed, given = match.groups()
    if not hmac.compare_digest(key_id, credentials.access_key_id):
        raise ProtocolError(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            403,
        )
    amz_date = request.headers.get("x-amz-date", "")
    _check_date(amz_date, now)
    names = signed.split(";")
    expected = signature(
        credentials.secret_access_key,
        amz_date,
        [day, region, service],
        canonical_request(request, names),
    )
    if "host" not in names or not hmac.compare_digest(expected, given):
        raise ProtocolError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided."
            " Check your AWS Secret Access Key and signing method. Consult the service"
            " documentation for details.",
            403,
        )
