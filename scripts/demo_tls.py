"""Print `export` lines for the local-cloud demo's custom TLS certificate (manifests/custom-cert.yaml).

The demo needs a real PEM certificate and key for `scoring.partner.example.com`, because apply checks
them before it sends anything. Nothing secret is committed: a self-signed pair is made on first use,
kept under `.reconciler/demo-tls/` (mode 0600, ignored by git) and reused, so repeated runs see no
rotation. Usage: eval "$(.venv/bin/python scripts/demo_tls.py)"
"""

from __future__ import annotations

import datetime
import os
import shlex
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

CNAME = "scoring.partner.example.com"
FOLDER = Path(".reconciler/demo-tls")
VALID_DAYS = 365
RENEW_WITHIN_DAYS = 60  # the reconciler warns from 30 days before expiry


def _make() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CNAME)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(CNAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _still_good(cert_path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return left > datetime.timedelta(days=RENEW_WITHIN_DAYS)


def main() -> None:
    cert_path, key_path = FOLDER / "cert.pem", FOLDER / "key.pem"
    if not (key_path.is_file() and _still_good(cert_path)):
        FOLDER.mkdir(parents=True, exist_ok=True)
        cert, key = _make()
        for path, data in ((key_path, key), (cert_path, cert)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
    print(f"export PARTNER_TLS_CERT={shlex.quote(cert_path.read_text())}")
    print(f"export PARTNER_TLS_KEY={shlex.quote(key_path.read_text())}")


if __name__ == "__main__":
    main()
