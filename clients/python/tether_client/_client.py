"""Tether HTTP API v1 client: standard library only (http.client, json)."""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Union

__all__ = [
    "Tether", "AutoSession", "TetherError", "RetryPolicy", "Execution", "ExecutionStream",
    "SessionPage", "Event", "Start", "Stdout", "Stderr", "Result", "Error", "End", "UNSET",
]

VERSION = "0.1.0"
SESSION_HEADER = "Tether-Session"
EXECUTION_HEADER = "Tether-Execution"
_GONE = ("session_ended", "session_not_found")
# A kept-alive connection idle longer than this is not reused: the server may have closed it,
# and a request lost on such a connection could not be told apart from one that ran.
_MAX_IDLE = 10.0


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


#: "Not given": the server's default applies (``None`` means "no limit" where the API allows it).
UNSET: Any = _Unset()


class TetherError(Exception):
    """Every failure of a call: a problem+json answer from the server, or the client's own.

    ``code`` is the problem's stable code (``session_not_found``, ``invalid_request``, ...) or
    one of the client's: ``connection_failed`` (nothing was sent), ``connection_lost`` and
    ``timeout`` (it may have run), ``stream_timeout``, ``unexpected_response``.
    ``status`` is the HTTP status, 0 without an answer.
    """

    def __init__(self, code: str, status: int, detail: str, *, retry_after: Optional[float] = None,
                 outcome_unknown: bool = False, problem: Optional[dict] = None):
        super().__init__(f"{code} ({status}): {detail}" if status else f"{code}: {detail}")
        self.code = code
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.outcome_unknown = outcome_unknown
        self.problem = problem or {}

    @property
    def session_gone(self) -> bool:
        """The session ended (410) or is unknown (404): its state is lost."""
        return self.code in _GONE


@dataclass(frozen=True)
class RetryPolicy:
    """Retries after the first attempt; the n-th waits ``delay * backoff**(n-1)``, at most ``max_delay``.

    A ``Retry-After`` header replaces the computed wait; one longer than ``max_delay`` is not
    waited for: the call fails at once with ``TetherError.retry_after`` set.
    """

    max_retries: int = 2
    delay: float = 0.2
    backoff: float = 2.0
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= 100:
            raise ValueError(f"max_retries must be from 0 to 100, got {self.max_retries}")
        if not self.delay > 0:
            raise ValueError(f"delay must be positive, got {self.delay}")
        if not 1.0 <= self.backoff <= 10.0:
            raise ValueError(f"backoff must be from 1.0 to 10.0, got {self.backoff}")
        if self.max_delay < self.delay:
            raise ValueError(f"max_delay ({self.max_delay}) must be at least delay ({self.delay})")

    def delay_before(self, retry: int) -> float:
        return min(self.delay * self.backoff ** (retry - 1), self.max_delay)


RetryPolicy.NONE = RetryPolicy(max_retries=0)  # type: ignore[attr-defined]


class Execution(dict):
    """An execution's JSON answer (a ``dict``), with a few conveniences."""

    new_session: bool = False

    @property
    def status(self) -> str:
        return self.get("status")

    @property
    def ok(self) -> bool:
        return self.get("status") == "ok"

    @property
    def value(self) -> Any:
        """The trailing expression's ``application/json`` value, else ``None``."""
        r = self.get("result")
        return r.get("application/json") if r else None

    @property
    def text(self) -> Optional[str]:
        """The trailing expression's ``text/plain``, else ``None``."""
        r = self.get("result")
        return r.get("text/plain") if r else None

    @property
    def session_id(self) -> str:
        return self.get("session_id")

    @property
    def number(self) -> int:
        return self.get("number")

    @property
    def outputs(self) -> List[dict]:
        """Everything the execution produced, in order, in Jupyter's shapes: ``stream`` (``name``,
        ``text``), ``display_data`` and ``execute_result`` (``data``, ``metadata``, ``truncated``)."""
        return self.get("outputs") or []

    @property
    def displays(self) -> List[dict]:
        """The ``display_data`` outputs (``display(obj)``, matplotlib figures), in order."""
        return [o for o in self.outputs if o.get("output_type") == "display_data"]


@dataclass(frozen=True)
class SessionPage:
    items: List[dict]
    next_cursor: Optional[str]


@dataclass(frozen=True)
class ExecutionPage:
    """One page of a session's execution history, newest first; ``next_cursor`` is ``None`` on the last."""
    items: List[dict]
    next_cursor: Optional[str]


# ---------------------------------------------------------------------------------------------
# Stream events

@dataclass(frozen=True)
class Event:
    """One server-sent event of a streamed execution."""

    @property
    def type(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True)
