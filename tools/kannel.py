"""Run a real Kannel 1.4.5 (Debian ``kannel`` + ``kannel-extras``) for tests: the kannel
gateway's end-to-end test starts one (docs/gateways.md says what it taught us).

One bearerbox, one smsbox and ``fakesmsc`` (the fake SMSC from kannel-extras,
connected to an ``smsc = fake`` group), all as child processes with every
port chosen at run time and every file (config, logs) under a directory the
caller owns.  Nothing is daemonised, nothing touches /etc/kannel or the
system's default ports (13000/13013).

    from run_kannel import kannel

    with kannel(tmp_path, inbound_url="http://127.0.0.1:8080/providers/kannel/inbound/TOKEN"
                                      "?from=%p&to=%P&text=%a") as k:
        k.sendsms_url            # http://127.0.0.1:PORT/cgi-bin/sendsms
        k.username, k.password   # sendsms-user credentials
        k.gateway_url("Leopard") # kannel://USER:PASSWORD@127.0.0.1:PORT?from=Leopard&smsc=fake
        k.wait_for_mt(lambda m: m.receiver == "+15550001111")   # what the fake SMSC got
        k.inject_mo("+15550002222", "12345", "STOP")            # an inbound message

Delivery reports: the ``fake`` SMSC module inside bearerbox produces them
itself for every message written to fakesmsc: type 8 (SMSC ack, when
dlr-mask has 8) and then type 1 (delivered, when dlr-mask has 1 or 2).
It never produces 2 or 16.

Async tests: ``async with kannel_async(...) as k`` runs start/stop in a
thread.  ``CallbackRecorder`` is a tiny HTTP server recording GETs/POSTs
(useful as a dlr-url / get-url target when the service is not running).

Requires: apt-get install -y kannel kannel-extras   (root in CI; no daemon is
started by the package on a machine without a running init system).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.server
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"

SMSC_ID = "fake"


def kannel_installed() -> bool:
    return all(os.access(p, os.X_OK) for p in (BEARERBOX, SMSBOX, FAKESMSC))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _q(value: str) -> str:
    """Quote a value for kannel.conf."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclasses.dataclass(frozen=True)
class MT:
    """One message as fakesmsc received it from bearerbox."""

    sender: str
    receiver: str
    kind: str  # "text", "ucs-2", "data" or "udh"
    raw: str   # the payload as printed (url-encoded for ucs-2/data)

    @property
    def text(self) -> str:
        # Kannel's url-encoding writes the byte 0x20 as "+".
        if self.kind == "ucs-2":
            return urllib.parse.unquote_to_bytes(self.raw.replace("+", "%20")).decode("utf-16-be")
        if self.kind == "data":
            return urllib.parse.unquote_to_bytes(self.raw.replace("+", "%20")).decode("latin-1")
        return self.raw


_MT_LINE = re.compile(r"Got message \d+: <(\S*) (\S*) (text|ucs-2|data|udh) (.*)>$")


