"""Reading v4 associations in batches (a contact's notes, a ticket's contacts).

HubSpot answers a batch read with a 207 whose per-input errors mix "this record has
none" (``OBJECT_NOT_FOUND`` / ``NO_ASSOCIATIONS_FOUND``: not a failure) with real
failures. The real ones are raised from inside the call, so that the client's retry
policy re-sends the batch when the error table calls them transient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hubspot.crm.associations.v4 import (
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)

from relcrm.connectors.errors import RequestRejected, TransientError
from relcrm.connectors.hubspot.errors import input_error_code, input_is_retryable

NONE_FOUND = frozenset({"OBJECT_NOT_FOUND", "crm.associations.NO_ASSOCIATIONS_FOUND"})
"""Per-input error categories that only say the record has no associations."""


def field_of(obj: Any, name: str) -> Any:
    """``obj[name]`` or ``obj.name``: the SDK hands back models, or dicts on 207s."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def raise_unexpected(
    errors: Iterable[Any], *, listing: str, of: str, hint: str | None = None
) -> None:
    """Raise for per-input errors that do not mean "none found" (transient ones
    retryably). ``listing`` and ``of`` name what was read: "notes", "contact(s)"."""
    failed: dict[str, list[str]] = {}
    for error in errors:
        category, sub_category = field_of(error, "category"), field_of(error, "sub_category")
        if category in NONE_FOUND or sub_category in NONE_FOUND:
            continue
        code = input_error_code(category, sub_category, str(field_of(error, "message") or ""))
        ids = (field_of(error, "context") or {}).get("fromObjectId") or ["?"]
        failed.setdefault(code, []).extend(str(i) for i in ids)
    if not failed:
        return
    what = "; ".join(f"{code} for {of} {', '.join(ids)}" for code, ids in failed.items())
    text = f"HubSpot could not list the {listing} of some {of}: {what}"
    if all(input_is_retryable(code) for code in failed):
        raise TransientError(text, vendor_code=next(iter(failed)))
    raise RequestRejected(text, vendor_code=next(iter(failed)), hint=hint)


def association_read(
    from_object: str,
    to_object: str,
    inputs: Sequence[tuple[str, str | None]],
    *,
    of: str,
    hint: str | None = None,
) -> Callable[[Any], Any]:
    """``sdk -> batch read of the to_object associations`` of ``inputs`` (``(id, after
    cursor or None)``), raising for per-input errors other than "none found"."""
    body = BatchInputPublicFetchAssociationsBatchRequest(
        inputs=[
            PublicFetchAssociationsBatchRequest(id=record_id, after=after)
            if after
            else PublicFetchAssociationsBatchRequest(id=record_id)
            for record_id, after in inputs
        ]
    )

    def run(sdk: Any) -> Any:
        answer = sdk.crm.associations.v4.batch_api.get_page_with_http_info(
            from_object, to_object, body
        )
        data = answer[0] if isinstance(answer, tuple) else answer
        raise_unexpected(field_of(data, "errors") or [], listing=to_object, of=of, hint=hint)
        return answer

    return run
