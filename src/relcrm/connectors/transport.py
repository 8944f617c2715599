"""Transport failures, whatever raised them, as relcrm's connector errors.

Both CRMs' clients sit on urllib3 (simple-salesforce through requests), and a dropped
connection reaches relcrm in many shapes: ``requests.ConnectionError`` around a
``ProtocolError`` around ``RemoteDisconnected``; a bare ``urllib3.exceptions.ProtocolError``;
a TLS error in the middle of an answer, which hubspot-api-client wraps in an
``ApiException(status=0)`` and then trips over itself (``AttributeError: 'NoneType' object
has no attribute 'decode'``, raised while that exception is being handled). So the whole
exception chain is searched (causes, contexts, wrapped reasons and arguments) and the
failure is classified by what actually happened:

============================  ==================================  =====================
what happened                 relcrm error                        the CRM may have it
============================  ==================================  =====================
certificate not trusted       :class:`ConnectionFailed` (stop)    no
no connection (refused, DNS,  :class:`TransientError`             no
connect timeout)              ``CONNECT_FAILED``
read timeout                  :class:`TransientError`             yes (``maybe_applied``)
                              ``READ_TIMEOUT``
dropped, reset, TLS error,    :class:`TransientError`             yes (``maybe_applied``)
answer cut off or unreadable  ``CONNECTION_DROPPED``
============================  ==================================  =====================

A write whose request may have reached the CRM is read back before it is sent again
(:meth:`relcrm.connectors.retry.RetryPolicy.retry_items`).
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator

import requests
import urllib3

from relcrm.connectors.errors import ConnectionFailed, TransientError, VendorError

CONNECT_FAILED = "CONNECT_FAILED"
READ_TIMEOUT = "READ_TIMEOUT"
CONNECTION_DROPPED = "CONNECTION_DROPPED"

_CERT_WORDS = (
    "certificate_verify_failed",
    "certificate verify failed",
    "hostname mismatch",
    "doesn't match",
    "does not match",
    "self signed certificate",
    "self-signed certificate",
    "unable to get local issuer certificate",
    "ca certificate bundle",  # requests: the CA file named in the settings does not exist
    "no such file or directory",  # urllib3: the same
)

_NOT_SENT = (
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.NameResolutionError,
    requests.exceptions.ConnectTimeout,
    ConnectionRefusedError,
)

_READ_TIMEOUT = (
    urllib3.exceptions.ReadTimeoutError,
    requests.exceptions.ReadTimeout,
    TimeoutError,
)

_BAD_ADDRESS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    urllib3.exceptions.LocationValueError,
)

_TRANSPORT = (
    OSError,  # sockets, ssl.SSLError, ConnectionResetError, requests' RequestException
    http.client.HTTPException,  # RemoteDisconnected, IncompleteRead, BadStatusLine
    urllib3.exceptions.HTTPError,  # ProtocolError, SSLError, MaxRetryError...
    json.JSONDecodeError,  # an answer cut short of its JSON
)


def chain(error: BaseException) -> Iterator[BaseException]:
    """``error`` and every exception it wraps: causes, contexts, ``reason`` and ``args``."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        todo.extend(e for e in linked if isinstance(e, BaseException))


def _sdk_tls_reason(error: BaseException) -> str | None:
    """hubspot-api-client's wrapper around a urllib3 ``SSLError``: ``ApiException`` with
    status 0 and the TLS error's text as ``reason`` (``"SSLError\\n..."``)."""
    if getattr(error, "status", None) == 0 and hasattr(error, "body"):
        reason = str(getattr(error, "reason", "") or "")
        if reason.startswith("SSLError"):
            return reason
    return None


def _is_cert_failure(error: BaseException) -> bool:
    """The CRM's certificate is refused, or the CA file to check it with is missing."""
    if isinstance(error, ssl.SSLCertVerificationError | ssl.CertificateError):
        return True
    tls = isinstance(
        error, ssl.SSLError | urllib3.exceptions.SSLError | requests.exceptions.SSLError
    )
    if tls or _sdk_tls_reason(error) or type(error) is OSError:
        text = f"{_sdk_tls_reason(error) or ''} {error}".lower()
        return any(word in text for word in _CERT_WORDS)
    return False


def transport_failure(error: BaseException, *, crm: str, what: str) -> VendorError | None:
    """The relcrm error for a transport failure anywhere in ``error``'s chain, or None
    when ``error`` is not one (an HTTP answer, a bug)."""
    links = list(chain(error))
    if any(_is_cert_failure(e) for e in links):
        return ConnectionFailed(
            f"{crm}'s TLS certificate was not accepted during {what} (or the CA file to check "
            "it with cannot be read)",
            vendor_code="TLS_CERTIFICATE",
        )
    if any(isinstance(e, _BAD_ADDRESS) for e in links):
        return ConnectionFailed(f"{crm}'s address is not a valid URL ({what})", vendor_code="URL")
    transport = [e for e in links if isinstance(e, _TRANSPORT) or _sdk_tls_reason(e)]
    if not transport:
        return None
    kind = type(transport[-1]).__name__
    if any(isinstance(e, _NOT_SENT) for e in links):
        return TransientError(
            f"{crm} could not be reached during {what}: {kind}", vendor_code=CONNECT_FAILED
        )
    if any(isinstance(e, _READ_TIMEOUT) for e in links):
        return TransientError(
            f"{crm} did not answer in time during {what}; it may have done the work",
            vendor_code=READ_TIMEOUT,
            maybe_applied=True,
        )
    return TransientError(
        f"{crm} connection failed during {what}: {kind}; it may have done the work",
        vendor_code=CONNECTION_DROPPED,
        maybe_applied=True,
    )


__all__ = ["CONNECTION_DROPPED", "CONNECT_FAILED", "READ_TIMEOUT", "chain", "transport_failure"]
