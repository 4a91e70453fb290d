"""``nianbao serve``: the county's web portal, a thin Starlette layer over the Portal service
(toolkit/portal). Clerk pages need a login (or, with no password set, a loopback-only
server); township pages live at ``/u/<token>`` and see only their own unit."""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from toolkit.formats import TEMPLATES_DIR, load_yaml
from toolkit.web.security import BodyLimit, LoginThrottle, LoopbackHosts, SecurityHeaders, csrf_ok, csrf_token

log = logging.getLogger("nianbao.web")
WEB_DIR = TEMPLATES_DIR / "web"
STATUS_ORDER = ("missing", "unfilled", "errors", "warnings", "clean")
DRAFT_KINDS = ("html", "docx", "pdf")


@lru_cache(maxsize=1)
def settings() -> dict[str, Any]:
    return load_yaml(WEB_DIR / "portal.yaml")


def _words(key: str, **kw: Any) -> str:
    return settings()["refusals"][key].format(**kw)


class Refusal(Exception):
    """A request the portal refuses, with its Chinese message and HTTP status."""

    def __init__(self, key: str, status: int = 400, **kw: Any) -> None:
        super().__init__(key)
        self.message, self.status = _words(key, **kw), status


def create_app(portal: Any, *, secure_cookies: bool = False, loopback: bool = True) -> Starlette:
    """The portal's ASGI app over ``portal``. ``secure_cookies`` marks the session cookie Secure
    (any non-loopback host); ``loopback`` with no clerk password lets the local clerk in unasked."""
    from toolkit.output_labels import severity_label

    limits = settings()["limits"]
    templates = Jinja2Templates(directory=str(WEB_DIR))
    templates.env.globals.update(title=settings()["title"], severity_label=severity_label, quote=quote)
    templates.env.filters["local_time"] = _local_time
    throttle = LoginThrottle(int(limits["login_attempts"]))
    max_files = int(limits["max_files"])

    def page(request: Request, name: str, code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("clerk", is_clerk(request))
        context.setdefault("open_clerk", open_clerk())
        return templates.TemplateResponse(request, name, {"csrf": csrf_token(request.session), **context},
                                          status_code=code)

    def refusal(request: Request, message: str, status: int) -> HTMLResponse:
        return page(request, "message.html", status, message=message)

    def open_clerk() -> bool:
        return loopback and not portal.has_password()

    def is_clerk(request: Request) -> bool:
        return open_clerk() or request.session.get("clerk") == _login_mark()

    def _login_mark() -> str:
        stored = getattr(portal, "password_mark", None)
        return stored() if callable(stored) else "clerk"

    def clerk_only(request: Request) -> RedirectResponse | None:
        if is_clerk(request):
            return None
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    async def form(request: Request) -> Any:
        data = await request.form(max_files=max_files, max_fields=20)
        if not csrf_ok(request.session, data.get("csrf")):
            raise Refusal("csrf", 403)
        return data

    async def uploads(request: Request, *, via: str, unit: str | None) -> list[Any]:
        data = await form(request)
        files = [f for f in data.getlist("files") if hasattr(f, "read") and f.filename]
        if not files:
            raise Refusal("no_file")
        if len(files) > max_files:
            raise Refusal("too_many", n=max_files)
        received = []
        for upload in files:
            content = await upload.read()
            received.extend(await run_in_threadpool(_receive, portal, upload.filename, content, via, unit))
        return received

    def unit_index(request: Request) -> tuple[int, str]:
        index = request.path_params["index"]
        units = portal.units()
        if not 0 <= index < len(units):
            raise Refusal("not_found", 404)
        return index, units[index]

    def township(request: Request) -> str:
        unit = portal.unit_for_token(request.path_params["token"])
        if unit is None:
            raise Refusal("bad_link", 404)
        return unit

    def unit_view(unit: str) -> dict[str, Any]:
        status = portal.status()
        row = next((u for u in status.units if u.unit == unit), None)
        findings = portal.current_findings(unit)
        waived = _waived_keys(portal, unit)
        return {"unit": unit, "row": row, "findings": findings, "grids": portal.grids(unit),
                "keys": [_finding_key(portal, f) for f in findings], "waived": waived,
                "can_waive": hasattr(portal, "waive"), "submissions": portal.submissions(unit)}

    # ------------------------------------------------------------ clerk

    async def dashboard(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        status = await run_in_threadpool(portal.status)
        wanted = request.query_params.get("status") or ""
        rows = [(i, u) for i, u in enumerate(status.units) if not wanted or u.state == wanted]
        counts = {key: sum(1 for u in status.units if u.state == key) for key in STATUS_ORDER}
        return page(request, "dashboard.html", status=status, rows=rows, wanted=wanted, counts=counts,
                    order=STATUS_ORDER, year=portal.year, status_labels=_status_labels(),
                    can_send=getattr(portal, "mail", None) is not None,
                    **{f"has_{name}": hasattr(portal, name) for name in ("rollup", "request_mails", "findings_mails")})

    async def login(request: Request) -> Response:
        nxt = request.query_params.get("next") or "/"
        nxt = nxt if nxt.startswith("/") and not nxt.startswith("//") else "/"
        if request.method == "GET":
            return page(request, "login.html", next=nxt)
        data = await form(request)
        address = request.client.host if request.client else ""
        if throttle.blocked(address):
            return page(request, "login.html", 429, next=nxt, error=_words("too_many_attempts"))
        ok = await run_in_threadpool(portal.verify_password, str(data.get("password") or ""))
        if not ok:
            throttle.failed(address)
            return page(request, "login.html", 401, next=nxt, error=_words("wrong_password"))
        request.session.clear()
        request.session["clerk"] = _login_mark()
        return RedirectResponse(nxt, status_code=303)

    async def logout(request: Request) -> Response:
        await form(request)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    async def clerk_upload(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        received = await uploads(request, via="clerk:" + ("本机" if open_clerk() else "clerk"), unit=None)
        units = portal.units()
        return page(request, "received.html", received=received, units=units,
                    index={u: i for i, u in enumerate(units)})

    async def unit_page(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        index, unit = unit_index(request)
        view = await run_in_threadpool(unit_view, unit)
        return page(request, "unit.html", index=index, base=f"/unit/{index}", token=portal.token(unit),
                    site=str(request.base_url), **view)

    async def unit_download(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        _, unit = unit_index(request)
        return await _download(request, unit, request.path_params["what"])

    async def round_download(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        what = request.path_params["what"]
        makers = {"summary": portal.summary, "blanks": portal.blanks_zip}
        for name in ("rollup", "request_mails", "findings_mails"):
            if hasattr(portal, name):
                makers[name] = getattr(portal, name)
        if what not in makers:
            raise Refusal("not_found", 404)
        return _attachment(await run_in_threadpool(makers[what]))

    async def send_mails(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        data = await form(request)
        kind = str(data.get("kind") or "")
        if kind not in ("requests", "findings") or getattr(portal, "mail", None) is None:
            raise Refusal("not_found", 404)
        try:
            report = await run_in_threadpool(portal.send_mails, kind)
        except Exception as exc:  # an unusable server or roster: its Chinese message
            return refusal(request, f"邮件没有发出：{exc}", 502)
        return page(request, "sent.html", report=report, kind=kind, words=settings()["mail_status"])

    async def waive(request: Request) -> Response:
        if (redirect := clerk_only(request)) is not None:
            return redirect
        index, unit = unit_index(request)
        data = await form(request)
        key, note = str(data.get("key") or ""), str(data.get("note") or "").strip()[:200]
        by = "本机" if open_clerk() else "clerk"
        if data.get("undo"):
            await run_in_threadpool(portal.unwaive, unit, key, by=by)
        else:
            try:
                await run_in_threadpool(portal.waive, unit, key, note, by=by)
            except ValueError as exc:
                return refusal(request, str(exc), 400)
        return RedirectResponse(f"/unit/{index}#findings", status_code=303)

    # ------------------------------------------------------------ township

    async def township_page(request: Request, received: list[Any] | None = None) -> Response:
        unit = township(request)
        view = await run_in_threadpool(unit_view, unit)
        base = f"/u/{request.path_params['token']}"
        view["can_waive"] = False  # only the clerk marks a warning 已核实
        return page(request, "township.html", base=base, year=portal.year, clerk=False, received=received, **view)

    async def township_upload(request: Request) -> Response:
        unit = township(request)
        received = await uploads(request, via=f"link:{unit}", unit=unit)
        return await township_page(request, received)

    async def township_download(request: Request) -> Response:
        unit = township(request)
        what = request.path_params["what"]
        if what not in ("blank", "annotated", "draft.html", "draft.docx"):
            raise Refusal("not_found", 404)
        return await _download(request, unit, what)

    async def _download(request: Request, unit: str, what: str) -> Response:
        if what == "blank":
            made = await run_in_threadpool(portal.blank, unit)
        elif what == "annotated":
            made = await run_in_threadpool(portal.annotated, unit)
        elif what == "history.svg":
            made = await run_in_threadpool(portal.history_svg, unit)
            if made:
                return Response(made[1], media_type="image/svg+xml")
        elif what.startswith("draft.") and what[6:] in DRAFT_KINDS:
            try:
                made = await run_in_threadpool(portal.draft, unit, what[6:])
            except Exception as exc:  # LibreOffice missing for PDF: a Chinese answer
                return refusal(request, f"无法生成报告：{getattr(exc, 'message', None) or exc}", 503)
        else:
            raise Refusal("not_found", 404)
        if not made:
            raise Refusal("not_available", 404)
        return _attachment(made)

    # ------------------------------------------------------------ errors

    async def on_refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        return refusal(request, exc.message, exc.status)

    async def on_http(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 500)
        key = {404: "not_found", 405: "method"}.get(code, "internal")
        if code == 400:
            key = "too_many" if "too many" in str(getattr(exc, "detail", "")).lower() else "bad_request"
        return refusal(request, _words(key, n=max_files), code)

    async def on_error(request: Request, exc: Exception) -> Response:
        log.exception("portal request failed: %s", request.url.path)
        return refusal(request, _words("internal"), 500)

    def plain_refusal(key: str, code: int, **kw: Any) -> Any:
        async def answer(scope: Any, receive: Any, send: Any) -> None:
            body = templates.get_template("message.html").render(message=_words(key, **kw), clerk=False, csrf="",
                                                                 request=None)
            await HTMLResponse(body, status_code=code)(scope, receive, send)
        return answer

    too_large_app = plain_refusal("too_large", 413, mb=limits["max_request_mb"])
    bad_host_app = plain_refusal("bad_host", 421)

    routes = [
        Route("/", dashboard),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/upload", clerk_upload, methods=["POST"]),
        Route("/unit/{index:int}", unit_page),
        Route("/unit/{index:int}/waive", waive, methods=["POST"]),
        Route("/unit/{index:int}/{what:str}", unit_download),
        Route("/download/{what:str}", round_download),
        Route("/round/send", send_mails, methods=["POST"]),
        Route("/u/{token:str}", township_page),
        Route("/u/{token:str}/upload", township_upload, methods=["POST"]),
        Route("/u/{token:str}/{what:str}", township_download),
        Mount("/static", StaticFiles(directory=str(WEB_DIR / "static")), name="static"),
    ]
    secret = hmac.new(_secret_of(portal), b"nianbao-web-session", hashlib.sha256).hexdigest()
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(BodyLimit, max_bytes=int(limits["max_request_mb"]) * 1024 * 1024, too_large=too_large_app),
        Middleware(SessionMiddleware, secret_key=secret, session_cookie="nianbao_session",
                   max_age=int(limits["session_hours"]) * 3600, same_site="lax", https_only=secure_cookies),
    ]
    if loopback:
        middleware.insert(1, Middleware(LoopbackHosts, refused=bad_host_app))
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={Refusal: on_refusal, HTTPException: on_http, Exception: on_error})
    app.state.portal = portal
    return app


def _local_time(stamp: str | None) -> str:
    """An archive time as ``2026-01-10 14:32`` in the round's time zone (as the status shows it)."""
    from toolkit.round.status import in_zone, readable_time, report_zone

    return readable_time(in_zone(stamp, report_zone()[0]))


def _status_labels() -> dict[str, str]:
    from toolkit.output_labels import labels

    known = labels()["unit_state"]
    return {key: known[key] for key in STATUS_ORDER if key in known}


def _secret_of(portal: Any) -> bytes:
    secret = getattr(portal, "secret", None)
    return secret if isinstance(secret, bytes) else str(secret).encode()


def _receive(portal: Any, name: str, content: bytes, via: str, unit: str | None) -> list[Any]:
    """One uploaded file through the Portal; a crash of one check is a Chinese answer, never a
    dead server."""
    try:
        return portal.receive(name, content, via=via, unit=unit)
    except Exception as exc:  # noqa: BLE001
        from toolkit.portal import Received

        log.exception("receiving %s failed", name)
        return [Received(name, None, None, unit, False, "处理该文件时程序出错，未记入档案；请联系管理员")]


def _finding_key(portal: Any, finding: Any) -> str:
    make = getattr(portal, "finding_key", None)
    return make(finding) if callable(make) else ""


def _waived_keys(portal: Any, unit: str) -> dict[str, Any]:
    listed = getattr(portal, "waivers", None)
    if not callable(listed):
        return {}
    return {w.finding_key: w for w in listed(unit)}


def _attachment(made: tuple[str, bytes]) -> Response:
    name, content = made
    kinds = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".zip": "application/zip",
             ".html": "text/html; charset=utf-8", ".pdf": "application/pdf", ".svg": "image/svg+xml",
             ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
    suffix = name[name.rfind("."):].lower() if "." in name else ""
    return Response(content, media_type=kinds.get(suffix, "application/octet-stream"), headers={
        "content-disposition": f"attachment; filename=\"download{suffix}\"; filename*=UTF-8''{quote(name)}"})
