"""A real SMTP server on loopback for the mail tests (aiosmtpd), and readers for what it got."""

from __future__ import annotations

import datetime as dt
import email
import io
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """Keeps every message; refuses recipients listed in ``refuse`` with 550."""

    refuse: set[str] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.attempts: list[str] = []
        self.sessions: set[int] = set()  # connections that tried to log in

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.sessions.add(id(session))
        if isinstance(auth_data, LoginPassword):
            self.attempts.append(auth_data.login.decode())
            if auth_data.login == self.user and auth_data.password == self.password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def start_server(handler: Handler, **smtp_kwargs) -> Controller:
    """Start aiosmtpd on 127.0.0.1 at a free port; the caller stops it."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **smtp_kwargs)
    controller.start()
    return controller


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made now (cryptography)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def attachments(msg: EmailMessage) -> list[tuple[str, bytes]]:
    return [(part.get_filename(), part.get_payload(decode=True)) for part in msg.iter_attachments()]


def body_text(msg: EmailMessage) -> str:
    return msg.get_body(preferencelist=("plain",)).get_content()


def workbook_identity(content: bytes) -> dict[str, object]:
    """What a workbook says about itself: its hidden meta sheet and its 基本信息 values."""
    import openpyxl

    from toolkit.layout import info_rows, workbook_plan

    plan = workbook_plan()
    book = openpyxl.load_workbook(io.BytesIO(content))
    meta = {row[0]: row[1] for row in book[plan.meta_sheet].iter_rows(values_only=True) if row and row[0]}
    info = {fid: book[plan.info_sheet].cell(row=r, column=2).value for r, fid, _ in info_rows()}
    return {"meta": meta, "info": info, "sheets": book.sheetnames}
