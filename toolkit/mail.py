"""Mails of a round: compose them from editable templates, write them as ``.eml`` files, or send
them over SMTP, with a log so that a re-run never sends one unit's mail twice.

- :class:`MailTemplates` renders ``templates/mail/<name>.txt.j2`` (or the county's own copy in a
  folder of its choosing). A template's first line is ``主题：…`` (the subject), then a blank
  line, then the body.
- :func:`build_message` makes an RFC 5322 message: Chinese subject and names RFC 2047-encoded,
  the body UTF-8 in base64, attachments with RFC 2231 file names.
- :func:`deliver` writes every message to the outbox folder (atomically) and, given
  :class:`SmtpSettings`, also sends it; each outcome goes to the :class:`SendLog` (JSON lines).
  One failing address does not stop the others.
"""

from __future__ import annotations

import base64
import json
import re
import smtplib
import socket
import ssl
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path
from typing import Any, Callable, Iterable

import jinja2

from toolkit.files import safe_filename, unique_path, write_text_atomic, write_bytes_atomic
from toolkit.formats import TEMPLATES_DIR

MAIL_TEMPLATES_DIR = TEMPLATES_DIR / "mail"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
SECURITY_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
PASSWORD_ENV = "NIANBAO_SMTP_PASSWORD"
LOG_NAME = "send-log.jsonl"

_SUBJECT_PREFIX = re.compile(r"^\s*(主题|Subject)\s*[：:]\s*", re.IGNORECASE)
_ADDR = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_ADDR_SEPARATORS = re.compile(r"[;；,，、\s]+")


class MailError(Exception):
    """A problem that stops a whole mail run (a broken template, an unusable outbox)."""


# ---------------------------------------------------------------- templates


class MailTemplates:
    """The mail texts. ``directory`` (optional) holds the county's own edited copies; any
    template not found there comes from the toolkit's ``templates/mail/``."""

    def __init__(self, directory: str | Path | None = None) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if directory is not None:
            if not Path(directory).is_dir():
                raise MailError(f"邮件模板文件夹不存在：{directory}")
            loaders.append(jinja2.FileSystemLoader(str(directory), encoding="utf-8"))
        loaders.append(jinja2.FileSystemLoader(str(MAIL_TEMPLATES_DIR), encoding="utf-8"))
        from jinja2.sandbox import SandboxedEnvironment

        self.env = SandboxedEnvironment(  # a county's edited template may not reach Python internals
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )

    def render(self, name: str, **context: Any) -> tuple[str, str]:
        """(subject, body) of template ``name`` (e.g. ``"request"``) filled with ``context``."""
        filename = f"{name}.txt.j2"
        try:
            text = self.env.get_template(filename).render(**context)
        except jinja2.TemplateNotFound:
            raise MailError(f"找不到邮件模板 {filename}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise MailError(f"邮件模板 {filename} 第{exc.lineno}行有语法错误：{exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise MailError(f"邮件模板 {filename} 用到了不存在的变量：{exc.message}") from None
        except jinja2.exceptions.SecurityError:
            raise MailError(f"邮件模板 {filename} 试图访问不允许的 Python 内部对象，已被安全沙箱拦截") from None
        except Exception as exc:  # a county's template may raise anything (TypeError, ZeroDivisionError ...)
            raise MailError(f"邮件模板 {filename} 出错：{exc}") from None
        return split_subject(text, filename)


def split_subject(text: str, name: str = "邮件模板") -> tuple[str, str]:
    """Split a rendered template into its ``主题：`` line and the body after it."""
    lines = text.lstrip("\n").split("\n")
    match = _SUBJECT_PREFIX.match(lines[0]) if lines else None
    if not match:
        raise MailError(f"{name} 的第一行应为“主题：……”")
    subject = lines[0][match.end():].strip()
    if not subject:
        raise MailError(f"{name} 的主题为空")
    body = "\n".join(lines[1:]).strip("\n") + "\n"
    return subject, body


# ---------------------------------------------------------------- addresses


def parse_addresses(text: str | None) -> tuple[list[str], list[str]]:
    """(valid addresses, rejected pieces) from a roster's 邮箱 cell.

    Several addresses may be separated by ``;``, ``,``, ``、`` or spaces (full-width too);
    ``张三 <a@b.cn>`` gives ``a@b.cn``. Only plain ASCII addresses are accepted.
    """
    if not text or not str(text).strip():
        return [], []
    text = str(text).strip()
    pieces: list[str] = []
    if "<" in text:
        pieces = [addr for _, addr in getaddresses([text.replace("；", ";").replace("，", ",")]) if addr]
    else:
        pieces = [p for p in _ADDR_SEPARATORS.split(text) if p]
    good, bad = [], []
    for piece in pieces:
        piece = piece.strip().strip("<>").replace("＠", "@")
        if _ADDR.match(piece):
            if piece.lower() not in {g.lower() for g in good}:
                good.append(piece)
        else:
            bad.append(piece)
    return good, bad


# ---------------------------------------------------------------- messages


@dataclass
class Attachment:
    filename: str
    content: bytes
    maintype: str = XLSX_TYPE[0]
    subtype: str = XLSX_TYPE[1]


@dataclass
class Outgoing:
    """One mail to one unit. ``ref`` tells apart mails of the same kind to the same unit and
    year (e.g. the hash of the file a findings mail answers); the log is keyed on it."""

    kind: str
    unit: str
    year: int | None
    to: list[str]
    subject: str
    body: str
    attachments: list[Attachment] = field(default_factory=list)
    ref: str = ""
    display_name: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.unit, "" if self.year is None else str(self.year), self.ref)


def build_message(out: Outgoing, *, sender: str | None = None, draft: bool = False,
                  domain: str | None = None) -> EmailMessage:
    """The RFC 5322 message for ``out``. ``draft`` adds ``X-Unsent: 1`` so that Outlook opens
    the ``.eml`` ready to send; ``sender`` may be left out for such drafts (the mail program
    fills in its own account)."""
    msg = EmailMessage(policy=policy.SMTP)
    if sender:
        msg["From"] = sender
    msg["To"] = [Address(display_name=out.display_name or out.unit, addr_spec=a) for a in out.to]
    msg["Subject"] = out.subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid("nianbao", domain=domain or _domain_of(sender))
    msg["X-Nianbao-Kind"] = out.kind
    if out.year is not None:
        msg["X-Nianbao-Year"] = str(out.year)
    if draft:
        msg["X-Unsent"] = "1"
    msg.set_content(out.body, charset="utf-8", cte="base64")
    for att in out.attachments:
        msg.add_attachment(att.content, maintype=att.maintype, subtype=att.subtype, filename=att.filename)
        part = msg.get_payload()[-1]
        part.set_param("name", att.filename)
    return msg


def _domain_of(sender: str | None) -> str:
    if sender and "@" in sender:
        return sender.rsplit("@", 1)[1].strip(" >")
    return "localhost"


def message_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=policy.SMTP)


