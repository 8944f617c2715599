"""A mapping against what its connector declares it can do, before anything runs.

Connectors declare their features as data (:class:`relcrm.models.ConnectorCapabilities`),
so a mapping that asks for more (``match.fallback`` objects on a CRM that keeps people in
one object, an object the connector does not write, matching by an external id where the
connector cannot, creating records where it cannot upsert,
follow-up tasks where it has none) is refused when the targets
file is loaded (``relcrm mapping check``, ``relcrm sync``...) and when a sync engine is
built, not found out halfway through a run.
"""

from __future__ import annotations

from relcrm.errors import ConfigurationError, FieldProblem
from relcrm.mapping.model import Mapping
from relcrm.models import ConnectorCapabilities, FieldType


def unsupported(mapping: Mapping, capabilities: ConnectorCapabilities) -> list[FieldProblem]:
    """Each key of ``mapping`` that asks for what ``capabilities`` does not declare; the
    problem names the key, the connector and what to do."""
    name = capabilities.name
    problems: list[FieldProblem] = []
    fallback = mapping.match.fallback
    if fallback and not capabilities.fallback_matching:
        problems.append(
            FieldProblem(
                "match.fallback",
                f"connector {name!r} does not match persons in fallback objects "
                "(its capabilities say fallback_matching = false); remove match.fallback",
                ", ".join(fallback),
            )
        )
    for index, item in enumerate(mapping.fields):
        if item.type not in capabilities.field_types:
            instead = (
                '; use type = "text" with a length (the options are joined by "; ")'
                if item.type is FieldType.MULTI_PICKLIST
                else ""
            )
            problems.append(
                FieldProblem(
                    f"fields[{index}].type",
                    f"connector {name!r} does not write {item.type} fields ({item.name}){instead}",
                    item.type.value,
                )
            )
    key = "email" if mapping.match.by == "email" else "external_id"
    if key not in capabilities.match_by:
        can = ", ".join(sorted(capabilities.match_by)) or "nothing"
        problems.append(
            FieldProblem(
                "match.by",
                f"connector {name!r} cannot match by "
                + ("email" if key == "email" else "an external id field")
                + f" (it matches by {can})",
                mapping.match.by,
            )
        )
    if mapping.match.create_missing and not capabilities.upsert_by_external_id:
        problems.append(
            FieldProblem(
                "match.create_missing",
                f"connector {name!r} does not create records (its capabilities say "
                "upsert_by_external_id = false); remove match.create_missing",
                "true",
            )
        )
    problems.extend(_outreach_unsupported(mapping, capabilities))
    if capabilities.objects:
        allowed = {o.casefold() for o in capabilities.objects}
        listed = ", ".join(capabilities.objects)
        if mapping.object.casefold() not in allowed:
            problems.append(
                FieldProblem(
                    "object",
                    f"connector {name!r} writes persons to {listed} only",
                    mapping.object,
                )
            )
        if capabilities.fallback_matching:
            for index, other in enumerate(fallback):
                if other.casefold() not in allowed:
                    problems.append(
                        FieldProblem(
                            f"match.fallback[{index}]",
                            f"connector {name!r} matches persons in {listed} only",
                            other,
                        )
                    )
    return problems


def _outreach_unsupported(
    mapping: Mapping, capabilities: ConnectorCapabilities
) -> list[FieldProblem]:
    """``[outreach] create_task`` on a connector that does not declare follow-up tasks."""
    if not mapping.outreach.create_task or capabilities.follow_up_tasks:
        return []
    return [
        FieldProblem(
            "outreach.create_task",
            f"connector {capabilities.name!r} does not create follow-up tasks (its "
            "capabilities say follow_up_tasks = false); remove [outreach] create_task",
            "true",
        )
    ]


def require_supported(
    mapping: Mapping, capabilities: ConnectorCapabilities, *, target: str | None = None
) -> None:
    """Raise :class:`ConfigurationError` (``config.unsupported_mapping``) naming the
    target and each key of ``mapping`` its connector cannot do."""
    problems = unsupported(mapping, capabilities)
    if problems:
        raise ConfigurationError(
            f"target {target or mapping.target}: mapping {mapping.target!r} asks for what "
            f"connector {capabilities.name!r} cannot do: " + "; ".join(str(p) for p in problems),
            hint="change the mapping as the message says, or use a connector that can",
            code="config.unsupported_mapping",
        )


__all__ = ["require_supported", "unsupported"]