class Start(Event):
    session_id: str
    number: int


@dataclass(frozen=True)
class Stdout(Event):
    text: str


@dataclass(frozen=True)
class Stderr(Event):
    text: str


@dataclass(frozen=True)
class Display(Event):
    """Something the code displayed, in order with ``Stdout`` and ``Stderr``: a MIME bundle."""
    data: Dict[str, Any]  # MIME type -> value; binary types (image/png, image/jpeg) as base64 text
    metadata: Dict[str, Any] = field(default_factory=dict)
    truncated: bool = False

    def bytes(self, mime_type: str) -> Optional[bytes]:
        """The decoded bytes of a binary type (``image/png``, ``image/jpeg``), else ``None``."""
        return _decoded(self.data, mime_type)


def _decoded(data: Dict[str, Any], mime_type: str) -> Optional[bytes]:
    value = data.get(mime_type)
    return base64.b64decode(value) if isinstance(value, str) else None


def output_bytes(output: dict, mime_type: str) -> Optional[bytes]:
    """The decoded bytes of a binary type in an output of ``Execution.outputs``, else ``None``."""
    return _decoded(output.get("data") or {}, mime_type)


@dataclass(frozen=True)
class Result(Event):
    data: Dict[str, Any]  # the MIME bundle: "text/plain", maybe "application/json"


@dataclass(frozen=True)
class Error(Event):
    name: str
    value: str
    traceback: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class End(Event):
    execution: Execution


@dataclass(frozen=True)
class InputRequest(Event):
    """The code waits for a line of input (``input()``, ``getpass``, ``System.in``): answer with
    :meth:`Tether.input` (or :meth:`AutoSession.input`). Its timeout keeps running meanwhile."""
    prompt: str
    password: bool  # a secret (getpass): do not echo the answer

    @property
    def type(self) -> str:
        return "input_request"


def _event(name: str, data: str) -> Event:
    try:
        d = json.loads(data)
    except ValueError as e:
        raise TetherError("unexpected_response", 200, f"event {name!r} is not JSON: {data[:200]!r}") from e
    if name == "start":
        return Start(d.get("session_id"), d.get("number"))
    if name == "stdout":
        return Stdout(d.get("text", ""))
    if name == "stderr":
        return Stderr(d.get("text", ""))
    if name == "display":
        return Display(d.get("data") or {}, d.get("metadata") or {}, bool(d.get("truncated")))
    if name == "result":
        return Result(d)
    if name == "error":
        return Error(d.get("name"), d.get("value"), d.get("traceback") or [])
    if name == "end":
        return End(Execution(d))
    if name == "input_request":
        return InputRequest(d.get("prompt", ""), bool(d.get("password")))
    raise TetherError("unexpected_response", 200, f"unknown event {name!r}")


# ---------------------------------------------------------------------------------------------
# Transport

