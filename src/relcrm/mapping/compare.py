"""Whether a value read back from a CRM is the value relcrm sent for a mapped field.

A resumed sync compares what it was about to send with what the CRM holds, so a write
that reached the CRM before the process died is recognised and not sent again. The
connector reads values back normalised (:data:`relcrm.models.ReadValue`), and the
comparison is relcrm's one comparison of neutral values
(:func:`relcrm.models.value_holds`), which connectors use too: no CRM's shapes here.
"""

from __future__ import annotations

from relcrm.mapping.model import FieldMapping
from relcrm.models import FieldValue, ReadValue, value_holds


def crm_holds(item: FieldMapping, sent: FieldValue, read: ReadValue) -> bool:
    """True when ``read`` (normalised by the connector) is the value ``sent`` for
    ``item``; numbers within half a unit of the mapping's last decimal (``scale``)."""
    return value_holds(item.type, sent, read, scale=item.scale or 0)


__all__ = ["crm_holds"]