class Kannel:
    """A running bearerbox + smsbox + fakesmsc; build it with :func:`kannel`."""

    def __init__(self, workdir: Path, *, inbound_url: str | None = None,
                 username: str = "leopard", password: str = "secret",
                 admin_password: str = "adminpw", connect_smsc: bool = True,
                 core_extra: str = "", smsc_extra: str = "", smsbox_extra: str = "",
                 sendsms_user_extra: str = "", log_level: int = 0) -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.username, self.password = username, password
        self.admin_password = admin_password
        self.inbound_url = inbound_url
        self.connect_smsc = connect_smsc
        self._extra = {"core": core_extra, "smsc": smsc_extra, "smsbox": smsbox_extra,
                           "user": sendsms_user_extra}
        self.log_level = log_level
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.smsc_port = free_port()
        self.sendsms_port = free_port()
        self.conf = self.dir / "kannel.conf"
        self._procs: dict[str, subprocess.Popen] = {}
        self._files: list = []
        self.startup_seconds: float | None = None
        self._smsc_generation = 0
        self._mo_sent = 0

    # -- addresses --------------------------------------------------------
    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def gateway_url(self, sender: str = "Leopard", smsc: str = SMSC_ID) -> str:
        """The service's `kannel://` gateway URL for this instance."""
        user = urllib.parse.quote(self.username, safe="")
        pw = urllib.parse.quote(self.password, safe="")
        query = urllib.parse.urlencode({"from": sender, "smsc": smsc})
        return f"kannel://{user}:{pw}@127.0.0.1:{self.sendsms_port}?{query}"

    # -- config -----------------------------------------------------------
    def config_text(self) -> str:
        d = self.dir
        service = f"get-url = {_q(self.inbound_url)}" if self.inbound_url else 'text = "ok"'
        return f"""\
group = core
admin-port = {self.admin_port}
admin-interface = 127.0.0.1
admin-password = {_q(self.admin_password)}
status-password = {_q(self.admin_password)}
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.smsbox_port}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
dlr-storage = internal
log-file = {_q(str(d / "bearerbox.log"))}
log-level = {self.log_level}
access-log = {_q(str(d / "bearerbox-access.log"))}
{self._extra["core"]}

group = smsc
smsc = fake
smsc-id = {SMSC_ID}
port = {self.smsc_port}
our-host = 127.0.0.1
connect-allow-ip = "127.0.0.1"
{self._extra["smsc"]}

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = 127.0.0.1
log-file = {_q(str(d / "smsbox.log"))}
log-level = {self.log_level}
access-log = {_q(str(d / "smsbox-access.log"))}
{self._extra["smsbox"]}

group = sendsms-user
username = {_q(self.username)}
password = {_q(self.password)}
{self._extra["user"]}

group = sms-service
keyword = default
catch-all = true
max-messages = 0
{service}
"""

    # -- processes --------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], stdin=subprocess.DEVNULL,
               logname: str | None = None) -> subprocess.Popen:
        out = open(self.dir / f"{logname or name}.out", "ab")  # noqa: SIM115 (closed by stop())
        self._files.append(out)
        proc = subprocess.Popen(argv, cwd=self.dir, stdin=stdin, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self._procs[name] = proc
        return proc

    def _check_alive(self) -> None:
        for name, proc in self._procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see "
                                   f"{self._outfile(name)}:\n{self._tail(name)}")

    def _outfile(self, name: str) -> Path:
        if name == "fakesmsc":
            return self.dir / f"fakesmsc-{self._smsc_generation}.out"
        return self.dir / f"{name}.out"

    def _tail(self, name: str, lines: int = 20) -> str:
        try:
            text = self._outfile(name).read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait(self, what: str, cond: Callable[[], bool], deadline: float) -> None:
        while not cond():
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kannel: timed out waiting for {what} (logs in {self.dir})")
            time.sleep(0.05)

    def start(self, timeout: float = 20.0) -> Kannel:
        if not kannel_installed():
            raise RuntimeError("Kannel is not installed: apt-get install -y kannel kannel-extras")
        self.conf.write_text(self.config_text())
        t0 = time.monotonic()
        deadline = t0 + timeout
        try:
            self._spawn("bearerbox", [BEARERBOX, "-v", "1", str(self.conf)])
            self._wait("bearerbox ports",
                       lambda: _port_open(self.smsbox_port) and _port_open(self.smsc_port),
                       deadline)
            self._spawn("smsbox", [SMSBOX, "-v", "1", str(self.conf)])
            if self.connect_smsc:
                self.start_smsc()
            self._wait("smsbox sendsms port", lambda: self._sendsms_answers(), deadline)
            self._wait("smsbox and fakesmsc connected", self._connected, deadline)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _sendsms_answers(self) -> bool:
        # No credentials: smsbox answers 403 "Authorization failed for sendsms"
        # and sends nothing.
        try:
            urllib.request.urlopen(self.sendsms_url, timeout=1).close()
        except urllib.error.HTTPError as e:
            return e.code == 403
        except OSError:
            return False
        return True

    def status(self) -> str:
        """bearerbox's /status.txt (box and SMSC connections, counters)."""
        url = f"{self.admin_url}/status.txt?password={urllib.parse.quote(self.admin_password)}"
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.read().decode("utf-8", "replace")

    def _connected(self) -> bool:
        try:
            st = self.status()
        except OSError:
            return False
        if "smsbox:" not in st:
            return False
        smsc_line = next((line for line in st.splitlines()
                          if line.strip().startswith(f"{SMSC_ID}[")), "")
        online = "(online" in smsc_line
        return online if self.connect_smsc else True

    def start_smsc(self) -> None:
        """(Re)connect fakesmsc to bearerbox; it reads MO lines from its stdin."""
        old = self._procs.get("fakesmsc")
        if old is not None and old.poll() is None:
            return
        self._smsc_generation += 1
        self._mo_sent = 0
        # -i 0: after sending an MO line fakesmsc goes straight back to stdin
        # (with the default -i 1 it lingers up to 1 s reading the socket).
        self._spawn("fakesmsc", [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port),
                                 "-i", "0"],
                    stdin=subprocess.PIPE, logname=f"fakesmsc-{self._smsc_generation}")

    def wait_smsc_online(self, timeout: float = 10.0) -> None:
        self._wait("fakesmsc online", self._connected, time.monotonic() + timeout)

    def stop_smsc(self) -> None:
        """Disconnect the fake SMSC: sendsms then answers 202 "3: Queued for later delivery"."""
        proc = self._procs.pop("fakesmsc", None)
        if proc is not None:
            _terminate(proc, closing_stdin=True)

    def stop(self) -> None:
        """Stop everything: fakesmsc (EOF on stdin), then smsbox and bearerbox (SIGTERM)."""
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            proc = self._procs.pop(name, None)
            if proc is not None:
                _terminate(proc, closing_stdin=(name == "fakesmsc"))
        for f in self._files:
            f.close()
        self._files.clear()

    # -- the fake SMSC side -----------------------------------------------
    def inject_mo(self, sender: str, receiver: str, text: str) -> None:
        """Send an inbound (mobile originated) message through fakesmsc.

        Plain ASCII/GSM text goes as type "text"; anything else as "ucs2"
        (UTF-16BE, url-encoded). fakesmsc reads stdin with a 256-byte buffer, so
        keep a line under 255 bytes."""
        proc = self._procs.get("fakesmsc")
        if proc is None or proc.poll() is not None:
            raise RuntimeError("fakesmsc is not running")
        if text.isascii() and "\n" not in text:
            line = f"{sender} {receiver} text {text}\n"
        else:
            data = urllib.parse.quote(text.encode("utf-16-be"), safe="")
            line = f"{sender} {receiver} ucs2 {data}\n"
        raw = line.encode("utf-8")
        if len(raw) > 255:
            raise ValueError("fakesmsc reads at most 255 bytes per line")
        assert proc.stdin is not None
        proc.stdin.write(raw)
        proc.stdin.flush()
        # fakesmsc select()s on fd 0 and then fgets(): a second line already in
        # the pipe lands in stdio's buffer and waits for the next input. So wait
        # until fakesmsc logs that it passed this line on before writing another.
        self._mo_sent += 1
        marker = f"fakesmsc: sent message {self._mo_sent}\n"
        deadline = time.monotonic() + 5
        while marker not in self._outfile("fakesmsc").read_text("utf-8", errors="replace"):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("fakesmsc did not pass the inbound message on")
            time.sleep(0.02)

    def mt_messages(self) -> list[MT]:
        """Every message bearerbox has written to fakesmsc so far."""
        text = ""
        for gen in range(1, self._smsc_generation + 1):
            with contextlib.suppress(OSError):
                text += (self.dir / f"fakesmsc-{gen}.out").read_text("utf-8", errors="replace")
        out = []
        for line in text.splitlines():
            m = _MT_LINE.search(line)
            if m:
                out.append(MT(*m.groups()))
        return out

    def wait_for_mt(self, match: Callable[[MT], bool] = lambda m: True,
                    timeout: float = 10.0) -> MT:
        deadline = time.monotonic() + timeout
        while True:
            for m in self.mt_messages():
                if match(m):
                    return m
            if time.monotonic() > deadline:
                raise TimeoutError("no matching message reached fakesmsc")
            time.sleep(0.05)

    # -- convenience ------------------------------------------------------
    def sendsms(self, **params: str) -> tuple[int, str]:
        """GET /cgi-bin/sendsms with our credentials; returns (status, body)."""
        q = {"username": self.username, "password": self.password, **params}
        url = self.sendsms_url + "?" + urllib.parse.urlencode(q)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")


