"""The command lines the product runs inside clusters through AKS Run Command, and how their output is shown.

Pure: no I/O. Run Command output can hold secret material (the `azuremlfessl` secret holds a
certificate and its private key), so every log line the product shows or records goes through
`redact` first: PEM blocks and long base64 runs never leave this module in clear.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

TLS_SECRET = "azuremlfessl"
LEGACY_FE_LABEL = "app=azureml-fe"
# The legacy front end a detach leaves in `default` (all labelled app=azureml-fe), then its TLS secret.
REMOVE_LEGACY_FE = (
    f"kubectl delete deployments,services,configmaps,serviceaccounts,roles,rolebindings -n default "
    f"-l {LEGACY_FE_LABEL} --ignore-not-found && "
    f"kubectl delete deployment,service,serviceaccount azureml-fe -n default --ignore-not-found && "
    f"kubectl delete configmap azureml-fe-config -n default --ignore-not-found && "
    f"kubectl delete secret {TLS_SECRET} -n default --ignore-not-found"
)
READ_TLS_SECRET = f"kubectl get secret {TLS_SECRET} -n default -o json"
READ_TLS_CERTIFICATE = f"kubectl get secret {TLS_SECRET} -n default -o jsonpath={{.data.cert\\.pem}}"

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(-----END [A-Z0-9 ]+-----|\Z)", re.S)
_B64 = re.compile(r"[A-Za-z0-9+/=]{40,}")


def redact(logs: str, limit: int = 300) -> str:
    """Run Command logs fit to show: PEM blocks and long base64 runs replaced, bounded in length."""
    text = _B64.sub("(redacted)", _PEM.sub("(redacted)", logs)).strip()
    return text[:limit]


class SecretFormatError(ValueError):
    """The secret's JSON is not what `kubectl get secret -o json` prints (never carries its content)."""


@dataclass(frozen=True)
class TlsPair:
    certificate: str  # PEM
    key: str  # PEM

    def __repr__(self) -> str:  # never the key, not even in a traceback
        return "TlsPair((sensitive))"


def parse_tls_secret(logs: str) -> TlsPair:
    """`cert.pem` and `key.pem` of the azuremlfessl secret as printed by `kubectl get secret -o json`."""
    try:
        data = json.loads(logs).get("data") or {}
        cert = base64.b64decode(data["cert.pem"], validate=True).decode("ascii")
        key = base64.b64decode(data["key.pem"], validate=True).decode("ascii")
    except (ValueError, KeyError, AttributeError, TypeError, binascii.Error, UnicodeDecodeError):
        raise SecretFormatError(f"secret {TLS_SECRET} does not hold cert.pem and key.pem as PEM") from None
    if "-----BEGIN" not in cert or "-----BEGIN" not in key:
        raise SecretFormatError(f"secret {TLS_SECRET} does not hold cert.pem and key.pem as PEM")
    return TlsPair(cert, key)


def certificate_from_jsonpath(logs: str) -> str | None:
    """The PEM certificate from `-o jsonpath={.data.cert\\.pem}` output (base64), or None."""
    try:
        pem = base64.b64decode(logs.strip(), validate=True).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    return pem if "-----BEGIN CERTIFICATE-----" in pem else None


def certificate_names(pem: str) -> list[str]:
    """DNS names of a certificate (SAN, else CN): the FQDN a leaf-label compute serves on."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        if names:
            return names
    except x509.ExtensionNotFound:
        pass
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
