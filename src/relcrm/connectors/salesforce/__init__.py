"""Salesforce connector, built on simple-salesforce and relcrm's one retry policy.

Modules: ``settings`` (environment), ``auth`` (the four login flows), ``errors`` (the
table from Salesforce error code to what happens next), ``client`` (every call goes
through the policy), ``describe``, ``provisioning``, ``soql`` (safe quoting),
``matching``, ``writer`` (collections and Bulk API 2.0), ``connector`` (the facade).
"""

from relcrm.connectors.errors import Rule
from relcrm.connectors.salesforce.connector import CAPABILITIES, SalesforceConnector
from relcrm.connectors.salesforce.errors import ERROR_TABLE
from relcrm.connectors.salesforce.provisioning import SalesforcePlan
from relcrm.connectors.salesforce.settings import AuthFlow, SalesforceSettings
from relcrm.connectors.salesforce.soql import soql_quote
from relcrm.models import MatchReport

__all__ = [
    "CAPABILITIES",
    "ERROR_TABLE",
    "AuthFlow",
    "MatchReport",
    "Rule",
    "SalesforceConnector",
    "SalesforcePlan",
    "SalesforceSettings",
    "soql_quote",
]