def _terminate(proc: subprocess.Popen, closing_stdin: bool = False, timeout: float = 10.0) -> None:
    if proc.poll() is None:
        if closing_stdin and proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # fakesmsc: EOF on stdin -> clean exit
        else:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # own session: only this box
            proc.wait(timeout=5)
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()


@contextlib.contextmanager
def kannel(workdir, **options) -> Iterator[Kannel]:
    """Start bearerbox + smsbox + fakesmsc under `workdir`; stop them on exit."""
    k = Kannel(Path(workdir), **options)
    k.start()
    try:
        yield k
    finally:
        k.stop()


@contextlib.asynccontextmanager
async def kannel_async(workdir, **options):
    k = Kannel(Path(workdir), **options)
    await asyncio.to_thread(k.start)
    try:
        yield k
    finally:
        await asyncio.to_thread(k.stop)


class CallbackRecorder:
    """A tiny threaded HTTP server that records every request and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []  # (method, path, query)
        self._cond = threading.Condition()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
                with recorder._cond:
                    recorder.requests.append((self.command, parts.path, query))
                    recorder._cond.notify_all()
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _handle

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, match: Callable[[str, dict], bool], timeout: float = 10.0):
        """Wait for a request whose (path, query) matches; returns (path, query)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _method, path, query in self.requests:
                    if match(path, query):
                        return path, query
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching callback request")
                self._cond.wait(left)
