"""Checks of a TLS certificate and key before they are sent to Azure (cryptography parses the PEM).

Pure: values and the current time in, problems out. Messages never quote the values.
A certificate Azure would reject, or one that does not serve the cname, must stop the
run before a working compute is detached, not after.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

EXPIRY_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class TlsProblem:
    message: str
    error: bool = True


def check(certificate: str | None, key: str | None, cname: str | None, now: datetime) -> list[TlsProblem]:
    """Problems of a certificate / key pair for `cname`; either may be None when it could not be read."""
    problems: list[TlsProblem] = []
    cert = None
    if certificate is not None:
        if "-----BEGIN" not in certificate:
            return [TlsProblem("tls.certificate is not a PEM certificate")]
        try:
            cert = x509.load_pem_x509_certificate(certificate.strip().encode())
        except ValueError:
            return [TlsProblem("tls.certificate is not a valid PEM certificate")]
    private = None
    if key is not None:
        if "-----BEGIN" not in key or "PRIVATE KEY" not in key:
            return [*problems, TlsProblem("tls.key is not a PEM private key")]
        try:
            private = serialization.load_pem_private_key(key.strip().encode(), password=None)
        except (ValueError, TypeError):
            return [*problems, TlsProblem("tls.key is not a valid unencrypted PEM private key")]
    if cert is None:
        return problems
    if private is not None:
        pub = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        mine = private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if pub != mine:
            problems.append(TlsProblem("tls.key does not match tls.certificate"))
    if now >= cert.not_valid_after_utc:
        problems.append(TlsProblem(f"tls.certificate expired on {cert.not_valid_after_utc:%Y-%m-%d}"))
    elif now < cert.not_valid_before_utc:
        problems.append(TlsProblem(f"tls.certificate is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"))
    elif cert.not_valid_after_utc - now < EXPIRY_WARNING:
        problems.append(TlsProblem(f"tls.certificate expires on {cert.not_valid_after_utc:%Y-%m-%d}", error=False))
    if cname and not covers(cert, cname):
        problems.append(TlsProblem(f"tls.certificate does not cover the cname {cname!r}"))
    return problems


def covers(cert: x509.Certificate, host: str) -> bool:
    """RFC 6125 matching: subjectAltName DNS names (one left-most wildcard label), else the common name."""
    host = host.rstrip(".").lower()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [n.lower() for n in san.get_values_for_type(x509.DNSName)]
        try:
            ip = ipaddress.ip_address(host)
            return ip in san.get_values_for_type(x509.IPAddress)
        except ValueError:
            pass
    except x509.ExtensionNotFound:
        names = [str(a.value).lower() for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return any(_match(pattern.rstrip("."), host) for pattern in names)


def _match(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    if pattern.startswith("*.") and "." in host:
        return host.split(".", 1)[1] == pattern[2:] and bool(host.split(".", 1)[0])
    return False
