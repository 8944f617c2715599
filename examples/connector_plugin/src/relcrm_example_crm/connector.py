"""A relcrm connector for TinyCRM: the whole connector contract in one small module.

It logs in with an API key for a session token (logging in again when the token
expires), paces nothing itself but waits out every 429 through relcrm's one retry policy,
pauses the run on a spent daily quota, writes in batches of ten with one result per
record, and reads values back normalised.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from relcrm.connectors.errors import (
    AuthenticationFailed,
    QuotaExhausted,
    RequestRejected,
    SessionExpired,
    TransientError,
    VendorError,
)
from relcrm.connectors.retry import RetryBudget, RetryPolicy
from relcrm.connectors.scrub import without_values
from relcrm.models import (
    ConnectorCapabilities,
    FieldSpec,
    FieldType,
    FieldWrite,
    MatchReport,
    ProvisionPlan,
    RatePolicy,
    ReadValue,
    RecordRef,
    WriteOutcome,
    WriteResult,
)

NAME = "examplecrm"
OBJECT = "people"
MAX_BATCH = 10

TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "text",
    FieldType.LONG_TEXT: "long_text",
    FieldType.NUMBER: "number",
    FieldType.CHECKBOX: "checkbox",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.PICKLIST: "picklist",
}
KINDS = {kind: field_type for field_type, kind in TYPES.items()}

CAPABILITIES = ConnectorCapabilities(
    name=NAME,
    max_batch_size=MAX_BATCH,
    field_types=frozenset(TYPES),
    max_field_name_length=60,
    max_text_length=255,
    max_long_text_length=32_000,
    supports_upsert=False,
    objects=(OBJECT,),
    match_by=frozenset({"email"}),
    rate_policy=RatePolicy(requests=100, window_s=10.0, scope="app"),
)


class ExampleCrmSettings(BaseSettings):
    """Where TinyCRM is and how to log in; the API key is a secret (environment only)."""

    model_config = SettingsConfigDict(extra="ignore")

    base_url: str = "https://tinycrm.example"
    api_key: SecretStr | None = None
    ca_file: Path | None = Field(default=None, description="a private CA to trust")
    timeout_s: float = Field(default=30.0, gt=0)
    retry_budget_s: float = Field(default=120.0, ge=0)


class ExampleCrmConnector:
    """TinyCRM's people, as relcrm sees them."""

    settings_class: ClassVar[type[BaseSettings]] = ExampleCrmSettings
    declared_capabilities: ClassVar[ConnectorCapabilities] = CAPABILITIES

    @classmethod
    def from_settings(cls, settings: ExampleCrmSettings) -> ExampleCrmConnector:
        return cls(settings)

    def __init__(self, settings: ExampleCrmSettings, *, policy: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.policy = policy or RetryPolicy(budget=RetryBudget(settings.retry_budget_s))
        verify: ssl.SSLContext | bool = True
        if settings.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(settings.ca_file))
        self.http = httpx.Client(
            base_url=settings.base_url, verify=verify, trust_env=False, timeout=settings.timeout_s
        )
        self._token: str | None = None
        self._calls = 0

    def __repr__(self) -> str:
        return f"ExampleCrmConnector(base_url={self.settings.base_url!r})"

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ transport

    def _login(self) -> None:
        key = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
        answer = self._send("POST", "/api/login", {"api_key": key}, what="log in", auth=False)
        self._token = str(answer["token"])

    def _send(self, method: str, path: str, body: Any, *, what: str, auth: bool = True) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"} if auth else {}
        self._calls += 1
        try:
            answer = self.http.request(method, path, json=body, headers=headers)
        except httpx.ConnectError as exc:
            raise TransientError(f"TinyCRM could not be reached ({what})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"TinyCRM connection failed ({what})", maybe_applied=True) from exc
        if answer.status_code < 300:
            return answer.json()
        raise _error(answer, what, login=not auth)

    def _call(self, method: str, path: str, body: Any = None, *, what: str) -> Any:
        """One API call through the retry policy: waits out 429s and 5xx, logs in again
        when the session expired; every write here is idempotent (values by record id)."""

        def attempt() -> Any:
            if self._token is None:
                self._login()
            return self._send(method, path, body, what=what)

        return self.policy.call(attempt, refresh=self._login)

    # ------------------------------------------------------------------ contract

    @property
    def capabilities(self) -> ConnectorCapabilities:
        return CAPABILITIES

    @property
    def api_calls(self) -> int:
        return self._calls

    def begin_run(self) -> None:
        self.policy.budget.reset()

    def describe(self, object_name: str) -> list[FieldSpec]:
        _check_object(object_name)
        answer = self._call("GET", "/api/people/fields", what="describe people")
        return [_spec(raw) for raw in answer["fields"]]

    def plan_provisioning(self, object_name: str, specs: Sequence[FieldSpec]) -> ProvisionPlan:
        existing = {spec.name: spec for spec in self.describe(object_name)}
        create = [spec for spec in specs if spec.name not in existing]
        conflicts = [
            f"{object_name}.{spec.name} is {existing[spec.name].type}, wanted {spec.type}"
            for spec in specs
            if spec.name in existing and existing[spec.name].type is not spec.type
        ]
        return ProvisionPlan(
            object_name=object_name, create=tuple(create), conflicts=tuple(conflicts)
        )

    def provision(
        self, object_name: str, specs: Sequence[FieldSpec], *, dry_run: bool = False
    ) -> list[FieldSpec]:
        plan = self.plan_provisioning(object_name, specs)
        for spec in [] if dry_run else plan.create:
            if spec.type not in TYPES:
                raise RequestRejected(f"TinyCRM has no {spec.type} fields ({spec.name})")
            body = {
                "name": spec.name,
                "label": spec.label,
                "type": TYPES[spec.type],
                "length": spec.length,
                "options": list(spec.picklist_values),
            }
            self._call("POST", "/api/people/fields", body, what=f"create field {spec.name}")
        return list(plan.create)

    def find_records(
        self,
        object_name: str,
        keys: Mapping[str, Sequence[str]],
        *,
        by: str = "email",
        fallback: Sequence[str] = (),
    ) -> MatchReport:
        _check_object(object_name)
        if by != "email" or fallback:
            raise RequestRejected("TinyCRM matches people by email only, in people only")
        emails = sorted({e.casefold() for values in keys.values() for e in values})
        answer = self._call("POST", "/api/people/search", {"emails": emails}, what="match")
        ids_of: dict[str, set[str]] = {}
        for hit in answer["results"]:
            ids_of.setdefault(str(hit["email"]).casefold(), set()).add(str(hit["id"]))
        report = MatchReport()
        for person, values in keys.items():
            found = sorted({i for e in values for i in ids_of.get(e.casefold(), set())})
            refs = tuple(RecordRef(system=NAME, object=OBJECT, id=i) for i in found)
            if len(refs) == 1:
                report.matched[person] = refs[0]
            elif refs:
                report.ambiguous[person] = refs
            else:
                report.unmatched.append(person)
        return report

    def read_values(
        self, object_name: str, record_ids: Sequence[str], fields: Sequence[str]
    ) -> dict[str, dict[str, ReadValue]]:
        kinds = {spec.name: spec.type for spec in self.describe(object_name)}
        body = {"ids": list(record_ids), "fields": list(fields)}
        answer = self._call("POST", "/api/people/read", body, what="read back")
        return {
            record_id: {name: _normalise(kinds.get(name), value) for name, value in row.items()}
            for record_id, row in answer["records"].items()
        }

    def write(self, object_name: str, writes: Sequence[FieldWrite]) -> list[WriteResult]:
        _check_object(object_name)
        results: list[WriteResult] = []
        for start in range(0, len(writes), MAX_BATCH):
            batch = writes[start : start + MAX_BATCH]
            sendable = [w for w in batch if w.record is not None]
            records = [{"id": w.record.id, "values": w.values} for w in sendable if w.record]
            try:
                answer = self._call(
                    "POST", "/api/people/update", {"records": records}, what="write"
                )
            except VendorError as exc:
                exc.completed = list(results)  # every record written so far
                raise
            answered = iter(answer["results"])
            for write in batch:
                if write.record is None:
                    results.append(_rejected(write, "NOT_MATCHED", "the write names no record"))
                    continue
                entry = next(answered)
                if entry.get("ok"):
                    results.append(
                        WriteResult(
                            person_id=write.person_id,
                            outcome=WriteOutcome.WRITTEN,
                            record_id=write.record.id,
                        )
                    )
                else:
                    message = without_values(entry.get("message"), write.values.values())
                    results.append(_rejected(write, str(entry.get("code")), message or ""))
        return results


def _check_object(object_name: str) -> None:
    if object_name != OBJECT:
        raise RequestRejected(f"TinyCRM keeps {OBJECT} only, not {object_name!r}")


def _rejected(write: FieldWrite, code: str, message: str) -> WriteResult:
    return WriteResult(
        person_id=write.person_id,
        outcome=WriteOutcome.REJECTED,
        record_id=write.record.id if write.record is not None else None,
        error_code=code,
        error_message=message,
    )


def _spec(raw: Mapping[str, Any]) -> FieldSpec:
    kind = KINDS[str(raw["type"])]
    return FieldSpec(
        name=str(raw["name"]),
        label=str(raw["label"]),
        type=kind,
        length=int(raw["length"]) if kind in (FieldType.TEXT, FieldType.LONG_TEXT) else None,
        picklist_values=tuple(raw.get("options") or ()),
        restricted=kind is FieldType.PICKLIST,
        custom=not raw.get("standard", False),
    )


def _normalise(kind: FieldType | None, value: Any) -> ReadValue:
    """TinyCRM's JSON as relcrm's normalised values (dates and datetimes parsed, aware)."""
    if value is None or not isinstance(value, str):
        return value
    if kind is FieldType.DATE:
        return date.fromisoformat(value)
    if kind is FieldType.DATETIME:
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return value


def _error(answer: httpx.Response, what: str, *, login: bool) -> VendorError:
    """The relcrm error for one of TinyCRM's error answers (its code kept as vendor_code)."""
    try:
        code = str(answer.json().get("code"))
    except ValueError:
        code = f"HTTP_{answer.status_code}"
    retry_after = _seconds(answer.headers.get("Retry-After"))
    status = answer.status_code
    text = f"TinyCRM refused {what}: {status} {code}"
    if status == 401:
        cls = AuthenticationFailed if login else SessionExpired
        return cls(text, vendor_code=code)
    if status == 403 and code == "DAILY_QUOTA":
        return QuotaExhausted(text, vendor_code=code, retry_after=retry_after)
    if status == 429 or status >= 500:
        return TransientError(text, vendor_code=code, retry_after=retry_after)
    return RequestRejected(text, vendor_code=code)


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header else None
    except ValueError:
        return None