# ---------------------------------------------------------------- SMTP


@dataclass
class SmtpSettings:
    """Where and how to send. The password is never taken from the command line: the CLI reads
    it from ``$NIANBAO_SMTP_PASSWORD`` or a prompt."""

    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise MailError(f"--smtp-security 只能是 {'、'.join(SECURITY_MODES)} 之一")

    @classmethod
    def parse(cls, target: str, security: str = "starttls", **kwargs: Any) -> "SmtpSettings":
        """From ``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT``; the port defaults by security mode."""
        if security not in SECURITY_MODES:
            raise MailError(f"--smtp-security 只能是 {'、'.join(SECURITY_MODES)} 之一")
        target = target.strip()
        match = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?", target)
        if not target or not match:
            raise MailError(f"无法识别的邮件服务器地址：{target!r}（应为 主机 或 主机:端口）")
        host = match.group(1) or match.group(3)
        port_text = match.group(2) or match.group(4)
        port = int(port_text) if port_text else DEFAULT_PORTS[security]
        if not 0 < port < 65536:
            raise MailError(f"端口号不正确：{port}")
        return cls(host=host, port=port, security=security, **kwargs)


class SmtpSender:
    """One SMTP session for a batch; reconnects once when the server dropped the connection."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return self.settings.ssl_context or ssl.create_default_context()

    def connect(self) -> None:
        s = self.settings
        if s.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.user:
                _login(smtp, s.user, s.password or "")
        except BaseException:
            _quietly_close(smtp)
            raise
        self._smtp = smtp

    def send(self, msg: EmailMessage, sender: str, recipients: list[str]) -> None:
        if self._smtp is None:
            self.connect()
        try:
            self._smtp.send_message(msg, from_addr=sender, to_addrs=recipients)  # type: ignore[union-attr]
        except smtplib.SMTPServerDisconnected:
            self._smtp = None
            self.connect()
            self._smtp.send_message(msg, from_addr=sender, to_addrs=recipients)  # type: ignore[union-attr]

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                _quietly_close(self._smtp)
            self._smtp = None


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in; smtplib only handles ASCII credentials, so others go as UTF-8 AUTH PLAIN (RFC 4616)."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    if not smtp.has_extn("auth") or "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError("服务器不支持 AUTH PLAIN，无法使用含非 ASCII 字符的用户名或密码")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, response = smtp.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):
        raise smtplib.SMTPAuthenticationError(code, response)


def _quietly_close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.close()
    except OSError:
        pass


def smtp_error_text(exc: BaseException) -> str:
    """A Chinese description of an SMTP or network failure."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"邮件服务器拒绝登录（用户名或密码不正确）：{exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "，".join(f"{addr}（{code}）" for addr, (code, _) in exc.recipients.items())
        return f"邮件服务器拒收收件人：{refused}"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"邮件服务器拒绝发件人 {exc.sender}：{exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"邮件服务器不支持所需功能（如 STARTTLS 或登录）：{exc}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"邮件服务器返回错误 {exc.smtp_code}：{_decode(exc.smtp_error)}"
    if isinstance(exc, ssl.SSLError):
        return f"与邮件服务器建立加密连接失败：{exc.reason or exc}"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "连接邮件服务器超时"
    if isinstance(exc, ConnectionRefusedError):
        return "邮件服务器拒绝连接（地址或端口不对？）"
    if isinstance(exc, socket.gaierror):
        return "找不到邮件服务器（主机名不正确？）"
    if isinstance(exc, smtplib.SMTPException):
        return f"发送失败：{exc}"
    return f"网络错误：{exc}"


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


_FATAL = (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError, ssl.SSLError,
          ConnectionRefusedError, socket.gaierror)


# ---------------------------------------------------------------- the log


class SendLog:
    """JSON lines: one entry per mail written or sent (or failed). A unit's mail counts as done
    when an entry of the same kind, unit, year, ref and channel has status ``sent``/``written``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: list[dict[str, Any]] = []
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash
                if isinstance(entry, dict):
                    self.entries.append(entry)

    @staticmethod
    def _key(entry: dict[str, Any]) -> tuple[str, ...]:
        year = entry.get("year")
        return (str(entry.get("kind", "")), str(entry.get("unit", "")),
                "" if year is None else str(year), str(entry.get("ref", "")), str(entry.get("channel", "")))

    def done(self, out: Outgoing, channel: str) -> dict[str, Any] | None:
        """The log entry that says this mail was already sent (or written), if any."""
        key = (*out.key, channel)
        for entry in reversed(self.entries):
            if entry.get("status") in ("sent", "written") and self._key(entry) == key:
                return entry
        return None

    def append(self, entry: dict[str, Any]) -> None:
        """Add an entry; the whole log is rewritten atomically, so it is never half written."""
        self.entries.append(entry)
        text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.entries)
        write_text_atomic(self.path, text)


# ---------------------------------------------------------------- delivering


@dataclass
class Outcome:
    """What happened to one unit's mail: ``sent`` (over SMTP), ``written`` (.eml only),
    ``skipped`` (already done, see ``previous``), ``failed`` (see ``error``)."""

    unit: str
    kind: str
    status: str
    to: list[str]
    subject: str
    eml: str | None = None
    error: str | None = None
    previous: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def eml_name(out: Outgoing) -> str:
    """File name of a mail in the outbox, made safe from the unit name."""
    label = {"request": "填报通知", "findings": "校验意见"}.get(out.kind, out.kind)
    year = "" if out.year is None else f"_{out.year}"
    return safe_filename(out.unit, f"{year}_{label}.eml")


def deliver(
    mails: Iterable[Outgoing],
    *,
    outbox: str | Path,
    sender: str | None = None,
    smtp: SmtpSettings | None = None,
    log: SendLog | None = None,
    resend: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Write each mail to ``outbox`` as ``.eml`` and, with ``smtp``, send it.

    Mails already in the log for the same channel are skipped unless ``resend``. A failure is
    recorded for that unit and the next one goes on; a failure that would repeat for every mail
    (login refused, server unreachable, TLS broken) marks the remaining mails failed at once.
    """
    outbox = Path(outbox)
    try:
        outbox.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MailError(f"无法创建发件箱文件夹 {outbox}：{exc.strerror or exc}") from None
    if smtp is not None and not sender:
        raise MailError("通过邮件服务器发送时需要发件人地址（--from）")
    log = log if log is not None else SendLog(outbox / LOG_NAME)
    channel = "smtp" if smtp else "outbox"
    client = SmtpSender(smtp) if smtp else None
    fatal: str | None = None
    used: set[str] = set()  # names written in this run; an earlier run's file of the same name is replaced
    outcomes: list[Outcome] = []
    try:
        for out in mails:
            previous = None if resend else log.done(out, channel)
            if previous is not None:
                outcome = Outcome(out.unit, out.kind, "skipped", out.to, out.subject,
                                  eml=previous.get("eml"), previous=previous.get("at"))
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
                continue
            msg = build_message(out, sender=sender, draft=smtp is None)
            target = unique_path(outbox, eml_name(out), used)
            status, error = ("written", None)
            if client is not None:
                if fatal:
                    status, error = "failed", fatal
                else:
                    try:
                        client.send(msg, sender or "", out.to)
                        status = "sent"
                    except _FATAL as exc:
                        status, error = "failed", smtp_error_text(exc)
                        fatal = error
                    except (smtplib.SMTPException, OSError) as exc:
                        status, error = "failed", smtp_error_text(exc)
            eml = None
            if status != "failed":
                write_bytes_atomic(target, message_bytes(msg))
                eml = str(target)
            outcome = Outcome(out.unit, out.kind, status, out.to, out.subject, eml=eml, error=error)
            log.append({
                "at": datetime.now().astimezone().isoformat(timespec="seconds"),
                "kind": out.kind, "unit": out.unit, "year": out.year, "ref": out.ref,
                "channel": channel, "status": status, "to": out.to, "subject": out.subject,
                "message_id": str(msg["Message-ID"]), "eml": eml, "error": error,
            })
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    finally:
        if client is not None:
            client.close()
    return outcomes

