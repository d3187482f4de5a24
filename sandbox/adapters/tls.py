"""The sandbox's own certificate authority (`serve --tls`), the certificates it signs, and TLS contexts.

Like ANCV's platform (Kit §4.3.1), the sandbox speaks TLS 1.2 at least. On first use it makes a CA
(`ca.pem` and `ca-key.pem` in its folder, kept beside the database and reused across restarts), so an
integrator trusts one file once; every start signs a fresh server certificate with it, and
`/_sandbox/tls/certificates` signs keys for the integrator's own webhook receivers.

Certificates are checked by real TLS clients against real time, so `now` here is the wall clock's,
never a virtual clock's.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import certifi
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE, CA_KEY_FILE = "ca.pem", "ca-key.pem"
SERVER_FILE, SERVER_KEY_FILE = "server.pem", "server-key.pem"
CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=825)  # the longest validity Apple's clients accept for a server certificate
BACKDATE = timedelta(hours=1)  # a client whose clock is a little behind still accepts a fresh certificate
MAX_HOSTS = 50
SERVER_HOSTS = ("localhost", "127.0.0.1", "::1")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def check_hosts(hosts: object) -> list[str]:
    """The host names and IP addresses a certificate is for, checked; ValueError says what is wrong."""
    if not isinstance(hosts, list) or not hosts:
        raise ValueError("hosts must be a non-empty list of host names or IP addresses, e.g. [\"localhost\"]")
    if len(hosts) > MAX_HOSTS:
        raise ValueError(f"at most {MAX_HOSTS} hosts in one certificate")
    checked: list[str] = []
    for host in hosts:
        if not isinstance(host, str):
            raise ValueError("each host must be a string")
        name = host.strip().lower()
        if not _is_ip(name) and not _is_dns_name(name):
            raise ValueError(f"{host!r} is not a host name or an IP address (e.g. webhooks.test or 127.0.0.1)")
        if name not in checked:
            checked.append(name)
    return checked


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _is_dns_name(name: str) -> bool:
    labels = name.removeprefix("*.").split(".")  # a wildcard only as the whole leftmost label
    return len(name) <= 253 and all(_LABEL.match(label) for label in labels)


def _san(host: str) -> x509.GeneralName:
    if _is_ip(host):
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    return x509.DNSName(host)


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class IssuedCertificate:
    """A leaf certificate and its private key, both PEM."""

    certificate: str
    private_key: str
    hosts: list[str]


class CertificateAuthority:
    """The CA kept in `folder`; made there on first use, read back afterwards."""

    def __init__(self, folder: Path, now: datetime) -> None:
        self.folder = folder
        self.ca_file = folder / CA_FILE
        key_file = folder / CA_KEY_FILE
        if self.ca_file.exists() and key_file.exists():
            self._cert = x509.load_pem_x509_certificate(self.ca_file.read_bytes())
            loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            if not isinstance(loaded, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_file} is not the EC key this sandbox writes")
            self._key = loaded
        else:
            self._key, self._cert = _new_ca(now)
            folder.mkdir(parents=True, exist_ok=True)
            _write_private(key_file, _pem(self._key))
            self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self.ca_pem = self.ca_file.read_text()

    def issue(self, hosts: list[str], now: datetime) -> IssuedCertificate:
        """A new key and a certificate for `hosts` (already checked), signed by this CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ancv-sandbox"),
                             x509.NameAttribute(NameOID.COMMON_NAME, hosts[0][:64])])
        cert = (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(self._cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - BACKDATE).not_valid_after(now + LEAF_VALIDITY)
                .add_extension(x509.SubjectAlternativeName([_san(h) for h in hosts]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                             data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                             crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                               critical=False)
                .sign(self._key, hashes.SHA256()))
        return IssuedCertificate(cert.public_bytes(serialization.Encoding.PEM).decode(), _pem(key).decode(), hosts)

    def server_context(self, hosts: list[str], now: datetime) -> ssl.SSLContext:
        """A server context (TLS 1.2 at least) with a fresh certificate for `hosts`, also left in the folder."""
        issued = self.issue(hosts, now)
        cert_file, key_file = self.folder / SERVER_FILE, self.folder / SERVER_KEY_FILE
        cert_file.write_text(issued.certificate + self.ca_pem)  # the chain, so clients see the issuer
        _write_private(key_file, issued.private_key.encode())
        return server_context(cert_file, key_file)

    def trust_bundle(self, extra: list[Path]) -> str:
        """A CA file for clients: the system's (certifi), this CA and `extra` files; written once per content."""
        return trust_bundle(self.folder, [self.ca_pem, *(p.read_text() for p in extra)])


def server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server-side context that refuses TLS 1.0 and 1.1 (Kit §4.3.1)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context


def trust_bundle(folder: Path, extra_pems: list[str]) -> str:
    """certifi's roots plus `extra_pems`, as a file in `folder` named by its content (so never rewritten)."""
    content = Path(certifi.where()).read_text() + "".join("\n" + pem.strip() + "\n" for pem in extra_pems)
    path = folder / f"trust-{hashlib.sha256(content.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return str(path)


def _new_ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ancv-sandbox"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "ancv-sandbox local CA")])
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by its owner only."""
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def failure_reason(exc: BaseException) -> str | None:
    """The TLS reason in words buried in a client exception (`certificate verify failed: self-signed
    certificate`), or None when it was not a TLS failure."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {current.verify_message}"
        if isinstance(current, ssl.SSLError):
            return f"TLS handshake failed: {current.reason or current.strerror or current}"
        pending.extend([*current.args, current.__cause__, current.__context__, getattr(current, "reason", None)])
    return None
