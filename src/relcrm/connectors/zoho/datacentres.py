"""Zoho's data centres: each has its own accounts server and API domain.

An org lives in one data centre; its OAuth client, refresh token and data stay there, and
a token request to another centre's accounts server answers ``invalid_client``. The hosts
are those of Zoho's official SDK (``zoho/zohocrm-python-sdk-8.0``,
``zohocrmsdk/src/com/zoho/crm/api/dc/*_data_center.py``, Apache-2.0): the accounts URL
(``get_iam_url`` without its ``/oauth/v2/token`` path) and the production API domain. The
API domain the token answer names (``api_domain``) takes precedence over this table.
"""

from __future__ import annotations

from typing import Final, Literal

DataCentre = Literal["us", "eu", "in", "au", "jp", "cn", "ca", "sa"]

DATA_CENTRES: Final[dict[str, tuple[str, str]]] = {
    "us": ("https://accounts.zoho.com", "https://www.zohoapis.com"),
    "eu": ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    "in": ("https://accounts.zoho.in", "https://www.zohoapis.in"),
    "au": ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    "jp": ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    "cn": ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    "ca": ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    "sa": ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
}
"""Data centre -> (accounts server, API domain)."""


def accounts_url(centre: str) -> str:
    return DATA_CENTRES[centre][0]


def api_domain(centre: str) -> str:
    return DATA_CENTRES[centre][1]