class _Pool:
    """Kept-alive HTTP/1.1 connections to one server, reused by every call."""

    def __init__(self, scheme: str, host: str, port: Optional[int], connect_timeout: float):
        self._cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        self._host = host
        self._port = port
        self._connect_timeout = connect_timeout
        self._idle: List[tuple] = []
        self._lock = threading.Lock()

    def take(self) -> tuple:
        """A connection and whether it is a fresh one; a fresh one is connected here."""
        now = time.monotonic()
        with self._lock:
            while self._idle:
                conn, since = self._idle.pop()
                if now - since < _MAX_IDLE:
                    return conn, False
                conn.close()
        conn = self._cls(self._host, self._port, timeout=self._connect_timeout)
        try:
            conn.connect()
        except OSError as e:
            conn.close()
            raise TetherError("connection_failed", 0, f"cannot connect to {self._host}:{self._port}: {e}") from e
        return conn, True

    def give(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.append((conn, time.monotonic()))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()


class _Reply:
    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as e:
            raise TetherError("unexpected_response", self.status,
                              f"the answer is not JSON: {self.body[:200]!r}") from e


def _retry_after(headers: http.client.HTTPMessage) -> Optional[float]:
    v = headers.get("Retry-After")
    if not v:
        return None
    v = v.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _problem(status: int, headers: http.client.HTTPMessage, body: bytes) -> TetherError:
    ctype = (headers.get("Content-Type") or "").split(";")[0].strip()
    if ctype == "application/problem+json":
        try:
            p = json.loads(body)
            return TetherError(p.get("code") or "unexpected_response", status, p.get("detail") or p.get("title") or "",
                               retry_after=_retry_after(headers), problem=p)
        except ValueError:
            pass
    text = body[:200].decode("utf-8", "replace")
    return TetherError("unexpected_response", status, f"an answer that is not Tether's: {text!r}",
                       retry_after=_retry_after(headers))


# ---------------------------------------------------------------------------------------------
# Streams

class ExecutionStream:
    """The events of a running execution, in the server's order: an iterator of :class:`Event`.

    ``Start``, then ``Stdout``/``Stderr`` as the code writes, ``Result`` (only with a value),
    ``Error`` (only when it raised), and always ``End`` last. After ``End`` the connection
    serves the next call; close the stream (or use ``with``) when you stop reading early.
    Neither closing it nor losing it stops the execution: fetch it with
    ``Tether.execution(session_id, number)``.
    """

    def __init__(self, tether: "Tether", conn: http.client.HTTPConnection, resp: http.client.HTTPResponse,
                 session_id: str, number: Optional[int], new_session: bool, stream_timeout: Optional[float]):
        self._tether = tether
        self._conn = conn
        self._resp = resp
        self.session_id = session_id
        self.number = number
        self.new_session = new_session
        self.execution: Optional[Execution] = None
        self._done = False
        if conn.sock is not None:
            conn.sock.settimeout(stream_timeout)

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self._done:
            raise StopIteration
        name, data = "message", []
        while True:
            try:
                raw = self._resp.readline()
            except socket.timeout as e:
                self.close()
                raise TetherError("stream_timeout", 0, "the event stream was silent too long; the execution goes on "
                                  f"(fetch it as execution {self.number} of session {self.session_id})") from e
            except (OSError, http.client.HTTPException) as e:
                self.close()
                raise TetherError("connection_lost", 0, f"the event stream broke: {e}", outcome_unknown=True) from e
            if not raw:
                self.close()
                raise TetherError("connection_lost", 0, "the event stream ended before its end event",
                                  outcome_unknown=True)
            line = raw.decode("utf-8").rstrip("\r\n")
            if line == "":
                if data:
                    break
                name = "message"
                continue
            if line.startswith(":"):
                continue  # keep-alive
            key, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
        ev = _event(name, "\n".join(data))
        if isinstance(ev, Start) and self.number is None:
            self.number = ev.number
        if isinstance(ev, End):
            ev.execution.new_session = self.new_session
            self.execution = ev.execution
            self._done = True
            self._resp.read()  # the rest of the chunked body, so the connection can be reused
            if self._conn.sock is not None:
                self._conn.sock.settimeout(None)
            self._tether._pool.give(self._conn)
            self._conn = None
        return ev

    def finish(self) -> Execution:
        """Reads to the end and returns the execution."""
        for _ in self:
            pass
        assert self.execution is not None
        return self.execution

    def close(self) -> None:
        self._done = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "ExecutionStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------
# The client

def _cursor_body(code: str, cursor: Optional[int]) -> dict:
    return {"code": code} if cursor is None else {"code": code, "cursor": cursor}


def _seconds(v: Any) -> Any:
    return v.total_seconds() if hasattr(v, "total_seconds") else v


class Tether:
    """A client for one Tether server: ``Tether("http://127.0.0.1:8080", token)``.

    Thread-safe; make one per server and share it. Its calls reuse kept-alive connections.
    ``close()`` (or leaving a ``with`` block) ends the sessions of its open automatic sessions
    and closes the connections.
    """

    def __init__(self, url: str, token: Optional[str] = None, *, request_timeout: float = 30.0,
                 connect_timeout: float = 10.0, stream_timeout: float = 60.0,
                 retry: RetryPolicy = RetryPolicy(), user_agent: Optional[str] = None):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"url must be an http or https URL, got {url!r}")
        if u.query or u.fragment:
            raise ValueError(f"url must have no query or fragment, got {url!r}")
        self.url = url.rstrip("/")
        self._prefix = u.path.rstrip("/")
        self._host_header = u.netloc
        self._token = token.strip() if token else None
        self.request_timeout = request_timeout
        self.stream_timeout = stream_timeout
        self.retry = retry
        self._user_agent = user_agent or f"tether-client-python/{VERSION}"
        self._pool = _Pool(u.scheme, u.hostname, u.port, connect_timeout)
        self._autos: "set[AutoSession]" = set()
        self._lock = threading.Lock()
        self._closed = False

    # -- transport ------------------------------------------------------------------------------

    def _headers(self, session_id: Optional[str], extra: Optional[dict]) -> dict:
        h = {"User-Agent": self._user_agent, "Accept": "application/json"}
        if self._token:
            h["Authorization"] = f"Bearer {self._token}"
        if session_id:
            h[SESSION_HEADER] = session_id
        if extra:
            h.update(extra)
        return h

    def _exchange(self, method: str, path: str, body: Any, session_id: Optional[str], *, idempotent: bool,
                  timeout: Optional[float], stream: bool = False, raw_body: bool = False,
                  retry: Optional[RetryPolicy] = None):
        """Sends a request with the retry rules; returns a _Reply, or (conn, resp) for a stream."""
        if self._closed:
            raise RuntimeError("this Tether client is closed")
        retry = retry or self.retry
        headers = self._headers(session_id, {"Accept": "text/event-stream"} if stream else None)
        if body is not None and not raw_body:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif body is not None:
            payload = body
            headers["Content-Type"] = "application/octet-stream"
        else:
            payload = b"" if method in ("POST", "PUT", "PATCH") else None
        attempt = 0
        while True:
            try:
                return self._once(method, self._prefix + path, payload, headers, timeout, stream)
            except TetherError as e:
                attempt += 1
                safe = (e.code == "connection_failed" or e.status in (429, 503)
                        or (idempotent and (e.code in ("connection_lost", "timeout") or e.status in (502, 504))))
                if not safe or attempt > retry.max_retries:
                    raise
                wait = retry.delay_before(attempt)
                if e.retry_after is not None:
                    if e.retry_after > retry.max_delay:
                        raise
                    wait = e.retry_after
                time.sleep(wait)

    def _once(self, method: str, path: str, payload: Optional[bytes], headers: dict, timeout: Optional[float],
              stream: bool):
        conn, fresh = self._pool.take()
        try:
            conn.sock.settimeout(timeout)
            conn.request(method, path, body=payload, headers=headers)
            resp = conn.getresponse()
        except socket.timeout as e:
            conn.close()
            raise TetherError("timeout", 0, f"no answer to {method} {path} within {timeout} s; it may have run",
                              outcome_unknown=True) from e
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise TetherError("connection_lost", 0, f"{method} {path}: the connection broke ({e!r}); it may have run",
                              outcome_unknown=True) from e
        if stream and resp.status == 200:
            return conn, resp
        try:
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise TetherError("connection_lost", 0, f"{method} {path}: the answer broke off ({e!r})",
                              outcome_unknown=True) from e
        if resp.will_close:
            conn.close()
        else:
            conn.sock.settimeout(None)
            self._pool.give(conn)
        if resp.status >= 400:
            raise _problem(resp.status, resp.headers, body)
        return _Reply(resp.status, resp.headers, body)

    def _json(self, method: str, path: str, body: Any = None, session_id: Optional[str] = None, *,
              idempotent: bool, retry: Optional[RetryPolicy] = None) -> Any:
        r = self._exchange(method, path, body, session_id, idempotent=idempotent, timeout=self.request_timeout,
                           retry=retry)
        return r.json() if r.body else None

    @staticmethod
    def _sid(session_id: str) -> str:
        if not session_id or not isinstance(session_id, str):
            raise ValueError("a session id is required")
        return "/v1/sessions/" + urllib.parse.quote(session_id, safe="")

    @staticmethod
    def _file(path: str) -> str:
        if not path or not isinstance(path, str):
            raise ValueError("a file path is required")
        return "/".join(urllib.parse.quote(p, safe="") for p in path.split("/"))

    # -- sessions -------------------------------------------------------------------------------

    def create_session(self, runtime: Optional[str] = None, *, key: Optional[str] = None,
                       data: Optional[dict] = None, metadata: Optional[dict] = None,
                       idle_timeout: Any = UNSET, max_lifetime: Any = UNSET, owner: Optional[str] = None,
                       retry: Optional[RetryPolicy] = None) -> dict:
        """``POST /v1/sessions``: a session (``runtime`` ``python``, ``jshell`` or ``None`` for a plain one).

        ``idle_timeout`` / ``max_lifetime`` in seconds, ``None`` for never, ``UNSET`` for the
        server's default. With a ``key`` it is get-or-create (and so safe to retry).
        """
        body: Dict[str, Any] = {}
        for name, v in (("runtime", runtime), ("key", key), ("data", data), ("metadata", metadata),
                        ("owner", owner)):
            if v is not None:
                body[name] = v
        if idle_timeout is not UNSET:
            body["idle_timeout"] = _seconds(idle_timeout)
        if max_lifetime is not UNSET:
            body["max_lifetime"] = _seconds(max_lifetime)
        return self._json("POST", "/v1/sessions", body, idempotent=key is not None, retry=retry)

    def get_session(self, session_id: str) -> dict:
        return self._json("GET", self._sid(session_id), None, session_id, idempotent=True)

    def list_sessions(self, *, status: Optional[str] = None, runtime: Optional[str] = None,
                      owner: Optional[str] = None, limit: Optional[int] = None,
                      cursor: Optional[str] = None) -> SessionPage:
        """``GET /v1/sessions``: one page, newest first; pass ``next_cursor`` back for the next."""
        q = {k: v for k, v in (("status", status), ("runtime", runtime), ("owner", owner), ("limit", limit),
                               ("cursor", cursor)) if v is not None}
        path = "/v1/sessions" + ("?" + urllib.parse.urlencode(q) if q else "")
        page = self._json("GET", path, idempotent=True)
        return SessionPage(page.get("items", []), page.get("next_cursor"))

    def iter_sessions(self, **query: Any) -> Iterator[dict]:
        """Every session matching ``query`` (as :meth:`list_sessions`), following the cursors."""
        cursor = query.pop("cursor", None)
        while True:
            page = self.list_sessions(cursor=cursor, **query)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def update_session(self, session_id: str, data: Optional[dict] = None, metadata: Optional[dict] = None) -> dict:
        """``PATCH``: merges ``data`` / ``metadata`` (RFC 7386: a ``None`` value removes a key)."""
        body = {k: v for k, v in (("data", data), ("metadata", metadata)) if v is not None}
        return self._json("PATCH", self._sid(session_id), body, session_id, idempotent=True)

    def touch(self, session_id: str) -> dict:
        return self._json("POST", self._sid(session_id) + "/touch", None, session_id, idempotent=True)

    def end_session(self, session_id: str, reason: str = "manual") -> dict:
        """Ends the session; idempotent."""
        path = self._sid(session_id) + "?" + urllib.parse.urlencode({"reason": reason})
        return self._json("DELETE", path, None, session_id, idempotent=True)

    # -- executions -----------------------------------------------------------------------------

    def _exec_body(self, code: str, timeout: Any, runtime: Optional[str], stdin: Optional[str] = None) -> tuple:
        if not isinstance(code, str):
            raise TypeError("code must be a str")
        if stdin is not None and not isinstance(stdin, str):
            raise TypeError("stdin must be a str")
        body: Dict[str, Any] = {"code": code}
        if stdin is not None:
            body["stdin"] = stdin
        if timeout is not UNSET:
            body["timeout"] = _seconds(timeout)
        if runtime is not None:
            body["runtime"] = runtime
        # the answer may take the execution's timeout plus the request timeout; without one, as long as it takes
        wait = None if timeout is UNSET or timeout is None else _seconds(timeout) + self.request_timeout
        return body, wait

    def _execute(self, path: str, session_id: Optional[str], code: str, timeout: Any, runtime: Optional[str],
                 idempotent: bool, retry: Optional[RetryPolicy] = None, stdin: Optional[str] = None) -> Execution:
        body, wait = self._exec_body(code, timeout, runtime, stdin)
        r = self._exchange("POST", path, body, session_id, idempotent=idempotent, timeout=wait, retry=retry)
        e = Execution(r.json())
        e.new_session = session_id is None
        return e

    def _stream(self, path: str, session_id: Optional[str], code: str, timeout: Any, runtime: Optional[str],
                idempotent: bool, new_session: bool, retry: Optional[RetryPolicy] = None,
                stream_timeout: Any = UNSET, stdin: Optional[str] = None) -> ExecutionStream:
        body, wait = self._exec_body(code, timeout, runtime, stdin)
        conn, resp = self._exchange("POST", path, body, session_id, idempotent=idempotent, timeout=wait,
                                    stream=True, retry=retry)
        sid = resp.getheader(SESSION_HEADER) or session_id
        n = resp.getheader(EXECUTION_HEADER)
        if not sid:
            conn.close()
            raise TetherError("unexpected_response", resp.status, "the event stream's answer names no session")
        return ExecutionStream(self, conn, resp, sid, int(n) if n else None, new_session,
                               self.stream_timeout if stream_timeout is UNSET else stream_timeout)

    def execute(self, session_id: str, code: str, *, timeout: Any = UNSET, idempotent: bool = False,
                stdin: Optional[str] = None) -> Execution:
        """Runs code in a session and returns the execution (a failure in the code is ``status`` ``error``).

        ``timeout`` in seconds (``None``: no limit; not given: the server's). An execution is
        retried only when it cannot have run, unless ``idempotent=True``. ``stdin``: text the
        code reads as standard input, line by line; past its end ``input()`` raises ``EOFError``.
        """
        return self._execute(self._sid(session_id) + "/executions", session_id, code, timeout, None, idempotent,
                             stdin=stdin)

    def stream(self, session_id: str, code: str, *, timeout: Any = UNSET, idempotent: bool = False,
               stdin: Optional[str] = None) -> ExecutionStream:
        """Runs code in a session; returns its events as they happen (see :class:`ExecutionStream`).
        Past its ``stdin`` text the code asks for input: an :class:`InputRequest` event, answered
        with :meth:`input`."""
        return self._stream(self._sid(session_id) + "/executions", session_id, code, timeout, None, idempotent,
                            False, stdin=stdin)

    def execution(self, session_id: str, number: int) -> Execution:
        """Execution ``number`` of the session: while it runs (``running``), or kept afterwards."""
        if number < 1:
            raise ValueError(f"execution numbers start at 1, got {number}")
        return Execution(self._json("GET", f"{self._sid(session_id)}/executions/{int(number)}", None, session_id,
                                    idempotent=True))

    def list_executions(self, session_id: str, *, limit: Optional[int] = None, cursor: Optional[str] = None,
                        output: bool = False) -> ExecutionPage:
        """``GET /v1/sessions/{id}/executions``: one page of the history, newest first (the running
        execution first), also of an ended session; pass ``next_cursor`` back for the next page.

        Each item is a summary without output (``number``, ``status``, ``started_at``, ``ended_at``,
        ``duration``, ``error_name``, ``code_preview``, ...) unless ``output=True``: then it is the
        whole :class:`Execution`, as :meth:`execution` returns it.
        """
        q: Dict[str, Any] = {k: v for k, v in (("limit", limit), ("cursor", cursor)) if v is not None}
        if output:
            q["output"] = "true"
        path = f"{self._sid(session_id)}/executions" + ("?" + urllib.parse.urlencode(q) if q else "")
        page = self._json("GET", path, None, session_id, idempotent=True)
        items = page.get("items", [])
        return ExecutionPage([Execution(i) for i in items] if output else items, page.get("next_cursor"))

    def iter_executions(self, session_id: str, **query: Any) -> Iterator[dict]:
        """Every execution of the session's history (as :meth:`list_executions`), following the cursors."""
        cursor = query.pop("cursor", None)
        while True:
            page = self.list_executions(session_id, cursor=cursor, **query)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def interrupt(self, session_id: str) -> None:
        self._json("POST", self._sid(session_id) + "/interrupt", None, session_id, idempotent=False)

    def restart(self, session_id: str) -> dict:
        return self._json("POST", self._sid(session_id) + "/restart", None, session_id, idempotent=False)

    def complete(self, session_id: str, code: str, cursor: Optional[int] = None) -> dict:
        """What may be typed at ``cursor`` (code points; default the end of ``code``), from the
        session's live namespace: ``{"matches": [...], "cursor_start", "cursor_end"}``, the range
        the matches replace. ``session_busy`` (409) while the session runs code."""
        return self._json("POST", self._sid(session_id) + "/complete", _cursor_body(code, cursor), session_id,
                          idempotent=True)

    def inspect(self, session_id: str, code: str, cursor: Optional[int] = None) -> dict:
        """The signature and docstring of the name at ``cursor``: ``{"found": bool, "data": {MIME
        type: text}}`` (``text/plain`` when found)."""
        return self._json("POST", self._sid(session_id) + "/inspect", _cursor_body(code, cursor), session_id,
                          idempotent=True)

    def input(self, session_id: str, value: str) -> None:
        """Answers the :class:`InputRequest` of the session's streamed execution: ``value`` is the
        line its code reads (no line break). ``no_input_requested`` (409) when nothing waits."""
        self._json("POST", self._sid(session_id) + "/input", {"value": value}, session_id, idempotent=False)

    # -- files ----------------------------------------------------------------------------------

    def files(self, session_id: str) -> dict:
        """``{"files": [{path, type, size, modified_at}], "truncated": bool}``."""
        return self._json("GET", self._sid(session_id) + "/files", None, session_id, idempotent=True)

    def upload(self, session_id: str, path: str, content: Union[bytes, bytearray, str]) -> dict:
        """Writes a file (directories are made); ``{"path", "size"}``."""
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        r = self._exchange("PUT", f"{self._sid(session_id)}/files/{self._file(path)}", data, session_id,
                           idempotent=True, timeout=self.request_timeout, raw_body=True)
        return r.json()

    def download(self, session_id: str, path: str) -> bytes:
        r = self._exchange("GET", f"{self._sid(session_id)}/files/{self._file(path)}", None, session_id,
                           idempotent=True, timeout=self.request_timeout)
        return r.body

    def delete_file(self, session_id: str, path: str) -> None:
        self._exchange("DELETE", f"{self._sid(session_id)}/files/{self._file(path)}", None, session_id,
                       idempotent=False, timeout=self.request_timeout)

    # -- server ---------------------------------------------------------------------------------

    def runtimes(self) -> Any:
        return self._json("GET", "/v1/runtimes", idempotent=True)

    def stats(self) -> Any:
        return self._json("GET", "/v1/stats", idempotent=True)

    def healthy(self) -> bool:
        """``GET /healthz``, never retried: ``False`` while the server shuts down (503)."""
        try:
            self._json("GET", "/healthz", idempotent=False, retry=RetryPolicy.NONE)  # type: ignore[attr-defined]
            return True
        except TetherError as e:
            if e.status == 503:
                return False
            raise

    # -- automatic sessions ---------------------------------------------------------------------

    def auto_session(self, runtime: Optional[str] = "python", *, on_lost: str = "fail", call_timeout: Any = UNSET,
                     idempotent: bool = False, retry: Optional[RetryPolicy] = None,
                     stream_timeout: Any = UNSET, **create: Any) -> "AutoSession":
        """A session created by its first call, reused by later ones, ended on ``close()`` / ``with`` exit.

        ``on_lost``: ``"fail"`` (the default: a lost session raises ``session_ended`` /
        ``session_not_found``; the next call starts a new one) or ``"recreate"`` (the call
        runs in a new session; its result's ``new_session`` is ``True``). Other keywords
        (``key``, ``data``, ``metadata``, ``idle_timeout``, ``max_lifetime``) are those of
        :meth:`create_session`; with them the session is created with ``POST /v1/sessions``.
        """
        if on_lost not in ("fail", "recreate"):
            raise ValueError(f"on_lost must be 'fail' or 'recreate', got {on_lost!r}")
        a = AutoSession(self, runtime, on_lost, call_timeout, idempotent, retry, stream_timeout, create)
        with self._lock:
            if self._closed:
                raise RuntimeError("this Tether client is closed")
            self._autos.add(a)
        return a

    def close(self) -> None:
        """Ends the sessions of open automatic sessions, then closes the connections; idempotent."""
        with self._lock:
            autos, self._autos = list(self._autos), set()
        for a in autos:
            try:
                a.close()
            except TetherError:
                pass
        self._closed = True
        self._pool.close()

    def __enter__(self) -> "Tether":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Tether({self.url!r})"


