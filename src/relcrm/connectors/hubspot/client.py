"""One place where every HubSpot call goes through: the limiter, the error table, the policy.

``HubSpotClient.call("batch update contacts", lambda sdk: sdk.crm....update_with_http_info(x))``
waits for the shared rate limiter, runs the lambda on the official client, feeds the
answer's ``X-HubSpot-RateLimit-*`` headers back to the limiter, translates a failure with
the error table, and lets relcrm's one retry policy decide. The lambdas use the SDK's
``*_with_http_info`` methods because only those hand back the response headers.

The SDK is built with ``retry=False``: urllib3 then never retries, so nothing retries
twice (and a 429 on a POST is seen here, not swallowed by urllib3's GET-only default).
Writes pass ``resend_uncertain=False``: a write that may have reached HubSpot (the
connection dropped after sending, a read timeout) is raised to the writer, which reads
the records back before it sends them again.

Every request carries the settings' ``timeout_s``: the SDK passes none, and urllib3
would wait forever on a connection that went quiet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from hubspot import HubSpot
from hubspot.discovery.discovery_base import DiscoveryBase

from relcrm.connectors.errors import TransientError
from relcrm.connectors.hubspot.errors import header, parse_retry_after, translate
from relcrm.connectors.hubspot.ratelimit import RateLimiter
from relcrm.connectors.hubspot.settings import HubSpotSettings
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.errors import ConfigurationError

RATE_POLICIES = frozenset({"TEN_SECONDLY_ROLLING", "SECONDLY"})


def timeout_factory(timeout_s: float) -> Callable[[Any, str, dict[str, Any]], Any]:
    """An ``api_factory`` for the SDK: its default one, plus a timeout on every request
    that does not name its own (the SDK's REST client passes ``timeout=None``)."""

    def factory(package: Any, api_name: str, config: dict[str, Any]) -> Any:
        api = DiscoveryBase._default_api_factory(package, api_name, config)
        rest = getattr(getattr(api, "api_client", None), "rest_client", None)
        original = getattr(rest, "request", None)
        if rest is not None and original is not None:

            def request(*args: Any, **kwargs: Any) -> Any:
                if kwargs.get("_request_timeout") is None:
                    kwargs["_request_timeout"] = (timeout_s, timeout_s)
                return original(*args, **kwargs)

            rest.request = request
        return api

    return factory


def build_sdk(settings: HubSpotSettings) -> Any:
    """The official client on ``settings.base_url``, trusting ``settings.ca_file``, with
    the SDK's own retries off and ``settings.timeout_s`` on every request."""
    if settings.access_token is None:
        raise ConfigurationError(
            "no HubSpot access token is configured",
            hint="set RELCRM_HUBSPOT_ACCESS_TOKEN to a private-app or OAuth access token",
        )
    options: dict[str, Any] = {
        "access_token": settings.access_token.get_secret_value(),
        "host": settings.base_url.rstrip("/"),
        "retry": False,
        "api_factory": timeout_factory(settings.timeout_s),
    }
    if settings.ca_file is not None:
        options["ssl_ca_cert"] = str(settings.ca_file)
    return HubSpot(**options)


class HubSpotClient:
    """The official client plus relcrm's limiter, error table and retry policy."""

    def __init__(
        self,
        settings: HubSpotSettings,
        *,
        sdk: Any = None,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.sdk = sdk if sdk is not None else build_sdk(settings)
        self.policy = policy or RetryPolicy(
            attempts=settings.retry_attempts,
            record_attempts=settings.record_retry_attempts,
            budget=RetryBudget(settings.retry_budget_s),
        )
        self.limiter = limiter or RateLimiter(
            settings.rate_limit_max, settings.rate_limit_window_ms / 1000
        )
        self._count_lock = threading.Lock()
        self.requests = 0
        """Requests sent (for reports and benchmarks)."""
        self.rate_limited = 0
        """429s received."""

    def __repr__(self) -> str:
        return f"HubSpotClient(base_url={self.settings.base_url!r})"

    def call(self, what: str, fn: Callable[[Any], Any], *, resend_uncertain: bool = True) -> Any:
        """Run ``fn(sdk)`` (a ``*_with_http_info`` call) under the limiter and the policy;
        return the deserialised answer or raise a translated connector error.

        ``resend_uncertain=False`` (writes): a failure after which HubSpot may have done
        the work is raised at once (``TransientError.maybe_applied``), not sent again.
        """

        def attempt() -> Any:
            self.limiter.acquire()
            with self._count_lock:
                self.requests += 1
            try:
                answer = fn(self.sdk)
            except Exception as exc:
                self.limiter.release(getattr(exc, "headers", None))
                error = translate(exc, what=what)
                if getattr(exc, "status", None) == 429 and isinstance(error, TransientError):
                    with self._count_lock:
                        self.rate_limited += 1
                    # the shared gate does the waiting for every thread: the policy must not
                    # add its own backoff on top, or each thread would wait again
                    self.limiter.throttled(
                        parse_retry_after(header(getattr(exc, "headers", None), "Retry-After"))
                    )
                    error.retry_after = 0.0
                raise error from exc
            if isinstance(answer, tuple) and len(answer) == 3:
                data, _status, headers = answer
                self.limiter.release(headers)
                return data
            self.limiter.release()
            return answer

        return self.policy.call(attempt, resend_uncertain=resend_uncertain)


def sdk_method(path: str, *args: Any) -> Callable[[Any], Any]:
    """``sdk -> sdk.<path>(*args)`` with the arguments bound now, so calls made in a loop
    never see a later iteration's values."""

    def run(sdk: Any) -> Any:
        target = sdk
        for part in path.split("."):
            target = getattr(target, part)
        return target(*args)

    return run
