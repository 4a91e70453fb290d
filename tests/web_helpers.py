"""The portal started for real on a free loopback port, for the web tests; workbooks to upload."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.request
import uuid
from decimal import Decimal
from http.cookiejar import CookieJar
from pathlib import Path



ROSTER = ["城关镇人民政府", "蓼堤镇人民政府", "西陵寺镇人民政府", "北湖街道办事处"]
YEAR = 2025


def write_roster(path: Path, units=ROSTER) -> Path:
    path.write_text("单位名称,联系人,邮箱\n" + "\n".join(f"{u},联系人{i},u{i}@example.cn" for i, u in enumerate(units)),
                    encoding="utf-8")
    return path


def workbook(unit: str, *, wrong: bool = False, seed: int = 0) -> bytes:
    """A filled standard workbook for ``unit``; ``wrong``: 表三's 自然人 column does not balance."""
    from toolkit.demo.synthetic import synthetic_report
    from toolkit.workbook.writer import workbook_bytes

    data = synthetic_report("2021", unit, YEAR, seed=seed)
    if wrong:
        data.values["t3.carried_in.natural"] = (data.values.get("t3.carried_in.natural") or Decimal(0)) + 7
    return workbook_bytes("2021", unit=unit, year=YEAR, data=data)


class Server:
    """``create_app`` over a Portal, served by uvicorn in a background thread."""

    def __init__(self, archive: Path, roster: Path, *, password: str | None = None) -> None:
        import uvicorn

        from toolkit.web.app import create_app
        from toolkit.portal import Portal

        self.portal = Portal(archive, roster, YEAR)
        if password:
            self.portal.set_password(password)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(create_app(self.portal), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, limit_concurrency=200, backlog=256)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the portal did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def link(self, unit: str) -> str:
        return f"{self.url}/u/{self.portal.token(unit)}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


class Client:
    """A plain HTTP client with its own cookie jar (one township's browser, for the load test)."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, url: str) -> tuple[int, str]:
        with self.opener.open(url, timeout=120) as response:
            return response.status, response.read().decode("utf-8")

    def csrf(self, url: str) -> str:
        _, html = self.get(url)
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

    def upload(self, url: str, name: str, content: bytes, csrf: str) -> tuple[int, str]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
                f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8")
