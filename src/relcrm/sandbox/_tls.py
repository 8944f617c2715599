"""A throw-away certificate authority for the sandboxes' HTTPS listeners.

Clients of real CRMs only speak HTTPS (simple-salesforce forces it), so the sandboxes
serve HTTPS too. Each start-up makes a fresh local CA with trustme, issues a server
certificate for the loopback names, and writes the CA certificate to a file the client
trusts explicitly. TLS verification is never turned off.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files one sandbox needs: the CA clients trust, and the server's."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls_files(
    directory: Path | None = None, names: tuple[str, ...] = LOOPBACK_NAMES
) -> TlsFiles:
    """Create a CA and a server certificate for ``names`` and write them under ``directory``.

    The directory defaults to a new temporary one; the caller owns it and may delete it
    once the server has stopped.
    """
    target = directory if directory is not None else Path(tempfile.mkdtemp(prefix="relcrm-tls-"))
    target.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="relcrm sandbox CA")
    leaf = ca.issue_cert(*names)
    files = TlsFiles(
        ca_file=target / "ca.pem",
        cert_file=target / "server-cert.pem",
        key_file=target / "server-key.pem",
    )
    ca.cert_pem.write_to_path(str(files.ca_file))
    leaf.private_key_pem.write_to_path(str(files.key_file))
    # The chain (leaf first, then the CA) so clients can build the path from the leaf.
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    files.cert_file.write_bytes(chain)
    return files