class AutoSession:
    """A session that looks after itself; get one from :meth:`Tether.auto_session`.

    >>> with tether.auto_session("python") as py:     # nothing is created yet
    ...     py.execute("import math\\nr = 2")          # creates the session, runs the code
    ...     print(py.execute("math.pi * r ** 2").text)  # same interpreter: r is still 2
    ... # the session ends here, also when the block raised

    The first execution creates the session and runs the code in one request
    (``POST /v1/execute`` without ``Tether-Session``); later calls send its id back in
    ``Tether-Session``. Thread-safe.
    """

    def __init__(self, tether: Tether, runtime: Optional[str], on_lost: str, call_timeout: Any, idempotent: bool,
                 retry: Optional[RetryPolicy], stream_timeout: Any, create: dict):
        self._t = tether
        self.runtime = runtime
        self._on_lost = on_lost
        self._call_timeout = call_timeout
        self._idempotent = idempotent
        self._retry = retry
        self._stream_timeout = stream_timeout
        self._create = create
        self._starting = threading.RLock()
        self._id: Optional[str] = None
        self._lost_under_fail: Optional[str] = None
        self._closed = False
        #: ids of the sessions this handle lost, oldest first
        self.lost: List[str] = []

    @property
    def session_id(self) -> Optional[str]:
        """The current session's id; ``None`` before the first call, after a loss, after close."""
        return self._id

    # -- calls ----------------------------------------------------------------------------------

    def execute(self, code: str, *, timeout: Any = UNSET, idempotent: bool = False,
                stdin: Optional[str] = None) -> Execution:
        t = self._call_timeout if timeout is UNSET else timeout
        idem = idempotent or self._idempotent

        def in_session(sid: str, new: bool) -> Execution:
            e = self._t._execute("/v1/execute", sid, code, t, None, idem, self._retry, stdin=stdin)
            e.new_session = new
            return e

        def create_and_run() -> tuple:
            e = self._t._execute("/v1/execute", None, code, t, self.runtime or "python", idem, self._retry,
                                 stdin=stdin)
            return e.session_id, e

        return self._call(in_session, create_and_run)

    def stream(self, code: str, *, timeout: Any = UNSET, idempotent: bool = False,
               stdin: Optional[str] = None) -> ExecutionStream:
        t = self._call_timeout if timeout is UNSET else timeout
        idem = idempotent or self._idempotent

        def in_session(sid: str, new: bool) -> ExecutionStream:
            return self._t._stream("/v1/execute", sid, code, t, None, idem, new, self._retry, self._stream_timeout,
                                   stdin=stdin)

        def create_and_run() -> tuple:
            s = self._t._stream("/v1/execute", None, code, t, self.runtime or "python", idem, True, self._retry,
                                self._stream_timeout, stdin=stdin)
            return s.session_id, s

        return self._call(in_session, create_and_run)

    def session(self) -> dict:
        """The session as the server sees it (creating it if there is none); one that left ``active`` is lost."""
        def get(sid: str, new: bool) -> dict:
            s = self._t.get_session(sid)
            if s.get("status") != "active":
                raise TetherError("session_ended", 410,
                                  f"session {sid!r} is {s.get('status')} ({s.get('end_reason')})")
            return s
        return self._call(get)

    def update(self, data: Optional[dict] = None, metadata: Optional[dict] = None) -> dict:
        return self._call(lambda sid, new: self._t.update_session(sid, data, metadata))

    def touch(self) -> dict:
        return self._call(lambda sid, new: self._t.touch(sid))

    def restart(self) -> dict:
        return self._call(lambda sid, new: self._t.restart(sid))

    def input(self, value: str) -> None:
        """Answers the :class:`InputRequest` of the session's streamed execution (see :meth:`Tether.input`)."""
        self._ensure_open()
        sid = self._id
        if sid is None:
            raise TetherError("no_input_requested", 0, "the session has not started: nothing waits for input")
        self._t.input(sid, value)

    def interrupt(self) -> None:
        """Interrupts running code; creates nothing (without a session nothing runs)."""
        self._ensure_open()
        sid = self._id
        if sid is None:
            return
        try:
            self._t.interrupt(sid)
        except TetherError as e:
            if not e.session_gone:
                raise
            self._lost(sid)
            if self._on_lost == "fail":
                raise self._lost_error(sid, e) from e

    # files go through the client with the session's id
    def files(self) -> dict:
        return self._call(lambda sid, new: self._t.files(sid))

    def upload(self, path: str, content: Union[bytes, bytearray, str]) -> dict:
        return self._call(lambda sid, new: self._t.upload(sid, path, content))

    def download(self, path: str) -> bytes:
        return self._call(lambda sid, new: self._t.download(sid, path))

    def delete_file(self, path: str) -> None:
        return self._call(lambda sid, new: self._t.delete_file(sid, path))

    def close(self) -> None:
        """Ends the session (reason ``manual``) if one was created; idempotent.

        A session the server no longer knows needs no ending.
        """
        with self._starting:
            if self._closed:
                return
            self._closed = True
            sid, self._id = self._id, None
        with self._t._lock:
            self._t._autos.discard(self)
        if sid is None:
            return
        try:
            self._t.end_session(sid, "manual")
        except TetherError as e:
            if not e.session_gone:
                raise

    def __enter__(self) -> "AutoSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else self._id or "no session yet"
        return f"AutoSession({self.runtime or 'none'}, {state})"

    # -- machinery ------------------------------------------------------------------------------

    def _call(self, in_session, create_and_run=None):
        self._ensure_open()
        sid = self._id
        if sid is None:
            return self._start(in_session, create_and_run, None)
        try:
            return in_session(sid, False)
        except TetherError as e:
            if not e.session_gone:
                raise
            self._lost(sid)
            if self._on_lost == "fail":
                raise self._lost_error(sid, e) from e
            return self._start(in_session, create_and_run, sid)

    def _start(self, in_session, create_and_run, replacing: Optional[str]):
        with self._starting:
            self._ensure_open()
            sid = self._id
            if sid is not None:  # another thread started one while this one waited
                return in_session(sid, replacing is not None)
            if create_and_run is not None and not self._create:
                new_id, value = create_and_run()
                self._adopt(new_id)
                return value
            s = self._t.create_session(self.runtime, retry=self._retry, **self._create)
            self._adopt(s["id"])
            return in_session(s["id"], True)

    def _adopt(self, sid: str) -> None:
        self._id = sid
        self._lost_under_fail = None

    def _lost(self, sid: str) -> None:
        with self._starting:
            if self._id == sid:
                self._id = None
                self.lost.append(sid)
                if self._on_lost == "fail":
                    self._lost_under_fail = sid

    @staticmethod
    def _lost_error(sid: str, cause: TetherError) -> TetherError:
        return TetherError(cause.code, cause.status,
                           f"the automatic session {sid!r} is gone ({cause.detail}); its state is lost and the call "
                           "did not run. The next call starts a new session.", problem=cause.problem)

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError("this automatic session is closed")
