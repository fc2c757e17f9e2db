"""Self-signed certificates for the ``azuremlfessl`` secret a legacy TLS attach leaves in the cluster."""

from __future__ import annotations

import base64
import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def leaf_fqdn(label: str, compute_id: str, region: str) -> str:
    """The name Azure gives a leaf-label endpoint: ``<label>`` + 6 characters + the region's domain."""
    suffix = hashlib.sha1(compute_id.lower().encode()).hexdigest()[:6]
    return f"{label}{suffix}.{region}.cloudapp.azure.net"


def self_signed(cn: str) -> tuple[str, str]:
    """(certificate PEM, key PEM) of a fresh self-signed certificate for ``cn`` (CN and SAN)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert_pem, key_pem


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
