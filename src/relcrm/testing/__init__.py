"""Fixtures and the connector contract suite, for relcrm's tests and for plugin authors.

Nothing here runs in production: ``import relcrm`` does not load this package and the
production packages may not import it (an import-linter contract in ``pyproject.toml``).
What it holds:

- :mod:`relcrm.testing.synthetic`: made-up, deterministic people and what they felt
  (:func:`generate_sample`, :func:`generate_bulk_lines`), with the answer key
  (:data:`PERSONA_ARCHETYPES`). Exported here: it needs nothing beyond relcrm's models.
- :mod:`relcrm.testing.salesforce`, :mod:`relcrm.testing.hubspot`,
  :mod:`relcrm.testing.dataverse`, :mod:`relcrm.testing.zoho`: the sandboxes seeded with
  the records a CRM already holds, connectors built for a sandbox as a deployment builds
  them, and records read back past relcrm. Import them by module (they load the CRM
  SDKs and HTTP clients).
- :mod:`relcrm.testing.contract`: the contract suite a connector (relcrm's own or a
  plugin's) runs against its test server: subclass :class:`ConnectorContract` in your
  tests and give it a :class:`ConnectorAdapter`. Import it by module (it needs pytest).
"""

from relcrm.testing.synthetic import (
    PERSONA_ARCHETYPES,
    SampleData,
    generate_bulk,
    generate_bulk_lines,
    generate_sample,
    sample_to_interchange,
)

__all__ = [
    "PERSONA_ARCHETYPES",
    "SampleData",
    "generate_bulk",
    "generate_bulk_lines",
    "generate_sample",
    "sample_to_interchange",
]
