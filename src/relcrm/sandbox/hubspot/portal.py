"""The sandbox's portal: its properties, groups, records and associations, and every
operation the HTTP routes expose, with HubSpot's validation rules.

Kept free of HTTP so the rules (what is a conflict, what a batch answers per input) read in
one place; the routes only parse, authorise and serialise. Everything runs under one lock:
uvicorn serves on one thread, but tests reset and inspect the portal from another.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from relcrm.sandbox._faults import FaultInjector
from relcrm.sandbox._requestlog import RecordWrite
from relcrm.sandbox.hubspot import errors as E
from relcrm.sandbox.hubspot import tasks as K
from relcrm.sandbox.hubspot import tickets as T
from relcrm.sandbox.hubspot.errors import HsError
from relcrm.sandbox.hubspot.schema import (
    COMPATIBLE_FIELD_TYPES,
    CREATED_PROPERTY,
    DEFAULT_RETURNED,
    FIELD_TYPES,
    MODIFIED_PROPERTY,
    NAME_RE,
    OBJECT_ALIASES,
    OBJECT_TYPE_IDS,
    PROPERTY_TYPES,
    SINGULAR,
    GroupDef,
    Option,
    PropertyDef,
    copy_property,
    default_groups,
    default_properties,
    iso_now,
    normalise_value,
    problem,
    sortable,
)

ALL_SCOPES: frozenset[str] = frozenset(
    {
        "crm.objects.contacts.read",
        "crm.objects.contacts.write",
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.schemas.contacts.read",
        "crm.schemas.contacts.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "tickets",
    }
)
DEFAULT_TOKEN = "pat-na1-00000000-0000-4000-8000-000000000001"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BATCH_READ_ASSOCIATIONS_LIMIT = 1000
"""Inputs per ``POST /crm/v4/associations/{from}/{to}/batch/read`` (HubSpot's limit)."""

ASSOCIATION_TYPES: dict[tuple[str, str], int] = {
    ("notes", "contacts"): 202,
    ("contacts", "notes"): 201,
    ("notes", "companies"): 190,
    ("companies", "notes"): 189,
    ("contacts", "companies"): 279,
    ("companies", "contacts"): 280,
    **T.TICKET_ASSOCIATION_TYPES,
    **K.TASK_ASSOCIATION_TYPES,
}
TRANSIENT_CATEGORY = "INTERNAL_ERROR"
"""Category of the fault plan's per-input failures (the sandbox's convention: retryable)."""

WriteSink = Callable[[RecordWrite], None]


@dataclass
class PortalConfig:
    """What a portal allows: tokens and their scopes, batch and search limits."""

    tokens: dict[str, frozenset[str]] = field(default_factory=lambda: {DEFAULT_TOKEN: ALL_SCOPES})
    batch_limit: int = 100
    search_page_limit: int = 200
    search_result_cap: int = 10_000
    per_input_validation: bool = True
    """A bad value fails only its input (207); False fails the whole batch with 400."""
    strict_string_values: bool = False
    """Refuse JSON numbers/booleans as property values (the spec says strings only)."""
    search_rate_headers: bool = False
    """Search answers omit the ``X-HubSpot-RateLimit-*`` headers unless this is set."""
    portal_id: int = 12345678


@dataclass
class Record:
    """One CRM object."""

    id: str
    properties: dict[str, str]
    created_at: str
    updated_at: str
    archived: bool = False
    archived_at: str | None = None


@dataclass
class BatchOutcome:
    """What a batch endpoint answers: 200/201 when ``errors`` is empty, else 207."""

    results: list[dict[str, Any]]
    errors: list[dict[str, Any]]


def object_type(raw: str) -> str:
    """Canonical object type for a path segment (``contact``, ``0-1`` -> ``contacts``)."""
    canon = OBJECT_ALIASES.get(raw.lower())
    if canon is None:
        raise HsError(400, "VALIDATION_ERROR", f"Unable to infer object type from: {raw}")
    return canon


class Portal:
    """One HubSpot account's data."""

    def __init__(self, config: PortalConfig | None = None, faults: FaultInjector | None = None):
        self.config = config or PortalConfig()
        self.faults = faults or FaultInjector()
        self.lock = threading.RLock()
        self.token_calls: dict[str, int] = {}
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to a fresh portal: default properties and groups, no records."""
        with self.lock:
            self.properties: dict[str, dict[str, PropertyDef]] = {
                obj: {p.name: copy_property(p) for p in default_properties(obj)}
                for obj in OBJECT_TYPE_IDS
            }
            self.groups: dict[str, dict[str, GroupDef]] = {
                obj: {g.name: g for g in default_groups(obj)} for obj in OBJECT_TYPE_IDS
            }
            self.records: dict[str, dict[str, Record]] = {obj: {} for obj in OBJECT_TYPE_IDS}
            self.unique: dict[tuple[str, str], dict[str, str]] = {}
            self.associations: set[tuple[str, str, str, str, int]] = set()
            self._next_id = 1001
            self.token_calls.clear()

    def add_token(self, token: str, scopes: Iterable[str] | None = None) -> str:
        """Register a private-app token with ``scopes`` (all scopes by default)."""
        with self.lock:
            self.config.tokens[token] = frozenset(ALL_SCOPES if scopes is None else scopes)
        return token

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # -- properties --------------------------------------------------------------------

    def prop(self, obj: str, name: str) -> PropertyDef | None:
        found = self.properties[obj].get(name)
        return found if found is not None and not found.archived else None

    def list_properties(self, obj: str, archived: bool = False) -> list[dict[str, Any]]:
        with self.lock:
            return [p.to_json() for p in self.properties[obj].values() if p.archived == archived]

    def read_property(self, obj: str, name: str) -> dict[str, Any]:
        with self.lock:
            found = self.prop(obj, name)
            if found is None:
                raise HsError(
                    404,
                    "OBJECT_NOT_FOUND",
                    f"Unable to find property: {name}",
                    sub_category="PropertyError.PROPERTY_NOT_FOUND",
                    context={"name": [name]},
                )
            return found.to_json()

    def _options(self, raw: Any) -> list[Option]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise E.invalid_json("options must be a list")
        out = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict) or "label" not in item or "value" not in item:
                raise E.validation("Each option needs a label and a value.")
            out.append(
                Option(
                    label=str(item["label"]),
                    value=str(item["value"]),
                    display_order=int(item.get("displayOrder", i)),
                    hidden=bool(item.get("hidden", False)),
                    description=str(item.get("description") or ""),
                )
            )
        values = [o.value for o in out]
        if len(set(values)) != len(values):
            raise E.validation("Enumeration option values must be unique.")
        return out

    def _check_types(self, obj: str, type_: str, field_type: str, options: list[Option]) -> None:
        if type_ not in PROPERTY_TYPES:
            raise E.validation(f"Invalid property type: {type_}")
        if field_type not in FIELD_TYPES:
            raise E.validation(f"Invalid property fieldType: {field_type}")
        if field_type not in COMPATIBLE_FIELD_TYPES[type_]:
            raise E.validation(
                f"Property type {type_} is not compatible with fieldType {field_type}",
                sub_category="PropertyError.INVALID_FIELD_TYPE",
            )
        if type_ == "enumeration" and not options:
            raise E.validation(
                "Enumeration properties need at least one option.",
                sub_category="PropertyError.MISSING_OPTIONS",
            )

    def create_property(self, obj: str, body: dict[str, Any]) -> dict[str, Any]:
        missing = [
            k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)
        ]
        if missing:
            raise E.validation(
                "Invalid input JSON: missing required fields " + ", ".join(missing),
                errors=[{"message": "must not be null", "in": k} for k in missing],
            )
        name = str(body["name"])
        type_, field_type = str(body["type"]), str(body["fieldType"])
        with self.lock:
            options = self._options(body.get("options"))
            if type_ == "bool" and not options:
                options = [Option("Yes", "true", 0), Option("No", "false", 1)]
            self._check_types(obj, type_, field_type, options)
            if not NAME_RE.match(name) or name.startswith("hs_"):
                raise E.validation(
                    f"Property name {name!r} is invalid: use lower-case letters, digits and "
                    "underscores, starting with a letter, and not the hs_ prefix.",
                    sub_category="PropertyError.INVALID_PROPERTY_NAME",
                )
            existing = self.properties[obj].get(name)
            if existing is not None and not existing.archived:
                raise HsError(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"Property named '{name}' already exists.",
                    sub_category="PropertyError.PROPERTY_EXISTS",
                    context={"name": [name]},
                )
            group = str(body["groupName"])
            if group not in self.groups[obj] or self.groups[obj][group].archived:
                raise E.validation(
                    f"Property group {group} does not exist.",
                    sub_category="PropertyError.PROPERTY_GROUP_NOT_FOUND",
                )
            now = iso_now()
            created = PropertyDef(
                name=name,
                label=str(body["label"]),
                type=type_,
                field_type=field_type,
                group_name=group,
                description=str(body.get("description") or ""),
                options=options,
                display_order=int(body.get("displayOrder", -1)),
                has_unique_value=bool(body.get("hasUniqueValue", False)),
                hidden=bool(body.get("hidden", False)),
                form_field=bool(body.get("formField", False)),
                created_at=now,
                updated_at=now,
            )
            self.properties[obj][name] = created
            if created.has_unique_value:
                self.unique[(obj, name)] = {}
            return created.to_json()

    def update_property(self, obj: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            current = self.prop(obj, name)
            if current is None:
                self.read_property(obj, name)  # raises the 404
                raise AssertionError  # pragma: no cover
            if current.read_only_definition:
                raise E.validation(
                    f"Property {name} is a HubSpot-defined property whose definition is read-only.",
                    sub_category="PropertyError.READ_ONLY_DEFINITION",
                )
            type_ = str(body.get("type", current.type))
            field_type = str(body.get("fieldType", current.field_type))
            options = self._options(body["options"]) if "options" in body else current.options
            self._check_types(obj, type_, field_type, options)
            if "groupName" in body and body["groupName"] not in self.groups[obj]:
                raise E.validation(f"Property group {body['groupName']} does not exist.")
            current.type, current.field_type, current.options = type_, field_type, options
            for key, attr in (
                ("label", "label"),
                ("description", "description"),
                ("groupName", "group_name"),
            ):
                if key in body:
                    setattr(current, attr, str(body[key]))
            if "displayOrder" in body:
                current.display_order = int(body["displayOrder"])
            if "hidden" in body:
                current.hidden = bool(body["hidden"])
            if "formField" in body:
                current.form_field = bool(body["formField"])
            current.updated_at = iso_now()
            return current.to_json()

    def archive_property(self, obj: str, name: str) -> None:
        with self.lock:
            current = self.prop(obj, name)
            if current is None:
                self.read_property(obj, name)
                return
            if current.hubspot_defined:
                raise E.validation(
                    f"Property {name} is HubSpot-defined and cannot be archived.",
                    sub_category="PropertyError.CANNOT_ARCHIVE_HUBSPOT_DEFINED",
                )
            current.archived = True
            current.archived_at = iso_now()

    # -- groups ------------------------------------------------------------------------

    def list_groups(self, obj: str) -> list[dict[str, Any]]:
        with self.lock:
            return [g.to_json() for g in self.groups[obj].values() if not g.archived]

    def read_group(self, obj: str, name: str) -> dict[str, Any]:
        with self.lock:
            group = self.groups[obj].get(name)
            if group is None or group.archived:
                raise E.not_found(f"Unable to find property group: {name}")
            return group.to_json()

    def create_group(self, obj: str, body: dict[str, Any]) -> dict[str, Any]:
        name, label = body.get("name"), body.get("label")
        if not name or not label:
            raise E.validation("Invalid input JSON: name and label are required")
        with self.lock:
            existing = self.groups[obj].get(str(name))
            if existing is not None and not existing.archived:
                raise HsError(
                    409,
                    "OBJECT_ALREADY_EXISTS",
                    f"A property group named '{name}' already exists.",
                    context={"name": [str(name)]},
                )
            group = GroupDef(str(name), str(label), int(body.get("displayOrder", -1)))
            self.groups[obj][group.name] = group
            return group.to_json()

    def update_group(self, obj: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.read_group(obj, name)
            group = self.groups[obj][name]
            if "label" in body:
                group.label = str(body["label"])
            if "displayOrder" in body:
                group.display_order = int(body["displayOrder"])
            return group.to_json()

    def archive_group(self, obj: str, name: str) -> None:
        with self.lock:
            self.read_group(obj, name)
            self.groups[obj][name].archived = True

    # -- records -----------------------------------------------------------------------

    def _unique_props(self, obj: str) -> list[str]:
        names = [n for (o, n) in self.unique if o == obj]
        return (["email"] if obj == "contacts" else []) + names

    def _index(self, obj: str, name: str) -> dict[str, str]:
        return self.unique.setdefault((obj, name), {})

    def find(self, obj: str, key: str, id_property: str | None) -> Record | None:
        """The live record whose ``id_property`` (default: the id) equals ``key``."""
        if id_property in (None, "", "hs_object_id"):
            rec = self.records[obj].get(key)
            return rec if rec is not None and not rec.archived else None
        self._require_unique(obj, str(id_property))
        rid = self._index(obj, str(id_property)).get(key.lower())
        return self.records[obj].get(rid) if rid else None

    def _require_unique(self, obj: str, id_property: str) -> None:
        if id_property not in self._unique_props(obj):
            type_id = OBJECT_TYPE_IDS[obj]
            raise E.validation(
                f"Unable to perform update/upsert by non-unique {type_id} property {id_property}",
                context={"idProperty": [id_property]},
            )

    def check_values(
        self, obj: str, values: Any, *, creating: bool = False
    ) -> tuple[dict[str, str | None], list[dict[str, Any]]]:
        """Validate written values; return what to store and the problems found."""
        if values is None:
            return {}, []
        if not isinstance(values, dict):
            raise E.invalid_json("properties must be an object")
        clean: dict[str, str | None] = {}
        problems: list[dict[str, Any]] = []
        for name, raw in values.items():
            prop = self.prop(obj, name)
            if prop is None:
                problems.append(
                    problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
                )
                continue
            if prop.read_only_value or prop.calculated:
                problems.append(
                    problem(
                        name,
                        "READ_ONLY_VALUE",
                        f'"{name}" is a read only property; its value cannot be set.',
                    )
                )
                continue
            if raw is None:
                text = ""
            elif isinstance(raw, str):
                text = raw
            elif isinstance(raw, bool | int | float) and not self.config.strict_string_values:
                text = str(raw).lower() if isinstance(raw, bool) else str(raw)
            else:
                problems.append(
                    problem(name, "INVALID_VALUE", f"{raw!r} is not a string value for {name}")
                )
                continue
            stored, issue = normalise_value(prop, text)
            if issue is None and obj == "contacts" and name == "email" and stored is not None:
                if not EMAIL_RE.match(stored):
                    issue = problem(name, "INVALID_EMAIL", f"Email address {stored} is invalid")
                stored = stored.lower() if stored else stored
            if issue is not None:
                problems.append(issue)
            else:
                clean[name] = stored
        return clean, problems

    def _unique_conflict(
        self, obj: str, clean: dict[str, str | None], own_id: str | None
    ) -> str | None:
        for name in self._unique_props(obj):
            value = clean.get(name)
            if value:
                holder = self._index(obj, name).get(value.lower())
                if holder is not None and holder != own_id:
                    return holder
        return None

    def _apply(self, obj: str, rec: Record, clean: dict[str, str | None]) -> None:
        for name, value in clean.items():
            old = rec.properties.get(name)
            is_unique = name in self._unique_props(obj)
            if is_unique and old:
                self._index(obj, name).pop(old.lower(), None)
            if value is None:
                rec.properties.pop(name, None)
            else:
                rec.properties[name] = value
                if is_unique:
                    self._index(obj, name)[value.lower()] = rec.id
        if obj == "tickets":
            T.derive(rec.properties, clean)
        if obj == "tasks":
            K.derive(rec.properties, clean)
        now = iso_now()
        rec.updated_at = now
        rec.properties[MODIFIED_PROPERTY[obj]] = now

    def _insert(self, obj: str, clean: dict[str, str | None]) -> Record:
        now = iso_now()
        rec = Record(id=self._new_id(), properties={}, created_at=now, updated_at=now)
        rec.properties["hs_object_id"] = rec.id
        rec.properties[CREATED_PROPERTY[obj]] = now
        self.records[obj][rec.id] = rec
        self._apply(obj, rec, clean)
        if clean.get(CREATED_PROPERTY[obj]):
            rec.properties[CREATED_PROPERTY[obj]] = str(clean[CREATED_PROPERTY[obj]])
        return rec

    def render(
        self,
        obj: str,
        rec: Record,
        properties: list[str] | None,
        *,
        written: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A ``SimplePublicObject``: the requested properties (null when unset)."""
        names = list(properties) if properties else [*DEFAULT_RETURNED[obj], *written]
        props = {n: rec.properties.get(n) for n in dict.fromkeys(names) if self.prop(obj, n)}
        out: dict[str, Any] = {
            "id": rec.id,
            "properties": props,
            "createdAt": rec.created_at,
            "updatedAt": rec.updated_at,
            "archived": rec.archived,
        }
        if rec.archived_at:
            out["archivedAt"] = rec.archived_at
        if extra:
            out.update(extra)
        return out

    def _conflict(self, obj: str, holder: str) -> HsError:
        noun = SINGULAR[obj].capitalize()
        return HsError(409, "CONFLICT", f"{noun} already exists. Existing ID: {holder}")

    def _invalid(self, problems: list[dict[str, Any]]) -> HsError:
        return E.validation(
            E.property_values_message(problems),
            errors=[
                {
                    "message": p["message"],
                    "code": p["error"],
                    "context": {"propertyName": [p["name"]]},
                }
                for p in problems
            ],
        )

    def _input_error(self, problems: list[dict[str, Any]], ids: list[str]) -> dict[str, Any]:
        return E.batch_error(
            "VALIDATION_ERROR",
            E.property_values_message(problems),
            {"ids": ids, "propertyName": [p["name"] for p in problems]},
        )

    def _transient(self, ids: list[str]) -> dict[str, Any]:
        return E.batch_error(
            TRANSIENT_CATEGORY,
            "An internal error occurred while writing this object. Please retry.",
            {"ids": ids},
            sub_category="TRANSIENT",
        )

    def create(
        self, obj: str, body: dict[str, Any], sink: WriteSink
    ) -> tuple[dict[str, Any], list[tuple[str, str, int]]]:
        """``POST /crm/v3/objects/{obj}``; returns the record and associations to make."""
        with self.lock:
            clean, problems = self.check_values(obj, body.get("properties"), creating=True)
            if problems:
                raise self._invalid(problems)
            holder = self._unique_conflict(obj, clean, None)
            if holder is not None:
                raise self._conflict(obj, holder)
            links = self._association_inputs(obj, body.get("associations"))
            if obj == "notes" and not clean.get("hs_timestamp"):
                raise self._invalid(
                    [problem("hs_timestamp", "REQUIRED_PROPERTY", "hs_timestamp is required")]
                )
            if obj == "tickets" and T.missing_on_create(clean):
                raise self._invalid(T.missing_on_create(clean))
            if obj == "tasks" and K.missing_on_create(clean):
                raise self._invalid(K.missing_on_create(clean))
            rec = self._insert(obj, clean)
            for to_type, to_id, type_id in links:
                self.associate(obj, rec.id, to_type, to_id, type_id)
            sink(RecordWrite(obj, "create", rec.id, clean.get("email")))
            return self.render(obj, rec, None, written=clean), links

    def _association_inputs(self, obj: str, raw: Any) -> list[tuple[str, str, int]]:
        if not raw:
            return []
        out: list[tuple[str, str, int]] = []
        for item in raw:
            to_id = str(((item or {}).get("to") or {}).get("id", ""))
            for spec in item.get("types") or []:
                type_id = int(spec.get("associationTypeId", 0))
                to_type = next(
                    (t for (f, t), n in ASSOCIATION_TYPES.items() if f == obj and n == type_id),
                    None,
                )
                if to_type is None:
                    raise E.validation(f"{type_id} is not a valid association type id from {obj}")
                if self.find(to_type, to_id, None) is None:
                    raise E.validation(
                        f"{SINGULAR[to_type]}={to_id} is not valid",
                        context={"ids": [to_id]},
                    )
                out.append((to_type, to_id, type_id))
        return out

    def read(self, obj: str, key: str, id_property: str | None, properties: list[str] | None,
             associations: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
        with self.lock:
            rec = self.find(obj, key, id_property)
            if rec is None:
                raise E.not_found()
            extra: dict[str, Any] = {}
            for raw in associations or []:
                to_type = OBJECT_ALIASES.get(raw.lower())
                if to_type is None:
                    continue
                found = [
                    {"id": t_id, "type": f"{SINGULAR[obj].lower()}_to_{SINGULAR[to_type].lower()}"}
                    for (f, f_id, t, t_id, _n) in sorted(self.associations)
                    if f == obj and f_id == rec.id and t == to_type
                ]
                if found:
                    extra.setdefault("associations", {})[to_type] = {"results": found}
            return self.render(obj, rec, properties, extra=extra)

    def list_page(self, obj: str, limit: int, after: str | None,
                  properties: list[str] | None) -> dict[str, Any]:  # fmt: skip
        with self.lock:
            live = [r for r in self.records[obj].values() if not r.archived]
            live.sort(key=lambda r: int(r.id))
            if after:
                live = [r for r in live if int(r.id) > int(after)]
            page = live[:limit]
            out: dict[str, Any] = {"results": [self.render(obj, r, properties) for r in page]}
            if len(live) > limit:
                nxt = str(int(page[-1].id))
                out["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
            return out

    def update(self, obj: str, key: str, id_property: str | None, body: dict[str, Any],
               sink: WriteSink) -> dict[str, Any]:  # fmt: skip
        with self.lock:
            rec = self.find(obj, key, id_property)
            if rec is None:
                raise E.not_found()
            clean, problems = self.check_values(obj, body.get("properties"))
            if problems:
                raise self._invalid(problems)
            holder = self._unique_conflict(obj, clean, rec.id)
            if holder is not None:
                raise self._conflict(obj, holder)
            self._apply(obj, rec, clean)
            sink(RecordWrite(obj, "update", rec.id, rec.properties.get("email")))
            return self.render(obj, rec, None, written=clean)

    def archive(self, obj: str, key: str, sink: WriteSink) -> None:
        with self.lock:
            rec = self.find(obj, key, None)
            if rec is None:
                return
            for name in self._unique_props(obj):
                value = rec.properties.get(name)
                if value:
                    self._index(obj, name).pop(value.lower(), None)
            rec.archived = True
            rec.archived_at = iso_now()
            self.associations = {a for a in self.associations if (a[0], a[1]) != (obj, rec.id)
                                 and (a[2], a[3]) != (obj, rec.id)}  # fmt: skip
            sink(RecordWrite(obj, "delete", rec.id, rec.properties.get("email")))

    # -- batches -----------------------------------------------------------------------

    def _inputs(self, body: Any) -> list[dict[str, Any]]:
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            raise E.invalid_json("expected an object with an inputs list")
        inputs = body["inputs"]
        limit = self.config.batch_limit
        if len(inputs) > limit:
            raise E.validation(
                f"Invalid input JSON: inputs size must be between 0 and {limit}, was {len(inputs)}",
                errors=[
                    {
                        "message": f"size must be between 0 and {limit}",
                        "in": "inputs",
                        "code": "INVALID_SIZE",
                    }
                ],
            )
        for item in inputs:
            if not isinstance(item, dict):
                raise E.invalid_json("each input must be an object")
        return list(inputs)

    def _duplicate_ids(self, keys: list[str]) -> None:
        seen: set[str] = set()
        dups = sorted({k for k in keys if k.lower() in seen or seen.add(k.lower())})  # type: ignore[func-returns-value]
        if dups:
            raise E.validation(
                f"Duplicate IDs found in batch input: {dups}. IDs must be unique",
                context={"ids": dups},
            )

    def batch_read(self, obj: str, body: Any) -> BatchOutcome:
        inputs = self._inputs(body)
        id_property = body.get("idProperty")
        properties = body.get("properties") or None
        with self.lock:
            results, missing = [], []
            for item in inputs:
                key = str(item.get("id", ""))
                rec = self.find(obj, key, id_property)
                if rec is None:
                    missing.append(key)
                else:
                    results.append(self.render(obj, rec, properties))
            errors = []
            if missing:
                errors.append(
                    E.batch_error(
                        "OBJECT_NOT_FOUND",
                        f"Could not get some {SINGULAR[obj]} objects, they may be deleted or "
                        "not exist. Check that ids are valid.",
                        {"ids": missing},
                    )
                )
            return BatchOutcome(results, errors)

    def _whole_batch_check(self, obj: str, inputs: list[dict[str, Any]]) -> None:
        if self.config.per_input_validation:
            return
        problems = [p for item in inputs for p in self.check_values(obj, item.get("properties"))[1]]
        if problems:
            raise self._invalid(problems)

    def batch_create(self, obj: str, body: Any, sink: WriteSink) -> BatchOutcome:
        inputs = self._inputs(body)
        with self.lock:
            self._whole_batch_check(obj, inputs)
            checked = [self.check_values(obj, i.get("properties"), creating=True) for i in inputs]
            if obj == "tickets":
                checked = [(c, p or T.missing_on_create(c)) for c, p in checked]
            if obj == "tasks":
                checked = [(c, p or K.missing_on_create(c)) for c, p in checked]
            pending: dict[str, str] = {}
            for clean, _problems in checked:
                holder = self._unique_conflict(obj, clean, None)
                email = clean.get("email")
                if holder is None and email:
                    holder = pending.get(email)
                if holder is not None:
                    raise self._conflict(obj, holder)
                if email:
                    pending[email] = "batch"
            results, errors = [], []
            for item, (clean, problems) in zip(inputs, checked, strict=True):
                trace = item.get("objectWriteTraceId")
                ids = [str(trace)] if trace else []
                if problems:
                    errors.append(self._input_error(problems, ids))
                    sink(RecordWrite(obj, "create", None, clean.get("email"), success=False))
                    continue
                if self.faults.record_fails(clean.get("email"), trace):
                    errors.append(self._transient(ids))
                    sink(RecordWrite(obj, "create", None, clean.get("email"), success=False))
                    continue
                links = self._association_inputs(obj, item.get("associations"))
                rec = self._insert(obj, clean)
                for to_type, to_id, type_id in links:
                    self.associate(obj, rec.id, to_type, to_id, type_id)
                sink(RecordWrite(obj, "create", rec.id, clean.get("email")))
                extra = {"objectWriteTraceId": trace} if trace else None
                results.append(self.render(obj, rec, None, written=clean, extra=extra))
            return BatchOutcome(results, errors)

    def batch_update(self, obj: str, body: Any, sink: WriteSink) -> BatchOutcome:
        inputs = self._inputs(body)
        with self.lock:
            for item in inputs:
                id_property = item.get("idProperty") or body.get("idProperty")
                if id_property not in (None, "", "hs_object_id"):
                    if id_property == "email":
                        raise E.validation(
                            f"Unable to perform update/upsert by non-unique "
                            f"{OBJECT_TYPE_IDS[obj]} property email",
                            context={"idProperty": ["email"]},
                        )
                    self._require_unique(obj, str(id_property))
            self._duplicate_ids([str(i.get("id", "")) for i in inputs])
            self._whole_batch_check(obj, inputs)
            results, errors, missing = [], [], []
            for item in inputs:
                key = str(item.get("id", ""))
                id_property = item.get("idProperty") or body.get("idProperty")
                rec = self.find(obj, key, id_property)
                if rec is None:
                    missing.append(key)
                    continue
                clean, problems = self.check_values(obj, item.get("properties"))
                if problems:
                    errors.append(self._input_error(problems, [key]))
                    sink(RecordWrite(obj, "update", rec.id, key, success=False))
                    continue
                holder = self._unique_conflict(obj, clean, rec.id)
                if holder is not None:
                    errors.append(
                        E.batch_error(
                            "CONFLICT",
                            f"{SINGULAR[obj].capitalize()} already exists. Existing ID: {holder}",
                            {"ids": [key]},
                        )
                    )
                    continue
                if self.faults.record_fails(rec.id, rec.properties.get("email")):
                    errors.append(self._transient([key]))
                    sink(RecordWrite(obj, "update", rec.id, key, success=False))
                    continue
                self._apply(obj, rec, clean)
                sink(
                    RecordWrite(
                        obj, "update", rec.id, rec.properties.get("email"), fields=tuple(clean)
                    )
                )
                results.append(self.render(obj, rec, None, written=clean))
            if missing:
                errors.append(
                    E.batch_error(
                        "OBJECT_NOT_FOUND",
                        f"Could not update some {SINGULAR[obj]} objects, they may be deleted "
                        "or not exist. Check that ids are valid.",
                        {"ids": missing},
                    )
                )
            return BatchOutcome(results, errors)

    def batch_upsert(self, obj: str, body: Any, sink: WriteSink) -> BatchOutcome:
        inputs = self._inputs(body)
        with self.lock:
            for item in inputs:
                id_property = item.get("idProperty") or body.get("idProperty")
                if not id_property:
                    raise E.validation(
                        "idProperty is required for upsert", context={"idProperty": []}
                    )
                self._require_unique(obj, str(id_property))
            self._duplicate_ids([str(i.get("id", "")) for i in inputs])
            self._whole_batch_check(obj, inputs)
            results, errors = [], []
            for item in inputs:
                key = str(item.get("id", ""))
                id_property = str(item.get("idProperty") or body.get("idProperty"))
                values = dict(item.get("properties") or {})
                clean, problems = self.check_values(obj, values)
                key_clean, key_problems = self.check_values(obj, {id_property: key})
                problems += key_problems
                if problems:
                    errors.append(self._input_error(problems, [key]))
                    sink(RecordWrite(obj, "upsert", None, key, success=False))
                    continue
                rec = self.find(obj, key, id_property)
                if self.faults.record_fails(key, rec.id if rec else None):
                    errors.append(self._transient([key]))
                    sink(RecordWrite(obj, "upsert", rec.id if rec else None, key, success=False))
                    continue
                is_new = rec is None
                clean.update(key_clean)
                holder = self._unique_conflict(obj, clean, rec.id if rec else None)
                if holder is not None:
                    errors.append(
                        E.batch_error(
                            "CONFLICT",
                            f"{SINGULAR[obj].capitalize()} already exists. Existing ID: {holder}",
                            {"ids": [key]},
                        )
                    )
                    continue
                if rec is None:
                    rec = self._insert(obj, clean)
                else:
                    self._apply(obj, rec, clean)
                sink(RecordWrite(obj, "upsert", rec.id, key))
                results.append(self.render(obj, rec, None, written=clean, extra={"new": is_new}))
            return BatchOutcome(results, errors)

    def batch_archive(self, obj: str, body: Any, sink: WriteSink) -> None:
        inputs = self._inputs(body)
        for item in inputs:
            self.archive(obj, str(item.get("id", "")), sink)

    # -- search ------------------------------------------------------------------------

    def search(self, obj: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise E.invalid_json("expected an object")
        limit = int(body.get("limit") or 10)
        if limit > self.config.search_page_limit or limit < 0:
            raise E.validation(
                f"limit must be between 0 and {self.config.search_page_limit}",
                errors=[{"message": "must be less than or equal to 200", "in": "limit"}],
            )
        after = int(body.get("after") or 0)
        cap = self.config.search_result_cap
        if after + limit > cap:
            raise E.validation(
                f"Search results are limited to {cap} records; narrow the filters "
                "instead of paging further.",
                errors=[{"message": f"after + limit must not exceed {cap}", "in": "after"}],
            )
        groups = body.get("filterGroups") or []
        if len(groups) > 5:
            raise E.validation("Too many filter groups: at most 5 are allowed.")
        if sum(len(g.get("filters") or []) for g in groups) > 25 or any(
            len(g.get("filters") or []) > 10 for g in groups
        ):
            raise E.validation("Too many filters: at most 10 per group and 25 in total.")
        with self.lock:
            live = [r for r in self.records[obj].values() if not r.archived]
            matched = [
                r
                for r in live
                if not groups
                or any(all(self._match(obj, r, f) for f in g.get("filters") or []) for g in groups)
            ]
            query = str(body.get("query") or "").lower()
            if query:
                matched = [
                    r for r in matched if any(query in v.lower() for v in r.properties.values())
                ]
            matched.sort(key=lambda r: int(r.id))
            for sort in reversed(body.get("sorts") or []):
                name, descending = self._sort_spec(sort)
                prop = self.prop(obj, name)
                present = [r for r in matched if r.properties.get(name)]
                absent = [r for r in matched if not r.properties.get(name)]
                present.sort(key=lambda r: sortable(prop, r.properties[name]), reverse=descending)
                matched = present + absent
            page = matched[after : after + limit]
            out: dict[str, Any] = {
                "total": len(matched),
                "results": [self.render(obj, r, body.get("properties") or None) for r in page],
            }
            nxt = after + limit
            if nxt < len(matched) and limit:
                out["paging"] = {"next": {"after": str(nxt), "link": f"?after={nxt}"}}
            return out

    @staticmethod
    def _sort_spec(sort: Any) -> tuple[str, bool]:
        if isinstance(sort, str):
            return sort.lstrip("-"), sort.startswith("-")
        if isinstance(sort, dict):
            return str(sort.get("propertyName", "")), sort.get("direction") == "DESCENDING"
        raise E.invalid_json("sorts entries must be strings or objects")

    def _match(self, obj: str, rec: Record, flt: dict[str, Any]) -> bool:
        name = str(flt.get("propertyName", ""))
        op = str(flt.get("operator", "EQ"))
        prop = self.prop(obj, name)
        if prop is None:
            raise E.validation(
                f"There was a problem with the request: property {name} does not exist",
                context={"propertyName": [name]},
            )
        value = rec.properties.get(name)
        if op == "HAS_PROPERTY":
            return bool(value)
        if op == "NOT_HAS_PROPERTY":
            if "value" in flt and flt["value"] is not None:
                raise E.validation("NOT_HAS_PROPERTY does not take a value")
            return not value
        if op in ("IN", "NOT_IN"):
            values = [str(v) for v in flt.get("values") or []]
            hit = value is not None and any(
                sortable(prop, value) == sortable(prop, v) for v in values
            )
            return hit if op == "IN" else not hit
        target = str(flt.get("value", ""))
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern = re.escape(target.lower()).replace(r"\*", ".*")
            tokens = [*re.split(r"[\s@.;,]+", (value or "").lower()), (value or "").lower()]
            hit = any(re.fullmatch(pattern, t) for t in tokens if t)
            return hit if op == "CONTAINS_TOKEN" else not hit
        if op == "NEQ":
            return value is None or sortable(prop, value) != sortable(prop, target)
        if value is None:
            return False
        left, right = sortable(prop, value), sortable(prop, target)
        if left[0] != right[0]:
            return False
        if op == "EQ":
            return bool(left == right)
        if op == "GT":
            return bool(left > right)
        if op == "GTE":
            return bool(left >= right)
        if op == "LT":
            return bool(left < right)
        if op == "LTE":
            return bool(left <= right)
        if op == "BETWEEN":
            high = sortable(prop, str(flt.get("highValue", "")))
            return bool(right <= left <= high)
        raise E.validation(f"Unknown filter operator {op}")

    # -- associations ------------------------------------------------------------------

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str,
                  type_id: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
        """Link two records both ways; returns ``PublicDefaultAssociation`` entries."""
        with self.lock:
            if (
                self.find(from_type, from_id, None) is None
                or self.find(to_type, to_id, None) is None
            ):
                missing = from_id if self.find(from_type, from_id, None) is None else to_id
                raise E.not_found(f"No {SINGULAR[from_type if missing == from_id else to_type]} "
                                  f"with ID {missing} exists")  # fmt: skip
            forward = type_id or ASSOCIATION_TYPES.get((from_type, to_type))
            backward = ASSOCIATION_TYPES.get((to_type, from_type))
            if forward is None or backward is None:
                raise E.validation(f"No default association between {from_type} and {to_type}")
            self.associations.add((from_type, from_id, to_type, to_id, forward))
            self.associations.add((to_type, to_id, from_type, from_id, backward))
            spec = "HUBSPOT_DEFINED"
            return [
                {"from": {"id": from_id}, "to": {"id": to_id},
                 "associationSpec": {"associationCategory": spec, "associationTypeId": forward}},
                {"from": {"id": to_id}, "to": {"id": from_id},
                 "associationSpec": {"associationCategory": spec, "associationTypeId": backward}},
            ]  # fmt: skip

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[dict[str, Any]]:
        with self.lock:
            by_target: dict[str, list[dict[str, Any]]] = {}
            for f, f_id, t, t_id, n in sorted(self.associations):
                if (f, f_id, t) == (from_type, from_id, to_type):
                    by_target.setdefault(t_id, []).append(
                        {"category": "HUBSPOT_DEFINED", "typeId": n, "label": None}
                    )
            return [{"toObjectId": t, "associationTypes": v} for t, v in by_target.items()]

    def batch_associated(
        self, from_type: str, to_type: str, body: Any
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``POST /crm/v4/associations/{from}/{to}/batch/read``: (results, errors).

        A result is a ``PublicAssociationMultiWithLabel`` (``from``, ``to[]``). An id that
        names no live record, or a record with nothing associated, becomes an error entry
        (``crm.associations.NO_ASSOCIATIONS_FOUND``) and the answer is a 207.
        """
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            raise E.invalid_json("expected an object with an inputs list")
        inputs = body["inputs"]
        limit = BATCH_READ_ASSOCIATIONS_LIMIT
        if len(inputs) > limit:
            raise E.validation(
                f"Invalid input JSON: inputs size must be between 0 and {limit}, was {len(inputs)}",
                errors=[
                    {
                        "message": f"size must be between 0 and {limit}",
                        "in": "inputs",
                        "code": "INVALID_SIZE",
                    }
                ],
            )
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.lock:
            for item in inputs:
                if not isinstance(item, dict) or item.get("id") in (None, ""):
                    raise E.invalid_json("each input must be an object with an id")
                from_id = str(item["id"])
                found = self.associated(from_type, from_id, to_type)
                if self.find(from_type, from_id, None) is None or not found:
                    errors.append(
                        E.batch_error(
                            "OBJECT_NOT_FOUND",
                            f"No {SINGULAR[to_type].lower()} is associated with "
                            f"{SINGULAR[from_type].lower()} {from_id}.",
                            {"fromObjectId": [from_id]},
                            sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                        )
                    )
                    continue
                results.append({"from": {"id": from_id}, "to": found})
        return results, errors

    def dissociate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        with self.lock:
            self.associations = {
                a
                for a in self.associations
                if (a[0], a[1], a[2], a[3]) not in
                {(from_type, from_id, to_type, to_id), (to_type, to_id, from_type, from_id)}
            }  # fmt: skip
