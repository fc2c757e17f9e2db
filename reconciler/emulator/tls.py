"""HTTPS on loopback: a throwaway local CA and a certificate for 127.0.0.1/localhost (trustme).

Clients trust the emulator through the CA bundle file (``REQUESTS_CA_BUNDLE`` or
``SSL_CERT_FILE``); nothing is added to the system's trust store.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class LocalTls:
    ca_bundle: Path  # PEM of the local CA
    context: ssl.SSLContext  # server side, holding the leaf certificate
    directory: Path

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def make_tls() -> LocalTls:
    import trustme

    ca = trustme.CA(organization_name="reconciler emulator local CA")
    leaf = ca.issue_cert(*HOSTS)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    directory = Path(tempfile.mkdtemp(prefix="reconciler-emulator-tls-"))
    bundle = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return LocalTls(bundle, context, directory)
