"""relcrm-example-crm: a relcrm connector for TinyCRM, installed as its own package and
found by relcrm through the ``relcrm.connectors`` entry point (``examplecrm``)."""

from relcrm_example_crm.connector import ExampleCrmConnector, ExampleCrmSettings

__all__ = ["ExampleCrmConnector", "ExampleCrmSettings"]
