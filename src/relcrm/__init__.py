"""relcrm: the customer's own view of the relationship, in the CRMs companies already run."""

__version__ = "0.1.0"
