"""Tests for smsleopard.py, in the order of its sections.

Time is a FakeClock the tests move; the provider is a ScriptedSender whose
failures the tests choose; worker tests drain the queue and then assert.
Nothing here sleeps to wait for luck, and nothing needs the network, except
the RabbitMQ tests, which run when SMSLEOPARD_TEST_AMQP_URL names a broker.
"""

import ast
import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import datetime
import fnmatch
import functools
import gc
import gzip
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import math
import os
import random
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import aiosmpplib
import multidict
import prometheus_client
import pytest
import pytest_asyncio
import yarl
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

import smsleopard as sl
from smsleopard import Config
from tools import bench, kannel, mock_provider

SEED_SQL = Path(Config().seed_path).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Harness: a controllable clock, a scriptable provider, an app under test.
# ---------------------------------------------------------------------------

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z
RECEIPT_SECRET = "whsec_" + base64.b64encode(b"receipts-secret-of-32-bytes-long").decode()

# Property tests try 30 examples each in the plain suite (it stays fast) and 500 in CI, which
# sets SMSLEOPARD_HYPOTHESIS_PROFILE=ci. Both are derandomized: a failure repeats.
settings.register_profile("quick", max_examples=30)
settings.register_profile("ci", max_examples=500)
settings.load_profile(os.environ.get("SMSLEOPARD_HYPOTHESIS_PROFILE", "quick"))
PROPERTIES = settings(derandomize=True, database=None, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=20), inner, max_size=5),
    max_leaves=20)
# Gateways' answers and callbacks: any JSON, with the keys the gateways use so that deep
# shapes (a recipient whose statusCode is a list) come up.
GATEWAY_KEYS = ("SMSMessageData", "Recipients", "Message", "statusCode", "status", "messageId",
                "messages", "groupName", "name", "description", "results", "object", "entry",
                "changes", "value", "statuses", "errors", "error", "code", "id", "from", "text",
                "body", "type", "sid", "message", "error_data", "biz_opaque_callback_data",
                "requestError", "serviceException", "recipient_id", "timestamp")
gateway_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 600) | st.text(max_size=4)
    | st.sampled_from(["whatsapp_business_account", "text", "DELIVERED", "delivered", "failed"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(GATEWAY_KEYS) | st.text(max_size=3), inner, max_size=4),
    max_leaves=15)


def loose(**fields):
    """A JSON object with some of these keys, each the shape given, that shape in a list, or
    any JSON at all."""
    return st.fixed_dictionaries({}, optional={
        k: v | st.lists(v, min_size=1, max_size=1) | gateway_json for k, v in fields.items()})


def one_or_two(shape):
    return st.lists(shape, min_size=1, max_size=2)


infobip_status = loose(groupName=st.sampled_from(["PENDING", "DELIVERED", "REJECTED"]),
                       name=gateway_json, description=gateway_json)
gateway_answers = st.one_of(
    gateway_json,
    loose(SMSMessageData=loose(Message=gateway_json, Recipients=one_or_two(loose(
        statusCode=st.sampled_from([100, 101, 406, 500]), messageId=gateway_json,
        status=gateway_json)))),
    loose(messages=one_or_two(loose(messageId=st.just("1"), status=infobip_status))),
    loose(sid=gateway_json, status=gateway_json, code=gateway_json, message=gateway_json),
    loose(messages=one_or_two(loose(id=gateway_json)),
          error=loose(code=st.sampled_from([131026, 130429, 131047]), message=gateway_json,
                      error_data=loose(details=gateway_json))))
gateway_posts = st.one_of(
    gateway_json,
    loose(results=one_or_two(loose(messageId=gateway_json, status=infobip_status,
                                   error=gateway_json, **{"from": gateway_json},
                                   text=gateway_json))),
    loose(object=st.just("whatsapp_business_account"), entry=one_or_two(loose(
        changes=one_or_two(loose(value=loose(
            statuses=one_or_two(loose(id=gateway_json, status=gateway_json, errors=gateway_json,
                                      biz_opaque_callback_data=gateway_json)),
            messages=one_or_two(loose(**{"from": gateway_json}, type=st.just("text"),
                                      text=loose(body=gateway_json), id=gateway_json)))))))))


WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"webhooks-secret-of-32-bytes-long").decode()


class FakeTimer:
    def __init__(self, when, callback):
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self):
        self.cancelled = True


class FakeClock(sl.Clock):
    """Time stands still until a test calls advance(); timers fire then, in order."""

    def __init__(self, start=T0):
        self.time = start
        self._timers = []
        self._sequence = itertools.count()

    def now(self):
        return self.time

    def call_at(self, when, callback):
        timer = FakeTimer(when, callback)
        if when <= self.time:  # like Clock: a time already past fires at once
            asyncio.get_running_loop().call_soon(lambda: timer.cancelled or callback())
        else:
            heapq.heappush(self._timers, (when, next(self._sequence), timer))
        return timer

    def advance(self, seconds):
        self.time += seconds
        while self._timers and self._timers[0][0] <= self.time:
            timer = heapq.heappop(self._timers)[2]
            if not timer.cancelled:
                timer.callback()


class ScriptedSender:
    """A provider that fails as told: `script[phone]` lists the errors to raise, one per
    attempt."""

    def __init__(self):
        self.script = {}
        self.ids = {}                  # phone -> the id the provider answers (else p-REFERENCE)
        self.sent = []                 # (channel, phone, text) the provider took
        self.references = []           # the reference of every attempt
        self.attempts = Counter()      # phone -> attempts
        self.gate = None               # an asyncio.Event every attempt waits for, when set
        self.holds = {}                # phone -> an asyncio.Event its attempts wait for
        self.latency = 0.0             # seconds each attempt takes (real time: a slow provider)
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._arrivals = asyncio.Condition()

    async def wait_for_in_flight(self, count):
        """Wait (on a condition, not a timer) until `count` attempts are waiting at the gate."""
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.in_flight >= count)

    async def wait_for_calls(self, count):
        """Wait until the provider has been called `count` times in all."""
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.calls >= count)

    async def wait_until_in_flight(self, count):
        """Wait until no more than `count` attempts are still at the provider."""
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.in_flight <= count)

    async def __call__(self, message):
        channel, phone, text = message.channel, message.to, message.text
        self.references.append(message.reference)
        self.attempts[phone] += 1
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        async with self._arrivals:
            self._arrivals.notify_all()
        try:
            if self.gate is not None:
                await self.gate.wait()
            if phone in self.holds:
                await self.holds[phone].wait()
            if self.latency:
                await asyncio.sleep(self.latency)
            errors = self.script.get(phone, [])
            if errors:
                raise errors.pop(0)
            self.sent.append((channel, phone, text))
            return self.ids.get(phone, f"p-{message.reference}")
        finally:
            self.in_flight -= 1
            async with self._arrivals:
                self._arrivals.notify_all()


def transient(n=1, text="provider timeout"):
    return [sl.TransientSendError(text) for _ in range(n)]


class FlakyQueue(sl.MemoryQueue):
    """An in-process queue that refuses jobs while `broken`, like a broker that went away; or,
    while `black_holed`, looks healthy but lets every publish time out."""

    def __init__(self, clock):
        super().__init__(clock)
        self.broken = False
        self.black_holed = False

    async def publish(self, jobs, delay=0.0):
        if self.broken or self.black_holed:
            raise sl.QueueUnavailable("the broker is gone")
        await super().publish(jobs, delay)

    def healthy(self):
        return not self.broken


@dataclass
class Harness:
    """An app under test, with the client and the helpers most tests need."""

    client: object
    app: object
    clock: FakeClock
    sender: ScriptedSender
    phones: list = field(default_factory=list)
    restarts: object = None  # async (**settings) -> Harness: a new app on the same database

    async def restart(self, **settings):
        """Stop this app and start another, with default or given settings, on the same
        database."""
        await self.client.close()
        after = await self.restarts(**settings)
        after.phones = self.phones
        return after

    @property
    def store(self):
        return self.app[sl.STORE]

    @property
    def dispatcher(self):
        return self.app[sl.DISPATCHER]

    @property
    def campaigns(self):
        return self.app[sl.CAMPAIGNS]

    @property
    def queue(self):
        return self.app[sl.QUEUE]

    async def sql(self, query, params=()):
        """Rows of a query, read as the service reads them."""
        return await self.store.db.fetch(query, params)

    async def execute(self, statement, params=()):
        """Change rows behind the service's back (a test arranging a situation)."""
        async with self.store.db.transaction() as tx:
            return await tx.execute(statement, params)

    async def request(self, method, path, body=None, *, raw=None, headers=None, expect=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            headers = {"Content-Type": "application/json", **(headers or {})}
        response = await self.client.request(method, path, data=data, headers=headers)
        payload = (await response.json() if response.content_type == "application/json"
                   else await response.text())
        if expect is not None:
            assert response.status == expect, payload
        return response.status, payload

    async def get(self, path, expect=200):
        return (await self.request("GET", path, expect=expect))[1]

    async def post(self, path, body=None, expect=None, **kwargs):
        return (await self.request("POST", path, body, expect=expect, **kwargs))[1]

    async def add_customers(self, count, **fields):
        start = len(self.phones)
        customers = [{"phone": f"+2547{start + i:08d}", "first_name": f"Name{start + i}", **fields}
                     for i in range(count)]
        created = await self.post("/customers", {"customers": customers}, expect=201)
        self.phones += [c["phone"] for c in created["customers"]]
        return [c["id"] for c in created["customers"]]

    async def add_campaign(self, template="Hi {first_name}!", channel="sms", **fields):
        body = {"name": "Campaign", "channel": channel, "base_template": template, **fields}
        return (await self.post("/campaigns", body, expect=201))["id"]

    async def launch(self, ids, template="Hi {first_name}!"):
        """Create a campaign and send it to customers `ids`; the campaign's id."""
        campaign_id = await self.add_campaign(template)
        await self.send(campaign_id, {"customer_ids": ids})
        return campaign_id

    async def send(self, campaign_id, body, expect=200, **kwargs):
        return await self.post(f"/campaigns/{campaign_id}/send", body, expect=expect, **kwargs)

    async def campaign(self, campaign_id):
        return await self.get(f"/campaigns/{campaign_id}")

    async def messages(self, campaign_id, **query):
        rows, cursor = [], None
        while True:
            params = "&".join([*(f"{k}={v}" for k, v in query.items()), "page_size=100",
                               *([f"cursor={cursor}"] if cursor else [])])
            page = await self.get(f"/campaigns/{campaign_id}/messages?{params}")
            rows += page["data"]
            cursor = page["pagination"]["next_cursor"]
            if cursor is None:
                return rows

    async def settle(self):
        """Let the background loops finish their passes and the dispatcher empty its ready
        queue."""
        config = self.app[sl.CONFIG]
        loops = [self.app[sl.SCHEDULER].idle] * config.schedules + [
            self.app[sl.HEALER].idle, self.campaigns.pace_changed.idle] * config.dispatches
        while True:
            for idle in loops:
                await idle.wait()
                assert not self.app[sl.CRASHED].is_set(), "a background task died (see the log)"
            if config.dispatches:
                await self.dispatcher.drain()
            if all(idle.is_set() for idle in loops) and not self.queue.ready():
                return

    async def run_until_done(self, campaign_id, step=61.0, limit=50):
        """Settle, and move the clock past retry delays until the campaign is finished."""
        for _ in range(limit):
            await self.settle()
            campaign = await self.campaign(campaign_id)
            if campaign["status"] in ("sent", "failed"):
                return campaign
            self.clock.advance(step)
        raise AssertionError(f"campaign {campaign_id} did not finish: {campaign}")


# Real processes: tests that start `python smsleopard.py` (killed with kill -9, stopped by
# SIGTERM, on a damaged or full disk, the README's walk-through, the benchmark's mock
# providers) or Chromium run with SMSLEOPARD_TEST_PROCESSES=1, as .ci/run sets it: they take
# twice as long as the in-process suite, which runs without them in seconds.
PROCESSES = os.environ.get("SMSLEOPARD_TEST_PROCESSES", "") not in ("", "0")
PROCESSES_OFF = "set SMSLEOPARD_TEST_PROCESSES=1 to run the tests that start real processes"
needs_processes = pytest.mark.skipif(not PROCESSES, reason=PROCESSES_OFF)


def start_process(argv, **options):
    """subprocess.Popen, for a test marked needs_processes (the plain suite starts none)."""
    assert PROCESSES, "a test that starts a real process is marked needs_processes"
    return subprocess.Popen(argv, **options)


# PostgreSQL: with SMSLEOPARD_TEST_PG_URL set (a server and a user that may create databases),
# every test built on make_harness runs twice, on SQLite and on a database of this run's own
# in PostgreSQL (emptied before each test, dropped at the end). Tests of SQLite's own
# behaviour (its files, its locks) are marked sqlite_only and run once.
PG_URL = os.environ.get("SMSLEOPARD_TEST_PG_URL", "")


def sqlite_only(test):
    """A test of SQLite's own behaviour (its files, its locks): it runs on SQLite alone."""
    test.sqlite_only = True
    return test


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        postgres = PG_URL and not getattr(metafunc.function, "sqlite_only", False)
        metafunc.parametrize("backend", ["sqlite", "postgres"] if postgres else ["sqlite"],
                             indirect=True)


def postgres_admin(statement):
    """Run one statement on the PostgreSQL server (CREATE or DROP DATABASE), on a thread of its
    own: the calling test's event loop may be running."""
    import asyncpg

    async def run():
        connection = await asyncpg.connect(PG_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result()


@contextlib.contextmanager
def own_postgres_database(name):
    """A database made for the caller and dropped after: its URL."""
    postgres_admin(f'CREATE DATABASE "{name}"')
    try:
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(PG_URL)._replace(path=f"/{name}"))
    finally:
        postgres_admin(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database(worker_id):
    """A database of this run's (and this xdist worker's) own, dropped at the end: its URL."""
    with own_postgres_database(f"smsleopard_test_{os.getpid()}_{worker_id}") as url:
        yield url


@pytest_asyncio.fixture
async def backend(request):
    """The database a test's apps use: ':memory:' SQLite, or an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return ":memory:"
    import asyncpg

    url = request.getfixturevalue("postgres_database")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await connection.close()
    return url


def test_config(**settings):
    return Config(**{"db": ":memory:", "seed": False, "failure_rate": 0.0, "run_scheduler": True,
                     **settings})


test_config.__test__ = False  # a helper, not a test


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def sender():
    return ScriptedSender()


class ServiceTestServer(TestServer):
    """aiohttp's test server, on the service's own Runner (its connection handler, its
    timeouts)."""

    async def _make_runner(self, **kwargs):
        return sl.Runner(self.app, **{**kwargs, "handler_cancellation": False})  # as in production


@pytest_asyncio.fixture
async def make_harness(aiohttp_client, clock, sender, backend):
    """Build an app with chosen settings; several per test share the clock and the sender.
    On PostgreSQL every app of the test uses its database (a file asked for is the same)."""

    async def make(queue=None, real_provider=False, port=None, **settings):
        if sl.is_postgres(backend) or "db" not in settings:
            settings["db"] = backend
        app = sl.create_app(test_config(**settings), clock=clock, rng=random.Random(7),
                            queue=queue, sender=None if real_provider else sender)
        restart = functools.partial(make, db=settings["db"])  # only the database carries over
        return Harness(await aiohttp_client(ServiceTestServer(app, port=port)), app, clock, sender,
                       restarts=restart)

    return make


@pytest_asyncio.fixture
async def h(make_harness):
    return await make_harness()


def stats(**counts):
    """A campaign's stats: the counts given, zero for the rest."""
    return {name: counts.get(name, 0) for name in sl.STAT_NAMES}


def assert_documented_error(status, payload):
    """An error answer in the shape every error has, with a code the service documents for
    that status."""
    assert_error(payload, payload["error"]["code"])
    assert sl.ERROR_CODES[payload["error"]["code"]][0] == status, (status, payload)


def assert_error(payload, code):
    assert set(payload) == {"error"}
    assert set(payload["error"]) == {"code", "message"}
    assert payload["error"]["code"] == code
    assert isinstance(payload["error"]["message"], str) and payload["error"]["message"]


# ---------------------------------------------------------------------------
# The file itself: sections read top to bottom
# ---------------------------------------------------------------------------

SERVICE_SOURCE = Path(sl.__file__).read_text(encoding="utf-8")
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, *COMPREHENSIONS)


def section_banners(source):
    """(first line, title) of each section: '# TITLE' under a line of dashes."""
    lines = source.splitlines()
    return [(number + 2, lines[number + 1][2:]) for number, line in enumerate(lines[:-1])
            if line.startswith("# ---") and re.fullmatch(r"# [A-Z][A-Z ]+", lines[number + 1])]


def bound_in(scope):
    """The names a function, lambda or comprehension binds: its own locals."""
    if isinstance(scope, COMPREHENSIONS):
        body, names = [g.target for g in scope.generators], set()
    else:
        body = scope.body if isinstance(scope.body, list) else [scope.body]
        arguments = scope.args
        names = {a.arg for a in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                                 arguments.vararg, arguments.kwarg) if a}
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            stack += node.decorator_list
            continue
        elif isinstance(node, SCOPES):
            continue
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        stack += ast.iter_child_nodes(node)
    return names


def global_reads(node, local=frozenset()):
    """(name, line) of each name `node` reads from the module: not one of its scopes' locals."""
    if isinstance(node, SCOPES):
        outside = []  # what a def evaluates where it stands: decorators, defaults, annotations
        if not isinstance(node, COMPREHENSIONS):
            arguments = node.args
            outside = [*arguments.defaults, *filter(None, arguments.kw_defaults)]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            outside += [*node.decorator_list, *filter(None, [node.returns]), *(
                a.annotation for a in (*arguments.args, *arguments.kwonlyargs) if a.annotation)]
        for part in outside:
            yield from global_reads(part, local)
        inner = local | bound_in(node)
        if isinstance(node, COMPREHENSIONS):
            body = list(ast.iter_child_nodes(node))
        else:
            body = node.body if isinstance(node.body, list) else [node.body]
        for child in body:
            yield from global_reads(child, inner)
        return
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local:
        yield node.id, node.lineno
    for child in ast.iter_child_nodes(node):
        yield from global_reads(child, local)


def reads_from_below(source):
    """'line: SECTION reads NAME from LATER' for each use of what a later section defines."""
    banners = section_banners(source)
    order = ["(preamble)"] + [title for _, title in banners]

    def section(line):
        return max([(start, title) for start, title in banners if start <= line],
                   default=(0, "(preamble)"))[1]

    tree = ast.parse(source)
    defined = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.setdefault(node.name, section(node.lineno))
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    defined.setdefault(target.id, section(node.lineno))
    return [f"{line}: {section(node.lineno)} reads {name} from {defined[name]}"
            for node in tree.body for name, line in global_reads(node)
            if name in defined and order.index(defined[name]) > order.index(section(node.lineno))]


class TestTheFile:
    """SPEC §21: the service reads top to bottom, and this file follows its sections."""

    def test_each_section_uses_only_what_stands_above_it(self):
        assert section_banners(SERVICE_SOURCE)  # the check below has sections to compare
        assert reads_from_below(SERVICE_SOURCE) == []

    def test_the_check_finds_a_use_of_what_stands_below(self):
        source = "\n".join([
            "# ---", "# FIRST", "# ---", "def early(x):", "    return [late(y) for y in x]", "",
            "def fine(late):", "    return late", "# ---", "# SECOND", "# ---",
            "def late(y):", "    return early(y)"])
        assert reads_from_below(source) == ["5: FIRST reads late from SECOND"]

    def test_the_tests_follow_the_service_sections_under_the_same_banners(self):
        service = [title for _, title in section_banners(SERVICE_SOURCE)]
        tests = [title for _, title in section_banners(Path(__file__).read_text(encoding="utf-8"))]
        assert tests == service


# ---------------------------------------------------------------------------
# ERRORS
# ---------------------------------------------------------------------------


# -- HTTP: every error code, health, API key, idempotency ---------------------

class TestErrors:
    pytestmark = pytest.mark.asyncio

    async def test_unknown_route_is_404_json(self, h):
        status, payload = await h.request("GET", "/campaigns/1/nothing")
        assert status == 404
        assert_error(payload, "NOT_FOUND")

    async def test_wrong_method_is_405_json_with_allow(self, h):
        response = await h.client.delete("/campaigns")
        assert response.status == 405 and "POST" in response.headers["Allow"]
        assert_error(await response.json(), "METHOD_NOT_ALLOWED")
        await h.post("/campaigns", {"name": "n", "channel": "sms", "base_template": "x"},
                     headers={"Idempotency-Key": "k"}, expect=201)
        status, _payload = await h.request("PATCH", "/campaigns", {},
                                           headers={"Idempotency-Key": "k"})
        assert status == 405  # a key is no business of a route that does not exist

    @pytest.mark.parametrize("raw", [b"", b"   ", b"{", b"{'a': 1}", b"\xff\xfe{}", b"[1,]",
                                     b"NaN", b"Infinity", b"[" * 50_000 + b"]" * 50_000,
                                     b'\xef\xbb\xbf{"name": "bom"}', b'{"a": 1} {"b": 2}'])
    async def test_bodies_that_are_not_json_are_400(self, h, raw):
        status, payload = await h.request("POST", "/campaigns", raw=raw)
        assert status == 400
        assert_error(payload, "INVALID_JSON")

    @pytest.mark.parametrize("raw, words", [
        (b'{"customer_id": 1e400}',
         "customer_id must be between 1 and 9223372036854775807, not 1e400"),
        (b'{"customer_id": -1e999}', "customer_id must be between"),
        (b'{"customer_id": 123456789012345678901234}', "customer_id must be between"),
        (b'{"customer_id": ' + b"9" * 5000 + b"}", "customer_id must be between"),
        (b'{"customer_id": 1, "override_template": 1e400}', "override_template must be a string"),
    ])
    async def test_numbers_too_large_for_any_field_are_validation_errors(self, h, raw, words):
        _customer, = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        payload = await h.post(f"/campaigns/{campaign_id}/personalized-preview", raw=raw,
                               expect=400)
        assert_error(payload, "VALIDATION_ERROR")
        assert words in payload["error"]["message"]

    @pytest.mark.parametrize("content_type", [
        "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "application/xml"])
    async def test_a_body_that_is_not_sent_as_json_is_415(self, h, content_type):
        status, payload = await h.request("POST", "/campaigns", {"name": "n", "channel": "sms",
                                                                 "base_template": "x"},
                                          headers={"Content-Type": content_type})
        assert status == 415
        assert_error(payload, "UNSUPPORTED_MEDIA_TYPE")
        assert "application/json" in payload["error"]["message"]
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 0
        response = await h.client.post(
            "/campaigns", data=b'{"name": "n", "channel": "sms", "base_template": "x"}',
            headers={"Content-Type": "application/json; charset=utf-8"})
        assert response.status == 201

    async def test_oversized_body_is_413(self, h):
        status, payload = await h.request(
            "POST", "/customers", raw=b'{"phone": "' + b"1" * (8 * 1024 * 1024) + b'"}')
        assert status == 413
        assert_error(payload, "PAYLOAD_TOO_LARGE")
        assert (await h.get("/health"))["status"] == "ok"

    async def test_a_body_just_under_the_limit_is_read(self, h):
        body = json.dumps({"customer_ids": list(range(1, 100_001)),
                           "pad": "x" * (8 * 1024 * 1024 - 700_000)})
        assert len(body) < 8 * 1024 * 1024
        campaign_id = await h.add_campaign()
        payload = await h.post(f"/campaigns/{campaign_id}/send", raw=body, expect=400)
        assert "unknown field 'pad'" in payload["error"]["message"]

    async def test_unexpected_errors_are_500_json_without_traceback(self, h, monkeypatch, caplog):
        async def explode(*args):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(h.store.campaigns, "get", explode)
        status, payload = await h.request("GET", "/campaigns/1")
        assert status == 500
        assert_error(payload, "INTERNAL_ERROR")
        assert "disk on fire" not in json.dumps(payload) and "Traceback" not in json.dumps(payload)
        # but it is logged, under the request id the answer quotes
        assert "disk on fire" in caplog.text
        request_id = payload["error"]["message"].rsplit(" ", 1)[1]
        assert f"(request {request_id})" in caplog.text

    async def test_every_answer_carries_a_request_id(self, h):
        response = await h.client.get("/campaigns", headers={"X-Request-Id": "trace-42"})
        assert response.headers["X-Request-Id"] == "trace-42"
        first = await h.client.get("/nowhere", headers={"X-Request-Id": "bad id with spaces"})
        second = await h.client.get("/nowhere")
        assert first.status == second.status == 404
        ids = {first.headers["X-Request-Id"], second.headers["X-Request-Id"]}
        # fresh ids, not the caller's bad one
        assert len(ids) == 2 and all(len(i) == 16 for i in ids)

    async def test_a_down_queue_is_503_and_the_messages_wait_in_the_database(
            self, make_harness, clock):
        h = await make_harness(queue=FlakyQueue(clock))
        ids = await h.add_customers(2)
        campaign_id = await h.add_campaign()
        h.queue.broken = True
        payload = await h.send(campaign_id, {"customer_ids": ids}, expect=503)
        assert_error(payload, "QUEUE_UNAVAILABLE")
        assert [m["status"] for m in await h.messages(campaign_id)] == ["pending", "pending"]
        h.queue.broken = False
        h.clock.advance(sl.HEAL_INTERVAL)  # the healer publishes them once the queue is back
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=2, sent=2)

    async def test_a_publish_lost_without_a_reconnect_is_healed_and_health_says_so(
            self, make_harness, clock):
        h = await make_harness(queue=FlakyQueue(clock))
        ids = await h.add_customers(3)
        campaign_id = await h.add_campaign()
        h.queue.black_holed = True  # the connection looks fine; the publish times out
        assert_error(await h.send(campaign_id, {"customer_ids": ids}, expect=503),
                     "QUEUE_UNAVAILABLE")
        h.queue.black_holed = False
        health = await h.get("/health", expect=503)  # the queue answers, but work waits to go
        assert (health["queue"], health["db"]) == ("down", "ok")
        assert (await h.send(campaign_id, {"customer_ids": ids}))["messages_queued"] == 0
        h.clock.advance(sl.HEAL_INTERVAL)
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sent=3)
        assert (await h.get("/health"))["status"] == "ok"

    async def test_a_sweep_finds_messages_that_have_no_job_anywhere(self, make_harness, caplog):
        h = await make_harness()
        ids = await h.add_customers(2)
        campaign_id = await h.launch(ids)
        await h.settle()
        await h.execute("UPDATE outbound_messages SET status = 'pending' WHERE campaign_id = ?",
                        (campaign_id,))
        await h.execute("UPDATE campaigns SET status = 'sending', sent_count = 0 WHERE id = ?",
                        (campaign_id,))
        # a job lost by a queue that said yes
        h.clock.advance(sl.STRANDED_AFTER + sl.HEAL_INTERVAL)
        await h.settle()
        h.clock.advance(sl.HEAL_INTERVAL)
        await h.settle()
        assert "due messages have no job anywhere" in caplog.text
        assert (await h.campaign(campaign_id))["stats"] == stats(total=2, sent=2)
        assert sorted(h.sender.attempts.values()) == [2, 2]

    async def test_a_sweep_leaves_a_paced_campaigns_backlog_to_the_pacer(self, make_harness,
                                                                          caplog):
        h = await make_harness()
        ids = await h.add_customers(100)
        campaign_id = await h.add_campaign(rate_limit=1)
        h.clock.advance(0.5)  # the pacer's looks fall between the healer's
        await h.send(campaign_id, {"customer_ids": ids})
        await tick(h, sl.STRANDED_AFTER + 2 * sl.HEAL_INTERVAL, step=0.25)
        assert "no job anywhere" not in caplog.text
        sent = (await h.campaign(campaign_id))["stats"]["sent"]
        assert 55 <= sent <= 72 and set(h.sender.attempts.values()) == {1}

    @sqlite_only  # it holds a lock on the SQLite file
    async def test_every_error_code_is_answered_with_its_status_and_none_is_missing(
            self, make_harness, clock, monkeypatch, tmp_path):
        h = await make_harness(queue=FlakyQueue(clock), db=str(tmp_path / "e.db"),
                               busy_timeout_ms=10)
        seen = {}

        async def expect(method, path, body=None, **kwargs):
            status, payload = await h.request(method, path, body, **kwargs)
            seen[payload["error"]["code"]] = status

        customer, = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        await expect("POST", "/campaigns", {})
        await expect("POST", "/campaigns", raw=b"{")
        await expect("POST", "/campaigns", {"name": "n", "channel": "sms", "base_template": "{x}"})
        await expect("POST", f"/campaigns/{campaign_id}/send", {"customer_ids": [999]})
        await expect("GET", "/campaigns/999")
        await expect("GET", "/customers/999")
        await expect("GET", "/nowhere")
        await expect("PUT", "/campaigns")
        await expect("POST", "/customers", {"phone": h.phones[0]})
        await expect("POST", f"/campaigns/{campaign_id}/pause")
        await expect("POST", "/customers", raw=b"x" * (9 * 1024 * 1024))
        await expect("POST", "/customers", raw=b"phone,shoe\r\n",
                     headers={"Content-Type": "text/csv"})
        await expect("POST", "/campaigns", raw=b"{}", headers={"Content-Type": "text/plain"})
        await h.send(campaign_id, {"customer_ids": [customer]}, headers={"Idempotency-Key": "k"})
        await expect("POST", f"/campaigns/{campaign_id}/send", {"all_customers": True},
                     headers={"Idempotency-Key": "k"})
        cancelled = await h.add_campaign()
        await act(h, cancelled, "cancel")
        await expect("POST", f"/campaigns/{cancelled}/send", {"customer_ids": [customer]})
        h.queue.broken = True
        await expect("POST", f"/campaigns/{await h.add_campaign()}/send",
                     {"customer_ids": [customer]})
        monkeypatch.setattr(sl, "BODY_TIMEOUT", 0.05)
        for raw in (b"POST /campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n{",
                    b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n"):
            status, body = await raw_http(h, raw)
            seen[json.loads(body)["error"]["code"]] = status

        async def explode(*args):
            raise RuntimeError("a bug")

        with contextlib.closing(sqlite3.connect(tmp_path / "e.db", isolation_level=None)) as other:
            other.execute("BEGIN EXCLUSIVE")  # another program holds the database
            await expect("POST", "/campaigns",
                         {"name": "n", "channel": "sms", "base_template": "x"})
            other.execute("ROLLBACK")
        monkeypatch.setattr(h.store.campaigns, "get", explode)
        await expect("GET", "/campaigns/1")
        keyed = await make_harness(api_key="k")
        status, payload = await keyed.request("GET", "/campaigns")
        seen[payload["error"]["code"]] = status
        somewhere = f"127.0.0.1:{keyed.client.server.port}"  # anything listening: it is not called
        twilio = await make_harness(provider_url=f"twilio+http://AC1:tok@{somewhere}?from=1",
                                    real_provider=True)
        status, payload = await twilio.request(
            "POST", "/providers/twilio/receipts", raw=b"MessageSid=SM1",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        seen[payload["error"]["code"]] = status
        assert seen == {code: status for code, (status, _) in sl.ERROR_CODES.items()}


async def raw_http(h, request):
    """Send raw bytes to the service and read the answer: (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", h.client.server.port)
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))
    body = await reader.readexactly(length)
    writer.close()
    return int(head.split()[1]), body


class TestMalformedRequests:
    pytestmark = pytest.mark.asyncio

    async def test_a_bad_header_byte_is_answered_in_json_with_one_log_line(self, h, caplog):
        status, body = await raw_http(
            h, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n")
        assert status == 400
        assert_error(json.loads(body), "MALFORMED_REQUEST")
        lines = [r for r in caplog.records if r.name == "smsleopard"]
        assert [r.getMessage() for r in lines] == [
            "malformed request from 127.0.0.1: Invalid header value char:"]
        assert all(r.exc_info is None for r in caplog.records)

    async def test_a_client_that_goes_away_mid_body_is_not_an_error(self, h, caplog):
        _reader, writer = await asyncio.open_connection("127.0.0.1", h.client.server.port)
        writer.write(b"POST /campaigns HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{")
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        # served after the other connection's end
        assert (await h.get("/health"))["status"] == "ok"
        assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 0

    @pytest.mark.parametrize("sent", [b"", b"GET /heal"], ids=["nothing", "half a request line"])
    async def test_a_connection_that_sends_no_whole_request_is_closed(
            self, make_harness, monkeypatch, sent):
        monkeypatch.setattr(sl, "IDLE_TIMEOUT", 0.2)
        h = await make_harness()
        reader, writer = await asyncio.open_connection("127.0.0.1", h.client.server.port)
        writer.write(sent)
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed by the service
        writer.close()

    @pytest.mark.parametrize("path, content_type, code", [
        ("/campaigns", "application/json", "MALFORMED_REQUEST"),
        ("/customers", "text/csv", "MALFORMED_REQUEST"),
        ("/providers/receipts", "application/json", "NOT_FOUND")])  # answered before its body
    @pytest.mark.parametrize("encoding", ["deflate", "gzip"])
    async def test_a_body_that_does_not_decompress_is_400_with_no_traceback(
            self, h, caplog, path, content_type, code, encoding):
        response = await h.client.post(path, data=b"garbage", headers={
            "Content-Type": content_type, "Content-Encoding": encoding})
        assert_error(await response.json(), code)
        assert response.status == (400 if code == "MALFORMED_REQUEST" else 404)
        assert response.headers["Connection"] == "close"  # nor can the next request be read
        assert "Traceback" not in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 0

    async def test_a_body_that_trickles_in_too_slowly_is_408(self, h, monkeypatch):
        monkeypatch.setattr(sl, "BODY_TIMEOUT", 0.05)
        status, body = await raw_http(
            h, b"POST /customers HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"phone\"")
        assert status == 408, body
        assert_error(json.loads(body), "REQUEST_TIMEOUT")


class TestHealth:
    pytestmark = pytest.mark.asyncio

    async def test_healthy(self, h):
        assert await h.get("/health") == {"status": "ok", "db": "ok", "queue": "ok",
                                          "queue_depth": 0}

    async def test_queue_depth_counts_waiting_jobs(self, make_harness):
        h = await make_harness(run_workers=False, batch_size=2)
        ids = await h.add_customers(5)
        await h.send(await h.add_campaign(), {"customer_ids": ids})
        assert (await h.get("/health"))["queue_depth"] == 3

    async def test_a_down_queue_or_database_is_503(self, h, monkeypatch):
        monkeypatch.setattr(h.app[sl.QUEUE], "healthy", lambda: False)
        assert await h.get("/health", expect=503) == {
            "status": "down", "db": "ok", "queue": "down", "queue_depth": None}

        async def no_database():
            return False

        monkeypatch.setattr(h.store, "ping", no_database)
        assert (await h.get("/health", expect=503))["db"] == "down"


class TestApiKey:
    pytestmark = pytest.mark.asyncio

    @pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", "bearer s3cret",
                                        "Basic czNjcmV0", "Bearer s3cre", "Bearer s3cret\u00e9"])
    async def test_every_endpoint_but_health_needs_the_key(self, make_harness, header):
        h = await make_harness(api_key="s3cret")
        headers = ({} if header is None
                   else {"Authorization": header.encode("utf-8").decode("latin-1")})
        for method, path in [("GET", "/campaigns"), ("POST", "/campaigns"),
                             ("GET", "/customers/1"), ("POST", "/campaigns/1/send"),
                             ("GET", "/openapi.json"), ("GET", "/nowhere")]:
            status, payload = await h.request(method, path, {}, headers=headers)
            assert status == 401, (method, path)
            assert_error(payload, "UNAUTHORIZED")
        assert (await h.request("GET", "/health", headers=headers))[0] == 200

    async def test_the_right_key_opens_everything(self, make_harness):
        h = await make_harness(api_key="s3cret")
        headers = {"Authorization": "Bearer s3cret"}
        status, _ = await h.request("POST", "/customers", {"phone": "+254712345678"},
                                    headers=headers)
        assert status == 201
        assert (await h.request("GET", "/customers", headers=headers))[0] == 200
        assert (await h.request("GET", "/nowhere", headers=headers))[0] == 404

    async def test_unauthorized_answers_say_how_to_authenticate(self, make_harness):
        h = await make_harness(api_key="s3cret")
        response = await h.client.get("/campaigns")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


class TestIdempotency:
    pytestmark = pytest.mark.asyncio

    async def test_a_repeated_key_returns_the_first_answer(self, h):
        ids = await h.add_customers(3)
        campaign_id = await h.add_campaign()
        key = {"Idempotency-Key": "order-42"}
        first = await h.send(campaign_id, {"customer_ids": ids[:2]}, headers=key)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "sent"
        # even after it finished
        again = await h.send(campaign_id, {"customer_ids": ids[:2]}, headers=key)
        assert again == first == {"campaign_id": campaign_id, "messages_queued": 2,
                                  "duplicates_skipped": 0, "suppressed": 0, "status": "sending"}
        assert len(h.sender.sent) == 2

    async def test_the_same_key_with_another_body_is_409(self, h):
        ids = await h.add_customers(3)
        campaign_id = await h.add_campaign()
        await h.send(campaign_id, {"customer_ids": ids[:2]}, headers={"Idempotency-Key": "k1"})
        payload = await h.send(campaign_id, {"customer_ids": ids},
                               headers={"Idempotency-Key": "k1"}, expect=409)
        assert_error(payload, "IDEMPOTENCY_KEY_REUSED")
        other = await h.add_campaign()
        payload = await h.send(other, {"customer_ids": ids[:2]},
                               headers={"Idempotency-Key": "k1"}, expect=409)
        assert_error(payload, "IDEMPOTENCY_KEY_REUSED")
        assert (await h.campaign(other))["stats"]["total"] == 0

    async def test_key_order_and_spacing_of_the_body_do_not_matter(self, h):
        ids = await h.add_customers(2)
        campaign_id = await h.add_campaign()
        key = {"Idempotency-Key": "k2"}
        first = await h.send(campaign_id, {"customer_ids": ids}, headers=key)
        raw = json.dumps({"customer_ids": ids}, indent=4)
        assert (await h.post(f"/campaigns/{campaign_id}/send", raw=raw, headers=key, expect=200)
                == first)

    async def test_failed_requests_do_not_burn_the_key(self, h):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        key = {"Idempotency-Key": "k3"}
        await h.send(campaign_id, {"customer_ids": [ids[0], 999]}, headers=key, expect=400)
        assert (await h.send(campaign_id, {"customer_ids": ids},
                             headers=key))["messages_queued"] == 1

    async def test_keys_survive_a_restart(self, make_harness, tmp_path):
        db = str(tmp_path / "k.db")
        before = await make_harness(db=db)
        ids = await before.add_customers(2)
        campaign_id = await before.add_campaign()
        first = await before.send(campaign_id, {"customer_ids": ids},
                                  headers={"Idempotency-Key": "k4"})
        after = await before.restart()
        assert await after.send(campaign_id, {"customer_ids": ids},
                                headers={"Idempotency-Key": "k4"}) == first

    @pytest.mark.parametrize("key", ["", "has space", "x" * 256, "ключ"])
    async def test_malformed_keys_are_400(self, h, key):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        payload = await h.send(
            campaign_id, {"customer_ids": ids},
            headers={"Idempotency-Key": key.encode().decode("latin-1")}, expect=400)
        assert "Idempotency-Key" in payload["error"]["message"]


# ---------------------------------------------------------------------------
# CONSENT
# ---------------------------------------------------------------------------


# -- HTTP: customers — consent, quiet hours, caps, CSV import, erasure --------

def at(text):
    """Epoch seconds of an RFC 3339 time."""
    return sl.parse_timestamp(text)


async def post_csv(h, text, expect=201, query="", raw=None):
    return await h.post(f"/customers{query}", raw=raw if raw is not None else text.encode(),
                        headers={"Content-Type": "text/csv"}, expect=expect)


async def post_inbound(h, body, expect=200, **signing):
    raw = json.dumps(body).encode()
    return await h.post("/providers/inbound", raw=raw, headers=signed(raw, **signing),
                        expect=expect)


class TestCustomerFields:
    pytestmark = pytest.mark.asyncio

    async def test_timezone_defaults_to_the_setting_and_is_checked(self, make_harness):
        h = await make_harness(default_timezone="Africa/Nairobi")
        created = await h.post("/customers", {"phone": "+254712345678"}, expect=201)
        assert created["timezone"] == "Africa/Nairobi" and created["opted_out_at"] is None
        other = await h.post("/customers",
                             {"phone": "+14155550123", "timezone": "America/Los_Angeles"},
                             expect=201)
        assert other["timezone"] == "America/Los_Angeles"
        for bad in ("Mars/Olympus_Mons", "EST5", "", "africa/nairobi ", "Nairobi", 3):
            payload = await h.post("/customers", {"phone": "+447900000001", "timezone": bad},
                                   expect=400)
            assert_error(payload, "VALIDATION_ERROR")
        assert (await h.get("/customers"))["pagination"]["total_count"] == 2

    async def test_a_bad_default_timezone_is_refused(self):
        with pytest.raises(sl.ConfigError, match="--default-timezone"):
            sl.load_config(["--default-timezone", "Nairobi"], {})

    async def test_patch_changes_the_given_fields_and_keeps_the_phone_unique(self, h):
        first, second = await h.add_customers(2, location="Nairobi")
        changed = await h.request(
            "PATCH", f"/customers/{first}",
            {"first_name": "Wanjiku", "timezone": "Europe/London", "last_name": None}, expect=200)
        assert changed[1] == {**changed[1], "first_name": "Wanjiku", "timezone": "Europe/London",
                              "last_name": None, "location": "Nairobi", "phone": h.phones[0]}
        assert await h.get(f"/customers/{first}") == changed[1]
        status, payload = await h.request("PATCH", f"/customers/{first}", {"phone": h.phones[1]})
        assert status == 409 and payload["error"]["code"] == "CUSTOMER_EXISTS"
        moved = await h.request("PATCH", f"/customers/{second}", {"phone": "+447900000002"},
                                expect=200)
        assert moved[1]["phone"] == "+447900000002"

    @pytest.mark.parametrize("body, words", [
        ({}, "at least one field"), ({"phone": None}, "phone"), ({"phone": "0712"}, "E.164"),
        ({"timezone": "Nowhere/City"}, "IANA"), ({"opted_out_at": None}, "read-only"),
        ({"id": 5}, "read-only"), ({"nickname": "x"}, "nickname"), ([], "object"),
    ])
    async def test_a_bad_patch_is_400_and_changes_nothing(self, h, body, words):
        customer, = await h.add_customers(1)
        before = await h.get(f"/customers/{customer}")
        status, payload = await h.request("PATCH", f"/customers/{customer}", body)
        assert status == 400 and words in payload["error"]["message"], payload
        assert await h.get(f"/customers/{customer}") == before

    async def test_unknown_customers_are_404(self, h):
        for method, path, body in (("PATCH", "/customers/9", {"first_name": "x"}),
                                   ("DELETE", "/customers/9", None),
                                   ("POST", "/customers/9/opt-out", None),
                                   ("POST", "/customers/9/opt-in", None)):
            status, payload = await h.request(method, path, body)
            assert status == 404 and payload["error"]["code"] == "CUSTOMER_NOT_FOUND", (
                method, path)

    async def test_opt_out_and_back_in(self, h):
        customer, = await h.add_customers(1)
        out = await h.post(f"/customers/{customer}/opt-out", expect=200)
        assert out["opted_out_at"] == sl.utc_iso(T0)
        h.clock.advance(60)
        again = await h.post(f"/customers/{customer}/opt-out", expect=200)
        assert again["opted_out_at"] == sl.utc_iso(T0)  # when they first said so
        back = await h.post(f"/customers/{customer}/opt-in", expect=200)
        assert back["opted_out_at"] is None and await h.get(f"/customers/{customer}") == back


class TestInbound:
    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def h(self, make_harness):
        h = await make_harness(receipt_secret=RECEIPT_SECRET)
        await h.add_customers(1)
        return h

    @pytest.mark.parametrize("text, action", [
        ("STOP", "opted_out"), ("stop", "opted_out"), ("  Stop!  ", "opted_out"),
        ("STOPALL", "opted_out"), ("unsubscribe.", "opted_out"), ("Cancel", "opted_out"),
        ("END", "opted_out"), ("quit", "opted_out"), ("\"STOP\"", "opted_out"),
        ("START", "opted_in"), ("unstop", "opted_in"), ("Yes!", "opted_in"),
        ("please stop", "none"), ("STOP IT", "none"), ("STOPP", "none"), ("", "none"),
        ("hello", "none"), ("NO", "none"), ("S T O P", "none"),
    ])
    async def test_keywords(self, h, text, action):
        customer_id = (await h.get("/customers"))["data"][0]["id"]
        if action == "opted_in":
            await h.post(f"/customers/{customer_id}/opt-out", expect=200)
        answer = await post_inbound(h, {"from": h.phones[0], "text": text})
        assert answer == {"action": action}
        opted_out_at = (await h.get(f"/customers/{customer_id}"))["opted_out_at"]
        assert (opted_out_at is not None) == (action == "opted_out")

    async def test_an_unknown_sender_changes_nothing(self, h):
        assert (await post_inbound(h, {"from": "+447900000999", "text": "STOP"})
                == {"action": "none"})

    async def test_it_must_be_signed_like_receipts(self, h):
        raw = json.dumps({"from": h.phones[0], "text": "STOP"}).encode()
        for headers in (signed(raw, secret=WEBHOOK_SECRET), signed(raw, at=T0 - 301),
                        {"Content-Type": "application/json"}, signed(raw + b" ")):
            payload = await h.post("/providers/inbound", raw=raw, headers=headers, expect=401)
            assert payload["error"]["code"] == "UNAUTHORIZED"
        assert (await h.get("/customers"))["data"][0]["opted_out_at"] is None

    @pytest.mark.parametrize("body", [{"from": "0712", "text": "STOP"}, {"from": "+447900000001"},
                                      {"from": "+447900000001", "text": 5}, {"text": "STOP"}, [],
                                      {"from": "+447900000001", "text": "STOP", "to": "x"}])
    async def test_bad_bodies_are_400(self, h, body):
        assert_error(await post_inbound(h, body, expect=400), "VALIDATION_ERROR")

    async def test_off_without_a_receipt_secret(self, make_harness):
        h = await make_harness()
        raw = json.dumps({"from": "+447900000001", "text": "STOP"}).encode()
        assert_error(await h.post("/providers/inbound", raw=raw, headers=signed(raw), expect=404),
                     "NOT_FOUND")


class TestSuppression:
    pytestmark = pytest.mark.asyncio

    async def test_a_send_suppresses_opted_out_customers(self, h):
        ids = await h.add_customers(3)
        await h.post(f"/customers/{ids[1]}/opt-out", expect=200)
        campaign_id = await h.add_campaign()
        result = await h.send(campaign_id, {"all_customers": True})
        assert (result["messages_queued"], result["suppressed"]) == (2, 1)  # 3 messages in all
        await h.settle()
        campaign = await h.campaign(campaign_id)
        assert (campaign["status"] == "sent"
                and campaign["stats"] == stats(total=3, sent=2, suppressed=1))
        suppressed, = await h.messages(campaign_id, status="suppressed")
        assert (suppressed["customer_id"], suppressed["last_error"]) == (ids[1], "opted out")
        assert h.phones[1] not in {phone for _, phone, _ in h.sender.sent} and h.sender.calls == 2

    async def test_a_campaign_whose_audience_all_opted_out_is_finished(self, h):
        ids = await h.add_customers(2)
        for customer in ids:
            await h.post(f"/customers/{customer}/opt-out", expect=200)
        campaign_id = await h.add_campaign()
        assert (await h.send(campaign_id, {"customer_ids": ids}))["suppressed"] == 2
        await h.settle()
        campaign = await h.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]) == ("sent", stats(total=2, suppressed=2))
        assert h.sender.calls == 0

    async def test_opting_out_after_the_send_suppresses_at_claim_time(self, h):
        ids = await h.add_customers(3)
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 600))
        assert (await h.send(campaign_id, {"all_customers": True}))["suppressed"] == 0
        await post_inbound_or_opt_out(h, ids[0])
        h.clock.advance(601)
        await h.settle()
        campaign = await h.campaign(campaign_id)
        assert (campaign["stats"] == stats(total=3, sent=2, suppressed=1)
                and campaign["status"] == "sent")
        assert h.sender.attempts[h.phones[0]] == 0
        assert ([m["last_error"] for m in await h.messages(campaign_id, status="suppressed")]
                == ["opted out"])

    async def test_frequency_cap_over_a_rolling_day(self, make_harness):
        h = await make_harness(max_per_customer_per_day=2)
        ids = await h.add_customers(2)
        for _ in range(2):
            await h.launch(ids[:1])
            await h.settle()
            h.clock.advance(3600)
        third = await h.launch(ids)
        await h.settle()
        assert (await h.campaign(third))["stats"] == stats(total=2, sent=1, suppressed=1)
        capped, = await h.messages(third, status="suppressed")
        assert (capped["customer_id"], capped["last_error"]) == (ids[0], "frequency cap")
        h.clock.advance(22 * 3600 + 1)  # the first of the two is now more than 24 hours old
        fourth = await h.launch(ids[:1])
        await h.settle()
        assert (await h.campaign(fourth))["stats"] == stats(total=1, sent=1)
        assert h.sender.attempts[h.phones[0]] == 3

    async def test_the_cap_counts_messages_of_one_batch(self, make_harness):
        h = await make_harness(max_per_customer_per_day=1)
        ids = await h.add_customers(1)
        first, second = await h.add_campaign(), await h.add_campaign()
        await h.send(first, {"customer_ids": ids})
        await h.send(second, {"customer_ids": ids})
        await h.settle()
        counts = [(await h.campaign(c))["stats"] for c in (first, second)]
        assert (sorted(s["sent"] for s in counts) == [0, 1]
                and sorted(s["suppressed"] for s in counts) == [0, 1])
        assert h.sender.calls == 1


async def post_inbound_or_opt_out(h, customer_id):
    await h.post(f"/customers/{customer_id}/opt-out", expect=200)


NIGHT = sl.QuietHours(datetime.time(21), datetime.time(8))


class TestQuietHours:
    @pytest.mark.parametrize("now, zone, ends", [
        ("2027-01-15T08:00:00Z", "Africa/Nairobi", None),                    # 11:00 there
        ("2027-01-15T08:00:00Z", "America/New_York", "2027-01-15T13:00:00Z"),  # 03:00 there
        # 21:00 there: to tomorrow
        ("2027-01-15T08:00:00Z", "Pacific/Auckland", "2027-01-15T19:00:00Z"),
        ("2027-01-15T02:00:00Z", "UTC", "2027-01-15T08:00:00Z"),             # after midnight
        ("2027-01-15T20:59:59Z", "UTC", None),
        ("2027-01-15T21:00:00Z", "UTC", "2027-01-16T08:00:00Z"),
        ("2027-01-15T07:59:59Z", "UTC", "2027-01-15T08:00:00Z"),
        ("2027-01-15T08:00:00Z", "UTC", None),
        # the clocks go forward
        ("2027-03-14T06:00:00Z", "America/New_York", "2027-03-14T12:00:00Z"),
        ("2027-11-07T05:30:00Z", "America/New_York", "2027-11-07T13:00:00Z"),  # and back
        ("2027-03-28T00:30:00Z", "Europe/London", "2027-03-28T07:00:00Z"),
    ])
    def test_when_the_night_ends(self, now, zone, ends):
        got = NIGHT.ends(at(now), sl.timezone(zone))
        assert got == (None if ends is None else at(ends))

    def test_a_window_that_ends_in_the_hour_the_clocks_skip(self):
        # 02:30 never happens in New York on 2027-03-14
        early = sl.parse_quiet_hours("22:00-02:30")
        zone = sl.timezone("America/New_York")
        # 03:00 EDT
        assert early.ends(at("2027-03-14T06:00:00Z"), zone) == at("2027-03-14T07:00:00Z")
        assert early.ends(at("2027-03-14T07:05:00Z"), zone) is None

    def test_a_window_within_one_day(self):
        lunch = sl.parse_quiet_hours("12:00-13:30")
        assert (lunch.ends(at("2027-01-15T12:10:00Z"), sl.timezone("UTC"))
                == at("2027-01-15T13:30:00Z"))
        assert lunch.ends(at("2027-01-15T13:30:00Z"), sl.timezone("UTC")) is None
        assert lunch.ends(at("2027-01-15T02:00:00Z"), sl.timezone("UTC")) is None

    @pytest.mark.parametrize("text", ["21:00", "25:00-08:00", "21:00-08:60", "8-9", "21:00-21:00",
                                      "x"])
    def test_bad_windows_are_refused(self, text):
        with pytest.raises(sl.ConfigError, match="--quiet-hours"):
            sl.load_config(["--quiet-hours", text], {})

    @pytest.mark.asyncio
    async def test_messages_wait_for_the_morning_where_each_customer_lives(self, make_harness):
        h = await make_harness(quiet_hours="21:00-08:00")  # T0 is 08:00 UTC
        zones = ["Africa/Nairobi", "America/New_York", "Asia/Tokyo", "Pacific/Auckland"]
        ids = [(await h.post("/customers", {"phone": f"+44790000000{n}", "timezone": zone},
                             expect=201))["id"]
               for n, zone in enumerate(zones)]
        campaign_id = await h.launch(ids)
        await h.settle()
        assert sorted(phone for _, phone, _ in h.sender.sent) == ["+447900000000", "+447900000002"]
        campaign = await h.campaign(campaign_id)
        assert (campaign["stats"] == stats(total=4, sent=2, pending=2)
                and campaign["status"] == "sending")
        waiting = {m["customer_id"]: m for m in await h.messages(campaign_id, status="pending")}
        assert (set(waiting) == {ids[1], ids[3]}
                and {m["retry_count"] for m in waiting.values()} == {0})
        h.clock.advance(5 * 3600 - 1)
        await h.settle()
        assert h.sender.calls == 2
        h.clock.advance(1)  # 08:00 in New York
        await h.settle()
        assert h.sender.attempts["+447900000001"] == 1 and h.sender.calls == 3
        h.clock.advance(6 * 3600)  # 08:00 in Auckland
        await h.settle()
        campaign = await h.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]) == ("sent", stats(total=4, sent=4))
        assert {m["retry_count"] for m in await h.messages(campaign_id)} == {0}

    @pytest.mark.asyncio
    async def test_a_transactional_campaign_ignores_quiet_hours(self, make_harness):
        h = await make_harness(quiet_hours="00:00-23:59")
        ids = await h.add_customers(2)
        campaign_id = await h.add_campaign(quiet_hours=False)
        assert (await h.campaign(campaign_id))["quiet_hours"] is False
        await h.send(campaign_id, {"customer_ids": ids})
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=2, sent=2)
        marketing = await h.launch(ids)
        await h.settle()
        assert (await h.campaign(marketing))["stats"] == stats(total=2, pending=2)

    @pytest.mark.asyncio
    async def test_a_deferred_message_is_still_pending_after_a_restart(
            self, make_harness, tmp_path):
        h = await make_harness(quiet_hours="21:00-08:00", db=str(tmp_path / "q.db"))
        customer = (await h.post("/customers",
                                 {"phone": "+14155550123", "timezone": "America/Los_Angeles"},
                                 expect=201))["id"]
        campaign_id = await h.launch([customer])
        await h.settle()
        h = await h.restart(quiet_hours="21:00-08:00")
        await h.settle()
        assert h.sender.calls == 0
        h.clock.advance(8 * 3600)  # 08:00 in Los Angeles
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=1, sent=1)


CSV_HEADER = "phone,first_name,location,timezone"


class TestCsvImport:
    pytestmark = pytest.mark.asyncio

    async def test_bom_crlf_and_quoted_commas_and_newlines(self, h):
        text = ("\ufeffphone,first_name,location,timezone\r\n"
                "+254700000001,\"Otieno, Jr.\",\"Nairobi\r\nCBD\",Africa/Nairobi\r\n"
                "+254700000002,Ann,,\r\n"
                "\r\n"
                " +254700000003 ,\"Zoë \"\"Z\"\"\",Kisumu,UTC")
        assert await post_csv(h, text) == {"created": 3, "updated": 0, "skipped": 0}
        rows = {c["phone"]: c for c in (await h.get("/customers"))["data"]}
        assert rows["+254700000001"]["first_name"] == "Otieno, Jr."
        assert rows["+254700000001"]["location"] == "Nairobi\r\nCBD"
        assert (rows["+254700000002"]["location"],
                rows["+254700000002"]["timezone"]) == (None, "UTC")
        assert rows["+254700000003"]["first_name"] == "Zoë \"Z\""

    async def test_columns_in_any_order_and_only_phone_required(self, h):
        assert (await post_csv(h, "location,phone\nMombasa,+254700000001\n"))["created"] == 1
        customer = (await h.get("/customers"))["data"][0]
        assert (customer["location"], customer["first_name"]) == ("Mombasa", None)

    @pytest.mark.parametrize("text, words", [
        ("phone,nickname\n+254700000001,Z\n", "Unknown column 'nickname'"),
        ("first_name\nAnn\n", "phone among them"),
        ("phone,phone\n+254700000001,+254700000002\n", "once"),
        ("", "empty"),
        ("phone\n", "no customers"),
        ("phone,first_name\n\"+254700000001,Ann\n", "1 problem (the first at line 2)"),
    ])
    async def test_a_bad_file_is_refused_whole(self, h, text, words):
        payload = await post_csv(h, text, expect=400)
        assert (payload["error"]["code"] == "INVALID_CSV"
                and words in payload["error"]["message"]), payload
        assert (await h.get("/customers"))["pagination"]["total_count"] == 0

    async def test_every_bad_line_is_named_and_nothing_is_imported(self, h):
        text = "\n".join([CSV_HEADER, "+254700000001,Ann,Nairobi,Africa/Nairobi",
                          "0712,Bob,Nairobi,Africa/Nairobi",            # line 3
                          "+254700000004,\"Multi\nline\",Mombasa,UTC",  # lines 4-5
                          "+254700000006,Eve,Nakuru,Mars/Base",         # line 6
                          "+254700000001,Dup,Kisumu,UTC",               # line 7
                          "+254700000008,Short", ""])                    # line 8
        payload = await post_csv(h, text, expect=400)
        assert payload["error"]["code"] == "INVALID_CSV"
        assert [(e["line"], e["field"]) for e in payload["error"]["errors"]] == [
            (3, "phone"), (6, "timezone"), (7, "phone"), (8, None)]
        assert "line 2 too" in payload["error"]["errors"][2]["message"]
        assert "2 values for 4 columns" in payload["error"]["errors"][3]["message"]
        assert (await h.get("/customers"))["pagination"]["total_count"] == 0

    async def test_the_error_list_stops_at_a_hundred(self, h):
        text = "phone\n" + "bad\n" * 150
        payload = await post_csv(h, text, expect=400)
        assert (len(payload["error"]["errors"]) == 100
                and "150 problems" in payload["error"]["message"])

    async def test_on_conflict(self, h):
        await h.post("/customers",
                     {"phone": "+254700000001", "first_name": "Old", "location": "Mombasa"},
                     expect=201)
        text = "phone,first_name\n+254700000002,New\n+254700000001,Renamed\n"
        payload = await post_csv(h, text, expect=409)
        assert payload["error"]["code"] == "CUSTOMER_EXISTS"
        assert [(e["line"], e["field"]) for e in payload["error"]["errors"]] == [(3, "phone")]
        assert (await h.get("/customers"))["pagination"]["total_count"] == 1
        assert (await post_csv(h, text, query="?on_conflict=skip")
                == {"created": 1, "updated": 0, "skipped": 1})
        old = (await h.get("/customers?location=Mombasa"))["data"][0]
        assert old["first_name"] == "Old"
        text = "phone,first_name\n+254700000003,Third\n+254700000001,Renamed\n"
        assert (await post_csv(h, text, query="?on_conflict=update")
                == {"created": 1, "updated": 1, "skipped": 0})
        renamed = await h.get(f"/customers/{old['id']}")
        # other columns kept
        assert (renamed["first_name"], renamed["location"]) == ("Renamed", "Mombasa")
        assert (await h.get("/customers"))["pagination"]["total_count"] == 3
        payload = await post_csv(h, text, query="?on_conflict=merge", expect=400)
        assert payload["error"]["code"] == "VALIDATION_ERROR"

    async def test_limits(self, h):
        rows = "".join(f"+1555{n:07d}\n" for n in range(sl.MAX_CSV_ROWS + 1))
        payload = await post_csv(h, "phone\n" + rows, expect=400)
        assert "more than 100,000 rows" in payload["error"]["message"]
        payload = await post_csv(h, "", raw=b"phone\n" + b"+15550000001\n" * 700_000, expect=413)
        assert payload["error"]["code"] == "PAYLOAD_TOO_LARGE"
        payload = await post_csv(
            h, "", raw="phone,first_name\n+15550000001,Zoë\n".encode("latin-1"), expect=400)
        assert "not UTF-8" in payload["error"]["message"]
        assert (await h.get("/customers"))["pagination"]["total_count"] == 0

    async def test_the_largest_file_imports(self, h):
        rows = "".join(f"+1555{n:07d},Name{n},Town{n % 7}\n" for n in range(sl.MAX_CSV_ROWS))
        answer = await post_csv(h, "phone,first_name,location\n" + rows)
        assert answer == {"created": sl.MAX_CSV_ROWS, "updated": 0, "skipped": 0}
        assert (await h.get("/customers?location=town3"))["pagination"]["total_count"] == 14_286


class TestErasure:
    pytestmark = pytest.mark.asyncio

    async def test_a_replayed_create_answers_the_erased_answer_and_creates_no_one(self, h):
        key = {"Idempotency-Key": "erase-test-1"}
        body = {"customers": [{"phone": "+254788000001", "first_name": "Erin",
                               "last_name": "Secret"}, {"phone": "+254788000002"}]}
        created = await h.post("/customers", body, headers=key, expect=201)
        erin, other = (c["id"] for c in created["customers"])
        campaign_id = await h.add_campaign("Hi {first_name} {last_name}!")
        preview = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                               {"customer_id": erin}, headers={"Idempotency-Key": "erin-prv"})
        assert preview["rendered_message"] == "Hi Erin Secret!"  # a text: forgotten whole
        status, _ = await h.request("DELETE", f"/customers/{erin}")
        assert status == 204
        again = await h.post("/customers", body, headers=key, expect=201)  # the first answer,
        (gone, kept) = again["customers"]                                  # Erin's fields erased
        assert gone == {**created["customers"][0], "phone": "[erased]", "first_name": None,
                        "last_name": None, "location": None, "preferred_product": None}
        assert kept == created["customers"][1]
        assert_error(await h.get(f"/customers/{erin}", expect=404), "CUSTOMER_NOT_FOUND")
        assert (await h.get("/customers"))["pagination"]["total_count"] == 1
        assert await h.get(f"/customers/{other}")
        assert not await h.sql("SELECT key FROM idempotency_keys WHERE response LIKE ? "
                               "OR response LIKE ? OR response LIKE ?",
                               ("%+254788000001%", "%Erin%", "%Secret%"))

    async def test_erasure_cancels_what_is_pending_and_keeps_counters_exact(self, h):
        ids = await h.add_customers(3)
        sent = await h.launch(ids)
        await h.settle()
        later = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 3600))
        await h.send(later, {"customer_ids": ids})
        status, _ = await h.request("DELETE", f"/customers/{ids[0]}")
        assert status == 204
        assert_error(await h.get(f"/customers/{ids[0]}", expect=404), "CUSTOMER_NOT_FOUND")
        assert (await h.campaign(sent))["stats"] == stats(total=3, sent=3)
        assert (await h.campaign(later))["stats"] == stats(total=3, pending=2, cancelled=1)
        erased = [m for m in await h.messages(sent) + await h.messages(later)
                  if m["customer_id"] is None]
        assert [(m["status"], m["rendered_content"]) for m in erased] == [
            ("sent", None), ("cancelled", None)]
        h.clock.advance(3601)
        await h.settle()
        assert (await h.campaign(later))["stats"] == stats(total=3, sent=2, cancelled=1)
        assert h.sender.attempts[h.phones[0]] == 1  # only the first campaign's message, before

    @sqlite_only
    async def test_the_phone_and_the_text_are_gone_from_the_files(self, make_harness, tmp_path):
        path = tmp_path / "erase.db"
        h = await make_harness(db=str(path), webhook_url="http://127.0.0.1:9/hook",
                               webhook_secret=WEBHOOK_SECRET, webhook_events="campaign,message")
        customer = (await h.post("/customers", {"phone": "+15550009876", "first_name": "Zebulon",
                                                "last_name": "Quixotic"}, expect=201))["id"]
        others = await h.add_customers(2)
        campaign_id = await h.add_campaign("Dear {first_name} {last_name}, hello")
        await h.send(campaign_id, {"customer_ids": [customer, *others]},
                     headers={"Idempotency-Key": "k1"})
        await h.settle()
        h.sender.script["+15550009876"] = [sl.PermanentSendError("+15550009876 refused")]
        second = await h.launch([customer])
        await h.settle()
        secrets = [b"+15550009876", b"Zebulon", b"Quixotic", "+15550009876".encode("utf-16-le")]

        def files():
            return b"".join(p.read_bytes() for p in tmp_path.iterdir()
                            if p.name.startswith("erase.db"))

        assert all(secret in files() for secret in secrets[:3])
        await h.request("DELETE", f"/customers/{customer}", expect=204)
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sent=3)
        failed, = await h.messages(second)
        assert (failed["status"], failed["last_error"]) == ("failed", "[erased] refused")
        assert [secret for secret in secrets if secret in files()] == []  # while the service runs
        await h.client.close()
        assert [secret for secret in secrets if secret in files()] == []


# ---------------------------------------------------------------------------
# CONFIG
# ---------------------------------------------------------------------------


# -- CONFIG -------------------------------------------------------------------

class TestConfig:
    def test_defaults_follow_the_spec(self):
        config = sl.load_config([], {})
        assert (config.host, config.port, config.db, config.seed) == (
            "127.0.0.1", 8080, "smsleopard.db", True)
        assert (config.failure_rate, config.send_latency_ms, config.concurrency) == (0.05, 0, 100)
        assert (config.max_retries, config.retry_base_ms, config.queue_url, config.api_key) == (
            3, 1000, "", "")

    def test_environment_sets_and_flags_win(self):
        env = {"SMSLEOPARD_PORT": "9000", "SMSLEOPARD_FAILURE_RATE": "0.5", "SMSLEOPARD_SEED": "0",
               "SMSLEOPARD_API_KEY": "k"}
        config = sl.load_config(["--port", "9100", "--concurrency=7"], env)
        assert (config.port, config.failure_rate, config.seed, config.concurrency,
                config.api_key) == (9100, 0.5, False, 7, "k")
        assert sl.load_config(["--no-seed"], {}).seed is False

    @pytest.mark.parametrize("argv, env, message", [
        (["--failure-rate", "1.5"], {}, "--failure-rate must be between 0 and 1"),
        (["--failure-rate", "nan"], {}, "--failure-rate must be a finite number"),
        (["--port", "70000"], {}, "--port must be between"),
        (["--port", "http"], {}, "--port must be an integer"),
        (["--concurrency", "0"], {}, "--concurrency"),
        (["--max-retries", "-1"], {}, "--max-retries"),
        (["--queue-url", "redis://x"], {}, "--queue-url"),
        (["--public-url", "http://h/sms?x=1"], {}, "--public-url must be empty or an http"),
        (["--public-url", "https://h/#top"], {}, "--public-url must be empty or an http"),
        (["--send-latency-ms", "16000"], {},
         "--send-latency-ms must stay below half of --claim-timeout"),
        (["--bogus"], {}, "unrecognized arguments: --bogus"),
        ([], {"SMSLEOPARD_SEED": "banana"}, "SMSLEOPARD_SEED must be one of 1, true, yes, on, 0"),
        ([], {"SMSLEOPARD_RETRY_BASE_MS": "soon"}, "SMSLEOPARD_RETRY_BASE_MS must be a number"),
        ([], {"SMSLEOPARD_FAILURE_RATE": "2"}, "SMSLEOPARD_FAILURE_RATE must be between 0 and 1"),
        ([], {"SMSLEOPARD_SEND_LATENCY_MS": "16000"},
         "SMSLEOPARD_SEND_LATENCY_MS must stay below half"),
        (["--failure-rate", "2"], {"SMSLEOPARD_FAILURE_RATE": "0.5"},
         "--failure-rate must be between"),
    ])
    def test_bad_settings_are_refused(self, argv, env, message):
        with pytest.raises(sl.ConfigError, match=f"^{message}".replace("-", r"\-")):
            sl.load_config(argv, env)

    @pytest.mark.parametrize("word, value", [
        ("yes", True), ("ON", True), ("true", True), ("1", True),
        ("off", False), ("No", False), ("false", False), ("0", False)])
    def test_boolean_words(self, word, value):
        assert sl.load_config([], {"SMSLEOPARD_SEED": word}).seed is value

    def test_help_names_the_variables_the_limits_and_the_commands(self, capsys):
        with pytest.raises(SystemExit):
            sl.main(["--help"])
        text = " ".join(capsys.readouterr().out.split())
        settings = [f.name for f in sl.dataclasses.fields(Config) if f.metadata["cli"]]
        assert all(f"SMSLEOPARD_{name.upper()}" in text for name in settings)
        assert "below half of --claim-timeout" in text and "bench" in text

    def test_main_reports_bad_settings_in_one_line_and_exits_non_zero(self, capsys):
        assert sl.main(["--failure-rate", "2"]) == 2
        err = capsys.readouterr().err
        assert err == "smsleopard: error: --failure-rate must be between 0 and 1\n"

    def test_main_refuses_a_port_in_use(self, capsys):
        with sl.listen_socket("127.0.0.1", 0) as taken:
            port = taken.getsockname()[1]
            assert sl.main(["--port", str(port), "--db", ":memory:", "--no-seed"]) == 2
        err = capsys.readouterr().err
        assert (err.startswith(f"smsleopard: error: cannot listen on 127.0.0.1:{port}")
                and err.count("\n") == 1)

    def test_a_failed_start_leaves_nothing_on_disk(self, capsys, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        assert sl.main(["--port", "0", "--queue-url", "amqp://guest:guest@127.0.0.1:1/"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(
            "smsleopard: error: cannot connect to RabbitMQ at amqp://127.0.0.1:1/")
        assert err.count("\n") == 1 and "guest:guest" not in err
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.asyncio
    async def test_a_database_made_by_a_failed_start_is_removed(self, tmp_path):
        config = Config(db=str(tmp_path / "new.db"), seed_path=str(tmp_path / "missing.sql"),
                        port=0)
        runner = sl.Runner(sl.create_app(config))
        with pytest.raises(sl.ConfigError, match="cannot read the sample data"):
            await runner.setup()
        await runner.cleanup()
        assert list(tmp_path.iterdir()) == []

    def test_bench_help_speaks_for_itself(self, capsys):
        with pytest.raises(SystemExit):
            sl.main(["bench", "--help"])
        text = capsys.readouterr().out
        assert "SPEC" not in text and "--quick" in text

    def test_main_refuses_an_unwritable_database(self, capsys, tmp_path):
        assert sl.main(["--port", "0", "--db", str(tmp_path / "missing" / "x.db")]) == 2
        assert "cannot use database" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# TIME
# ---------------------------------------------------------------------------


# -- TIME ---------------------------------------------------------------------

class TestTime:
    def test_utc_iso_is_fixed_width_with_z(self):
        assert sl.utc_iso(T0) == "2027-01-15T08:00:00.000Z"
        assert sl.utc_iso(T0 + 0.9996) == "2027-01-15T08:00:00.999Z"

    @pytest.mark.parametrize("text, expected", [
        ("2027-01-15T08:00:00Z", T0),
        ("2027-01-15T11:00:00+03:00", T0),
        ("2027-01-15T08:00:00.250Z", T0 + 0.25),
        ("2027-01-15 03:00-0500", T0),
        ("2027-01-15t08:00:00z", T0),  # RFC 3339 allows lowercase
        ("9999-12-31T23:59:59Z", 253402300799.0),
    ])
    def test_parse_timestamp(self, text, expected):
        assert sl.parse_timestamp(text) == expected

    @pytest.mark.parametrize("text", ["2027-01-15T08:00:00", "tomorrow", "2027-13-01T00:00:00Z",
                                      "", "1e9", "9999-12-31T23:59:59-14:00",
                                      "0001-01-01T00:00:00+01:00"])
    def test_parse_timestamp_wants_a_valid_time_with_a_zone(self, text):
        with pytest.raises(ValueError):
            sl.parse_timestamp(text)


# ---------------------------------------------------------------------------
# MODELS
# ---------------------------------------------------------------------------
# (tested through the sections below, which use it throughout)


# ---------------------------------------------------------------------------
# LIFECYCLE
# ---------------------------------------------------------------------------


# -- LIFECYCLE: the transition table ------------------------------------------

A, S = sl.Action, sl.CampaignStatus
# The table of the README, written out once more by hand: (from, action) -> to.
EXPECTED_MOVES = {
    (S.DRAFT, A.SCHEDULE): S.SCHEDULED, (S.SCHEDULED, A.SCHEDULE): S.SCHEDULED,
    (S.SCHEDULED, A.UNSCHEDULE): S.DRAFT,
    (S.DRAFT, A.START): S.SENDING, (S.SCHEDULED, A.START): S.SENDING,
    (S.SENDING, A.PAUSE): S.PAUSED, (S.PAUSED, A.RESUME): S.SENDING,
    **{(status, A.CANCEL): S.CANCELLED for status in (S.DRAFT, S.SCHEDULED, S.SENDING, S.PAUSED)},
    (S.SENDING, A.FINISH_SENT): S.SENT, (S.SENDING, A.FINISH_FAILED): S.FAILED,
    **{(status, A.RETRY_FAILED): S.SENDING for status in (S.SENDING, S.PAUSED, S.SENT, S.FAILED)},
    **{(status, A.ADD_RECIPIENTS): status
       for status in (S.DRAFT, S.SCHEDULED, S.SENDING, S.PAUSED)},
    **{(status, A.EDIT_CONTENT): status for status in (S.DRAFT, S.SCHEDULED, S.PAUSED)},
    **{(status, A.EDIT): status for status in (S.DRAFT, S.SCHEDULED)},
    (S.DRAFT, A.DELETE): None,
}


class TestLifecycle:
    @pytest.mark.parametrize("status", list(S))
    @pytest.mark.parametrize("action", list(A))
    def test_every_move_is_the_tables_and_nothing_else_is_allowed(self, status, action):
        if (status, action) in EXPECTED_MOVES:
            assert sl.next_status(status, action, 7) == EXPECTED_MOVES[status, action]
        else:
            with pytest.raises(sl.InvalidState) as raised:
                sl.next_status(status, action, 7)
            assert (raised.value.code == "INVALID_STATE"
                    and f"Campaign 7 is {status}" in raised.value.message)

    @pytest.mark.parametrize("status, allowed", [
        (S.DRAFT, "send, edit, cancel, delete"), (S.SENDING, "send, pause, cancel, retry-failed"),
        (S.PAUSED, "send, edit, resume, cancel, retry-failed"), (S.SENT, "retry-failed"),
        (S.CANCELLED, None)])
    def test_a_refusal_says_what_is_allowed(self, status, allowed):
        with pytest.raises(sl.InvalidState) as raised:
            sl.next_status(status, A.UNSCHEDULE, 3)
        expected = f"allowed when {status}: {allowed}" if allowed else f"{status} is final"
        assert raised.value.message == f"Campaign 3 is {status}; it cannot unschedule ({expected})"

    @pytest.mark.parametrize("sent, failed, action", [
        (1, 0, A.FINISH_SENT), (1, 5, A.FINISH_SENT), (0, 0, A.FINISH_SENT),  # all suppressed
        (0, 1, A.FINISH_FAILED)])
    def test_a_settled_campaign_fails_only_when_nothing_went_and_something_failed(
            self, sent, failed, action):
        assert sl.finishing_action(sent, failed) is action


# ---------------------------------------------------------------------------
# TEMPLATES
# ---------------------------------------------------------------------------


# -- TEMPLATES ----------------------------------------------------------------

AMINA = {"first_name": "Amina", "last_name": "Otieno", "phone": "+254712000001",
         "location": "Nairobi", "preferred_product": "Shoes"}


def render(text, customer=AMINA):
    return sl.render_template(sl.parse_template(text), customer)


class TestTemplates:
    @pytest.mark.parametrize("template, expected", [
        ("Hi {first_name}, check out {preferred_product}!", "Hi Amina, check out Shoes!"),
        ("{first_name} {last_name} in {location} ({phone})",
         "Amina Otieno in Nairobi (+254712000001)"),
        ("{ first_name }", "Amina"),
        ("No placeholders at all.", "No placeholders at all."),
        ("{first_name}{first_name}", "AminaAmina"),
        ("{{first_name}}", "{first_name}"),
        ("{{{first_name}}}", "{Amina}"),
        ("Braces {{ and }} stay", "Braces { and } stay"),
        ("{first_name|friend}", "Amina"),
    ])
    def test_renders_fields(self, template, expected):
        assert render(template) == expected

    @pytest.mark.parametrize("value", [None, "", "   "])
    def test_missing_field_renders_unknown_or_the_fallback(self, value):
        customer = {**AMINA, "first_name": value}
        assert render("Hi {first_name}!", customer) == "Hi [unknown]!"
        assert render("Hi {first_name|there}!", customer) == "Hi there!"
        assert render("Hi {first_name|}!", customer) == "Hi !"
        assert render("Hi {first_name|a|b}!", customer) == "Hi a|b!"
        assert sl.missing_fields(sl.parse_template("{first_name}{last_name}{first_name|x}"),
                                 customer) == ["first_name"]

    def test_a_field_absent_from_the_row_counts_as_missing(self):
        assert render("{location|somewhere}", {"first_name": "A"}) == "somewhere"

    def test_rendering_is_one_pass(self):
        sneaky = {**AMINA, "first_name": "{last_name}", "last_name": "{{x}}"}
        assert render("Hi {first_name} {last_name}", sneaky) == "Hi {last_name} {{x}}"

    @pytest.mark.parametrize("template, names", [
        ("Hi {name}", "{name}"),
        ("Hi {}", "{}"),
        ("Hi {first_name", "'{'"),
        ("Hi first_name}", "'}'"),
        ("Hi {first_name}}", "'}'"),
        ("Hi {first{last_name}}", "'{'"),
        ("Hi {FIRST_NAME}", "{FIRST_NAME}"),
        ("Hi {0}", "{0}"),
        ("Hi {first_name.__class__}", "{first_name.__class__}"),
        ("Hi {|x}", "{|x}"),
    ])
    def test_malformed_or_unknown_placeholders_are_rejected(self, template, names):
        with pytest.raises(sl.TemplateError) as error:
            sl.parse_template(template)
        assert names in str(error.value)

    def test_gsm7_alphabet_size(self):
        assert len(sl.GSM7_BASIC) == 127 and len(sl.GSM7_EXTENSION) == 10

    @pytest.mark.parametrize("text, encoding, characters, segments", [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("[" + "a" * 159, "GSM-7", 161, 2),
        ("a" * 152 + "{" + "a" * 10, "GSM-7", 164, 2),   # the escape pair moves to segment two
        ("Ünïcödé? nö: ñ is GSM", "UCS-2", 21, 1),
        ("ï" * 70, "UCS-2", 70, 1),
        ("ï" * 71, "UCS-2", 71, 2),
        ("ï" * 134, "UCS-2", 134, 2),
        ("ï" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
        ("a" * 66 + "😀", "UCS-2", 68, 1),
        ("a" * 66 + "😀" + "a" * 3, "UCS-2", 71, 2),
        ("Hi Zoé, 20% off!", "GSM-7", 16, 1),
        ("Hi Zoë, 20% off!", "UCS-2", 16, 1),
        ("Привет", "UCS-2", 6, 1),
    ])
    def test_sms_info(self, text, encoding, characters, segments):
        assert sl.sms_info(text) == sl.SmsInfo(encoding, characters, segments)

    def test_channel_limits(self):
        assert sl.channel_limit_problem("sms", "a" * 1530) is None
        assert "11 SMS segments" in sl.channel_limit_problem("sms", "a" * 1531)
        assert sl.channel_limit_problem("whatsapp", "a" * 4096) is None
        assert "4097 characters" in sl.channel_limit_problem("whatsapp", "a" * 4097)


# ---------------------------------------------------------------------------
# RETRY POLICY AND PACING
# ---------------------------------------------------------------------------


# -- RETRY POLICY -------------------------------------------------------------

class TestRetryPolicy:
    def test_backoff_doubles_with_jitter_and_stops_after_max(self):
        policy = sl.RetryPolicy(max_retries=3, base=1.0, rng=random.Random(1))
        for retry, nominal in ((1, 1.0), (2, 2.0), (3, 4.0)):
            delays = [policy.delay(retry) for _ in range(200)]
            assert all(0.75 * nominal <= d <= 1.25 * nominal for d in delays)
            assert max(delays) - min(delays) > 0.3 * nominal  # jitter really spreads them
        assert policy.delay(4) is None

    def test_backoff_is_capped_at_sixty_seconds(self):
        policy = sl.RetryPolicy(max_retries=20, base=10.0, rng=random.Random(1))
        assert all(policy.delay(10) <= 60.0 for _ in range(100))

    def test_zero_retries_means_no_retry(self):
        assert sl.RetryPolicy(max_retries=0, base=1.0).delay(1) is None


# ---------------------------------------------------------------------------
# METRICS
# ---------------------------------------------------------------------------


# -- The operator's view: /metrics, CORS, logs --------------------------------

async def scrape(h, headers=None):
    """The /metrics exposition, parsed by prometheus_client: {(name, labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    response = await h.client.get("/metrics", headers=headers)
    assert (response.status == 200
            and response.headers["Content-Type"].startswith("text/plain; version="))
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def sample(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


class TestMetrics:
    pytestmark = pytest.mark.asyncio

    async def test_the_counts_move_with_what_happens(self, h):
        before = await scrape(h)
        assert sample(before, "smsleopard_messages_total", channel="sms", outcome="sent") == 0
        ids = await h.add_customers(4)
        await h.post(f"/customers/{ids[3]}/opt-out", expect=200)
        h.sender.script[h.phones[1]] = transient(1)
        h.sender.script[h.phones[2]] = [sl.PermanentSendError("refused")]
        campaign_id = await h.launch(ids)
        await h.run_until_done(campaign_id)
        await h.add_campaign()  # a draft
        after = await scrape(h)
        outcomes = {outcome: sample(after, "smsleopard_messages_total", channel="sms",
                                    outcome=outcome)
                    for outcome in ("sent", "retried", "failed", "throttled", "suppressed")}
        assert outcomes == {"sent": 2, "retried": 1, "failed": 1, "throttled": 0, "suppressed": 1}
        assert (sample(after, "smsleopard_provider_latency_seconds_count", channel="sms")
                == h.sender.calls == 4)
        assert sample(after, "smsleopard_campaigns", status="sent") == 1
        assert sample(after, "smsleopard_campaigns", status="draft") == 1
        assert sample(after, "smsleopard_campaigns", status="sending") == 0
        assert sample(after, "smsleopard_queue_depth") == 0
        assert sample(after, "smsleopard_webhook_outbox_depth") == 0
        requests = sample(after, "smsleopard_http_request_duration_seconds_count",
                          route="/campaigns/{id}", method="GET", status="200")
        assert requests >= 1
        await h.get("/nowhere", expect=404)
        again = await scrape(h)
        assert sample(again, "smsleopard_http_request_duration_seconds_count",
                      route="/campaigns/{id}", method="GET", status="200") == requests
        assert sample(again, "smsleopard_http_request_duration_seconds_count", route="unmatched",
                      method="GET", status="404") == 1

    async def test_attempts_in_flight_and_the_campaign_counts_while_sending(self, h):
        h.sender.gate = asyncio.Event()
        ids = await h.add_customers(3)
        await h.launch(ids)
        await h.sender.wait_for_in_flight(3)
        during = await scrape(h)
        assert sample(during, "smsleopard_attempts_in_flight") == 3
        assert sample(during, "smsleopard_campaigns", status="sending") == 1
        h.sender.gate.set()
        await h.settle()
        after = await scrape(h)
        assert sample(after, "smsleopard_attempts_in_flight") == 0
        assert (sample(after, "smsleopard_campaigns", status="sending"),
                sample(after, "smsleopard_campaigns", status="sent")) == (0, 1)

    async def test_the_campaign_counts_survive_every_move(self, h):
        ids = await h.add_customers(2)
        draft, scheduled, cancelled = (await h.add_campaign(), await h.add_campaign(),
                                       await h.add_campaign())
        await h.request("PATCH", f"/campaigns/{scheduled}", {"scheduled_at": sl.utc_iso(T0 + 60)},
                        expect=200)
        await act(h, cancelled, "cancel")
        doomed = await h.add_campaign()
        await h.request("DELETE", f"/campaigns/{doomed}", expect=204)
        await h.launch(ids)
        await h.settle()
        counts = {status: sample(await scrape(h), "smsleopard_campaigns", status=status)
                  for status in sl.CampaignStatus}
        listed = {status: (await h.get(f"/campaigns?status={status}"))["pagination"]["total_count"]
                  for status in sl.CampaignStatus}
        assert counts == listed == {**dict.fromkeys(sl.CampaignStatus, 0), "draft": 1,
                                    "scheduled": 1, "cancelled": 1, "sent": 1}
        assert draft

    async def test_the_webhook_outbox_depth(self, make_harness):
        h = await make_harness(webhook_url="http://127.0.0.1:9/hooks",
                               webhook_secret=WEBHOOK_SECRET)
        await h.launch(await h.add_customers(1))
        await h.settle()
        store = h.app[sl.STORE]

        async def depths():
            listed = (
                await h.get("/webhooks/deliveries?status=pending"))["pagination"]["total_count"]
            return listed, sample(await scrape(h), "smsleopard_webhook_outbox_depth")

        assert await depths() == (2, 2)  # the campaign started, and finished
        first, second = [
            row[0] for row in await store.db.fetch("SELECT id FROM webhook_events ORDER BY id")]
        await store.outbox.delivered(first, T0)
        await store.outbox.failed(second, "refused", T0, T0 + 60)  # still pending
        assert await depths() == (1, 1)
        async with store.db.transaction() as tx:  # a pending event removed counts down too
            await tx.execute("DELETE FROM webhook_events WHERE id = ?", (second,))
        assert await depths() == (0, 0)
        await h.launch(await h.add_customers(1))
        await h.settle()
        assert await depths() == (2, 2)
        await store.outbox.failed(second + 1, "refused", T0, None)  # dead
        assert await depths() == (1, 1)
        assert await store.outbox.forget_old(T0 + 10 * 86400) == 2  # the delivered and the dead go
        assert await depths() == (1, 1)

    async def test_it_is_behind_the_api_key(self, make_harness):
        h = await make_harness(api_key="secret-key")
        status, payload = await h.request("GET", "/metrics")
        assert status == 401 and payload["error"]["code"] == "UNAUTHORIZED"
        assert "smsleopard_queue_depth" in {name for name, _ in await scrape(
            h, {"Authorization": "Bearer secret-key"})}


class TestOverview:
    """GET /overview: the dashboard's landing page in one answer."""

    pytestmark = pytest.mark.asyncio

    async def test_today_the_last_hour_and_the_provider(self, make_harness):
        h = await make_harness(quiet_hours="21:00-08:00")
        empty = await h.get("/overview")
        assert empty["today"] == {
            "since": "2027-01-15T00:00:00.000Z", "timezone": "UTC", "channels": [
                {"channel": "sms", "sent": 0, "delivered": 0, "failed": 0},
                {"channel": "whatsapp", "sent": 0, "delivered": 0, "failed": 0}]}
        assert len(empty["attempts_per_second"]) == 360 and empty["step_seconds"] == 10
        assert {p["per_second"] for p in empty["attempts_per_second"]} == {0}
        assert empty["provider"] == {"window_seconds": 300, "attempts": 0, "errors": 0,
                                     "throttled": 0, "error_rate": None, "median_ms": None,
                                     "p95_ms": None}
        assert empty["gateways"] == [{"channel": c, "kind": "mock", "host": None, "state": "up"}
                                     for c in ("sms", "whatsapp")]
        assert empty["settings"] == {"quiet_hours": "21:00-08:00",
                                     "max_per_customer_per_day": None, "max_retries": 3}
        assert (empty["queue_depth"], empty["attempts_in_flight"], empty["messages_pending"],
                empty["webhook_outbox_depth"]) == (0, 0, 0, 0)

        ids = await h.add_customers(4, timezone="Africa/Nairobi")
        h.clock.advance(5 * 3600)  # 13:00 in Nairobi, out of the quiet hours
        h.sender.script[h.phones[0]] = [sl.PermanentSendError("no route")]
        h.sender.script[h.phones[1]] = transient(1)
        campaign_id = await h.launch(ids)
        await h.run_until_done(campaign_id, step=5)
        h.clock.advance(10)  # every attempt in a whole step of the series
        seen = await h.get("/overview")
        assert seen["today"]["channels"][0] == {"channel": "sms", "sent": 3, "delivered": 0,
                                                "failed": 1}
        provider = seen["provider"]
        assert (provider["attempts"], provider["errors"], provider["error_rate"]) == (5, 2, 0.4)
        assert 0 < provider["median_ms"] <= provider["p95_ms"]
        assert (sum(p["per_second"] * 10 for p in seen["attempts_per_second"])
                == pytest.approx(5, abs=0.5))
        assert seen["campaigns"]["sent"] == 1

        h.clock.advance(17 * 3600)  # past midnight, UTC: a new day (09:00 in Nairobi)
        await h.post(f"/campaigns/{campaign_id}/retry-failed", expect=200)
        await h.run_until_done(campaign_id)
        tomorrow = await h.get("/overview")
        assert tomorrow["today"]["since"] == "2027-01-16T00:00:00.000Z"
        assert tomorrow["today"]["channels"][0] == {"channel": "sms", "sent": 1, "delivered": 0,
                                                    "failed": 0}
        assert tomorrow["provider"]["attempts"] == 1, "the window is the last five minutes"

    async def test_the_latency_of_attempts_after_a_quiet_spell_is_in_the_window(
            self, make_harness):
        h = await make_harness()  # nothing asked of /overview before the attempts
        ids = await h.add_customers(3)
        for _ in range(2):  # at the start, then after 400 s of nothing
            campaign_id = await h.launch(ids)
            await h.run_until_done(campaign_id)
            provider = (await h.get("/overview"))["provider"]
            assert provider["attempts"] == 3 and provider["median_ms"] is not None
            h.clock.advance(400)

    async def test_a_paced_backlog_is_pending_though_no_job_waits(self, make_harness):
        h = await make_harness()
        slow = await h.add_campaign(rate_limit=1)
        await h.send(slow, {"customer_ids": await h.add_customers(30)})
        await tick(h, 3)
        seen = await h.get("/overview")
        assert seen["queue_depth"] == 0  # the pacer takes them from the database
        assert seen["messages_pending"] == 30 - (await h.campaign(slow))["stats"]["sent"] > 20

    async def test_it_takes_no_query_and_needs_the_key(self, make_harness):
        h = await make_harness(api_key="k")
        assert (await h.request("GET", "/overview"))[0] == 401
        status, answer = await h.request("GET", "/overview?x=1",
                                         headers={"Authorization": "Bearer k"})
        assert status == 400 and answer["error"]["code"] == "VALIDATION_ERROR"


class TestBucketQuantile:
    def test_latencies_are_exposed_as_prometheus_clients_histogram_exposes_them(self):
        ours, theirs = sl.Latencies(), prometheus_client.CollectorRegistry()
        histogram = prometheus_client.Histogram(
            "smsleopard_provider_latency_seconds", "How long the provider took to answer",
            ["channel"], buckets=sl.LATENCY_BUCKETS, registry=theirs)
        for channel in sl.CHANNELS:
            histogram.labels(channel)
        for channel, seconds in [("sms", 0.0), ("sms", 0.005), ("sms", 0.0051), ("sms", 2.5),
                                 ("whatsapp", 30.0), ("whatsapp", 31.0), ("sms", 0.3)]:
            ours.observe(channel, seconds)
            histogram.labels(channel).observe(seconds)
        mine = prometheus_client.CollectorRegistry()
        mine.register(ours)

        def lines(registry):  # the moment each series was made aside
            text = prometheus_client.generate_latest(registry).decode()
            return sorted(re.sub(r"(_created\{.*\}) \S+$", r"\1 T", line)
                          for line in text.splitlines())

        assert lines(mine) == lines(theirs)
        assert 'smsleopard_provider_latency_seconds_bucket{channel="sms",le="0.005"} 2.0' in (
            lines(mine))
        assert 'smsleopard_provider_latency_seconds_created{channel="sms"} T' in lines(mine)

    @pytest.mark.parametrize("q, counts, expected", [
        (0.5, [0, 0, 0], None),
        (0.5, [2, 4, 4], 0.1),      # half of 4 is the whole first bucket: its upper bound
        (0.5, [0, 4, 4], 0.55),     # all in the second bucket, interpolated to its middle
        (0.95, [0, 0, 10], 1.0),    # beyond the last finite bound: that bound
    ])
    def test_bucket_quantile(self, q, counts, expected):
        assert sl.bucket_quantile(q, (0.1, 1.0, math.inf), counts) == pytest.approx(expected)


class TestCors:
    PREFLIGHT = {  # noqa: RUF012
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"}

    @pytest.mark.asyncio
    async def test_a_preflight_from_an_allowed_origin_is_204_without_the_key(self, make_harness):
        h = await make_harness(cors_origins="https://app.example.com, http://localhost:3000",
                               api_key="k")
        response = await h.client.options("/campaigns", headers=self.PREFLIGHT)
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = {name.strip().lower()
                   for name in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert {"authorization", "content-type", "idempotency-key"} <= allowed

    @pytest.mark.asyncio
    async def test_answers_carry_the_headers_errors_too(self, make_harness):
        h = await make_harness(cors_origins="https://app.example.com")
        for path, status in (("/campaigns", 200), ("/campaigns/99", 404)):
            response = await h.client.get(path, headers={"Origin": "https://app.example.com"})
            assert response.status == status
            assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
            assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]
            assert response.headers["Vary"] == "Origin"

    @pytest.mark.asyncio
    async def test_other_origins_get_nothing(self, make_harness):
        h = await make_harness(cors_origins="https://app.example.com")
        response = await h.client.get("/campaigns", headers={"Origin": "https://evil.example.net"})
        assert response.status == 200 and "Access-Control-Allow-Origin" not in response.headers
        response = await h.client.options(
            "/campaigns", headers={**self.PREFLIGHT, "Origin": "https://evil.example.net"})
        assert response.status == 405 and "Access-Control-Allow-Origin" not in response.headers

    @pytest.mark.asyncio
    @sqlite_only  # two services at once: on one PostgreSQL database the second is refused
    async def test_off_by_default_and_star_lets_any_origin_in(self, make_harness):
        off = await make_harness()
        response = await off.client.options("/campaigns", headers=self.PREFLIGHT)
        assert response.status == 405 and "Access-Control-Allow-Origin" not in response.headers
        star = await make_harness(cors_origins="*")
        response = await star.client.get("/health", headers={"Origin": "https://anywhere.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "*"

    @pytest.mark.parametrize("value", ["app.example.com", "https://app.example.com/path",
                                       "*, https://a.example", "ftp://x.example"])
    def test_bad_origins_are_refused(self, value):
        with pytest.raises(sl.ConfigError, match="--cors-origins"):
            sl.load_config(["--cors-origins", value], {})


class TestLogs:
    def test_secrets_are_cut_from_urls(self):
        assert (sl.redacted("amqp://guest:s3cret@broker:5672/vh?token=x")
                == "amqp://guest@broker:5672/vh")
        assert (sl.redacted("https://api.example.com/v1/messages?key=abc")
                == "https://api.example.com/v1/messages")
        assert (sl.shown_database("postgresql://app:s3cret@db:5432/sms")
                == "postgresql://app@db:5432/sms")
        assert sl.shown_database("/var/lib/smsleopard.db") == "/var/lib/smsleopard.db"

    @pytest.mark.asyncio
    async def test_progress_lines_say_sent_failed_pending_and_rate(self, h, caplog):
        ids = await h.add_customers(4)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(4)
        reporter = sl.ProgressLog(h.store, h.clock, on_crash=None)
        with caplog.at_level(logging.INFO, logger="smsleopard"):
            reporter.report([await h.store.campaigns.get(campaign_id)], T0)
            h.sender.gate.set()
            await h.settle()
            reporter.report([{**await h.store.campaigns.get(campaign_id), "status": "sending"}],
                            T0 + 10)
        first, second = [r for r in caplog.records
                         if getattr(r, "event", "") == "campaign_progress"]
        assert (first.sent, first.failed, first.pending, first.rate) == (0, 0, 4, 0.0)
        assert (second.sent, second.failed, second.pending, second.rate) == (4, 0, 0, 0.4)
        assert (f"campaign {campaign_id} sending: 4 sent, 0 failed, 0 pending, 0 messages/s"
                in second.getMessage())

    def test_a_campaign_first_seen_sending_says_its_sampled_rate_not_zero(self, caplog):
        """After a resume (or a first look) there is no line before: the rate sampled as
        outcomes are recorded, not 0 messages/s."""
        campaign = {**dict.fromkeys(sl.CAMPAIGN_COLUMNS, 0), "id": 7, "status": "sending",
                    "total_count": 300, "sent_count": 63, "rate_at": T0 - 0.5,
                    "rate_settled": 55, "rate": 9.2, "finished_at": None}
        with caplog.at_level(logging.INFO, logger="smsleopard"):
            sl.ProgressLog(None, sl.Clock(), on_crash=None).report([campaign], T0)
        (line,) = [r for r in caplog.records if getattr(r, "event", "") == "campaign_progress"]
        assert (line.sent, line.pending, line.rate) == (63, 237, 9.2)

    @needs_processes
    def test_a_real_process_logs_json_lines(self, tmp_path):
        process = ServiceProcess(tmp_path, "--log-format", "json", "--receipt-secret",
                                 RECEIPT_SECRET, "--queue-name", "never-logged-secretly").start()
        try:
            for n in range(3):
                process.call("POST", "/customers", {"phone": f"+25471200000{n}"})
            process.call("POST", "/campaigns",
                         {"name": "n", "channel": "sms", "base_template": "Hi"})
            process.call("POST", "/campaigns/1/send", {"all_customers": True})
            process.wait_for(lambda campaign: campaign["status"] == "sent",
                             "the campaign to be sent")
        finally:
            assert process.stop(signal.SIGTERM) == 0
        text = process.log.read_text()
        lines = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
        events = {line["event"]: line for line in lines if "event" in line}
        assert events["started"]["schema_version"] == sl.SCHEMA_VERSION
        assert (events["started"]["queue"],
                events["started"]["database"]) == ("in-process", process.db)
        assert events["send_accepted"]["messages_queued"] == 3
        assert events["campaign_finished"]["stats"]["sent"] == 3
        assert events["stopped"]["pending"] == 0
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        assert any(line["logger"] == "smsleopard.access" for line in lines)
        assert RECEIPT_SECRET not in text and RECEIPT_SECRET.removeprefix("whsec_") not in text


# ---------------------------------------------------------------------------
# STORAGE
# ---------------------------------------------------------------------------


# -- STORAGE ------------------------------------------------------------------

INSERT_CAMPAIGN = ("INSERT INTO campaigns (name, channel, status, base_template, created_at, "
                   "updated_at) VALUES ")


class TestStore:
    pytestmark = pytest.mark.asyncio

    async def test_schema_is_versioned_and_reopening_migrates_nothing(self, tmp_path):
        path = str(tmp_path / "s.db")
        store = await sl.Store.open(path)
        await store.close()
        store = await sl.Store.open(path)
        assert await store.db.fetch("PRAGMA user_version") == [(sl.SCHEMA_VERSION,)]
        await store.close()

    async def test_a_second_process_on_one_sqlite_file_is_refused(self, tmp_path):
        path = str(tmp_path / "s.db")
        # this process owns the file; another open is another owner
        store = await sl.Store.open(path)
        with pytest.raises(sl.ConfigError) as refused:
            await sl.Store.open(path)
        await store.close()
        assert str(refused.value) == (
            f"database {path!r} is in use by another SMSLeopard process; "
            "one process per SQLite file (PostgreSQL serves several)")
        await (await sl.Store.open(path)).close()  # free again once the owner is gone

    async def test_a_read_that_fails_leaves_later_reads_current(self, tmp_path):
        """A row whose text is not UTF-8 (once, a gateway's id with a lone surrogate, through
        SQLite's JSON) fails the reads of it; the reads after see what is committed since."""
        broken = ("UPDATE campaigns SET name = (SELECT value FROM json_each(?))",
                  (json.dumps(["a\ud800"]),))
        store = await sl.Store.open(str(tmp_path / "s.db"))
        try:
            await store.campaigns.create({"name": "a", "channel": "sms", "base_template": "Hi"},
                                         T0)
            reads = [store.db.fetch, store.db.fetch_point]

            async def in_transaction(sql):
                async with store.db.transaction() as tx:
                    return await tx.fetch(sql)

            for read in [*reads, in_transaction]:
                async with store.db.transaction() as tx:
                    await tx.execute(*broken)
                with pytest.raises(sl.DatabaseUnavailable, match="Could not decode to UTF-8"):
                    await read("SELECT name FROM campaigns")
                async with store.db.transaction() as tx:
                    await tx.execute("UPDATE campaigns SET name = 'mended'")
                assert await read("SELECT name FROM campaigns") == [("mended",)]
        finally:
            await store.close()

    async def test_a_read_by_key_sees_what_is_committed_without_waiting(self, tmp_path):
        store = await sl.Store.open(str(tmp_path / "s.db"))
        campaign_id = (await store.campaigns.create(
            {"name": "a", "channel": "sms", "base_template": "Hi"}, T0))["id"]
        async with store.db.transaction() as tx:  # read on the loop's thread while a write is open
            await tx.execute("UPDATE campaigns SET name = 'b' WHERE id = ?", (campaign_id,))
            assert (await store.campaigns.get(campaign_id))["name"] == "a"
        assert (await store.campaigns.get(campaign_id))["name"] == "b"
        await store.close()

    @pytest.mark.parametrize("error", [sqlite3.OperationalError("database is locked"),
                                       sqlite3.DatabaseError("database disk image is malformed")])
    async def test_a_read_by_key_that_fails_goes_through_the_readers_thread(
            self, tmp_path, monkeypatch, error):
        store = await sl.Store.open(str(tmp_path / "s.db"))
        campaign_id = (await store.campaigns.create(
            {"name": "a", "channel": "sms", "base_template": "Hi"}, T0))["id"]

        class Failing:
            def execute(self, sql, params):
                raise error

            def close(self):
                pass

        # as another program's lock, or a damaged page
        monkeypatch.setattr(store.db, "_point", Failing())
        assert (await store.campaigns.get(campaign_id))["name"] == "a"
        await store.close()

    @pytest.mark.parametrize("cancel_at", ["begin", "body"])
    async def test_a_cancelled_transaction_leaves_the_connection_clean(self, cancel_at):
        store = await sl.Store.open(":memory:")
        inside = asyncio.Event()

        async def writer():
            async with store.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO customers (phone, created_at) VALUES ('+15550001111', '')")
                inside.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(writer())
        if cancel_at == "begin":
            await asyncio.sleep(0)  # the task waits for its BEGIN to run in the database's thread
        else:
            await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # no "cannot start a transaction within a transaction"
        async with store.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO customers (phone, created_at) VALUES ('+15550002222', '')")
        assert await store.db.fetch("SELECT phone FROM customers") == [("+15550002222",)]
        await store.close()

    async def test_a_newer_schema_is_refused(self, tmp_path):
        path = str(tmp_path / "s.db")
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA user_version = 99")
        with pytest.raises(sl.ConfigError, match="newer than this release"):
            await sl.Store.open(path)

    async def test_a_version_1_database_is_upgraded_with_its_rows(self, tmp_path):
        path = str(tmp_path / "v1.db")
        seed = re.sub(r", '[\w/]+'\)([,;])\n", r")\1\n", SEED_SQL.split("UPDATE campaigns SET")[0])
        seed = re.sub(r"UPDATE customers SET opted_out_at .*\n", "",
                      seed.replace(", timezone) VALUES", ") VALUES"))
        # what release 1.0 left behind, a claim of its last run included
        with sqlite3.connect(path) as db:
            db.executescript(sl.MIGRATIONS[0] + seed)
            db.execute("UPDATE outbound_messages SET claim_token = 7, claim_expires_at = 1 "
                       "WHERE campaign_id = 2 AND customer_id = 1")
            db.execute("UPDATE campaigns SET total_count = (SELECT count(*) "
                       "FROM outbound_messages WHERE campaign_id = campaigns.id), "
                       "sent_count = 13, failed_count = 1 WHERE id = 1")
            db.execute("UPDATE campaigns SET total_count = 4 WHERE id = 2")
            db.execute("PRAGMA user_version = 1")
        store = await sl.Store.open(path)
        assert await store.db.fetch("PRAGMA user_version") == [(sl.SCHEMA_VERSION,)]
        sent = await store.campaigns.get(1)
        assert (sent["status"], sl.message_stats(sent)) == (
            "sent", stats(total=14, sent=13, failed=1))
        customers = await store.db.fetch(
            "SELECT count(*), count(DISTINCT timezone), count(opted_out_at) FROM customers")
        assert customers == [(14, 1, 0)]  # every one in UTC, none opted out
        assert (sent["started_at"] == sent["created_at"]
                and sent["finished_at"] == sent["updated_at"])
        assert await store.db.fetch("SELECT count(*), count(claim_token) FROM outbound_messages "
                                    "WHERE campaign_id = 2 AND status = 'pending'") == [(4, 0)]
        assert await store.db.fetch("PRAGMA foreign_key_check") == []
        await store.close()

    async def test_a_version_2_database_gains_consent(self, tmp_path):
        path = str(tmp_path / "v2.db")
        with sqlite3.connect(path) as db:  # what the first release with receipts left behind
            db.executescript(sl.MIGRATIONS[0] + sl.MIGRATIONS[1])
            db.execute("INSERT INTO customers (phone, created_at) VALUES ('+254712000001', '')")
            db.execute(INSERT_CAMPAIGN + "('x', 'sms', 'draft', 't', '', '')")
            db.execute("PRAGMA user_version = 2")
        store = await sl.Store.open(path)
        customer = await store.customers.get(1)
        assert (customer["timezone"], customer["opted_out_at"]) == ("UTC", None)
        assert (await store.campaigns.get(1))["quiet_hours"] == 1
        await store.close()

    async def test_a_version_3_database_counts_its_webhook_outbox(self, tmp_path):
        path = str(tmp_path / "v3.db")
        with sqlite3.connect(path) as db:  # what the first release with consent left behind
            db.executescript(";".join(sl.MIGRATIONS[:3]))
            db.executemany("INSERT INTO webhook_events (type, body, status, created_at) "
                           "VALUES ('t', '{}', ?, '')",
                           [("pending",), ("pending",), ("delivered",), ("dead",)])
            db.execute("PRAGMA user_version = 3")
        store = await sl.Store.open(path)
        assert (await store.outcomes.gauges())[1] == 2
        await store.close()

    async def test_a_version_9_database_counts_attempts_from_its_upgrade(self, tmp_path):
        path = str(tmp_path / "v9.db")
        with sqlite3.connect(path) as db:  # what the last release before attempts left behind
            db.executescript(";".join(sl.MIGRATIONS[:9]))
            db.execute(INSERT_CAMPAIGN + "('x', 'sms', 'sending', 't', '', '')")
            db.execute("INSERT INTO campaign_progress VALUES (1, 5, 2, 0, 0, 0, 0, 0)")
            db.execute("PRAGMA user_version = 9")
        store = await sl.Store.open(path)
        assert await store.campaigns.progress_points(1, [9.0]) == [(5.0, 2, *[0] * 6)]
        assert (await store.campaigns.get(1))["attempts_count"] == 0
        await store.close()

    @pytest.mark.parametrize("sql", [
        INSERT_CAMPAIGN + "('x', 'fax', 'draft', 't', '', '')",
        INSERT_CAMPAIGN + "('x', 'sms', 'archived', 't', '', '')",
        INSERT_CAMPAIGN + "('', 'sms', 'draft', 't', '', '')",
        "UPDATE outbound_messages SET status = 'lost'",
        "UPDATE outbound_messages SET status = 'sending'",  # a claim without its token
        "UPDATE outbound_messages SET claim_token = 5 WHERE status = 'sent'",
        "INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at) "
        "VALUES (1, 1, '', '')",
        "INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at) "
        "VALUES (1, 999, '', '')",
        "INSERT INTO customers (phone, created_at) VALUES ('+254712000001', '')",
        "UPDATE campaigns SET sent_count = total_count + 1",
        "UPDATE campaigns SET cancelled_count = -1",
    ])
    async def test_constraints_hold_in_the_database(self, sql):
        store = await sl.Store.open(":memory:")
        await store.seed_if_empty(SEED_SQL)
        with pytest.raises(sqlite3.IntegrityError):
            async with store.db.transaction() as tx:
                await tx.execute(sql)
        await store.close()

    async def test_every_hot_query_uses_an_index(self):
        store = await sl.Store.open(":memory:")
        queries = [
            "SELECT * FROM outbound_messages WHERE campaign_id = 1 AND status = 'failed' "
            "AND id > 5 ORDER BY id",
            "SELECT * FROM outbound_messages WHERE campaign_id = 1 AND id > 5 ORDER BY id",
            "SELECT * FROM campaigns WHERE status = 'sent' AND channel = 'sms' ORDER BY id DESC",
            "SELECT * FROM campaigns WHERE channel = 'sms' ORDER BY id DESC",
            # a deep numbered page
            "SELECT id FROM campaigns ORDER BY id DESC LIMIT 1 OFFSET 5000",
            "SELECT count(*) FROM campaigns",
            "SELECT min(scheduled_at) FROM campaigns WHERE status = 'scheduled' "
            "AND total_count > 0",
            "SELECT * FROM customers WHERE location = 'x' ORDER BY id",
            "SELECT id FROM customers WHERE preferred_product = 'x'",
            "SELECT last_error, status, count(*) FROM outbound_messages WHERE campaign_id = 1 "
            "AND last_error IS NOT NULL AND status IN ('failed', 'pending') "
            "GROUP BY last_error, status",
            "SELECT token, message_ids FROM claims WHERE expires_at <= 5",
        ]
        for query in queries:
            plan = " ".join(row[-1] for row in await store.db.fetch(f"EXPLAIN QUERY PLAN {query}"))
            assert "USING" in plan, (query, plan)
            assert "SCAN" not in plan or "COVERING INDEX" in plan, (query, plan)
        await store.close()

    async def test_the_seed_has_what_the_demo_needs(self):
        store = await sl.Store.open(":memory:")
        assert await store.seed_if_empty(SEED_SQL)
        assert not await store.seed_if_empty("this is not SQL")  # only a new database is seeded
        customers = await store.db.fetch(
            "SELECT first_name, last_name, location, preferred_product FROM customers")
        assert len(customers) >= 10
        assert any(None in row for row in customers) and any("" in row for row in customers)
        zones = {zone for zone, in await store.db.fetch("SELECT timezone FROM customers")}
        assert len(zones - {"UTC"}) >= 3 and all(sl.is_timezone(zone) for zone in zones)
        assert await store.db.fetch(
            "SELECT count(*) FROM customers WHERE opted_out_at IS NOT NULL") == [(1,)]
        statuses = {status for status, in await store.db.fetch("SELECT status FROM campaigns")}
        assert len(statuses) >= 3
        for campaign_id, in await store.db.fetch("SELECT id FROM campaigns"):
            counted = Counter(status for status, in await store.db.fetch(
                "SELECT status FROM outbound_messages WHERE campaign_id = ?", (campaign_id,)))
            stats = sl.message_stats(await store.campaigns.get(campaign_id))
            assert stats == {"total": sum(counted.values()),
                             **{s: counted[s] for s in stats if s != "total"}}
        # a message that was retried says why
        assert await store.db.fetch("SELECT count(*) FROM outbound_messages "
                                    "WHERE retry_count > 0 AND last_error IS NULL") == [(0,)]
        await store.close()


class TestStoreHelpers:
    def test_is_due(self):
        future, past = sl.utc_iso(T0 + 60), sl.utc_iso(T0 - 60)
        assert sl.is_due({"status": "draft", "scheduled_at": None}, T0)
        assert not sl.is_due({"status": "scheduled", "scheduled_at": future}, T0)
        assert sl.is_due({"status": "scheduled", "scheduled_at": past}, T0)
        assert not sl.is_due({"status": "sending", "scheduled_at": None}, T0)

    def test_compact_ids(self):
        assert sl.compact_ids([3, 4, 5]) == range(3, 6)
        assert sl.compact_ids([5, 3, 4]) == range(3, 6)
        assert sl.compact_ids([3, 5]) == [3, 5]
        assert sl.compact_ids([]) == []


# ---------------------------------------------------------------------------
# QUEUE
# ---------------------------------------------------------------------------


# -- QUEUE --------------------------------------------------------------------

class TestQueue:
    @pytest.mark.parametrize("ids", [[1], [1, 2, 3], [5, 1, 2, 9, 10, 11], list(range(1, 1001))])
    def test_jobs_round_trip(self, ids):
        assert sl.decode_job(sl.encode_job(ids)) == sorted(ids)

    def test_a_range_encodes_in_a_few_bytes(self):
        assert sl.encode_job(range(1, 100_001)) == b"[[1,100000]]"

    @pytest.mark.parametrize("body", [b"", b"{}", b"[[2,1]]", b"[[0,3]]", b'[["1",2]]',
                                      b"[[1,2,3]]", b"[[1,1000000]]", b"[[true,2]]"])
    def test_bad_jobs_are_refused(self, body):
        with pytest.raises(ValueError):
            sl.decode_job(body)

    @pytest.mark.asyncio
    async def test_memory_queue_delays_on_the_clock(self):
        clock = FakeClock()
        queue = sl.MemoryQueue(clock)
        await queue.publish([[3]], delay=10)
        await queue.publish([[1], [2]])
        await queue.publish([[4]], delay=5)
        assert (queue.ready(), await queue.depth()) == (2, 4)
        assert [(await queue.get()).ids for _ in range(2)] == [[1], [2]]
        clock.advance(5)
        assert (await queue.get()).ids == [4]
        clock.advance(4.9)
        assert queue.ready() == 0
        clock.advance(0.1)
        assert (await queue.get()).ids == [3]
        assert await queue.depth() == 0


# -- RabbitMQ: a real broker, when SMSLEOPARD_TEST_AMQP_URL names one ---------

AMQP_URL = os.environ.get("SMSLEOPARD_TEST_AMQP_URL", "")
URL_HOST = urllib.parse.urlsplit(AMQP_URL).hostname or "127.0.0.1"
URL_PORT = urllib.parse.urlsplit(AMQP_URL).port or 5672
needs_rabbitmq = pytest.mark.skipif(
    not AMQP_URL, reason="set SMSLEOPARD_TEST_AMQP_URL to run the RabbitMQ tests")


class TcpRelay:
    """A TCP relay between the service and the broker, which a test can cut to make the broker
    unreachable."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.port = None
        self._server = None
        self._writers = set()

    async def start(self):
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port or 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self):
        self._server.close()
        await self._server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()

    async def _relay(self, client_reader, client_writer):
        try:
            broker_reader, broker_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, broker_writer}

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()

        await asyncio.gather(pipe(client_reader, broker_writer),
                             pipe(broker_reader, client_writer))


def amqp_via(port):
    """The test broker's URL, pointed at another port (a relay)."""
    from yarl import URL

    return str(URL(AMQP_URL).with_port(port))


@pytest_asyncio.fixture
async def rabbit(aiohttp_client, sender):
    """Apps on the real broker, each test with its own queue names and a real clock (TTLs are
    real time)."""
    harnesses = []

    async def make(url=AMQP_URL, **settings):
        settings.setdefault("queue_name", f"smsleopard-test-{os.getpid()}-{len(harnesses)}-"
                                          f"{random.getrandbits(32):08x}")
        config = test_config(queue_url=url, retry_base_ms=50, **settings)
        app = sl.create_app(config, sender=sender, rng=random.Random(3))
        harnesses.append(Harness(await aiohttp_client(app), app, sl.Clock(), sender))
        return harnesses[-1]

    yield make
    for harness in harnesses:  # disconnect first, or the robust channel declares the queues again
        await harness.client.close()
        await sl.delete_rabbit_queues(AMQP_URL, harness.app[sl.CONFIG].queue_name)


async def until(predicate, what, timeout=30.0):  # noqa: ASYNC109 (a deadline to poll to)
    """Poll until predicate() holds: a broker and its TTLs run on real time, with no callback to
    wait on."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := await predicate():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def broker_queues(prefix):
    """The broker's queues whose names start with `prefix`, with their message counts
    (rabbitmqctl)."""
    listing = await asyncio.to_thread(
        subprocess.run, ["rabbitmqctl", "-q", "list_queues", "name", "messages"],
        capture_output=True, text=True, timeout=60, check=True)
    return dict(line.split("\t") for line in listing.stdout.splitlines()
                if line.startswith(prefix))


async def broker_holds_nothing(name):
    """True when every queue of this test holds no message, ready or unacknowledged."""
    counts = await broker_queues(name)
    return bool(counts) and all(count == "0" for count in counts.values())


def finished(h, campaign_id):
    async def check():
        campaign = await h.campaign(campaign_id)
        return campaign if campaign["status"] in ("sent", "failed") else None

    return check


@needs_rabbitmq
@pytest.mark.xdist_group("rabbitmq")  # one of them closes every connection of the broker
class TestRabbitMQ:
    pytestmark = pytest.mark.asyncio

    async def test_a_campaign_goes_end_to_end_through_the_broker(self, rabbit):
        h = await rabbit(batch_size=7)
        ids = await h.add_customers(50)
        campaign_id = await h.add_campaign()
        assert (await h.send(campaign_id, {"customer_ids": ids}))["messages_queued"] == 50
        campaign = await until(finished(h, campaign_id), "the campaign to finish")
        assert campaign["stats"] == stats(total=50, pending=0, sending=0, sent=50, failed=0)
        assert sorted(h.sender.attempts.values()) == [1] * 50
        assert await h.get("/health") == {"status": "ok", "db": "ok", "queue": "ok",
                                          "queue_depth": 0}

    async def test_a_retry_goes_through_the_delay_queue(self, rabbit):
        h = await rabbit()
        ids = await h.add_customers(3)
        h.sender.script[h.phones[1]] = transient(2)
        campaign_id = await h.launch(ids)
        await until(finished(h, campaign_id), "the campaign to finish")
        messages = await h.messages(campaign_id)
        assert [(m["status"], m["retry_count"]) for m in messages] == [
            ("sent", 0), ("sent", 2), ("sent", 0)]
        assert h.sender.attempts[h.phones[1]] == 3
        queues = await broker_queues(h.app[sl.CONFIG].queue_name)
        # the retries waited on the broker, not in this process
        assert any(".delay." in name for name in queues)

    async def test_exhausted_retries_are_failed_and_acknowledged(self, rabbit):
        h = await rabbit(max_retries=2)
        ids = await h.add_customers(1)
        h.sender.script[h.phones[0]] = transient(10)
        campaign_id = await h.launch(ids)
        campaign = await until(finished(h, campaign_id), "the campaign to fail")
        assert campaign["status"] == "failed" and h.sender.attempts[h.phones[0]] == 3
        name = h.app[sl.CONFIG].queue_name
        await until(lambda: broker_holds_nothing(name),
                    "the broker to hold nothing for this test (acked)")
        assert h.sender.attempts[h.phones[0]] == 3

    async def test_a_broker_closing_the_connection_mid_campaign_loses_nothing(self, rabbit):
        h = await rabbit(concurrency=5, batch_size=5)
        ids = await h.add_customers(60)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(5)
        closed = await asyncio.to_thread(
            subprocess.run, ["rabbitmqctl", "close_all_connections", "outage test"],
            capture_output=True, text=True, timeout=60, check=False)
        assert closed.returncode == 0, closed.stderr
        h.sender.gate.set()
        campaign = await until(finished(h, campaign_id),
                               "the campaign to finish after the reconnect")
        assert campaign["stats"] == stats(total=60, pending=0, sending=0, sent=60, failed=0)
        assert sorted(h.sender.attempts.values()) == [1] * 60

    async def test_an_unreachable_broker_is_reported_and_sending_resumes_when_it_returns(
            self, rabbit):
        relay = TcpRelay(URL_HOST, URL_PORT)
        await relay.start()
        h = await rabbit(url=amqp_via(relay.port))
        ids = await h.add_customers(20)
        campaign_id = await h.add_campaign()
        await relay.cut()
        health = await until(lambda: h.request("GET", "/health"), "a health answer")
        status, report = await until(self._down(h), "/health to see the broker gone")
        assert (status, report["queue"], report["db"]) == (503, "down", "ok")
        payload = await h.send(campaign_id, {"customer_ids": ids}, expect=503)
        assert_error(payload, "QUEUE_UNAVAILABLE")
        assert health is not None and len(await h.messages(campaign_id)) == 20  # stored, waiting
        await until(self._backing_off(h.queue), "the reconnect attempts to slow down", timeout=10)

        await relay.start()  # the broker is back: reconnect, recover, send
        campaign = await until(finished(h, campaign_id),
                               "the campaign to finish once the broker is back")
        assert campaign["stats"]["sent"] == 20 and sorted(h.sender.attempts.values()) == [1] * 20
        await relay.cut()

    @staticmethod
    def _backing_off(queue):
        async def check():
            return queue.reconnect_delay >= 4  # 1 s, then 2 s, then 4 s between attempts

        return check

    @staticmethod
    def _down(h):
        async def check():
            status, report = await h.request("GET", "/health")
            return (status, report) if status == 503 else None

        return check


class BlackHoleRelay:
    """A TCP relay, in a thread of its own, that a test can black-hole: connections stay open
    and are still accepted, but no byte goes through (as on a network that drops every packet),
    until it is restored and what was held goes on."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.loop = asyncio.new_event_loop()
        self.open = None
        self.port = None
        self._thread = None

    def start(self):
        import threading

        ready = threading.Event()

        async def serve():
            self.open = asyncio.Event()
            self.open.set()
            server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            await asyncio.Event().wait()

        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(serve(),),
                                        daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def black_hole(self):
        self.loop.call_soon_threadsafe(self.open.clear)

    def restore(self):
        self.loop.call_soon_threadsafe(self.open.set)

    async def _relay(self, client_reader, client_writer):
        await self.open.wait()
        try:
            broker_reader, broker_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return

        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    await self.open.wait()  # held, not lost, while black-holed
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()

        await asyncio.gather(pipe(client_reader, broker_writer),
                             pipe(broker_reader, client_writer))


@needs_rabbitmq
@pytest.mark.xdist_group("rabbitmq")
class TestRabbitMQProcess:
    def test_a_broker_black_hole_strands_nothing(self, service):
        relay = BlackHoleRelay(URL_HOST, URL_PORT).start()
        name = f"smsleopard-test-blackhole-{os.getpid()}-{random.getrandbits(32):08x}"
        svc = service("--queue-url", amqp_via(relay.port), "--queue-name", name).start()
        try:
            svc.call("POST", "/customers", {"customers": [
                {"phone": f"+1555{i:07d}", "first_name": f"N{i}"} for i in range(200)]})
            svc.call("POST", "/campaigns",
                     {"name": "c", "channel": "sms", "base_template": "Hi {first_name}"})
            relay.black_hole()
            status, payload = svc.request("POST", "/campaigns/1/send", {"all_customers": True})
            assert (status, payload["error"]["code"]) == (503, "QUEUE_UNAVAILABLE")
            until_true(lambda: svc.request("GET", "/health")[0] == 503,
                       "/health to see the queue down")
            relay.restore()  # the network is back: no restart, no repeated send
            svc.wait_for(lambda c: c["status"] == "sent", "the stored messages to go out",
                         timeout=90)
            until_true(lambda: svc.request("GET", "/health")[0] == 200, "/health to be ok again")
            assert_each_customer_got_one_sent_message(svc)
        finally:
            svc.process.kill()
            svc.process.wait()
            asyncio.run(sl.delete_rabbit_queues(AMQP_URL, name))

    def test_kill_9_mid_campaign_through_the_broker(self, service):
        name = f"smsleopard-test-crash-{os.getpid()}-{random.getrandbits(32):08x}"
        svc = service("--queue-url", AMQP_URL, "--queue-name", name, "--send-latency-ms", "40",
                      "--concurrency", "20", "--batch-size", "20", "--claim-timeout", "1").start()
        try:
            start_campaign(svc)
            svc.wait_for(lambda c: c["stats"]["sent"] >= 60, "a campaign in flight")
            svc.process.kill()
            svc.process.wait()
            svc.start()
            svc.wait_for(lambda c: c["status"] == "sent",
                         "the campaign to finish after the restart")
            assert_each_customer_got_one_sent_message(svc)
        finally:
            asyncio.run(sl.delete_rabbit_queues(AMQP_URL, name))

    def test_an_unreachable_broker_stops_the_start_with_one_line(self, capsys):
        assert sl.main(["--queue-url", amqp_via(1), "--db", ":memory:", "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert (err.startswith("smsleopard: error: cannot connect to RabbitMQ")
                and err.count("\n") == 1)
        assert "guest:guest" not in err  # no password in the message


@needs_processes
def test_aio_pika_and_asyncpg_are_imported_only_when_configured():
    script = ("import asyncio, sys, smsleopard as sl\n"
              "async def main():\n"
              "    app = sl.create_app(sl.Config(db=':memory:', seed=False))\n"
              "    runner = sl.web.AppRunner(app)\n"
              "    await runner.setup()\n"
              "    await runner.cleanup()\n"
              "asyncio.run(main())\n"
              "print('aio_pika' in sys.modules, 'asyncpg' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=Path(sl.__file__).parent, check=False)
    assert result.stdout.strip() == "False False", result.stderr


# -- Several processes on PostgreSQL (and RabbitMQ), when SMSLEOPARD_TEST_PG_URL names a server ---

needs_postgres = pytest.mark.skipif(
    not PG_URL, reason="set SMSLEOPARD_TEST_PG_URL to run the PostgreSQL tests")


@pytest.fixture
def fresh_postgres():
    """A PostgreSQL database of this test's own, dropped after: its URL."""
    with own_postgres_database(
            f"smsleopard_test_{os.getpid()}_{random.getrandbits(32):08x}") as url:
        yield url


def postgres_rows(url, query):
    import asyncpg

    async def fetch():
        connection = await asyncpg.connect(url)
        try:
            return [tuple(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def sent_by(process):
    """How many attempts a live process counts as sent (its /metrics)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"{process.url}/metrics", timeout=10).read().decode()
    return sum(sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "smsleopard_messages_total"
               and sample.labels["outcome"] == "sent")


@pytest_asyncio.fixture
async def pg_queue(fresh_postgres, aiohttp_client, sender):  # the database outlives the apps
    """Apps on a PostgreSQL database of the test's own that is their queue too, on a real
    clock (the queue's delays and leases are the server's time)."""

    async def make(**settings):
        config = test_config(db=fresh_postgres, queue_url=fresh_postgres, retry_base_ms=50,
                             **settings)
        app = sl.create_app(config, sender=sender, rng=random.Random(3))
        return Harness(await aiohttp_client(app), app, sl.Clock(), sender)

    return make


async def end_other_sessions(connection):
    """What a restart of the server does to every other connection to this database."""
    await connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid != pg_backend_pid()")


async def open_pg_queue(url, name="jobs", lease=30.0, consumes=True):
    queue = sl.PostgresQueue(url, name, lease, consumes)
    await queue.open()
    return queue


@needs_postgres
class TestPostgresQueue:
    pytestmark = pytest.mark.asyncio

    async def test_jobs_go_out_in_order_and_an_acknowledged_one_is_gone(self, fresh_postgres):
        queue, other = (await open_pg_queue(fresh_postgres),
                        await open_pg_queue(fresh_postgres, name="other"))
        try:
            await queue.publish([[1, 2, 3], [7]])
            await other.publish([[9]])  # another queue's, in the same table
            assert (await queue.depth(), await other.depth()) == (2, 1)
            first, second = await queue.get(), await queue.get()
            assert (list(first.ids), list(second.ids)) == ([1, 2, 3], [7])
            await first.ack()
            assert await queue.depth() == 1  # the second is out, not acknowledged yet
            await second.ack()
            assert (await queue.depth(), queue.healthy()) == (0, True)
        finally:
            await queue.close()
            await other.close()

    async def test_a_job_its_consumer_never_acknowledged_goes_to_another_after_the_lease(
            self, fresh_postgres):
        dying, living = (await open_pg_queue(fresh_postgres, lease=1.0),
                         await open_pg_queue(fresh_postgres))
        try:
            await dying.publish([[5, 6]])
            # then its process dies: no ack, no close
            assert list((await dying.get()).ids) == [5, 6]
            dying._pool.terminate()
            dying._listener.terminate()
            with pytest.raises(asyncio.TimeoutError):  # the lease holds it meanwhile
                await asyncio.wait_for(living.get(), 0.05)
            delivery = await asyncio.wait_for(living.get(), 10)
            assert list(delivery.ids) == [5, 6]
            await delivery.ack()
            assert await living.depth() == 0
        finally:
            await living.close()

    async def test_a_job_taken_and_not_finished_is_handed_back_at_close(self, fresh_postgres):
        stopping, other = await open_pg_queue(fresh_postgres), await open_pg_queue(fresh_postgres)
        try:
            await stopping.publish([[8]])
            await stopping.get()  # its batch is cut short by the shutdown: never acknowledged
            await stopping.close()
            # not a lease (30 s) later
            assert list((await asyncio.wait_for(other.get(), 10)).ids) == [8]
        finally:
            await other.close()

    async def test_a_delayed_job_waits_its_delay(self, fresh_postgres):
        queue = await open_pg_queue(fresh_postgres)
        try:
            await queue.publish([[1]], delay=3600)
            await queue.publish([[2]], delay=1.0)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(queue.get(), 0.05)
            assert list((await asyncio.wait_for(queue.get(), 10)).ids) == [2]
            assert await queue.depth() == 2  # the hour's job still waits
        finally:
            await queue.close()

    async def test_another_process_s_publish_wakes_a_waiting_consumer(
            self, fresh_postgres, monkeypatch):
        # no poll would find it: only the notification
        monkeypatch.setattr(sl, "PG_QUEUE_POLL", 3600.0)
        consumer, api = (await open_pg_queue(fresh_postgres),
                         await open_pg_queue(fresh_postgres, consumes=False))
        waiting = asyncio.ensure_future(consumer.get())
        try:
            await asyncio.sleep(0.1)  # let it look, find nothing and wait
            assert not waiting.done()
            await api.publish([[42]])
            assert list((await asyncio.wait_for(waiting, 10)).ids) == [42]
            assert api.healthy() and api.ready() == 0
        finally:
            waiting.cancel()
            await consumer.close()
            await api.close()

    async def test_connections_the_server_ended_cost_a_try_at_most(
            self, fresh_postgres, monkeypatch):
        import asyncpg

        monkeypatch.setattr(sl, "PG_QUEUE_POLL", 0.0)  # a failed use is worth another try at once
        queue, admin = await open_pg_queue(fresh_postgres), await asyncpg.connect(fresh_postgres)
        try:  # a restart of the server, as the pool's and the listener's connections see it
            await end_other_sessions(admin)
            published = 0
            for _ in range(3):  # each dead connection of the pool fails once (a 503), then is gone
                try:
                    await queue.publish([[published + 1]])
                    published += 1
                except sl.QueueUnavailable:
                    assert queue.healthy()  # the while has passed (none here): worth a try again
            assert published >= 1 and await queue.depth() == published
            # the consumer side came back too, its LISTEN included
            for n in range(1, published + 1):
                delivery = await asyncio.wait_for(queue.get(), 10)
                assert list(delivery.ids) == [n]
                await delivery.ack()
            assert queue._listener is not None and not queue._listener.is_closed()
        finally:
            await admin.close()
            await queue.close()

    async def test_a_campaign_goes_end_to_end_through_postgresql_s_queue(self, pg_queue):
        h = await pg_queue(batch_size=7)
        ids = await h.add_customers(50)
        h.sender.script[h.phones[1]] = transient(2)  # its retries wait in the table
        campaign_id = await h.launch(ids)
        campaign = await until(finished(h, campaign_id), "the campaign to finish")
        assert campaign["stats"] == stats(total=50, sent=50)
        assert sorted(h.sender.attempts.values()) == [1] * 49 + [3]

        # the campaign is sent a moment before its last job is acknowledged
        async def acknowledged():
            return await h.get("/health") == {"status": "ok", "db": "ok", "queue": "ok",
                                              "queue_depth": 0}

        await until(acknowledged, "every job acknowledged")

    async def test_an_api_process_and_a_worker_share_the_work_through_it(self, pg_queue):
        api, worker = await pg_queue(role="api"), await pg_queue(role="worker")
        ids = await api.add_customers(30)
        campaign_id = await api.launch(ids)
        campaign = await until(finished(api, campaign_id), "the campaign to finish")
        assert campaign["stats"] == stats(total=30, sent=30)
        assert sorted(api.sender.attempts.values()) == [1] * 30
        assert (await worker.client.get("/health")).status == 200


class TestPostgresLocks:
    pytestmark = [needs_postgres, pytest.mark.asyncio]  # noqa: RUF012 (pytest reads it)

    async def test_processes_starting_together_make_the_schema_once(self, fresh_postgres):
        stores = await asyncio.gather(sl.Store.open(fresh_postgres), sl.Store.open(fresh_postgres))
        for store in stores:
            assert await store.db.schema_version() == sl.SCHEMA_VERSION
            await store.close()

    async def test_a_version_3_database_counts_its_outbox_and_campaigns_by_statement(
            self, fresh_postgres):
        import asyncpg

        # what the first release on PostgreSQL made
        connection = await asyncpg.connect(fresh_postgres)
        await connection.execute(
            sl.PG_SCHEMA_3 +
            "INSERT INTO smsleopard_schema VALUES (3);"
            "INSERT INTO webhook_events (type, body, status, created_at) VALUES "
            "('t', '{}', 'pending', ''), ('t', '{}', 'pending', ''), ('t', '{}', 'dead', '');"
            + INSERT_CAMPAIGN
            + "('a', 'sms', 'draft', 't', '', ''), ('b', 'sms', 'sent', 't', '', '')")
        store = await sl.Store.open(fresh_postgres)
        assert (await store.db.schema_version(), await store.outcomes.gauges()) == (
            sl.SCHEMA_VERSION, ({**dict.fromkeys(sl.CampaignStatus, 0), "draft": 1, "sent": 1}, 2))
        await connection.execute(  # many at once: each statement moves the counts once
            "INSERT INTO campaigns (name, channel, status, base_template, created_at, updated_at) "
            "SELECT 'c', 'sms', 'draft', 't', '', '' FROM generate_series(1, 10000);"
            "UPDATE campaigns SET status = 'cancelled' WHERE id % 4 = 0;"
            "UPDATE campaigns SET name = 'renamed';"  # no status moves
            "DELETE FROM campaigns WHERE id % 10 = 1")
        counted = (await store.outcomes.gauges())[0]
        assert counted == {
            status: await connection.fetchval(
                "SELECT count(*) FROM campaigns WHERE status = $1", status)
            for status in sl.CampaignStatus}
        assert counted["cancelled"] == 2500
        await connection.close()
        await store.close()

    async def test_a_version_9_database_migrates_to_counting_attempts(self, fresh_postgres):
        import asyncpg

        connection = await asyncpg.connect(fresh_postgres)  # the last release before attempts
        await connection.execute(
            sl.PG_SCHEMA_3 + "".join(sl.PG_MIGRATIONS[n] for n in range(3, 9))
            + "INSERT INTO smsleopard_schema VALUES (9);" + INSERT_CAMPAIGN
            + "('x', 'sms', 'sending', 't', '', '');"
            "INSERT INTO campaign_progress VALUES (1, 5, 2, 0, 0, 0, 0, 0)")
        await connection.close()
        store = await sl.Store.open(fresh_postgres)
        assert await store.db.schema_version() == sl.SCHEMA_VERSION
        assert await store.campaigns.progress_points(1, [9.0]) == [(5.0, 2, *[0] * 6)]
        assert (await store.campaigns.get(1))["attempts_count"] == 0
        await store.close()

    async def test_a_pooled_connection_goes_back_with_nothing_to_undo(self, fresh_postgres):
        import asyncpg

        store = await sl.Store.open(fresh_postgres)  # its migrations ran under the write lock
        other = await asyncpg.connect(fresh_postgres)
        try:  # the lock ended with the migrations' own session: another process takes it at once
            assert await other.fetchval("SELECT pg_try_advisory_xact_lock($1)", sl.PG_WRITE_LOCK)
            async with store.db._pool.acquire() as connection:
                queries = connection._protocol.queries_count
            await store.campaigns.get(1)
            await store.campaigns.get(2)
            # one round trip a read, no reset after
            async with store.db._pool.acquire() as connection:
                assert connection._protocol.queries_count - queries == 2
        finally:
            await other.close()
            await store.close()

    async def test_a_migration_cancelled_while_it_waits_leaves_no_lock_behind(
            self, fresh_postgres):
        import asyncpg

        store, other = await sl.Store.open(fresh_postgres), await asyncpg.connect(fresh_postgres)
        advisory = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        try:
            # another process migrating
            await other.execute("SELECT pg_advisory_lock($1)", sl.PG_WRITE_LOCK)
            waiting = asyncio.ensure_future(store.db.run_script("SELECT 1"))
            await until(lambda: other.fetchval(advisory), "the script to wait for the lock")
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            await other.execute("SELECT pg_advisory_unlock($1)", sl.PG_WRITE_LOCK)
            held = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid != pg_backend_pid() AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())")
            assert await other.fetchval(held) == 0  # no session was left holding or wanting it
            async with store.db.transaction() as tx:  # and writes go on
                await tx.execute("UPDATE channel_pace SET rate = NULL")
        finally:
            await other.close()
            await store.close()

    async def test_connections_the_server_ended_are_unavailable_then_replaced(
            self, fresh_postgres):
        import asyncpg

        store, other = await sl.Store.open(fresh_postgres), await asyncpg.connect(fresh_postgres)
        try:  # a restart of the server, as the pool's connections see it
            await end_other_sessions(other)
            outcomes = []
            # each dead connection fails once (a 503), then is gone
            for _ in range(sl.PG_POOL_SIZE + 1):
                try:
                    async with store.db.transaction() as tx:
                        await tx.execute("UPDATE channel_pace SET rate = NULL")
                    outcomes.append("written")
                except sl.DatabaseUnavailable:
                    outcomes.append("unavailable")
            assert outcomes[-1] == "written" and set(outcomes) <= {"written", "unavailable"}
            assert store.db.write_failure is None
        finally:
            await other.close()
            await store.close()

    @staticmethod
    async def ten_messages_and_a_claim_under_way(url):
        """A sending campaign of ten messages, and another process's claim holding the first
        five (its connection, in a transaction it leaves open)."""
        import asyncpg

        store, other = await sl.Store.open(url), await asyncpg.connect(url)
        await other.execute(
            "INSERT INTO customers (phone, created_at) "
            "SELECT '+2547' || lpad(n::text, 8, '0'), '' FROM generate_series(1, 10) AS n;"
            "INSERT INTO campaigns (name, channel, status, base_template, created_at, updated_at, "
            "total_count) VALUES ('c', 'sms', 'sending', 'Hi', '', '', 10);"
            "INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at) "
            "SELECT 1, id, '', '' FROM customers")
        claim = other.transaction()
        await claim.start()
        await other.execute("SELECT pg_advisory_xact_lock_shared($1)", sl.PG_WRITE_LOCK)
        await other.execute("SELECT id FROM outbound_messages WHERE id <= 5 FOR UPDATE")
        return store, other, claim

    async def test_claims_run_side_by_side_each_skipping_what_another_holds(self, fresh_postgres):
        store, other, claim = await self.ten_messages_and_a_claim_under_way(fresh_postgres)
        taken = await asyncio.wait_for(store.claims.claim(range(1, 11), T0, 1, T0 + 60), 10)
        assert [message.id for message in taken.rows] == [6, 7, 8, 9, 10] and not taken.deferred
        await claim.rollback()  # the other claim took nothing in the end: its five are there
        taken = await store.claims.claim(range(1, 11), T0, 2, T0 + 60)
        assert [message.id for message in taken.rows] == [1, 2, 3, 4, 5]
        assert await other.fetchval("SELECT sending_count FROM campaigns") == 10
        await other.close()
        await store.close()

    async def test_claims_lock_their_campaigns_in_one_order(self, fresh_postgres):
        import asyncpg

        store, other = await sl.Store.open(fresh_postgres), await asyncpg.connect(fresh_postgres)
        # campaigns 1 and 2, two messages each; the customer of message 3 opted out
        await other.execute(
            "INSERT INTO customers (phone, created_at, opted_out_at) "
            "SELECT '+2547' || lpad(n::text, 8, '0'), '', "
            "CASE WHEN n = 3 THEN 'x' END FROM generate_series(1, 4) AS n;"
            "INSERT INTO campaigns (name, channel, status, base_template, created_at, updated_at, "
            "total_count) VALUES ('a', 'sms', 'sending', 'Hi', '', '', 2), "
            "('b', 'sms', 'sending', 'Hi', '', '', 2);"
            "INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at) "
            "SELECT (id + 1) / 2, id, '', '' FROM customers ORDER BY id")
        # another process's claim, holding campaign 1 and about to take 2
        claim = other.transaction()
        await claim.start()
        await other.execute("SELECT pg_advisory_xact_lock_shared($1)", sl.PG_WRITE_LOCK)
        await other.execute("UPDATE campaigns SET sending_count = sending_count + 1 WHERE id = 1")
        ours = asyncio.ensure_future(store.claims.claim([3, 4, 1, 2], T0, 1, T0 + 60))
        await until(lambda: other.fetchval(
            "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"),
            "our claim waits for campaign 1")
        # Had ours taken campaign 2 first (to count the suppressed message 3), this would deadlock.
        await asyncio.wait_for(other.execute(
            "UPDATE campaigns SET sending_count = sending_count + 1 WHERE id = 2"), 10)
        await claim.rollback()
        taken = await asyncio.wait_for(ours, 10)
        assert ([message.id for message in taken.rows] == [1, 2, 4]
                and taken.suppressed == {"sms": 1})
        assert [tuple(row) for row in await other.fetch(
            "SELECT sending_count, suppressed_count FROM campaigns "
            "ORDER BY id")] == [(2, 0), (1, 1)]
        await other.close()
        await store.close()

    async def test_other_writes_and_claims_under_a_daily_cap_wait_for_a_claim(
            self, fresh_postgres):
        store, other, claim = await self.ten_messages_and_a_claim_under_way(fresh_postgres)
        # a claim counts what the others took: one at a time
        store.claims.consent = sl.Consent(daily_cap=1)
        waiting = [asyncio.ensure_future(store.claims.claim(range(1, 11), T0, 1, T0 + 60)),
                   asyncio.ensure_future(store.campaigns.transition(1, sl.Action.PAUSE, T0))]
        await until(lambda: other.fetchval(
            "SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event = 'advisory' "
            "AND datname = current_database()"),
            "the claim waits for the advisory lock (the pause waits behind it, in the process)")
        assert not any(task.done() for task in waiting)
        await claim.rollback()
        taken, _ = await asyncio.gather(*waiting)
        status, sending = await other.fetchrow("SELECT status, sending_count FROM campaigns")
        assert status == "paused" and sending == len(taken.rows)
        await other.close()
        await store.close()

    async def test_a_lock_whose_session_ended_is_taken_by_another(self, fresh_postgres):
        import asyncpg

        first, second = await sl.Store.open(fresh_postgres), await sl.Store.open(fresh_postgres)
        try:
            assert await first.db.hold("outbox") and not await second.db.hold("outbox")
            admin = await asyncpg.connect(fresh_postgres)
            await admin.execute(  # the session holding this database's advisory lock ends
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND pid != pg_backend_pid() AND database = (SELECT oid "
                "FROM pg_database WHERE datname = current_database())")
            await admin.close()
            assert await second.db.hold("outbox") and not await first.db.hold("outbox")
        finally:
            await first.close()
            await second.close()


class TestRoles:
    @pytest.mark.parametrize("argv, words", [
        (["--role", "worker"], "PostgreSQL"),
        (["--role", "api", "--db", "postgresql://u@h/d"], "--queue-url"),
        (["--role", "api", "--queue-url", "amqp://h/"], "PostgreSQL"),
        (["--role", "everything"], "must be all, api or worker"),
    ])
    def test_a_role_that_cannot_share_the_work_is_refused(self, argv, words):
        with pytest.raises(sl.ConfigError, match="--role") as refused:
            sl.load_config(argv, {})
        assert words in str(refused.value)

    def test_the_roles_split_the_service(self):
        api = sl.load_config(
            ["--role", "api", "--db", "postgresql://u@h/d", "--queue-url", "amqp://h/"], {})
        worker = dataclasses.replace(api, role="worker")
        assert (api.schedules, api.dispatches, worker.schedules, worker.dispatches) == (
            True, False, False, True)

    def test_postgresql_itself_can_be_the_shared_queue(self):
        worker = sl.load_config(["--role", "worker", "--db", "postgresql://u@h/d",
                                 "--queue-url", "postgresql://u@h/d"], {})
        assert isinstance(sl.open_queue(worker, sl.Clock(), 0), sl.PostgresQueue)
        assert sl.describe_queue(worker) == "PostgreSQL postgresql://u@h/d (campaign_sends)"
        with pytest.raises(sl.ConfigError, match="amqp://, amqps:// or postgresql://"):
            sl.load_config(["--queue-url", "redis://h/"], {})

    @needs_postgres
    def test_a_second_process_without_a_broker_is_refused(self, service, fresh_postgres):
        first = service("--db", fresh_postgres).start()
        second = service("--db", fresh_postgres)
        second.log = second.log.with_name("second.log")
        second.process = start_process([sys.executable, sl.__file__, *second.settings],
                                          stderr=subprocess.PIPE, text=True)
        _, err = second.process.communicate(timeout=30)
        assert second.process.returncode == 2 and err.count("\n") == 1
        assert "--queue-url" in err and first.request("GET", "/health")[0] == 200


@needs_postgres
@pytest.mark.parametrize("queue", [
    pytest.param("rabbitmq", marks=[needs_rabbitmq, pytest.mark.xdist_group("rabbitmq")]),
    "postgresql"])
def test_three_processes_share_a_campaign_and_a_kill_9_loses_nothing(
        service, fresh_postgres, tmp_path, queue):
    customers = 3000
    name = f"smsleopard-test-three-{os.getpid()}-{random.getrandbits(32):08x}"
    queue_url = AMQP_URL if queue == "rabbitmq" else fresh_postgres  # the database as the queue
    provider = ServiceProcess(tmp_path)
    provider.log = tmp_path / "provider.log"
    provider.settings = ["mock-provider", "--port", "0", "--latency-ms", "30"]
    provider.start()
    shared = ("--db", fresh_postgres, "--queue-url", queue_url, "--queue-name", name,
              "--provider-url", f"{provider.url}/messages", "--concurrency", "40",
              "--batch-size", "40", "--claim-timeout", "2", "--provider-timeout-ms", "900")
    api, workers = (service(*shared, "--role", "api"),
                    [service(*shared, "--role", "worker") for _ in range(2)])
    try:
        api.start()
        for number, worker in enumerate(workers):
            worker.log = worker.log.with_name(f"worker-{number}.log")
            worker.start()
        assert workers[0].request("GET", "/campaigns")[0] == 404  # a worker serves no API
        assert workers[0].request("GET", "/health")[0] == 200
        api.call("POST", "/customers", {"customers": [
            {"phone": f"+1555{i:07d}", "first_name": f"N{i}"} for i in range(customers)]})
        api.call("POST", "/campaigns",
                 {"name": "Three", "channel": "sms", "base_template": "Hi {first_name}"})
        api.call("POST", "/campaigns/1/send", {"all_customers": True})
        api.wait_for(lambda c: c["stats"]["sent"] >= customers // 4, "the campaign under way",
                     timeout=60)
        workers[0].process.kill()  # kill -9, mid-campaign
        workers[0].process.wait()
        # well within the minute after which the healer would publish stranded jobs again
        campaign = api.wait_for(lambda c: c["status"] == "sent", "the campaign to finish",
                                timeout=40)
        assert campaign["stats"] == stats(total=customers, sent=customers)
        rows = postgres_rows(fresh_postgres, "SELECT customer_id, status, claim_token "
                                             "FROM outbound_messages ORDER BY customer_id")
        # one message each, none lost
        assert [row[0] for row in rows] == list(range(1, customers + 1))
        assert {(status, claim) for _, status, claim in rows} == {("sent", None)}
        counts = json.loads(urllib.request.urlopen(f"{provider.url}/stats", timeout=10).read())
        assert counts["accepted"] == customers  # every message reached the provider once ...
        assert counts["duplicates"] <= 40 + 40  # ... but what the killed worker had claimed: its
        # budget, --concurrency attempts and a job of --batch-size behind them (sl.message_budget)
        assert sent_by(api) == 0 and sent_by(workers[1]) > 0  # the API process takes no job
    finally:
        provider.process.kill()
        for process in (api, *workers):  # first: a live consumer would declare its queue again
            if process.process is not None and process.process.poll() is None:
                process.process.kill()
                process.process.wait()
        if queue == "rabbitmq":  # PostgreSQL's goes with the test's database
            asyncio.run(sl.delete_rabbit_queues(AMQP_URL, name))


# ---------------------------------------------------------------------------
# CAMPAIGNS
# ---------------------------------------------------------------------------


# -- HTTP: the campaign lifecycle (pause, resume, cancel, retry-failed, edit, delete) ---

async def act(h, campaign_id, action, expect=200, **kwargs):
    return await h.post(f"/campaigns/{campaign_id}/{action}", expect=expect, **kwargs)


async def listed_counts(h, campaign_id):
    """How many messages `?status=` lists for each status."""
    return {status: (await h.get(f"/campaigns/{campaign_id}/messages?status={status}"
                                 "&page_size=1"))["pagination"]["total_count"]
            for status in sl.MessageStatus}


class TestPauseAndResume:
    pytestmark = pytest.mark.asyncio

    @staticmethod
    async def two_in_flight(make_harness, customers):
        """A campaign to `customers` with two attempts held at the provider (concurrency 2):
        the harness and the campaign's id."""
        h = await make_harness(concurrency=2)
        ids = await h.add_customers(customers)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(2)
        return h, campaign_id

    @staticmethod
    async def set_elsewhere(h, campaign_id, status):
        """Another process on the database pauses or resumes the campaign."""
        await h.execute("UPDATE campaigns SET status = ? WHERE id = ?", (status, campaign_id))

    async def test_pause_stops_new_attempts_at_once_and_resume_continues(self, make_harness):
        h, campaign_id = await self.two_in_flight(make_harness, 10)
        paused = await act(h, campaign_id, "pause")
        assert paused["status"] == "paused" and paused["progress"]["eta_seconds"] is None
        h.sender.gate.set()  # the two in flight finish and are recorded; nothing else starts
        await h.settle()
        assert h.sender.calls == 2
        campaign = await h.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]) == (
            "paused", stats(total=10, pending=8, sent=2))
        resumed = await act(h, campaign_id, "resume")
        assert resumed["status"] == "sending"
        campaign = await h.run_until_done(campaign_id)
        assert campaign["stats"] == stats(total=10, sent=10)
        assert sorted(h.sender.attempts.values()) == [1] * 10

    async def test_a_pause_another_process_answered_reaches_the_batch_in_flight(
            self, make_harness):
        h, campaign_id = await self.two_in_flight(make_harness, 10)
        await self.set_elsewhere(h, campaign_id, "paused")
        await h.dispatcher.look_for_halts()  # what it does every HALT_POLL seconds on PostgreSQL
        h.sender.gate.set()
        await h.settle()
        assert h.sender.calls == 2
        assert (await h.campaign(campaign_id))["stats"] == stats(total=10, pending=8, sent=2)

    async def test_a_pause_another_process_resumed_stops_nothing_more(self, make_harness):
        h, campaign_id = await self.two_in_flight(make_harness, 4)
        await act(h, campaign_id, "pause")
        h.sender.gate.set()
        await h.settle()
        await self.set_elsewhere(h, campaign_id, "sending")  # and that process publishes the rest
        await h.campaigns.publish_pending(campaign_id)
        assert (await h.run_until_done(campaign_id))["stats"] == stats(total=4, sent=4)
        assert sorted(h.sender.attempts.values()) == [1] * 4

    async def test_a_halted_batch_gives_what_it_released_back_to_the_queue(self, make_harness):
        h, campaign_id = await self.two_in_flight(make_harness, 4)  # and a claim of two waiting
        claimed = "SELECT count(*) FROM outbound_messages WHERE claim_token IS NOT NULL"
        async def four_claimed():
            return await h.sql(claimed) == [(4,)]

        await until(four_claimed, "the claim of two waiting for a slot")
        await act(h, campaign_id, "pause")
        h.sender.gate.set()
        await h.settle()
        assert await h.queue.depth() == 1  # the two released: a claim skips them while paused
        await self.set_elsewhere(h, campaign_id, "sending")  # before they came back
        h.clock.advance(sl.RELEASE_DELAY)
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=4, sent=4)
        assert sorted(h.sender.attempts.values()) == [1] * 4

    async def test_a_paused_campaign_takes_more_recipients_and_they_wait(self, h):
        ids = await h.add_customers(4)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids[:2])
        await h.sender.wait_for_in_flight(2)
        await act(h, campaign_id, "pause")
        result = await h.send(campaign_id, {"customer_ids": ids})
        assert (result["messages_queued"], result["status"]) == (2, "paused")
        h.sender.gate.set()
        await h.settle()
        assert h.sender.calls == 2 and (await h.campaign(campaign_id))["stats"]["pending"] == 2
        await act(h, campaign_id, "resume")
        assert (await h.run_until_done(campaign_id))["stats"] == stats(total=4, sent=4)

    async def test_resume_with_nothing_left_finishes_the_campaign(self, h):
        ids = await h.add_customers(1)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(1)
        await act(h, campaign_id, "pause")
        h.sender.gate.set()
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "paused"  # settled, but paused
        assert (await act(h, campaign_id, "resume"))["status"] == "sent"

    async def test_pausing_and_resuming_many_times_attempts_each_message_once(self, make_harness):
        h = await make_harness(concurrency=4, batch_size=100)
        h.sender.latency = 0.001
        ids = await h.add_customers(2000)
        campaign_id = await h.launch(ids)
        pauses = 0
        while (await h.campaign(campaign_id))["status"] == "sending":
            await h.sender.wait_for_calls(min(h.sender.calls + 50, len(ids)))
            status, answer = await h.request("POST", f"/campaigns/{campaign_id}/pause")
            assert (status == 200
                    or answer["error"]["message"].startswith("Campaign 1 is sent;")), answer
            started = h.sender.calls  # every attempt begun before the answer, and none after
            await h.settle()
            assert h.sender.calls == started and h.sender.in_flight == 0
            campaign = await h.campaign(campaign_id)
            assert campaign["stats"]["sending"] == 0 and campaign["status"] in ("paused", "sent")
            if campaign["status"] == "paused":
                pauses += 1
                await act(h, campaign_id, "resume")
        campaign = await h.run_until_done(campaign_id)
        assert campaign["stats"] == stats(total=2000, sent=2000)
        assert h.sender.calls == 2000 and set(h.sender.attempts.values()) == {1}
        assert pauses >= 10, pauses

    async def test_a_retry_waiting_through_a_pause_is_attempted_once_after_it(self, make_harness):
        h = await make_harness(retry_base_ms=1000)
        ids = await h.add_customers(2)
        h.sender.script[h.phones[0]] = transient(1)
        campaign_id = await h.launch(ids)
        await h.settle()
        await act(h, campaign_id, "pause")
        h.clock.advance(5)  # its retry falls due while paused: not attempted
        await h.settle()
        assert h.sender.attempts[h.phones[0]] == 1
        await act(h, campaign_id, "resume")
        campaign = await h.run_until_done(campaign_id)
        assert campaign["stats"] == stats(total=2, sent=2) and h.sender.attempts[h.phones[0]] == 2

    async def test_a_pause_holds_across_a_restart(self, make_harness, tmp_path):
        before = await make_harness(db=str(tmp_path / "p.db"), concurrency=3)
        ids = await before.add_customers(5)
        before.sender.gate = asyncio.Event()
        campaign_id = await before.launch(ids)
        await before.sender.wait_for_in_flight(3)
        await act(before, campaign_id, "pause")
        before.sender.gate.set()
        await before.settle()

        after = await before.restart()
        await after.settle()
        campaign = await after.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]) == (
            "paused", stats(total=5, pending=2, sent=3))
        assert after.sender.calls == 3
        await act(after, campaign_id, "resume")
        assert (await after.run_until_done(campaign_id))["stats"] == stats(total=5, sent=5)
        assert sorted(after.sender.attempts.values()) == [1] * 5

    @pytest.mark.parametrize("action", ["pause", "resume"])
    async def test_the_wrong_moment_is_409_naming_the_status(self, h, action):
        campaign_id = await h.add_campaign()
        payload = await act(h, campaign_id, action, expect=409)
        assert_error(payload, "INVALID_STATE")
        assert payload["error"]["message"].startswith(
            f"Campaign {campaign_id} is draft; it cannot {action}")
        assert (await h.campaign(campaign_id))["status"] == "draft"


class TestCancel:
    pytestmark = pytest.mark.asyncio

    async def test_cancel_is_final_and_pending_messages_are_never_attempted(self, make_harness):
        h = await make_harness(concurrency=2, max_retries=3)
        ids = await h.add_customers(6)
        # in flight when cancelled, fails: never retried
        h.sender.script[h.phones[0]] = transient(1)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(2)
        cancelled = await act(h, campaign_id, "cancel")
        assert cancelled["status"] == "cancelled" and cancelled["finished_at"] == sl.utc_iso(T0)
        # the batch's claimed messages show as sending until it records them: two at the provider,
        # the others released unattempted, and then cancelled
        assert cancelled["stats"]["pending"] == 0
        h.sender.gate.set()
        await h.settle()
        h.clock.advance(61)
        await h.settle()
        assert h.sender.calls == 2
        campaign = await h.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]) == (
            "cancelled", stats(total=6, sent=1, cancelled=5))
        assert await listed_counts(h, campaign_id) == {**dict.fromkeys(sl.MessageStatus, 0),
                                                       "sent": 1, "cancelled": 5}

    async def test_a_scheduled_campaign_can_be_called_off(self, h):
        ids = await h.add_customers(2)
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 60))
        await h.send(campaign_id, {"customer_ids": ids})
        await act(h, campaign_id, "cancel")
        h.clock.advance(120)
        await h.settle()
        assert h.sender.calls == 0
        assert (await h.campaign(campaign_id))["stats"] == stats(total=2, cancelled=2)

    async def test_nothing_can_be_done_to_a_cancelled_campaign(self, h):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        await act(h, campaign_id, "cancel")
        assert_error(await h.send(campaign_id, {"customer_ids": ids}, expect=409),
                     "CAMPAIGN_NOT_SENDABLE")
        for action in ("pause", "resume", "retry-failed", "cancel"):
            payload = await act(h, campaign_id, action, expect=409)
            assert_error(payload, "INVALID_STATE")
            assert "cancelled is final" in payload["error"]["message"]
        payload = await h.request("PATCH", f"/campaigns/{campaign_id}", {"name": "x"}, expect=409)
        assert_error(payload[1], "INVALID_STATE")

    async def test_claims_a_crash_left_on_a_cancelled_campaign_end_cancelled(
            self, make_harness, tmp_path):
        before = await make_harness(db=str(tmp_path / "c.db"), run_workers=False, claim_timeout=10)
        ids = await before.add_customers(2)
        campaign_id = await before.launch(ids)
        messages = [m["id"] for m in await before.messages(campaign_id)]
        await before.store.claims.claim(messages, T0, 99, T0 + 10)  # a worker that then died
        await act(before, campaign_id, "cancel")
        after = await before.restart()
        after.clock.advance(10)
        after.clock.advance(sl.HEAL_INTERVAL)
        await after.campaigns.recover()
        assert (await after.campaign(campaign_id))["stats"] == stats(total=2, cancelled=2)
        assert after.sender.calls == 0


class TestRetryFailed:
    pytestmark = pytest.mark.asyncio

    async def test_exactly_the_failed_messages_are_sent_again_from_zero(self, make_harness):
        h = await make_harness(max_retries=1)
        ids = await h.add_customers(4)
        h.sender.script[h.phones[1]] = transient(2)
        h.sender.script[h.phones[3]] = [sl.PermanentSendError("blocked by carrier")]
        campaign_id = await h.launch(ids)
        campaign = await h.run_until_done(campaign_id)
        assert (campaign["status"], campaign["stats"]) == (
            "sent", stats(total=4, sent=2, failed=2))
        h.sender.gate = asyncio.Event()
        result = await act(h, campaign_id, "retry-failed")
        assert result == {"campaign_id": campaign_id, "messages_requeued": 2, "status": "sending"}
        await h.sender.wait_for_in_flight(2)
        requeued = [m for m in await h.messages(campaign_id) if m["status"] != "sent"]
        assert [(m["customer_id"], m["status"], m["retry_count"], m["last_error"])
                for m in requeued] == [
            # the error stays until the next attempt's outcome
            (ids[1], "sending", 0, "provider timeout"),
            (ids[3], "sending", 0, "blocked by carrier")]
        h.sender.gate.set()
        campaign = await h.run_until_done(campaign_id)
        assert (campaign["status"], campaign["stats"]) == ("sent", stats(total=4, sent=4))
        assert campaign["finished_at"] is not None
        assert [h.sender.attempts[phone] for phone in h.phones] == [1, 3, 1, 2]

    async def test_no_failed_message_is_409(self, h):
        ids = await h.add_customers(1)
        campaign_id = await h.launch(ids)
        await h.settle()
        payload = await act(h, campaign_id, "retry-failed", expect=409)
        assert_error(payload, "INVALID_STATE")
        assert "no failed messages" in payload["error"]["message"]


class TestEditAndDelete:
    pytestmark = pytest.mark.asyncio

    async def patch(self, h, campaign_id, body, expect=200):
        return (await h.request("PATCH", f"/campaigns/{campaign_id}", body, expect=expect))[1]

    async def test_a_draft_is_edited_and_scheduled_and_back(self, h):
        campaign_id = await h.add_campaign()
        h.clock.advance(5)
        edited = await self.patch(h, campaign_id, {"name": "Renamed", "channel": "whatsapp",
                                                   "base_template": "Hello {first_name|you}"})
        assert (edited["name"], edited["channel"], edited["base_template"], edited["status"]) == (
            "Renamed", "whatsapp", "Hello {first_name|you}", "draft")
        assert (edited["updated_at"] == sl.utc_iso(T0 + 5)
                and edited["created_at"] == sl.utc_iso(T0))
        scheduled = await self.patch(h, campaign_id, {"scheduled_at": "2027-01-15T10:00:00Z"})
        assert (scheduled["status"], scheduled["scheduled_at"]) == (
            "scheduled", "2027-01-15T10:00:00.000Z")
        back = await self.patch(h, campaign_id, {"scheduled_at": None})
        assert (back["status"], back["scheduled_at"]) == ("draft", None)
        assert await h.campaign(campaign_id) == back

    async def test_a_rescheduled_campaign_goes_out_at_its_new_time(self, h):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 600))
        await h.send(campaign_id, {"customer_ids": ids})
        await self.patch(h, campaign_id, {"scheduled_at": sl.utc_iso(T0 + 30)})
        await h.settle()
        h.clock.advance(30)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "sent"

    async def test_a_paused_campaign_takes_a_new_text_for_what_is_left(self, make_harness):
        h = await make_harness(concurrency=1)
        ids = await h.add_customers(3)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids, template="Hi {first_name}, tpyo")
        await h.sender.wait_for_in_flight(1)
        await act(h, campaign_id, "pause")
        await self.patch(h, campaign_id, {"base_template": "Hi {first_name}, fixed"})
        for body in ({"channel": "whatsapp"}, {"scheduled_at": sl.utc_iso(T0 + 60)}):
            assert_error(await self.patch(h, campaign_id, body, expect=409), "INVALID_STATE")
        h.sender.gate.set()
        await act(h, campaign_id, "resume")
        await h.run_until_done(campaign_id)
        assert [m["rendered_content"] for m in await h.messages(campaign_id)] == [
            "Hi Name0, tpyo", "Hi Name1, fixed", "Hi Name2, fixed"]

    async def test_a_sending_campaign_cannot_be_edited(self, h):
        ids = await h.add_customers(1)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        payload = await self.patch(h, campaign_id, {"name": "x"}, expect=409)
        assert_error(payload, "INVALID_STATE")
        assert ("is sending; it cannot edit (allowed when sending: send, pause, cancel"
                in payload["error"]["message"])
        h.sender.gate.set()

    @pytest.mark.parametrize("body, words", [
        ({}, "at least one"),
        ({"nickname": "x"}, "unknown field 'nickname'"),
        ({"status": "sent"}, "status is read-only"),
        ({"stats": {}}, "stats is read-only"),
        ({"name": " "}, "blank"),
        ({"channel": "fax"}, "channel"),
        ({"base_template": "Hi {nme}"}, "{nme}"),
        ({"scheduled_at": "2020-01-01T00:00:00Z"}, "future"),
        ({"scheduled_at": "9999-12-31T23:59:59-14:00"}, "ISO-8601"),
        ([], "object"),
    ])
    async def test_bad_edits_change_nothing(self, h, body, words):
        campaign_id = await h.add_campaign()
        before = await h.campaign(campaign_id)
        payload = await self.patch(h, campaign_id, body, expect=400)
        assert (payload["error"]["code"] in ("VALIDATION_ERROR", "INVALID_TEMPLATE")
                and words in payload["error"]["message"])
        assert await h.campaign(campaign_id) == before

    async def test_delete_a_draft_without_messages(self, h):
        campaign_id = await h.add_campaign()
        response = await h.client.delete(f"/campaigns/{campaign_id}")
        assert response.status == 204 and await response.read() == b""
        assert_error(await h.get(f"/campaigns/{campaign_id}", expect=404), "CAMPAIGN_NOT_FOUND")

    async def test_only_an_empty_draft_can_be_deleted(self, h):
        ids = await h.add_customers(1)
        with_messages = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 60))
        await h.send(with_messages, {"customer_ids": ids})
        # a draft again, with its message
        await self.patch(h, with_messages, {"scheduled_at": None})
        scheduled = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 60))
        for campaign_id, words in ((with_messages, "has 1 messages; cancel it instead"),
                                   (scheduled, "is scheduled; it cannot delete")):
            status, payload = await h.request("DELETE", f"/campaigns/{campaign_id}")
            assert status == 409 and words in payload["error"]["message"]
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 2


class TestErrorBreakdown:
    pytestmark = pytest.mark.asyncio

    async def test_what_went_wrong_most_frequent_first(self, make_harness):
        h = await make_harness(max_retries=1)
        ids = await h.add_customers(7)
        for phone in h.phones[:3]:
            h.sender.script[phone] = [sl.PermanentSendError("blocked by carrier")]
        h.sender.script[h.phones[3]] = transient(5, "provider timeout")
        h.sender.script[h.phones[4]] = [sl.PermanentSendError("no route")]
        # retrying when we look
        h.sender.script[h.phones[5]] = transient(1, "throttled by carrier")
        campaign_id = await h.launch(ids)
        await h.settle()
        breakdown = await h.get(f"/campaigns/{campaign_id}/errors")
        assert breakdown["data"] == [
            {"last_error": "blocked by carrier", "status": "failed", "count": 3},
            {"last_error": "no route", "status": "failed", "count": 1},
            {"last_error": "provider timeout", "status": "pending", "count": 1},
            {"last_error": "throttled by carrier", "status": "pending", "count": 1}]
        assert breakdown["pagination"] == {"page": 1, "page_size": 20, "total_count": 4,
                                           "total_pages": 1, "next_cursor": None}
        second = await h.get(f"/campaigns/{campaign_id}/errors?page=2&page_size=3")
        assert [row["last_error"] for row in second["data"]] == ["throttled by carrier"]
        assert_error(await h.get("/campaigns/99/errors", expect=404), "CAMPAIGN_NOT_FOUND")


class TestStatsAndProgress:
    @pytest.mark.asyncio
    async def test_every_counted_status_can_be_listed(self, make_harness):
        h = await make_harness(concurrency=2, max_retries=2)
        ids = await h.add_customers(8)
        h.sender.script[h.phones[0]] = [sl.PermanentSendError("no route")]
        h.sender.script[h.phones[1]] = transient(1)
        first = await h.launch(ids[:2])
        await h.settle()  # one failed, one pending for a retry
        h.sender.gate = asyncio.Event()
        second = await h.launch(ids[2:])
        await h.sender.wait_for_in_flight(2)  # two at the provider, four pending

        async def claimed_behind():  # its claim commits beside the reads below, unless waited for
            return (await h.campaign(second))["stats"]["sending"] == 4

        await until(claimed_behind, "a claim of two waiting for a slot")
        for campaign_id in (first, second):
            campaign = await h.campaign(campaign_id)
            listed = await listed_counts(h, campaign_id)
            assert {status: campaign["stats"][status] for status in listed} == listed
        assert (await h.campaign(first))["stats"] == stats(total=2, pending=1, failed=1)
        # two at the provider and one claim of two waiting for a slot; the rest not claimed yet
        assert (await h.campaign(second))["stats"] == stats(total=6, sending=4, pending=2)
        await act(h, second, "cancel")
        h.sender.gate.set()
        await h.settle()
        assert await listed_counts(h, second) == {**dict.fromkeys(sl.MessageStatus, 0), "sent": 2,
                                                  "cancelled": 4}
        assert (await h.campaign(second))["stats"] == stats(total=6, sent=2, cancelled=4)

    @pytest.mark.asyncio
    async def test_start_and_finish_times(self, h):
        ids = await h.add_customers(2)
        campaign_id = await h.add_campaign()
        h.clock.advance(10)
        await h.send(campaign_id, {"customer_ids": ids})
        started = await h.campaign(campaign_id)
        assert started["started_at"] == sl.utc_iso(T0 + 10)
        await h.settle()
        done = await h.campaign(campaign_id)
        assert (done["started_at"], done["finished_at"]) == (
            sl.utc_iso(T0 + 10), sl.utc_iso(T0 + 10))
        assert done["progress"] == {"percent": 100.0, "rate_per_second": 0.0, "eta_seconds": 0}

    @pytest.mark.asyncio
    async def test_progress_is_sampled_from_what_settles(self, make_harness):
        h = await make_harness(batch_size=20)
        ids = await h.add_customers(11)
        h.sender.script[h.phones[0]] = transient(1)  # still to be retried when we look
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(11)
        h.clock.advance(2)
        h.sender.gate.set()
        await h.settle()  # 10 settled in the 2 seconds since the start
        campaign = await h.campaign(campaign_id)
        assert campaign["status"] == "sending"
        assert campaign["progress"] == {"percent": 90.9, "rate_per_second": 5.0, "eta_seconds": 1}

    @pytest.mark.parametrize("row, now, expected", [
        ({"status": "draft", "rate_at": None, "rate": 0.0, "rate_settled": 0, "finished_at": None},
         T0, {"percent": 0.0, "rate_per_second": 0.0, "eta_seconds": None}),
        ({"status": "sending", "rate_at": T0, "rate": 20.0, "rate_settled": 40,
          "finished_at": None, "sent_count": 40},
         T0 + 1, {"percent": 40.0, "rate_per_second": 20.0, "eta_seconds": 3}),
        ({"status": "sending", "rate_at": T0, "rate": 20.0, "rate_settled": 40,
          "finished_at": None, "sent_count": 40},
         T0 + 10, {"percent": 40.0, "rate_per_second": 0.0, "eta_seconds": None}),
        ({"status": "sending", "rate_at": T0, "rate": 20.0, "rate_settled": 20,
          "finished_at": None, "sent_count": 40},
         T0 + 10, {"percent": 40.0, "rate_per_second": 2.0, "eta_seconds": 30}),
        ({"status": "paused", "rate_at": T0, "rate": 20.0, "rate_settled": 40,
          "finished_at": None, "sent_count": 40},
         T0 + 1, {"percent": 40.0, "rate_per_second": 0.0, "eta_seconds": None}),
        ({"status": "sent", "rate_at": T0, "rate": 20.0, "rate_settled": 40,
          "finished_at": "x", "sent_count": 100},
         T0 + 1, {"percent": 100.0, "rate_per_second": 0.0, "eta_seconds": 0}),
    ])
    def test_progress(self, row, now, expected):
        counters = {"total_count": 100, "sending_count": 0, "sent_count": 0, "failed_count": 0,
                    "cancelled_count": 0, "suppressed_count": 0, "delivered_count": 0,
                    "undelivered_count": 0}
        assert sl.campaign_progress({**counters, **row}, now) == expected


@pytest.mark.asyncio
async def test_a_start_samples_the_rate_of_sending_campaigns_afresh(h):
    """The service was down for 1,000 s: the rate is not 4 messages over all that time (an
    ETA of hours for a campaign a few seconds from its end), but sampled from the start."""
    campaign_id = await h.add_campaign()
    await h.execute("UPDATE campaigns SET status = 'sending', total_count = 10, sent_count = 4, "
                    "rate_at = ?, rate_settled = 0, rate = 5", (T0 - 1000,))
    assert (await h.campaign(campaign_id))["progress"]["rate_per_second"] == 0.0  # 4 / 1000 s
    await h.app[sl.CAMPAIGNS].recover(starting=True)
    assert await h.sql("SELECT rate_at, rate_settled, rate FROM campaigns") == [(T0, 4, 0)]


class TestTimeline:
    """GET /campaigns/{id}/timeline: progress rows, one when a run starts and at most one a
    second as outcomes are recorded; the answer ends with the counters as they are."""

    pytestmark = pytest.mark.asyncio

    async def test_a_campaigns_life_in_points(self, make_harness):
        h = await make_harness(max_retries=2)
        ids = await h.add_customers(4)
        h.sender.script[h.phones[1]] = transient(1)
        h.sender.script[h.phones[2]] = [sl.PermanentSendError("no route")]
        h.sender.gate = asyncio.Event()  # no attempt ends before the first look
        campaign_id = await h.launch(ids)
        assert (await h.get(f"/campaigns/{campaign_id}/timeline"))["points"][0] == {
            "at": sl.utc_iso(T0), **dict.fromkeys(sl.PROGRESS_COUNTS, 0),
            "settled_per_second": 0.0, "attempts_per_second": 0.0}
        h.sender.gate.set()
        await h.settle()  # three settled at once; the retry waits for the clock
        h.clock.advance(10)
        done = await h.run_until_done(campaign_id)
        timeline = await h.get(f"/campaigns/{campaign_id}/timeline")
        assert (timeline["campaign_id"], timeline["started_at"], timeline["finished_at"]) == (
            campaign_id, done["started_at"], done["finished_at"])
        points = timeline["points"]
        assert points[0]["at"] == done["started_at"] and points[-1]["at"] == done["finished_at"]
        assert {name: points[-1][name] for name in ("sent", "failed")} == {"sent": 3, "failed": 1}
        elapsed = sl.parse_timestamp(done["finished_at"]) - T0
        assert points[-1]["settled_per_second"] == round((4 - sum(
            points[-2][name] for name in ("sent", "failed", "suppressed", "cancelled"))) / (
            elapsed - (sl.parse_timestamp(points[-2]["at"]) - T0)), 2)
        rows = await h.sql("SELECT count(*) FROM campaign_progress WHERE campaign_id = ?",
                           (campaign_id,))
        assert 1 <= rows[0][0] <= 3 and len(points) <= sl.TIMELINE_POINTS

    async def test_a_draft_has_none_and_errors_are_the_apis(self, h):
        draft = await h.add_campaign()
        assert (await h.get(f"/campaigns/{draft}/timeline"))["points"] == []
        assert_error(await h.get("/campaigns/404/timeline", expect=404), "CAMPAIGN_NOT_FOUND")
        assert_error(await h.get(f"/campaigns/{draft}/timeline?page=1", expect=400),
                     "VALIDATION_ERROR")

    async def test_a_long_campaign_answers_a_bounded_number_of_points(self, h):
        ids = await h.add_customers(2)
        campaign_id = await h.launch(ids)
        await h.settle()
        await h.execute(
            "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 5000) "
            "INSERT INTO campaign_progress SELECT ?, ? + v / 100.0, 1, 0, 0, 0, 0, 0, 1 FROM n",
            (campaign_id, T0 - 100))
        await h.execute("UPDATE campaigns SET started_at = ? WHERE id = ?",
                        (sl.utc_iso(T0 - 100), campaign_id))
        points = (await h.get(f"/campaigns/{campaign_id}/timeline"))["points"]
        assert 2 <= len(points) <= sl.TIMELINE_POINTS
        assert [p["at"] for p in points] == sorted({p["at"] for p in points})

    async def test_a_retry_is_one_attempt_more_than_the_messages_settled(self, h):
        ids = await h.add_customers(3)
        h.sender.script[h.phones[0]] = transient(1)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        h.clock.advance(1)  # the first outcomes are recorded a second in: a progress row
        h.sender.gate.set()
        await h.settle()
        h.clock.advance(10)  # past the retry's backoff
        done = await h.run_until_done(campaign_id)
        assert done["stats"] == stats(total=3, sent=3) and sorted(
            h.sender.attempts.values()) == [1, 1, 2]
        assert await h.sql("SELECT attempts_count FROM campaigns") == [(4,)]
        points = (await h.get(f"/campaigns/{campaign_id}/timeline"))["points"]
        assert [(p["attempts"], p["attempts_per_second"], p["sent"], p["settled_per_second"])
                for p in points] == [(0, 0.0, 0, 0.0), (3, 3.0, 2, 2.0), (4, 0.1, 3, 0.1)]

    async def test_a_template_failure_or_a_release_is_no_attempt(self, make_harness):
        h = await make_harness(concurrency=2)
        ids = await h.add_customers(5)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(2)
        await act(h, campaign_id, "pause")  # what waits for a slot is released, unattempted
        h.sender.gate.set()
        await h.settle()

        async def attempts(campaign_id):
            return (await h.get(f"/campaigns/{campaign_id}/timeline"))["points"][-1]["attempts"]

        assert (await attempts(campaign_id), h.sender.calls) == (2, 2)
        await act(h, campaign_id, "resume")
        await h.run_until_done(campaign_id)
        assert (await attempts(campaign_id), h.sender.calls) == (5, 5)
        broken = await h.add_campaign()
        await h.execute("UPDATE campaigns SET base_template = 'Hi {nickname}' WHERE id = ?",
                        (broken,))
        await h.send(broken, {"customer_ids": ids})
        assert (await h.run_until_done(broken))["stats"] == stats(total=5, failed=5)
        assert (await attempts(broken), h.sender.calls) == (0, 5)

    async def test_an_attempt_whose_claim_was_lost_is_counted_all_the_same(self, h, caplog):
        ids = await h.add_customers(2)
        h.sender.holds[h.phones[0]] = asyncio.Event()
        await h.launch(ids)
        await h.sender.wait_for_calls(2)
        await h.request("DELETE", f"/customers/{ids[0]}", expect=204)  # its message: cancelled
        h.sender.holds[h.phones[0]].set()
        await h.settle()
        assert "had lost their claim" in caplog.text
        assert await h.sql("SELECT sent_count, cancelled_count, attempts_count "
                           "FROM campaigns") == [(1, 1, 2)]


# ---------------------------------------------------------------------------
# SENDER
# ---------------------------------------------------------------------------


# -- SENDER -------------------------------------------------------------------

def outgoing(to="+254712000001", text="Hi", channel="sms", reference="1"):
    return sl.Outgoing(reference, channel, to, text)


class TestMockSender:
    pytestmark = pytest.mark.asyncio

    async def test_it_takes_ordinary_messages(self):
        assert await sl.MockSender(0, 0.0, random.Random(1))(outgoing()) is None

    async def test_unroutable_numbers_and_long_messages_fail_permanently(self):
        send = sl.MockSender(0, 0.0, random.Random(1))
        with pytest.raises(sl.PermanentSendError, match="no route"):
            await send(outgoing(to="+999700000001"))
        with pytest.raises(sl.PermanentSendError, match="11 SMS segments"):
            await send(outgoing(text="a" * 1531))
        with pytest.raises(sl.PermanentSendError, match="WhatsApp limit"):
            await send(outgoing(channel="whatsapp", text="a" * 4097))

    async def test_transient_failures_follow_the_rate(self):
        send = sl.MockSender(0, 0.3, random.Random(5))
        failures = 0
        for _ in range(2000):
            try:
                await send(outgoing())
            except sl.TransientSendError as exc:
                failures += 1
                assert str(exc) in sl.TRANSIENT_ERRORS
        assert 500 < failures < 700


class StubProvider:
    """A provider that answers what a test tells it to, on a real local port."""

    def __init__(self, answers):
        # (status, body, headers) or a coroutine function, one per request
        self.answers = list(answers)
        self.requests = []

    async def handle(self, request):
        self.requests.append((dict(request.headers), await request.json()))
        answer = self.answers.pop(0)
        if callable(answer):
            return await answer(request)
        status, body, headers = answer
        return sl.web.Response(status=status,
                               body=body.encode() if isinstance(body, str) else body,
                               headers=headers)


@pytest_asyncio.fixture
async def stub_provider(aiohttp_server):
    """(stub, an HttpSender pointed at it); the sender's timeout is 0.2 s unless told."""
    senders = []

    async def make(*answers, token="", answer_within=0.2):
        stub = StubProvider(answers)
        app = sl.web.Application()
        app.router.add_post("/messages", stub.handle)
        server = await aiohttp_server(app)
        sender = sl.HttpSender(str(server.make_url("/messages")), token, answer_within, 10,
                               "https://sms.example.com/providers/receipts", sl.Clock())
        await sender.open()
        senders.append(sender)
        return stub, sender

    yield make
    for sender in senders:
        await sender.close()


async def slow_answer(request):
    await asyncio.sleep(5)  # longer than the sender's timeout: the attempt ends first
    return sl.web.json_response({"id": "late"})


async def cut_answer(request):
    response = sl.web.StreamResponse(status=200)
    response.content_length = 100
    await response.prepare(request)
    await response.write(b'{"id": "p')  # and no more: the connection ends mid-answer
    request.transport.close()
    return response


class TestHttpSender:
    pytestmark = pytest.mark.asyncio

    async def test_a_2xx_with_an_id_is_sent_and_the_request_is_as_documented(self, stub_provider):
        stub, send = await stub_provider((202, '{"id": "prov-1"}', {}), token="t0ken")
        assert await send(outgoing(reference="42", text="Hi Amina")) == "prov-1"
        headers, body = stub.requests[0]
        assert body == {"reference": "42", "channel": "sms", "to": "+254712000001",
                        "text": "Hi Amina",
                        "callback_url": "https://sms.example.com/providers/receipts"}
        assert headers["Authorization"] == "Bearer t0ken"

    async def test_answers_are_asked_for_uncompressed(self, stub_provider):
        """The pool reads answers as they come (no decompression), so it offers no gzip: a
        gateway that compresses whenever it may (Meta's API does) answers in plain JSON."""
        async def gzip_if_offered(request):
            body = b'{"id": "prov-gz"}'
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                return sl.web.Response(body=gzip.compress(body), content_type="application/json",
                                       headers={"Content-Encoding": "gzip"})
            return sl.web.Response(body=body, content_type="application/json")

        stub, send = await stub_provider(gzip_if_offered)
        assert await send(outgoing()) == "prov-gz"
        assert stub.requests[0][0]["Accept-Encoding"] == "identity"

    @pytest.mark.parametrize("answer, error, words", [
        ((400, '{"error": {"message": "invalid phone number"}}', {}), sl.PermanentSendError,
         "provider refused it (400): invalid phone number"),
        ((422, "text too long", {}), sl.PermanentSendError,
         "provider refused it (422): text too long"),
        ((500, "<html>boom</html>", {}), sl.TransientSendError,
         "provider answered 500: <html>boom</html>"),
        ((503, "", {}), sl.TransientSendError, "provider answered 503"),
        ((408, "", {}), sl.TransientSendError, "provider answered 408"),
        ((200, "not json", {}), sl.TransientSendError,
         "provider answered 200 without a message id: not json"),
        ((200, '{"id": true}', {}), sl.TransientSendError,
         'provider answered 200 without a message id: {"id": true}'),
        ((500, '{"error": {"code": "131056"}}', {}), sl.TransientSendError,
         'provider answered 500: {"code": "131056"}'),  # JSON, not Python's repr
        (slow_answer, sl.TransientSendError, "provider timeout (0.2 s)"),
        (cut_answer, sl.TransientSendError, "provider answered 200 in part: ClientPayloadError"),
    ])
    async def test_answers_map_to_outcomes(self, stub_provider, answer, error, words):
        _stub, send = await stub_provider(answer)
        with pytest.raises(error) as raised:
            await send(outgoing())
        assert str(raised.value).startswith(words)
        assert not isinstance(raised.value, sl.ThrottledError)
        # it answered, however badly; or nothing at all answered while it waited
        assert send.down == ("no answer within 0.2 s" if answer is slow_answer else None)

    async def test_a_gateway_that_answers_nothing_is_down_until_it_answers(self, stub_provider):
        ok = (200, '{"id": "x"}', {})
        _stub, send = await stub_provider(ok, slow_answer, slow_answer, ok)
        assert await send(outgoing()) == "x"
        results = await asyncio.gather(send(outgoing()), send(outgoing()), return_exceptions=True)
        assert [str(r) for r in results] == ["provider timeout (0.2 s)"] * 2
        assert send.down == "no answer within 0.2 s"
        assert await send(outgoing()) == "x" and send.down is None
        send.down = "no answer within 0.2 s"
        await send.probe()  # with nothing to send: a HEAD it answers (405) says it is back
        assert send.down is None

    async def test_a_time_out_among_answers_leaves_the_gateway_up(self, stub_provider):
        async def answer_soon(request):  # the other request has arrived: it waits meanwhile
            return sl.web.json_response({"id": "soon"})

        _stub, send = await stub_provider(slow_answer, answer_soon)
        results = await asyncio.gather(send(outgoing()), send(outgoing()), return_exceptions=True)
        assert sorted(str(r) for r in results) == ["provider timeout (0.2 s)", "soon"]
        assert send.down is None  # it answered another while this one waited

    @pytest.mark.parametrize("header, seconds", [({"Retry-After": "7"}, 7.0), ({}, 1.0),
                                                 ({"Retry-After": "soon"}, 1.0),
                                                 ({"Retry-After": "999999999"}, 3600.0)])
    async def test_429_is_throttled_with_retry_after(self, stub_provider, header, seconds):
        _stub, send = await stub_provider((429, '{"error": "slow down"}', header))
        with pytest.raises(sl.ThrottledError) as raised:
            await send(outgoing())
        assert raised.value.retry_after == seconds
        assert str(raised.value) == "throttled by the provider (429): slow down"

    async def test_retry_after_as_an_http_date(self):
        assert sl.parse_retry_after("Fri, 15 Jan 2027 08:00:30 GMT", T0) == 30.0
        assert sl.parse_retry_after("Fri, 15 Jan 2027 07:00:00 GMT", T0) == 0.0

    async def test_a_refused_connection_uses_no_attempt_and_the_gateway_is_down(
            self, stub_provider, unused_tcp_port):
        _stub, send = await stub_provider()
        send.url = dataclasses.replace(send.url,
                                       base=f"http://127.0.0.1:{unused_tcp_port}/messages")
        with pytest.raises(sl.GatewayDownError, match="provider unreachable") as raised:
            await send(outgoing())  # it never got the request: back to wait, nothing used up
        assert raised.value.retry_after == sl.DEFAULT_RETRY_AFTER
        assert send.down.startswith("unreachable: Cannot connect to host")

    async def test_a_certificate_that_does_not_hold_is_transient_not_down(
            self, stub_provider, aiohttp_server, tmp_path):
        _stub, send = await stub_provider(answer_within=30)  # a slow handshake is no time-out
        (tmp_path / "cert.pem").write_text(TEST_CERTIFICATE)  # not a CA we trust
        (tmp_path / "key.pem").write_text(TEST_PRIVATE_KEY)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        server = await aiohttp_server(sl.web.Application(), ssl=context)
        send.url = dataclasses.replace(send.url, base=f"https://127.0.0.1:{server.port}/messages")
        with pytest.raises(sl.TransientSendError, match="provider unreachable"):
            await send(outgoing())  # a connection opens: no probe could tell it from up

    async def test_an_unreachable_gateway_is_up_again_once_a_connection_opens(
            self, stub_provider, unused_tcp_port):
        _stub, send = await stub_provider()
        where = send.url
        send.url = dataclasses.replace(where, base=f"http://127.0.0.1:{unused_tcp_port}/messages")
        with pytest.raises(sl.GatewayDownError):
            await send(outgoing())
        await send.probe()  # still nothing there
        assert send.down.startswith("unreachable")
        send.url = where  # it is back, and nothing is sent
        await send.probe()
        assert send.down is None
        send.down = "answers 301, a redirect, not followed: check its URL"
        await send.probe()  # a connection says nothing of that
        assert send.down.startswith("answers 301")

    async def test_an_unreachable_provider_stops_the_start_with_one_line(
            self, capsys, unused_tcp_port):
        url = f"http://127.0.0.1:{unused_tcp_port}/messages"
        assert await asyncio.to_thread(
            sl.main, ["--provider-url", url, "--db", ":memory:", "--port", "0"]) == 2
        err = capsys.readouterr().err
        assert (err.startswith(f"smsleopard: error: cannot reach the provider at {url}")
                and err.count("\n") == 1)

    @needs_processes
    async def test_an_unreachable_provider_stops_a_real_start_with_one_line(
            self, unused_tcp_port):
        """No warning about its callbacks before the reason (the gateway never opened)."""
        url = f"kannel+http://u:p@127.0.0.1:{unused_tcp_port}?from=S"
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, sl.__file__, "--provider-url", url, "--db",
                             ":memory:", "--port", "0"], capture_output=True, text=True,
            timeout=60)
        assert done.returncode == 2
        assert done.stderr.startswith("smsleopard: error: cannot reach the provider at ")
        assert done.stderr.count("\n") == 1, done.stderr

    @pytest.mark.parametrize("argv, message", [
        (["--provider-url", "ftp://x"],
         "--provider-url must be empty, http(s)://..., or twilio://"),
        (["--provider-url", "http://"], "--provider-url must be an http:// or https:// URL"),
        (["--rate-limit", "sms=fast"],
         "--rate-limit must be like sms=50,whatsapp=20: the rate of sms must be"),
        (["--rate-limit", "fax=5"],
         "--rate-limit must be like sms=50,whatsapp=20: 'fax=5' is not"),
        (["--provider-url", "http://p", "--provider-timeout-ms", "20000", "--claim-timeout", "30"],
         "--provider-timeout-ms must be at least 1 and, with --provider-url, below half of "
         "--claim-timeout"),
    ])
    async def test_bad_provider_settings_are_refused(self, argv, message):
        with pytest.raises(sl.ConfigError) as refused:
            sl.load_config(argv, {})
        assert str(refused.value).startswith(message)


DIALECT_URLS = {
    "generic": "http://{address}/messages",
    "twilio": "twilio+http://AC0123:tw-s3cret@{address}?from=%2B15550001111",
    "africastalking": "africastalking+http://sandbox:at-s3cret@{address}?from=LEOPARD",
    "infobip": "infobip+http://ib-s3cret@{address}?from=Shop&bulk=7",
    "kannel": "kannel+http://leopard:k-s3cret@{address}?from=Leopard&smsc=fake",
}
SECRETS = ("tw-s3cret", "at-s3cret", "ib-s3cret", "k-s3cret")


class TestGatewayUrls:
    @pytest.mark.parametrize("url, kind, base, user, options", [
        ("twilio://AC1:tok@api.twilio.com?from=%2B15550001111", "twilio", "https://api.twilio.com",
         "AC1", {"from": "+15550001111"}),
        ("twilio+http://AC1:tok@127.0.0.1:8000?messaging_service=MG1", "twilio",
         "http://127.0.0.1:8000", "AC1", {"messaging_service": "MG1"}),
        ("africastalking://sandbox:key@api.africastalking.com?from=LEOPARD", "africastalking",
         "https://api.africastalking.com", "sandbox", {"from": "LEOPARD"}),
        ("infobip://k3y@abc.api.infobip.com?from=Shop&bulk=50", "infobip",
         "https://abc.api.infobip.com", "", {"from": "Shop", "bulk": "50"}),
        ("kannel+http://u:p@10.0.0.5:13013?from=Leopard&smsc=", "kannel", "http://10.0.0.5:13013",
         "u", {"from": "Leopard", "smsc": ""}),
        ("https://p.example.com/messages", "generic", "https://p.example.com/messages", "", {}),
    ])
    def test_a_gateway_url_is_taken_apart(self, url, kind, base, user, options):
        parsed = sl.parse_gateway_url(url)
        assert (parsed.kind, parsed.base, parsed.user, dict(parsed.options)) == (
            kind, base, user, options)

    @pytest.mark.parametrize("url, problem", [
        ("twilio://AC1@api.twilio.com?from=1",
         "twilio:// needs its credentials: twilio://ACCOUNT_SID:AUTH_TOKEN@host"),
        ("twilio://AC1:s3cret@api.twilio.com",
         "twilio:// needs from=+15550001111 or messaging_service"),
        ("twilio://AC1:s3cret@api.twilio.com?from=1&messaging_service=MG",
         "twilio:// needs from="),
        ("kannel://u:s3cret@h?from=x&colour=red",
         "kannel:// has an unknown option 'colour' (it takes from, smsc)"),
        ("kannel://u:s3cret@h?from=x&from=y", "kannel:// gives an option twice"),
        ("infobip://s3cret@h?bulk=0", "infobip:// bulk must be between 1 and 1000"),
        ("infobip://s3cret@h?bulk=lots", "infobip:// bulk must be between 1 and 1000"),
        ("infobip://s3cret@h?bulk=%C2%B2", "infobip:// bulk must be between 1 and 1000"),  # ²
        ("kannel://u:s3cret@h:99999", "kannel:// has a bad port"),
        ("kannel+ftp://u:s3cret@h", "must be empty, http(s)://..., or twilio://"),
        ("carrierpigeon://u:s3cret@h", "must be empty, http(s)://..., or twilio://"),
        ("africastalking://:s3cret@h", "africastalking:// needs its credentials"),
        ("smpp://leopard:s3cret@h", "smpp:// needs source=SENDER (1 to 20 characters)"),
        ("smpp://leopard:s3cret@h?source=S&window=0", "smpp:// window must be between 1 and 1000"),
        ("smpp://leopard:s3cret@h?source=S&window=many",
         "smpp:// window must be between 1 and 1000"),
        ("smpp://leopard:s3cret@h?source=S&system_type=thirteenchars",
         "smpp:// system_type must be at most 12"),
        ("smpp://leopard:s3cret@h?source=S&bulk=2", "smpp:// has an unknown option 'bulk'"),
        ("smpp://leopard:s3cret999@h?source=S",
         "smpp:// system_id must be at most 15 and the password 8"),
        ("smpp://leopard@h?source=S",
         "smpp:// needs its credentials: smpp://SYSTEM_ID:PASSWORD@host"),
        ("smpp://leopard:s3cret@h:70000?source=S", "smpp:// has a bad port"),
    ])
    def test_a_bad_gateway_url_is_one_line_naming_the_problem_not_the_secret(self, url, problem):
        with pytest.raises(sl.ConfigError) as refused:
            sl.load_config(["--provider-url", url], {})
        message = str(refused.value)
        assert message.startswith(f"--provider-url {problem}") and "s3cret" not in message
        assert "\n" not in message

    def test_the_url_shown_hides_the_secret(self):
        assert sl.parse_gateway_url("infobip://k3y@abc.api.infobip.com?from=S").shown == \
            "infobip://***@abc.api.infobip.com"
        assert (sl.parse_gateway_url("kannel+http://u:p4ss@h:13013?from=S").shown
                == "kannel+http://u:***@h:13013")

    @pytest.mark.parametrize("url", [
        *(u.format(address="gw.example.com:8443") for u in DIALECT_URLS.values()),
        "https://user:pw-s3cret@p.example.com/messages?key=q-s3cret"])
    def test_the_start_line_names_the_gateway_without_its_secret(self, url):
        shown = sl.describe_provider(test_config(provider_url=url))
        assert "gw.example.com:8443" in shown or "p.example.com" in shown
        assert "s3cret" not in shown

    def test_callback_tokens_are_stable_and_differ_per_gateway(self):
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        assert token == sl.callback_token(RECEIPT_SECRET, "kannel") and len(token) == 32
        assert token != sl.callback_token(RECEIPT_SECRET, "infobip")
        assert token != sl.callback_token(WEBHOOK_SECRET, "kannel")


def raised(call, *args):
    """What a mapping function gives for an answer: its value, or (error class, words)."""
    try:
        return call(*args)
    except sl.SendError as exc:
        return type(exc).__name__, str(exc)


class TestGatewayAnswers:
    """Each gateway's answers, mapped onto §12's outcomes: tables of the wire facts (§20)."""

    @pytest.mark.parametrize("status, body, outcome", [
        (201, b'{"sid": "SM123", "status": "queued"}', "SM123"),
        (201, b'{"status": "queued"}',
         ("TransientSendError", 'twilio answered 201 without a sid: {"status": "queued"}')),
        (429, b'{"code": 20429, "message": "Too many requests"}',
         ("ThrottledError", "twilio throttled it (429): error 20429: Too many requests")),
        (400, b'{"code": 21211, "message": "Invalid To"}',
         ("PermanentSendError", "twilio refused it (400): error 21211: Invalid To")),
        (400, b'{"code": 21408, "message": "Permission"}',
         ("PermanentSendError", "twilio refused it (400): error 21408: Permission")),
        (400, b'{"code": 21610, "message": "Unsubscribed recipient"}',
         ("OptedOutError", "twilio refused it (400): error 21610: Unsubscribed recipient")),
        (400, b'{"code": 21612, "message": "x"}',
         ("PermanentSendError", "twilio refused it (400): error 21612: x")),
        (400, b'{"code": 21614, "message": "x"}',
         ("PermanentSendError", "twilio refused it (400): error 21614: x")),
        (503, b"<html>down</html>",
         ("TransientSendError", "twilio answered 503: <html>down</html>")),
        (401, b'{"code": 20003, "message": "Authenticate"}',
         ("PermanentSendError", "twilio refused it (401): error 20003: Authenticate")),
    ])
    def test_twilio(self, status, body, outcome):
        assert raised(sl.twilio_outcome, status, body, 1.0) == outcome

    @pytest.mark.parametrize("status, body, outcome", [
        (201, {"statusCode": 101, "status": "Success", "messageId": "ATXid_1"}, "ATXid_1"),
        (201, {"statusCode": 100, "status": "Processed", "messageId": "ATXid_2"}, "ATXid_2"),
        (201, {"statusCode": 102, "status": "Queued", "messageId": "ATXid_3"}, "ATXid_3"),
        (201, {"statusCode": 403, "status": "InvalidPhoneNumber", "messageId": "None"},
         ("PermanentSendError", "africastalking refused it: status 403 InvalidPhoneNumber")),
        (201, {"statusCode": 404, "status": "UnsupportedNumberType"},
         ("PermanentSendError", "africastalking refused it: status 404 UnsupportedNumberType")),
        (201, {"statusCode": 406, "status": "UserInBlacklist", "messageId": "None"},
         ("OptedOutError", "africastalking refused it: status 406 UserInBlacklist")),
        (201, {"statusCode": 407, "status": "CouldNotRoute"},
         ("PermanentSendError", "africastalking refused it: status 407 CouldNotRoute")),
        (409, {"statusCode": 409, "status": "DoNotDisturbRejection", "messageId": "None"},
         ("PermanentSendError", "africastalking refused it: status 409 DoNotDisturbRejection")),
        (201, {"statusCode": 500, "status": "InternalServerError"},
         ("TransientSendError", "africastalking answered status 500 InternalServerError")),
        (201, {"statusCode": 101, "status": "Success", "messageId": "None"},
         ("TransientSendError", "africastalking answered status 101 Success")),
    ])
    def test_africastalking_recipients(self, status, body, outcome):
        answer = json.dumps(
            {"SMSMessageData": {"Message": "Sent to 1/1", "Recipients": [body]}}).encode()
        assert raised(sl.africastalking_outcome, status, answer, 1.0) == outcome

    @pytest.mark.parametrize("status, body, outcome", [
        (201, b'{"SMSMessageData": {"Message": "InvalidPhoneNumber", "Recipients": []}}',
         ("PermanentSendError", "africastalking sent it to nobody: InvalidPhoneNumber")),
        (401, b"The supplied authentication is invalid",
         ("PermanentSendError",
          "africastalking refused it (401): The supplied authentication is invalid")),
        (429, b"slow", ("ThrottledError", "africastalking throttled it (429): slow")),
        (502, b"", ("TransientSendError", "africastalking answered 502: (nothing)")),
        (200, b"garbage",
         ("TransientSendError", "africastalking answered 200 without recipients: garbage")),
    ])
    def test_africastalking_whole_answers(self, status, body, outcome):
        assert raised(sl.africastalking_outcome, status, body, 1.0) == outcome

    @PROPERTIES
    @given(answer=gateway_answers)
    @example(answer={"messages": [{"messageId": ["1"]}]})  # each of these once crashed
    @example(answer={"code": [21610], "message": "x"})
    @example(answer={"SMSMessageData": {"Recipients": [{"statusCode": {"a": 1}}]}})
    @example(answer={"error": {"code": 131026, "message": "x", "error_data": {"details": [1]}}})
    def test_any_answer_is_an_outcome_or_a_send_error(self, answer):
        """Whatever a gateway answers, the attempt is sent or fails with a SendError of our
        words, never another exception."""
        body = json.dumps(answer).encode()
        for status, outcome in itertools.product((200, 400, 429, 500), (
                sl.twilio_outcome, sl.africastalking_outcome, sl.whatsapp_outcome,
                sl.kannel_outcome)):
            try:
                sent = outcome(status, body, 1.0)
            except sl.SendError as exc:
                assert str(exc)
            else:
                assert sent is None or (isinstance(sent, str) and 0 < len(sent) <= 200)
            outcomes = sl.infobip_outcomes(status, body, ["1"], 1.0)
            assert list(outcomes) == ["1"] and isinstance(outcomes["1"], str | sl.SendError)

    @PROPERTIES
    @given(post=gateway_posts)
    @example(post=[{"object": "whatsapp_business_account"}])  # each of these once crashed
    @example(post={"object": "whatsapp_business_account", "entry": [{"changes": 7}]})
    def test_any_json_callback_is_read_or_refused(self, post):
        """A JSON callback (Infobip's reports, Meta's webhook) is read or refused with a
        ValueError, which HTTP answers 400; never another exception (a 500)."""
        infobip = sl.InfobipGateway(
            sl.parse_gateway_url("infobip://k3y@abc.api.infobip.com?from=S"), 1, 1,
            sl.Callbacks(), None)
        whatsapp = sl.WhatsAppGateway(sl.parse_gateway_url(WA_URL.format(address="h")), 1, 1,
                                      sl.Callbacks(), None)
        for read in (infobip.receipts, infobip.inbound, whatsapp.receipts, whatsapp.inbound,
                     sl.whatsapp_texts):
            try:
                found = read(post)
            except ValueError as exc:
                assert str(exc)
            else:
                assert isinstance(found, list)

    def test_infobip_answers_each_message_of_a_request(self):
        answer = json.dumps({"bulkId": "b1", "messages": [
            {"to": "2547", "messageId": "2", "status": {
                "groupId": 5, "groupName": "REJECTED", "id": 12,
                "name": "REJECTED_NOT_ENOUGH_CREDITS", "description": "Not enough credits"}},
            {"to": "2547", "messageId": "1", "status": {
                "groupId": 1, "groupName": "PENDING", "id": 26, "name": "MESSAGE_ACCEPTED",
                "description": "sent"}},
            {"to": "2547", "messageId": "4", "status": {
                "groupName": "REJECTED", "name": "REJECTED_DUPLICATE_MESSAGE_ID"}},
        ]}).encode()
        outcomes = sl.infobip_outcomes(200, answer, ["1", "2", "3", "4"], 1.0)
        assert outcomes["1"] == "1" and outcomes["4"] == "4"
        assert isinstance(outcomes["2"], sl.PermanentSendError) and str(outcomes["2"]) == (
            "infobip refused it: REJECTED REJECTED_NOT_ENOUGH_CREDITS: Not enough credits")
        assert isinstance(outcomes["3"], sl.TransientSendError)

    @pytest.mark.parametrize("status, body, error, words", [
        (429, b'{"errorCode": "E429", "description": "Too many requests sent."}',
         sl.ThrottledError, "infobip throttled it (429): E429: Too many requests sent."),
        (400, b'{"requestError": {"serviceException": {"messageId": "BAD_REQUEST", '
              b'"text": "Bad request"}}}',
         sl.PermanentSendError, "infobip refused it (400): BAD_REQUEST: Bad request"),
        (500, b'{"requestError": {"serviceException": {"messageId": "GENERAL_ERROR", '
              b'"text": "Oops"}}}',
         sl.TransientSendError, "infobip answered 500: GENERAL_ERROR: Oops"),
        (200, b"not json", sl.TransientSendError, "infobip answered 200 without this message"),
    ])
    def test_infobip_whole_answers(self, status, body, error, words):
        outcomes = sl.infobip_outcomes(status, body, ["1", "2"], 1.0)
        assert all(type(o) is error and str(o) == words for o in outcomes.values())

    @pytest.mark.parametrize("status, body, outcome", [
        (202, b"0: Accepted for delivery", None), (202, b"3: Queued for later delivery", None),
        (202, b"Sent.", None),
        (503, b"Temporal failure, try again later.",
         ("ThrottledError", "kannel is busy (503): Temporal failure, try again later.")),
        (500, b"Sending failed.", ("TransientSendError", "kannel answered 500: Sending failed.")),
        (403, b"Not routable. Do not try again.",
         ("PermanentSendError", "kannel refused it (403): Not routable. Do not try again.")),
        (400, b"Missing receiver number, rejected",
         ("PermanentSendError", "kannel refused it (400): Missing receiver number, rejected")),
    ])
    def test_kannel(self, status, body, outcome):
        assert raised(sl.kannel_outcome, status, body, 1.0) == outcome


class TestGatewayRequests:
    def test_twilio_form(self):
        form = sl.twilio_form(outgoing(reference="42", text="Hi"), {"from": "+15550001111"},
                              "https://sms.example.com/providers/twilio/receipts")
        assert form == {"To": "+254712000001", "Body": "Hi", "From": "+15550001111",
                        "StatusCallback": "https://sms.example.com/providers/twilio/receipts"
                                          "?ref=42"}
        whatsapp = sl.twilio_form(outgoing(channel="whatsapp"), {"messaging_service": "MG1"}, None)
        assert whatsapp == {"To": "whatsapp:+254712000001", "Body": "Hi",
                            "MessagingServiceSid": "MG1"}

    def test_kannel_query_carries_the_reference_and_ucs2_when_needed(self):
        url = sl.parse_gateway_url("kannel://u:p%26w@h:13013?from=Leo&smsc=fake")
        query = urllib.parse.parse_qs(sl.kannel_query(
            outgoing(reference="9", text="Привет"), url,
            "https://s.example/providers/kannel/receipts/t0k"))
        assert query == {"username": ["u"], "password": ["p&w"], "to": ["+254712000001"],
                         "text": ["Привет"], "charset": ["UTF-8"], "from": ["Leo"],
                         "coding": ["2"], "smsc": ["fake"], "dlr-mask": ["19"],
                         "dlr-url": ["https://s.example/providers/kannel/receipts/t0k"
                                     "?ref=9&type=%d&reply=%A"]}
        assert "coding" not in urllib.parse.parse_qs(
            sl.kannel_query(outgoing(text="Hi"), url, None))

    def test_infobip_body_is_one_personalised_message_each(self):
        body = json.loads(sl.infobip_body(
            [outgoing(reference="1", text="Hi A"), outgoing(reference="2", text="Hi B")],
            {"from": "Shop"}, "https://s/providers/infobip/receipts/t"))
        assert body == {"messages": [
            {"from": "Shop", "destinations": [{"to": "254712000001", "messageId": ref}],
             "text": text, "notifyUrl": "https://s/providers/infobip/receipts/t",
             "notifyContentType": "application/json"}
            for ref, text in (("1", "Hi A"), ("2", "Hi B"))]}


class TestGatewayOptOut:
    pytestmark = pytest.mark.asyncio

    async def test_a_gateways_opt_out_answer_fails_the_message_and_opts_the_customer_out(self, h):
        ids = await h.add_customers(2)
        h.sender.script[h.phones[0]] = [
            sl.OptedOutError("twilio refused it (400): error 21610: unsubscribed")]
        h.sender.script[h.phones[1]] = [
            sl.PermanentSendError("twilio refused it (400): error 21211: bad")]
        campaign_id = await h.launch(ids)
        await h.settle()
        messages = {m["customer_id"]: m for m in await h.messages(campaign_id)}
        assert [messages[i]["status"] for i in ids] == ["failed", "failed"]
        assert (messages[ids[0]]["last_error"]
                == "twilio refused it (400): error 21610: unsubscribed")
        assert (await h.get(f"/customers/{ids[0]}"))["opted_out_at"] == sl.utc_iso(T0)
        assert (await h.get(f"/customers/{ids[1]}"))["opted_out_at"] is None
        again = await h.launch(ids)  # never attempted again
        assert (await h.campaign(again))["stats"]["suppressed"] == 1


# the official twilio-python test vectors (tests/unit/test_request_validator.py)
TWILIO_VECTOR_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                        "From": "+14158675309", "To": "+18005551212"}


class TestTwilioSignature:
    @pytest.mark.parametrize("url, signature", [
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ])
    def test_the_official_vectors(self, url, signature):
        assert sl.twilio_signature("12345", url, TWILIO_VECTOR_PARAMS) == signature

    @pytest.mark.parametrize("repeated", [
        [("Body", "héllo ☕"), ("Body", "again")],
        [("Body", "same"), ("Body", "same"), ("Body", "other")],  # each value once, as Twilio's
    ])
    def test_it_agrees_with_twilios_own_request_validator(self, repeated):
        from twilio.request_validator import RequestValidator

        form = multidict.MultiDict([("MessageSid", "SM1"), ("MessageStatus", "delivered"),
                                    ("To", "+2547"), *repeated])
        url = "https://sms.example.com/providers/twilio/receipts?ref=42"
        ours = sl.twilio_signature("s3cret-token", url, form)
        assert RequestValidator("s3cret-token").validate(url, form, ours)
        assert ours == RequestValidator("s3cret-token").compute_signature(url, form)
        assert not RequestValidator("other").validate(url, form, ours)

    def test_either_port_form_is_accepted(self):
        assert sl.twilio_urls("https://h.example/p?x=1") == [
            "https://h.example/p?x=1", "https://h.example:443/p?x=1"]
        assert sl.twilio_urls("http://h.example:8080/p") == [
            "http://h.example:8080/p", "http://h.example/p"]


class TestGatewaysEndToEnd:
    """The service and the mock provider speaking each dialect, receipts and opt-outs included."""

    pytestmark = pytest.mark.asyncio

    async def through(self, make_harness, aiohttp_server, port, dialect, clock=None, **settings):
        """(harness, mock): the service on `port`, its gateway the mock speaking `dialect`."""
        public = f"http://127.0.0.1:{port}"
        token = sl.callback_token(RECEIPT_SECRET, dialect)
        receipt_url = (f"{public}/providers/africastalking/receipts/{token}"
                       if dialect == "africastalking" else "")
        config = mock_provider.MockProviderConfig(
            dialect=dialect, delivery_rate=0.5, receipt_url=receipt_url,
            # Africa's Talking's reports name only its id, stored when the outcome is committed
            # (within GROUP_WINDOW): one before that waits for it (docs/gateways.md); here the
            # reports come after it, so every one is applied as it arrives
            receipt_delay_ms=500 if dialect == "africastalking" else 0,
            receipt_secret=RECEIPT_SECRET if dialect == "generic" else "", **settings)
        # signs in the service's time
        mock = mock_provider.MockProvider(config, random.Random(3), clock)
        server = await aiohttp_server(mock.app())
        url = DIALECT_URLS[dialect].format(address=f"127.0.0.1:{server.port}")
        h = await make_harness(provider_url=url, real_provider=True, port=port, public_url=public,
                               receipt_secret=RECEIPT_SECRET)
        return h, mock

    @pytest.mark.parametrize("dialect", list(DIALECT_URLS))
    async def test_a_campaign_with_its_reports_and_refusals(
            self, make_harness, aiohttp_server, unused_tcp_port, caplog, clock, dialect):
        caplog.set_level(logging.DEBUG, logger="smsleopard")
        h, mock = await self.through(make_harness, aiohttp_server, unused_tcp_port, dialect, clock)
        ids = await h.add_customers(20)
        refused = await h.post(
            "/customers", {"customers": [{"phone": "+99970000001"}, {"phone": "+99870000001"}]},
            expect=201)
        refused_ids = [c["id"] for c in refused["customers"]]
        campaign_id = await h.launch(ids + refused_ids, template="Hi {first_name} ☕")
        await h.settle()
        campaign = await h.campaign(campaign_id)
        assert (campaign["stats"]["sent"], campaign["stats"]["failed"]) == (20, 2)

        async def reported():  # the mock counts a report once our answer is back
            stats = (await h.campaign(campaign_id))["stats"]
            return (stats["delivered"] + stats["undelivered"] == 20
                    and mock.stats["receipts_sent"] == 20 and stats)

        reports = await until(reported, "every delivery report")
        assert reports["delivered"] > 0 and reports["undelivered"] > 0
        assert mock.stats["accepted"] == 20
        messages = await h.messages(campaign_id)
        undelivered = [m["last_error"] for m in messages if m["delivery_status"] == "undelivered"]
        assert all(error for error in undelivered)
        opted_out = (await h.get(f"/customers/{refused_ids[1]}"))["opted_out_at"]
        assert (opted_out is not None) == (dialect in ("twilio", "africastalking"))
        if dialect == "infobip":
            assert mock.requests <= 6  # 22 messages in requests of up to 7
        overview = await h.get("/overview")
        assert {(g["channel"], g["kind"]) for g in overview["gateways"]} == {
            ("sms", dialect), ("whatsapp", dialect)}
        shown = json.dumps([messages, await h.get("/providers"), await h.get("/health"),
                            overview]) + caplog.text
        assert not [secret for secret in SECRETS if secret in shown]

    async def test_the_text_reaches_the_gateway_whole(
            self, make_harness, aiohttp_server, unused_tcp_port):
        h, mock = await self.through(make_harness, aiohttp_server, unused_tcp_port, "kannel")
        await h.launch(await h.add_customers(1), template="Привет {first_name} ☕ & 100% +1")
        await h.settle()
        assert [m["rendered_content"] for m in await h.messages(1)] == [
            "Привет Name0 ☕ & 100% +1"]
        assert mock.stats["accepted"] == 1

    async def test_providers_shows_the_urls_to_paste_and_no_secret(
            self, make_harness, aiohttp_server, unused_tcp_port):
        h, _ = await self.through(make_harness, aiohttp_server, unused_tcp_port, "kannel")
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        public = f"http://127.0.0.1:{unused_tcp_port}/providers/kannel"
        (gateway,) = (await h.get("/providers"))["data"]
        assert gateway == {
            "channels": ["sms", "whatsapp"], "kind": "kannel", "host": gateway["host"],
            "url": f"kannel+http://leopard:***@{gateway['host']}", "state": "up", "reason": None,
            "callbacks": {"receipts": f"{public}/receipts/{token}",
                          "inbound": f"{public}/inbound/{token}"
                                     "?from=%p&to=%P&text=%a&charset=%C&coding=%c"}}

    async def test_a_busy_kannel_slows_the_channel_and_fails_nothing(
            self, make_harness, aiohttp_server, unused_tcp_port):
        """Its 503 ("try again later") is a throttle. When each used up an attempt, a busy
        smsbox failed most of a big campaign within seconds."""
        answered = Counter()

        async def sendsms(request):  # busy for its first 30 requests
            answered["all"] += 1
            if answered["all"] <= 30:
                return sl.web.Response(status=503, text="Temporal failure, try again later.")
            answered["sent"] += 1
            return sl.web.Response(status=202, text="0: Accepted for delivery")

        app = sl.web.Application()
        app.router.add_get("/cgi-bin/sendsms", sendsms)
        server = await aiohttp_server(app)
        h = await make_harness(real_provider=True, port=unused_tcp_port, max_retries=1,
                               provider_url=DIALECT_URLS["kannel"].format(
                                   address=f"127.0.0.1:{server.port}"))
        campaign_id = await h.launch(await h.add_customers(20))
        campaign = await h.run_until_done(campaign_id, step=1.0, limit=200)
        assert campaign["stats"]["sent"] == 20 and campaign["stats"]["failed"] == 0
        assert answered["sent"] == 20 and answered["all"] == 50
        assert {m["retry_count"] for m in await h.messages(campaign_id)} == {0}

    @pytest.mark.parametrize("secret", ["", RECEIPT_SECRET])
    async def test_without_a_receipt_secret_the_start_says_reports_have_no_url(
            self, make_harness, aiohttp_server, unused_tcp_port, caplog, secret):
        mock = mock_provider.MockProvider(mock_provider.MockProviderConfig(dialect="kannel"),
                                          random.Random(3))
        server = await aiohttp_server(mock.app())
        h = await make_harness(
            provider_url=DIALECT_URLS["kannel"].format(address=f"127.0.0.1:{server.port}"),
            real_provider=True, port=unused_tcp_port, receipt_secret=secret,
            public_url=f"http://127.0.0.1:{unused_tcp_port}")
        (gateway,) = (await h.get("/providers"))["data"]
        assert (gateway["callbacks"]["receipts"] is None) == (not secret)
        assert ("kannel: no --receipt-secret" in caplog.text) == (not secret)

    async def test_a_gateway_that_stops_answering_is_down_until_it_is_back(
            self, make_harness, aiohttp_server, unused_tcp_port, monkeypatch):
        monkeypatch.setattr(sl, "GATEWAY_PROBE", 0.01)
        h, _ = await self.through(make_harness, aiohttp_server, unused_tcp_port, "twilio",
                                  failure_rate=0)
        gateway = h.app[sl.SENDER].by_kind("twilio")
        where = gateway.url
        # nothing listens
        gateway.url = dataclasses.replace(gateway.url, base="http://127.0.0.1:9")
        campaign_id = await h.launch(await h.add_customers(1))
        await h.settle()
        (message,) = await h.messages(campaign_id)
        assert (message["status"], message["retry_count"]) == ("pending", 0)
        assert message["last_error"].startswith("provider unreachable")
        health = await h.get("/health", expect=503)
        assert (health["provider"] == "down"
                and health["provider_reason"].startswith("twilio: unreachable"))
        assert (await h.get("/providers"))["data"][0]["state"] == "down"
        gateway.url = where  # back; the message waits for its time, nothing else is sent
        await until(lambda: self.health(h), "/health 200 with nothing sent")

    @staticmethod
    async def health(h):
        return (await h.client.get("/health")).status == 200


@needs_processes
class TestRealKannel:
    """The kannel gateway against a real Kannel 1.4.5 (Debian's bearerbox and smsbox, with the
    fake SMSC of kannel-extras), delivery reports and an inbound STOP included."""

    pytestmark = pytest.mark.asyncio

    async def test_a_campaign_through_kannel_with_its_reports_and_a_stop(
            self, make_harness, tmp_path, unused_tcp_port):
        from tools import kannel as real_kannel

        assert real_kannel.kannel_installed(), "install kannel and kannel-extras (.ci/run does)"
        public = f"http://127.0.0.1:{unused_tcp_port}"
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        inbound = (f"{public}/providers/kannel/inbound/{token}"
                   "?from=%p&to=%P&text=%a&charset=%C&coding=%c")
        async with real_kannel.kannel_async(tmp_path / "kannel", inbound_url=inbound) as k:
            address = urllib.parse.urlsplit(k.sendsms_url).netloc
            url = (f"kannel+http://{k.username}:{urllib.parse.quote(k.password)}@{address}"
                   "?from=Leopard&smsc=fake")
            h = await make_harness(provider_url=url, real_provider=True, port=unused_tcp_port,
                                   public_url=public, receipt_secret=RECEIPT_SECRET)
            ids = await h.add_customers(3)
            campaign_id = await h.launch(ids, template="Hi {first_name}, чай ☕ & 100% +1")
            await h.settle()
            assert (await h.campaign(campaign_id))["stats"]["sent"] == 3
            for n, phone in enumerate(h.phones):
                got = await asyncio.to_thread(k.wait_for_mt,
                                              lambda m, phone=phone: m.receiver == phone)
                assert (got.sender, got.text) == ("Leopard", f"Hi Name{n}, чай ☕ & 100% +1")

            async def delivered():
                return (await h.campaign(campaign_id))["stats"]["delivered"] == 3

            await until(delivered, "Kannel's delivery reports")
            await asyncio.to_thread(k.inject_mo, h.phones[1], "12345", "STOP")

            async def opted_out():
                return (await h.get(f"/customers/{ids[1]}"))["opted_out_at"] is not None

            await until(opted_out, "the STOP to arrive through smsbox")
            assert (await h.get(f"/customers/{ids[0]}"))["opted_out_at"] is None
            await h.client.close()


@needs_processes
class TestBenchGateways:
    pytestmark = pytest.mark.asyncio

    async def test_the_infobip_row_goes_through_the_mock_in_its_own_process(self, tmp_path):
        db = str(tmp_path / "bench.db")
        await bench._load_customers(db, 300, 100)  # segment-2 holds 100 of them
        (figure,) = await bench._bench_infobip(db)
        assert figure.name.startswith("through Infobip") and "100 messages" in figure.name
        assert figure.value > 0 and figure.target == ">= 10,000"


def infobip_report(group, name="X"):
    return {"results": [{"messageId": "7", "status": {"groupName": group, "name": name}}]}


class TestGatewayReportTables:
    """Each gateway's report statuses, the whole of each table: delivered, undelivered (with the
    gateway's words), or not final (None: it changes nothing)."""

    @pytest.mark.parametrize("kind, fields, meaning", [
        *[("twilio", {"MessageSid": "SM1", "MessageStatus": status, "ErrorCode": "30003"},
           meaning) for status, meaning in [
            ("delivered", "delivered"), ("undelivered", "undelivered"),
            ("failed", "undelivered"), ("sent", None), ("queued", None)]],
        *[("africastalking", {"id": "ATXid_1", "status": status, "failureReason": "Why"},
           meaning) for status, meaning in [
            ("Success", "delivered"), ("Failed", "undelivered"), ("Rejected", "undelivered"),
            ("Expired", "undelivered"), ("AbsentSubscriber", "undelivered"),
            ("Buffered", None), ("Sent", None), ("Submitted", None)]],
        *[("infobip", infobip_report(*status), meaning) for status, meaning in [
            (("DELIVERED", "DELIVERED_TO_HANDSET"), "delivered"),
            (("DELIVERED", "DELIVERED_TO_OPERATOR"), None), (("PENDING",), None),
            (("UNDELIVERABLE",), "undelivered"), (("EXPIRED",), "undelivered"),
            (("REJECTED",), "undelivered")]],
        *[("kannel", {"ref": "7", "type": kind, "reply": "NACK"}, meaning)
          for kind, meaning in [("1", "delivered"), ("2", "undelivered"),
                                ("16", "undelivered"), ("4", None), ("8", None)]],
    ])
    def test_each_status_means_what_its_table_says(self, kind, fields, meaning):
        gateway = sl.GATEWAYS[kind](sl.parse_gateway_url(DIALECT_URLS[kind].format(address="h")),
                                    1, 1, sl.Callbacks(), None)
        (report,) = gateway.receipts(fields)
        assert report.status == meaning
        assert (report.error is not None) == (meaning == "undelivered")


class TestGatewayCallbacks:
    """Callbacks as each gateway sends them: verified, parsed, and refused when wrong."""

    pytestmark = pytest.mark.asyncio

    async def harness(self, make_harness, aiohttp_server, kind):
        app = sl.web.Application()  # a gateway that is never called: the tests post its callbacks
        server = await aiohttp_server(app)
        url = DIALECT_URLS[kind].format(address=f"127.0.0.1:{server.port}")
        return await make_harness(provider_url=url, real_provider=True,
                                  public_url="https://sms.example.com",
                                  receipt_secret=RECEIPT_SECRET, run_workers=False)

    async def sent_message(self, h, provider_id):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        await h.send(campaign_id, {"customer_ids": ids})
        message_id = (await h.sql("SELECT id FROM outbound_messages"))[0][0]
        await h.execute("UPDATE outbound_messages SET status = 'sent', provider_message_id = ? "
                        "WHERE id = ?", (provider_id, message_id))
        await h.execute("UPDATE campaigns SET sent_count = 1, status = 'sent'")  # as if dispatched
        return campaign_id, message_id

    async def test_providers_needs_the_api_key_and_the_callbacks_do_not(self, make_harness):
        h = await make_harness(api_key="k", receipt_secret=RECEIPT_SECRET)
        assert (await h.request("GET", "/providers"))[0] == 401
        (mock,) = (await h.request("GET", "/providers",
                                   headers={"Authorization": "Bearer k"}))[1]["data"]
        assert (mock["kind"], mock["state"], mock["channels"]) == (
            "mock", "up", ["sms", "whatsapp"])
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        status, payload = await h.request(
            "GET", f"/providers/kannel/receipts/{token}?ref=1&type=1")
        assert status == 404 and payload["error"]["code"] == "NOT_FOUND"  # no kannel gateway here

    async def test_the_access_log_shows_no_callback_token(self, caplog):
        from aiohttp.test_utils import make_mocked_request

        logger = sl.AccessLogger(logging.getLogger("smsleopard.access"), "")
        caplog.set_level(logging.INFO, logger="smsleopard.access")
        for path in ("/providers/kannel/receipts/t0ken-s3cret?ref=1&type=1",
                     "/providers/infobip/inbound/t0ken-s3cret", "/campaigns/1"):
            logger.log(make_mocked_request("GET", path), sl.web.Response(), 0.001)
        assert "s3cret" not in caplog.text
        assert '"GET /providers/kannel/receipts/***?*** HTTP/1.1"' in caplog.text
        assert '"GET /campaigns/1 HTTP/1.1"' in caplog.text

    async def test_twilio_reports_need_its_signature(self, make_harness, aiohttp_server):
        from twilio.request_validator import RequestValidator

        h = await self.harness(make_harness, aiohttp_server, "twilio")
        _, message_id = await self.sent_message(h, "SM1")
        path = f"/providers/twilio/receipts?ref={message_id}"
        form = {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003",
                "ErrorMessage": "Unreachable destination handset"}
        signature = RequestValidator("tw-s3cret").compute_signature(
            "https://sms.example.com" + path, form)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        raw = urllib.parse.urlencode(form)
        status, payload = await h.request("POST", path, raw=raw,
                                          headers={**headers, "X-Twilio-Signature": "bad"})
        assert status == 403 and payload["error"]["code"] == "FORBIDDEN"
        taken = await h.post(path, raw=raw, headers={**headers, "X-Twilio-Signature": signature},
                             expect=200)
        assert taken == {"accepted": 1, "unknown": []}
        (row,) = await h.sql("SELECT delivery_status, last_error FROM outbound_messages")
        assert row == ("undelivered", "twilio error 30003: Unreachable destination handset")

    async def test_twilio_inbound_stop_opts_out(self, make_harness, aiohttp_server):
        from twilio.request_validator import RequestValidator

        h = await self.harness(make_harness, aiohttp_server, "twilio")
        customer_id = (await h.add_customers(1))[0]
        form = {"From": h.phones[0], "Body": " Stop! ", "MessageSid": "SM9"}
        url = "https://sms.example.com/providers/twilio/inbound"
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": RequestValidator("tw-s3cret").compute_signature(
                       url, form)}
        assert await h.post("/providers/twilio/inbound", raw=urllib.parse.urlencode(form),
                            headers=headers, expect=200) == {"action": "opted_out"}
        assert (await h.get(f"/customers/{customer_id}"))["opted_out_at"] is not None

    @pytest.mark.parametrize("raw, content_type, stored", [
        (b"id=ATX%00id&status=Success&failureReason=", "application/x-www-form-urlencoded",
         ("ATXid", "delivered", None)),
        (b'{"id": "ATX\\ud800id", "status": "Failed", "failureReason": "a\\u0000b"}',
         "application/json", ("ATX?id", "undelivered", "africastalking: Failed (ab)")),
    ])
    async def test_a_report_with_nul_or_a_lone_surrogate_is_taken(
            self, make_harness, aiohttp_server, raw, content_type, stored):
        """Such text no database holds: it is kept (for the record of its message, as an
        early report) without the NUL, a lone surrogate as ?."""
        h = await self.harness(make_harness, aiohttp_server, "africastalking")
        token = sl.callback_token(RECEIPT_SECRET, "africastalking")
        answer = await h.post(f"/providers/africastalking/receipts/{token}", raw=raw,
                              headers={"Content-Type": content_type}, expect=200)
        assert answer["unknown"] == [stored[0]]
        assert await h.sql("SELECT provider_message_id, delivery_status, error "
                           "FROM early_gateway_receipts") == [stored]

    async def test_africastalking_inbound_stop_and_start(self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server, "africastalking")
        customer_id = (await h.add_customers(1))[0]
        token = sl.callback_token(RECEIPT_SECRET, "africastalking")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for text, action, opted_out in [("STOP", "opted_out", True), ("start", "opted_in", False)]:
            form = {"from": h.phones[0], "to": "22141", "text": text, "id": "ATXid_in",
                    "linkId": "SampleLinkId123", "date": "2026-12-06 10:00:00"}  # as it posts
            assert await h.post(f"/providers/africastalking/inbound/{token}",
                                raw=urllib.parse.urlencode(form), headers=headers,
                                expect=200) == {"action": action}
            customer = await h.get(f"/customers/{customer_id}")
            assert (customer["opted_out_at"] is not None) == opted_out
        status, _ = await h.request("POST", "/providers/africastalking/inbound/wrong",
                                    raw=b"from=%2B1&text=STOP", headers=headers)
        assert status == 404

    async def test_africastalking_reports_are_found_by_its_id(self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server, "africastalking")
        campaign_id, _ = await self.sent_message(h, "ATXid_7")
        token = sl.callback_token(RECEIPT_SECRET, "africastalking")
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        path = f"/providers/africastalking/receipts/{token}"
        for form, answer in [
                ({"id": "ATXid_7", "status": "Buffered"}, {"accepted": 0, "unknown": []}),
                ({"id": "ATXid_8", "status": "Success"}, {"accepted": 0, "unknown": ["ATXid_8"]}),
                ({"id": "ATXid_7", "status": "Failed", "failureReason": "UserInBlackList"},
                 {"accepted": 1, "unknown": []})]:
            assert await h.post(path, raw=urllib.parse.urlencode(form), headers=headers,
                                expect=200) == answer
        (message,) = await h.messages(campaign_id)
        assert (message["delivery_status"], message["last_error"]) == (
            "undelivered", "africastalking: Failed (UserInBlackList)")

    async def test_a_posted_callback_is_logged_without_its_token(self, make_harness,
                                                                 aiohttp_server, caplog):
        """The access log reads no request after its body: a posted callback is logged (its
        token as ***) and nothing fails after the answer (which once closed the connection)."""
        h = await self.harness(make_harness, aiohttp_server, "africastalking")
        await self.sent_message(h, "ATXid_7")
        token = sl.callback_token(RECEIPT_SECRET, "africastalking")
        caplog.set_level(logging.INFO)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for report in ("id=ATXid_7&status=Buffered", "id=ATXid_7&status=Success"):
            response = await h.client.post(f"/providers/africastalking/receipts/{token}?x=1",
                                           data=report, headers=headers)
            assert response.status == 200 and (await response.json())["unknown"] == []
        logged = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        assert sum('"POST /providers/africastalking/receipts/***?*** HTTP/1.1" 200' in line
                   for line in logged) == 2, logged
        assert token not in caplog.text and "Traceback" not in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    async def test_the_access_log_shows_no_callbacks_query_or_token(
            self, make_harness, aiohttp_server, caplog):
        """Kannel's inbound query carries a customer's number and text; a token after a doubled
        slash, or ./, is a token all the same."""
        h = await self.harness(make_harness, aiohttp_server, "kannel")
        await h.add_customers(1)
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        caplog.set_level(logging.INFO)
        phone = urllib.parse.quote(h.phones[0])
        assert await h.get(f"/providers/kannel/inbound/{token}?from={phone}&text=STOP") == {
            "action": "opted_out"}
        for odd in (f"/providers/kannel/receipts//{token}",
                    f"/providers/kannel/./inbound/{token}"):
            await h.request("GET", odd)
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "aiohttp.access")
        assert '"GET /providers/kannel/inbound/***?*** HTTP/1.1" 200' in logged, logged
        assert token not in caplog.text and h.phones[0][1:] not in caplog.text
        assert "STOP" not in logged

    @pytest.mark.parametrize("path", [
        "/providers/africastalking/receipts/wrong", "/providers/africastalking/receipts",
        "/providers/kannel/receipts/{token}", "/providers/nosuch/receipts/{token}"])
    async def test_a_wrong_token_or_gateway_is_404(self, make_harness, aiohttp_server, path):
        h = await self.harness(make_harness, aiohttp_server, "africastalking")
        token = sl.callback_token(RECEIPT_SECRET, "africastalking")
        status, payload = await h.request(
            "POST", path.format(token=token), raw=b"id=1&status=Success",
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 404 and payload["error"]["code"] == "NOT_FOUND"
        assert token not in json.dumps(payload)

    @pytest.mark.parametrize("kind, raw, content_type", [
        ("africastalking", b"status=Success", "application/x-www-form-urlencoded"),
        ("infobip", b'{"results": "no"}', "application/json"),
        ("infobip", b"not json", "application/json"),
        ("infobip", b'{"results": [{"status": {"groupName": "DELIVERED"}}]}', "application/json"),
    ])
    async def test_garbage_from_a_gateway_is_400(
            self, make_harness, aiohttp_server, kind, raw, content_type):
        h = await self.harness(make_harness, aiohttp_server, kind)
        token = sl.callback_token(RECEIPT_SECRET, kind)
        status, payload = await h.request("POST", f"/providers/{kind}/receipts/{token}", raw=raw,
                                          headers={"Content-Type": content_type})
        assert status == 400, payload
        assert_documented_error(status, payload)

    async def test_kannel_reports_and_inbound_come_by_get(self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server, "kannel")
        campaign_id, message_id = await self.sent_message(h, None)
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        base = f"/providers/kannel/receipts/{token}?ref={message_id}"
        assert await h.get(base + "&type=8&reply=ACK%2F") == {"accepted": 0, "unknown": []}
        assert (await h.get(base + "&type=16&reply=NACK%2F0x0000000b")
                == {"accepted": 1, "unknown": []})
        assert (await h.get(base + "&type=1&reply=id%3A1+stat%3ADELIVRD")
                == {"accepted": 1, "unknown": []})
        assert [m["delivery_status"] for m in await h.messages(campaign_id)] == ["delivered"]
        customer_id = (await h.add_customers(1))[0]
        stop = "%00S%00T%00O%00P"  # UCS-2 without mo-recode: UTF-16BE bytes
        inbound = (f"/providers/kannel/inbound/{token}?from=%2B{h.phones[1][1:]}&text={stop}"
                   "&charset=UTF-16BE&coding=2")
        assert await h.get(inbound) == {"action": "opted_out"}
        assert (await h.get(f"/customers/{customer_id}"))["opted_out_at"] is not None

    async def test_infobip_reports_and_inbound(self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server, "infobip")
        campaign_id, message_id = await self.sent_message(h, "x")
        token = sl.callback_token(RECEIPT_SECRET, "infobip")
        report = {"results": [
            {"messageId": str(message_id), "status": {
                "groupId": 3, "groupName": "DELIVERED", "id": 2, "name": "DELIVERED_TO_OPERATOR"}},
            {"messageId": "404404", "status": {
                "groupName": "DELIVERED", "name": "DELIVERED_TO_HANDSET"}}]}
        assert await h.post(f"/providers/infobip/receipts/{token}", report, expect=200) == {
            "accepted": 0, "unknown": ["404404"]}
        report["results"][0]["status"] |= {"id": 5, "name": "DELIVERED_TO_HANDSET"}
        assert (await h.post(f"/providers/infobip/receipts/{token}", report,
                             expect=200))["accepted"] == 1
        assert [m["delivery_status"] for m in await h.messages(campaign_id)] == ["delivered"]
        inbound = {"results": [{"from": h.phones[0][1:], "to": "385921004026", "text": "STOP"}],
                   "messageCount": 1, "pendingMessageCount": 0}
        assert (await h.post(f"/providers/infobip/inbound/{token}", inbound, expect=200)
                == {"action": "opted_out"})


# A self-signed certificate for 127.0.0.1 (P-256, valid until 2126), made for the smpps:// test
# with `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
# -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`: it protects nothing.
TEST_CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUBVzXaULu5OtgtLyCHlfEfvqM5XMwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTIwNTEwMTYxN1oYDzIxMjYxMTEx
MTAxNjE3WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASdg64WALPK2rkZa720OoQrpETh39XDHu6oYK5plQdoDQ0KBD0Yr1k1
J0JFjkhObsLG2OqtHCsn5Wg6RPIflgXWo2QwYjAdBgNVHQ4EFgQUBvwM5tJOfoSJ
gJ9GJpUz5ZES3CkwHwYDVR0jBBgwFoAUBvwM5tJOfoSJgJ9GJpUz5ZES3CkwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IHz+MmwqLmyj9ylhCHq/kRcTwYbyB5Tx9ndeClmMpHAEAiEAu3/ubTNHjaF9WH2R
n/fdGw25elGnaoCrq8pbdNkiTzk=
-----END CERTIFICATE-----
"""
TEST_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsAsBFJWcw5tUS5Lw
1RP3AybmW9o+8o8+XkQiUlKCaF6hRANCAASdg64WALPK2rkZa720OoQrpETh39XD
Hu6oYK5plQdoDQ0KBD0Yr1k1J0JFjkhObsLG2OqtHCsn5Wg6RPIflgXW
-----END PRIVATE KEY-----
"""


class TestHostileCallbacks:
    """The callbacks anyone can reach: whatever bytes come, a 4xx in our words, never a 500
    (each case below once was one, or an answer in Python's words)."""

    pytestmark = pytest.mark.asyncio
    FORM = b"Content-Type: application/x-www-form-urlencoded"

    @pytest.mark.parametrize("kind, path, head, body, status, words", [
        ("twilio", "receipts", FORM + b"; charset=bogus", b"MessageSid=SM1&MessageStatus=sent",
         400, "the form is not text in the charset it names (UTF-8 if none)"),
        ("africastalking", "receipts/{token}", FORM, b"id=\xff&status=Success",
         400, "the form is not text in the charset it names (UTF-8 if none)"),
        ("africastalking", "receipts/{token}", b"Content-Type: multipart/form-data; boundary=xx",
         b"--xx\r\nContent-Disposition: form-data; name=id\r\n\r\n1\r\n--xx--\r\n",
         400, "the body must be a form (application/x-www-form-urlencoded) or JSON"),
        ("twilio", "receipts", FORM + b"\r\nX-Twilio-Signature: \xe9\xff",
         b"MessageSid=SM1&MessageStatus=sent", 403, "X-Twilio-Signature does not hold"),
        ("generic", "receipts", b"Content-Type: application/json\r\nwebhook-id: \xff\r\n"
         b"webhook-timestamp: 1800000000\r\nwebhook-signature: v1,AAAA", b"{}",
         401, "webhook-id must be printable ASCII"),
        ("whatsapp", "", b"Content-Type: application/json\r\nX-Hub-Signature-256: sha256=\xe9",
         b"{}", 401, "X-Hub-Signature-256 does not hold for this body"),
    ])
    async def test_bytes_no_gateway_sends_are_refused(self, make_harness, aiohttp_server, caplog,
                                                      kind, path, head, body, status, words):
        server = await aiohttp_server(sl.web.Application())  # never called
        address = f"127.0.0.1:{server.port}"
        gateway = ({"whatsapp_provider_url": WA_URL.format(address=address)} if kind == "whatsapp"
                   else {"provider_url": DIALECT_URLS[kind].format(address=address)})
        h = await make_harness(real_provider=True, public_url="https://sms.example.com",
                               receipt_secret=RECEIPT_SECRET, run_workers=False, **gateway)
        where = f"/providers/{kind}/{path}".rstrip("/").format(
            token=sl.callback_token(RECEIPT_SECRET, kind)).replace("/generic", "")
        answer, payload = await raw_http(h, (
            f"POST {where} HTTP/1.1\r\nHost: sms.example.com\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n").encode() + head + b"\r\n\r\n" + body)
        error = json.loads(payload)["error"]
        assert (answer, error["message"].split(": ")[-1]) == (status, words), error
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


    async def test_a_sender_that_is_no_phone_number_opts_no_one_out(self, make_harness,
                                                                    aiohttp_server, caplog):
        """A short code, garbage or a lone surrogate as the sender (once a 500): the message
        is taken and changes nothing; the others of the same post still count."""
        server = await aiohttp_server(sl.web.Application())  # never called
        h = await make_harness(real_provider=True, receipt_secret=RECEIPT_SECRET,
                               run_workers=False, provider_url=DIALECT_URLS["infobip"].format(
                                   address=f"127.0.0.1:{server.port}"))
        (customer_id,) = await h.add_customers(1)
        token = sl.callback_token(RECEIPT_SECRET, "infobip")
        body = json.dumps({"results": [  # json writes the lone surrogate as \\ud800
            {"from": "\ud800", "text": "STOP"}, {"from": "22141", "text": "STOP"},
            {"from": h.phones[0].lstrip("+"), "text": "STOP"}]}).encode()
        answer, payload = await raw_http(h, (
            f"POST /providers/infobip/inbound/{token} HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/json\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        assert (answer, json.loads(payload)) == (200, {"action": "opted_out"})
        assert (await h.get(f"/customers/{customer_id}"))["opted_out_at"] is not None
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    async def test_no_log_line_shows_a_callback_token(self, make_harness, aiohttp_server,
                                                      caplog, monkeypatch):
        server = await aiohttp_server(sl.web.Application())  # never called
        h = await make_harness(real_provider=True, receipt_secret=RECEIPT_SECRET,
                               run_workers=False, provider_url=DIALECT_URLS["kannel"].format(
                                   address=f"127.0.0.1:{server.port}"))
        token = sl.callback_token(RECEIPT_SECRET, "kannel")
        caplog.set_level(logging.INFO)
        # a request line too long for aiohttp (a long UCS-2 text by GET could be one)
        status, _ = await raw_http(h, f"GET /providers/kannel/inbound/{token}?text={'A' * 9000} "
                                      "HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert status == 400 and "malformed request" in caplog.text

        def broken(self, fields):
            raise RuntimeError("a bug of ours")

        monkeypatch.setattr(sl.KannelGateway, "receipts", broken)
        status, _ = await h.request("GET", f"/providers/kannel/receipts/{token}?ref=1&type=1")
        assert status == 500
        assert "unexpected error answering GET /providers/kannel/receipts/*** " in caplog.text
        assert token not in caplog.text


class TestSmpp:
    """SMPP 3.4 through aiosmpplib (§20): the URL, the status table, receipt texts."""

    @pytest.mark.parametrize("url, options", [
        ("smpp://leopard:pw@10.0.0.5:2775?source=Shop&window=50&system_type=",
         {"source": "Shop", "window": "50", "system_type": ""}),
        ("smpp://leopard:p%40ss@smsc.example.com?source=%2B15550001111",
         {"source": "+15550001111"}),
    ])
    def test_an_smpp_url_is_taken_apart(self, url, options):
        parsed = sl.parse_gateway_url(url)
        assert (parsed.kind, parsed.user, dict(parsed.options)) == ("smpp", "leopard", options)
        assert (parsed.base.startswith("smpp://") and "pw" not in parsed.shown
                and "p@ss" not in parsed.shown)

    def test_smpps_is_kept_apart_and_shown_as_such(self):
        assert (sl.parse_gateway_url("smpps://leopard:s3cret@smsc.example.com:3550"
                                     "?source=S").shown
                == "smpps://leopard:***@smsc.example.com:3550")

    def test_without_the_library_the_error_says_how_to_get_it(self, monkeypatch):
        monkeypatch.setitem(sys.modules, "aiosmpplib", None)
        with pytest.raises(sl.ConfigError, match=r"pip install aiosmpplib==0\.7\.4"):
            sl.smpp_library()

    @pytest.mark.parametrize("name, outcome", [
        ("ESME_RTHROTTLED", ("ThrottledError", "smpp throttled it: ESME_RTHROTTLED (0x00000058)")),
        ("ESME_RMSGQFUL", ("ThrottledError", "smpp throttled it: ESME_RMSGQFUL (0x00000014)")),
        ("ESME_RINVDSTADR",
         ("PermanentSendError", "smpp refused it: ESME_RINVDSTADR (0x0000000B)")),
        ("ESME_RINVSRCADR",
         ("PermanentSendError", "smpp refused it: ESME_RINVSRCADR (0x0000000A)")),
        ("ESME_RINVMSGLEN",
         ("PermanentSendError", "smpp refused it: ESME_RINVMSGLEN (0x00000001)")),
        ("ESME_RINVESMCLASS",
         ("PermanentSendError", "smpp refused it: ESME_RINVESMCLASS (0x00000043)")),
        ("ESME_RSYSERR", ("TransientSendError", "smpp answered ESME_RSYSERR (0x00000008)")),
        ("ESME_RSUBMITFAIL",
         ("TransientSendError", "smpp answered ESME_RSUBMITFAIL (0x00000045)")),
        ("ESME_RX_T_APPN", ("TransientSendError", "smpp answered ESME_RX_T_APPN (0x00000064)")),
    ])
    def test_command_statuses_map_onto_outcomes(self, name, outcome):
        status = aiosmpplib.SmppCommandStatus[name]  # the library's own table of codes
        error = sl.smpp_outcome(int(status.value), status.name)
        assert (type(error).__name__, str(error)) == outcome

    @pytest.mark.parametrize("text, tlv, receipt", [
        ("id:1a2b sub:001 dlvrd:001 submit date:2612051000 done date:2612051001 stat:DELIVRD "
         "err:000 text:Hi",
         None, (None, "1a2b", "delivered", None)),
        ("id:77 sub:001 dlvrd:000 submit date:2612051000 done date:2612051001 stat:UNDELIV "
         "err:001 text:",
         None, (None, "77", "undelivered", "smpp: UNDELIV err:001")),
        ("id:77 stat:REJECTD err:009", None, (None, "77", "undelivered", "smpp: REJECTD err:009")),
        ("id:77 stat:EXPIRED", None, (None, "77", "undelivered", "smpp: EXPIRED err:?")),
        ("id:77 stat:deleted err:0", None, (None, "77", "undelivered", "smpp: DELETED err:0")),
        ("id:77 stat:UNKNOWN err:0", None, (None, "77", "undelivered", "smpp: UNKNOWN err:0")),
        ("id:77 stat:ENROUTE err:0", None, (None, "77", None, None)),
        ("id:77 stat:ACCEPTD err:0", None, (None, "77", None, None)),
        ("id:short stat:DELIVRD err:0 text:stat:UNDELIV", "0000ABCD",
         (None, "0000ABCD", "delivered", None)),
    ])
    def test_receipt_texts(self, text, tlv, receipt):
        assert tuple(sl.smpp_receipt(text, tlv)) == receipt

    @pytest.mark.parametrize("text", ["", "hello there", "stat:DELIVRD", "id: stat:DELIVRD"])
    def test_a_text_that_is_no_receipt_gives_none(self, text):
        assert sl.smpp_receipt(text) is None



class TestSmppEndToEnd:
    """The smpp gateway against the mock provider's SMSC (smpp34.Server) in this process."""

    pytestmark = pytest.mark.asyncio

    async def smsc(self, aiohttp_server, smpp_port, **settings):
        """The mock provider's smpp dialect: an SMSC on smpp_port, /stats over HTTP."""
        config = mock_provider.MockProviderConfig(dialect="smpp", smpp_port=smpp_port, **settings)
        mock = mock_provider.MockProvider(config, random.Random(3))
        server = await aiohttp_server(mock.app())
        return mock, server

    async def through(self, make_harness, aiohttp_server, ports, **settings):
        smpp_port = ports()
        mock, server = await self.smsc(aiohttp_server, smpp_port, delivery_rate=0.5)
        h = await make_harness(real_provider=True, port=ports(), **{
            "provider_url": f"smpp://leopard:sm-s3crt@127.0.0.1:{smpp_port}"
                            "?source=Leopard&window=5",
            **settings})
        return h, mock, server, smpp_port

    async def test_a_campaign_with_its_receipts_refusals_and_a_stop(
            self, make_harness, aiohttp_server, unused_tcp_port_factory, caplog):
        caplog.set_level(logging.DEBUG, logger="smsleopard")
        h, mock, _, _ = await self.through(make_harness, aiohttp_server, unused_tcp_port_factory)
        ids = await h.add_customers(20)
        refused = await h.post("/customers", {"customers": [{"phone": "+99970000001"}]},
                               expect=201)
        campaign_id = await h.launch([*ids, refused["customers"][0]["id"]],
                                     template="Hi {first_name} €")
        await h.settle()
        messages = await h.messages(campaign_id)
        assert sorted(m["status"] for m in messages) == ["failed"] + ["sent"] * 20
        assert [m["last_error"] for m in messages if m["status"] == "failed"] == [
            "smpp refused it: ESME_RINVDSTADR (0x0000000B)"]
        assert all(m["provider_message_id"] for m in messages if m["status"] == "sent")

        async def reported():
            stats = (await h.campaign(campaign_id))["stats"]
            return stats["delivered"] + stats["undelivered"] == 20 and stats

        reports = await until(reported, "every receipt")
        assert reports["delivered"] > 0 and reports["undelivered"] > 0
        assert (mock.stats["accepted"], mock.stats["receipts_sent"],
                mock.stats["duplicates"]) == (20, 20, 0)
        # no '+'; GSM-7 (data_coding 0): € is its escape 0x1B 0x65, which the mock shows as read
        assert sorted(mock.smsc.texts)[0] == (h.phones[0][1:], "Hi Name0 \x1be")
        assert await mock.smsc.send_inbound("22141", "STOP")  # a short code: taken, no one out
        assert await mock.smsc.send_inbound(h.phones[3], "  Stop! ")
        customer = f"/customers/{ids[3]}"
        assert await until(lambda: self.opted_out(h, customer), "the STOP opting the customer out")
        (gateway,) = (await h.get("/providers"))["data"]
        assert (gateway["kind"], gateway["state"], gateway["url"]) == (
            "smpp", "up", f"smpp://leopard:***@{gateway['host']}")
        shown = json.dumps([messages, await h.get("/providers"), await h.get("/health"),
                            await h.get("/overview")]) + caplog.text
        assert "sm-s3crt" not in shown

    async def test_receipts_for_ids_no_longer_in_memory_are_found_in_the_database(
            self, make_harness, aiohttp_server, unused_tcp_port_factory, monkeypatch):
        monkeypatch.setattr(sl, "SMPP_KNOWN_IDS", 2)  # the gateway remembers the last two ids only
        smpp_port = unused_tcp_port_factory()
        # the reports come once the outcomes are committed, as they do long after a message
        mock, _ = await self.smsc(aiohttp_server, smpp_port, delivery_rate=0.5,
                                  receipt_delay_ms=500)
        h = await make_harness(real_provider=True, port=unused_tcp_port_factory(), provider_url=(
            f"smpp://leopard:sm-s3crt@127.0.0.1:{smpp_port}?source=Leopard&window=5"))
        campaign_id = await h.launch(await h.add_customers(8))
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"]["sent"] == 8

        async def reported():
            stats = (await h.campaign(campaign_id))["stats"]
            return stats["delivered"] + stats["undelivered"] == 8 and stats

        reports = await until(reported, "every receipt, most through the database")
        assert (reports["sent"], mock.stats["receipts_sent"]) == (8, 8)
        assert all(m["delivery_status"] in ("delivered", "undelivered")
                   for m in await h.messages(campaign_id))

    @staticmethod
    async def opted_out(h, customer):
        return (await h.get(customer))["opted_out_at"] is not None

    async def test_no_more_than_window_submits_wait_for_their_answers(
            self, make_harness, aiohttp_server, unused_tcp_port_factory):
        smpp_port = unused_tcp_port_factory()
        mock, _ = await self.smsc(aiohttp_server, smpp_port, latency_ms=40)
        h = await make_harness(real_provider=True, port=unused_tcp_port_factory(),
                               provider_url=f"smpp://leopard:pw@127.0.0.1:{smpp_port}"
                                            "?source=Leopard&window=3")
        campaign_id = await h.launch(await h.add_customers(12))  # concurrency 100: the window
        await h.settle()                                          # is what holds them back
        assert (await h.campaign(campaign_id))["stats"]["sent"] == 12
        assert mock.stats["accepted"] == 12 and mock.stats["most_unanswered"] == 3

    async def test_a_burst_of_throttles_holds_nothing_back(self):
        """aiosmpplib's own throttle handler refused every submit_sm for 180 s once 1% of 50
        answers were ESME_RTHROTTLED, and the attempts waiting timed out: a campaign failed.
        The service slows the channel itself (ThrottledError); the library holds nothing."""
        url = sl.parse_gateway_url("smpp://leopard:pw@127.0.0.1:2775?source=L")
        esme = sl.SmppGateway(url, 1.0, 10, sl.Callbacks(), sl.Clock())._make_esme()
        handler = esme.throttle_handler
        for _ in range(100):
            await handler.throttled()
        assert await handler.allow_request() and await handler.throttle_delay() == 0

    async def test_a_long_ucs2_text_goes_as_concatenated_parts_in_one_attempt(
            self, make_harness, aiohttp_server, unused_tcp_port_factory):
        h, mock, _, _ = await self.through(make_harness, aiohttp_server, unused_tcp_port_factory)
        text = "Привет {first_name}! " + "Скидка 20% на кофе ☕ сегодня. " * 8
        campaign_id = await h.launch(await h.add_customers(1), template=text)
        await h.settle()
        (message,) = await h.messages(campaign_id)
        assert (message["status"], message["retry_count"]) == ("sent", 0)
        whole = message["rendered_content"]
        assert len(whole) > 70 and mock.smsc.texts == [(h.phones[0][1:], whole)]
        assert (mock.stats["parts"] == sl.sms_info(whole).segments > 1
                and mock.stats["accepted"] == 1)

    async def test_a_lost_bind_makes_the_gateway_down_and_messages_wait_for_it_unspent(
            self, make_harness, aiohttp_server, unused_tcp_port_factory, caplog):
        h, _, server, smpp_port = await self.through(make_harness, aiohttp_server,
                                                     unused_tcp_port_factory, max_retries=0)
        await server.close()  # the SMSC stops: its binds are gone
        down = await until(lambda: self.health(h, 503), "/health 503")
        assert down["provider"] == "down" and down["provider_reason"].startswith("smpp: not bound")
        (gateway,) = (await h.get("/providers"))["data"]
        assert gateway["state"] == "down" and gateway["reason"].startswith("not bound")
        assert "smpp gateway down: not bound" in caplog.text and "sm-s3crt" not in caplog.text
        campaign_id = await h.launch(await h.add_customers(2))
        await h.settle()
        messages = await h.messages(campaign_id)  # max_retries 0, yet nothing failed
        assert {(m["status"], m["retry_count"], m["last_error"].split(";")[0])
                for m in messages} == {("pending", 0, "smpp not bound (lost or refused)")}
        _, server = await self.smsc(aiohttp_server, smpp_port)  # the SMSC is back
        await until(lambda: self.health(h, 200), "/health 200 once bound again")

        async def all_sent():
            h.clock.advance(sl.DEFAULT_RETRY_AFTER)
            await h.settle()
            return [m["status"] for m in await h.messages(campaign_id)] == ["sent", "sent"]

        await until(all_sent, "both sent, by themselves")

    async def test_attempts_in_flight_when_the_bind_goes_fail_as_transient(
            self, make_harness, aiohttp_server, unused_tcp_port_factory):
        ports = unused_tcp_port_factory
        smpp_port = ports()
        # never answers
        mock, server = await self.smsc(aiohttp_server, smpp_port, latency_ms=60_000)
        h = await make_harness(real_provider=True, port=ports(), max_retries=0, provider_url=(
            f"smpp://leopard:sm-s3crt@127.0.0.1:{smpp_port}?source=Leopard&window=5"))
        campaign_id = await h.launch(await h.add_customers(3))
        await until(lambda: asyncio.sleep(0, mock.stats["parts"] == 3), "3 submit_sm in flight")
        await server.close()
        await h.settle()
        messages = await h.messages(campaign_id)
        assert [m["last_error"].split(";")[0] for m in messages] == [
            "smpp not bound (lost or refused)"] * 3

    async def test_smpps_binds_over_tls(
            self, make_harness, aiohttp_server, unused_tcp_port_factory, tmp_path, monkeypatch):
        smpp_port, tls_port = unused_tcp_port_factory(), unused_tcp_port_factory()
        mock, _ = await self.smsc(aiohttp_server, smpp_port)
        (tmp_path / "cert.pem").write_text(TEST_CERTIFICATE)
        (tmp_path / "key.pem").write_text(TEST_PRIVATE_KEY)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # the SMSC's CA, trusted
        terminator = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        terminator.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        tls_connections = []

        async def relay(reader, writer):  # TLS in front of the SMSC, as an SMSC's port 3550 is
            tls_connections.append(writer.get_extra_info("ssl_object").version())
            smsc_reader, smsc_writer = await asyncio.open_connection("127.0.0.1", smpp_port)

            async def pipe(source, sink):
                with contextlib.suppress(OSError):
                    while data := await source.read(65536):
                        sink.write(data)
                        await sink.drain()
                sink.close()

            await asyncio.gather(pipe(reader, smsc_writer), pipe(smsc_reader, writer))

        server = await asyncio.start_server(relay, "127.0.0.1", tls_port, ssl=terminator)
        async with server:
            h = await make_harness(
                real_provider=True, port=unused_tcp_port_factory(),
                provider_url=f"smpps://leopard:sm-s3crt@127.0.0.1:{tls_port}?source=Leopard")
            campaign_id = await h.launch(await h.add_customers(2))
            await h.settle()
            assert [m["status"] for m in await h.messages(campaign_id)] == ["sent", "sent"]
            assert (mock.stats["accepted"] == 2 and tls_connections
                    and tls_connections[0].startswith("TLS"))
            assert (await h.get("/providers"))["data"][0]["url"].startswith("smpps://leopard:***@")
            await h.client.close()

    @needs_processes
    async def test_a_killed_smsc_process_makes_the_gateway_down_until_it_is_back(
            self, make_harness, unused_tcp_port_factory, tmp_path):
        smpp_port = unused_tcp_port_factory()
        smsc = ServiceProcess(tmp_path)
        smsc.log = tmp_path / "smsc.log"
        smsc.settings = ["mock-provider", "--port", "0", "--dialect", "smpp",
                         "--smpp-port", str(smpp_port)]
        await asyncio.to_thread(smsc.start)
        try:
            h = await make_harness(
                real_provider=True, port=unused_tcp_port_factory(), max_retries=0,
                provider_url=f"smpp://leopard:sm-s3crt@127.0.0.1:{smpp_port}?source=Leopard")
            ids = await h.add_customers(2)
            first = await h.launch(ids)
            await h.settle()
            assert [m["status"] for m in await h.messages(first)] == ["sent", "sent"]
            smsc.process.kill()  # kill -9: no unbind, the connection just ends
            await asyncio.to_thread(smsc.process.wait)
            down = await until(lambda: self.health(h, 503), "/health 503 after the kill")
            assert down["provider_reason"].startswith("smpp: not bound")
            await asyncio.to_thread(smsc.start)
            await until(lambda: self.health(h, 200), "bound again", timeout=60)
            second = await h.launch(ids)
            await h.settle()
            assert [m["status"] for m in await h.messages(second)] == ["sent", "sent"]
        finally:
            smsc.process.kill()
            await asyncio.to_thread(smsc.process.wait)

    async def test_a_session_loop_that_dies_leaves_the_gateway_down_with_the_reason(
            self, aiohttp_server, unused_tcp_port, monkeypatch):
        await self.smsc(aiohttp_server, unused_tcp_port)
        url = sl.parse_gateway_url(f"smpp://leopard:sm-s3crt@127.0.0.1:{unused_tcp_port}?source=L")
        gateway = sl.SmppGateway(url, 5.0, 10, sl.Callbacks(), sl.Clock())
        await gateway.open()

        async def broken(*_):
            raise RuntimeError("a bug")

        # an error the library does not retry
        monkeypatch.setattr(gateway._esme, "_handle_response", broken)
        with pytest.raises(sl.TransientSendError, match="the session loop stopped"):
            await gateway(sl.Outgoing("1", "sms", "+254700000001", "Hi"))
        assert gateway.down == "the session loop stopped: RuntimeError('a bug')"
        with pytest.raises(sl.GatewayDownError, match="the session loop stopped"):
            await gateway(sl.Outgoing("2", "sms", "+254700000002", "Hi"))  # nothing used up
        await gateway.close()

    async def test_an_error_of_ours_on_one_pdu_leaves_the_bind_up(
            self, aiohttp_server, unused_tcp_port, monkeypatch, caplog):
        await self.smsc(aiohttp_server, unused_tcp_port)
        url = sl.parse_gateway_url(f"smpp://leopard:sm-s3crt@127.0.0.1:{unused_tcp_port}?source=L")
        gateway = sl.SmppGateway(url, 1.0, 10, sl.Callbacks(), sl.Clock())
        await gateway.open()
        received = gateway._received

        def broken(message):
            raise RuntimeError("a bug")

        monkeypatch.setattr(gateway, "_received", broken)
        with pytest.raises(TimeoutError):  # its answer was lost to the bug, and only it
            await asyncio.wait_for(gateway(sl.Outgoing("1", "sms", "+254700000001", "Hi")), 0.3)
        assert "smpp: a PDU not taken" in caplog.text and gateway.down is None
        monkeypatch.setattr(gateway, "_received", received)
        assert await gateway(sl.Outgoing("2", "sms", "+254700000002", "Hi"))
        await gateway.close()

    async def bound(self, aiohttp_server, port):
        """An SmppGateway bound to a mock SMSC, and the SMSC's side of the bind."""
        mock, _ = await self.smsc(aiohttp_server, port)
        url = sl.parse_gateway_url(f"smpp://leopard:sm-s3crt@127.0.0.1:{port}?source=L")
        gateway = sl.SmppGateway(url, 5.0, 10, sl.Callbacks(), sl.Clock())
        await gateway.open()
        (esme,) = await until(lambda: asyncio.sleep(0, list(mock.smsc._sessions.values())),
                              "the SMSC's session")
        return gateway, esme

    @pytest.mark.parametrize("data, esm_class, status, receipts", [
        # a User Data Header cut short: nobody can read it, refused alone, for good
        (b"\x05", 0x40, 0x65, None),  # ESME_RX_P_APPN: the SMSC does not send it again
        # err not a number: the library cannot, we can
        (b"id:1 sub:001 dlvrd:001 submit date:2612060101 done date:2612060101 stat:DELIVRD "
         b"err:abc text:", 0x04, 0, [("1", "delivered")]),
        # dates with seconds (YYMMDDhhmmss), as many SMSCs send them
        (b"id:7f sub:001 dlvrd:001 submit date:261206010203 done date:261206010204 "
         b"stat:DELIVRD err:000 text:", 0x04, 0, [("7f", "delivered")])])
    async def test_a_deliver_sm_the_library_cannot_parse_leaves_the_bind_up(
            self, aiohttp_server, unused_tcp_port, caplog, data, esm_class, status, receipts):
        gateway, esme = await self.bound(aiohttp_server, unused_tcp_port)
        answer = await esme.deliver_sm("Leopard", data, source_addr="254700000001",
                                       esm_class=esm_class)
        assert answer.command_status == status
        if receipts:
            found, _ = await asyncio.wait_for(gateway.reports(), 5)
            assert [(r.provider_id, r.status) for r in found] == receipts
        assert await gateway(sl.Outgoing("1", "sms", "+254700000001", "Hi"))  # still bound
        assert gateway.down is None and "session loop stopped" not in caplog.text
        await gateway.close()

    async def test_the_mock_smsc_answers_before_its_receipt_and_never_repeats_an_id(
            self, aiohttp_server, unused_tcp_port_factory):
        ids = []
        for _ in range(2):  # a restart of the SMSC
            port = unused_tcp_port_factory()
            await self.smsc(aiohttp_server, port, latency_ms=50)
            url = sl.parse_gateway_url(f"smpp://leopard:sm-s3crt@127.0.0.1:{port}?source=L")
            gateway = sl.SmppGateway(url, 5.0, 10, sl.Callbacks(), sl.Clock())
            await gateway.open()
            ids.append(await gateway(sl.Outgoing("7", "sms", "+254700000001", "Hi")))
            receipts, _ = await asyncio.wait_for(gateway.reports(), 5)
            assert [(r.reference, r.provider_id) for r in receipts] == [("7", ids[-1])]
            await gateway.close()
        assert ids[0] != ids[1]

    async def test_the_benchmark_measures_the_bare_library_against_the_same_smsc(
            self, aiohttp_server, unused_tcp_port):
        mock, _ = await self.smsc(aiohttp_server, unused_tcp_port)
        assert await bench.bare_smpp_rate(unused_tcp_port, 200, window=10) > 0
        assert (mock.stats["accepted"], mock.stats["duplicates"]) == (200, 0)

    @staticmethod
    async def health(h, status):
        """/health's answer when its status is `status`, else None."""
        answered, payload = await h.request("GET", "/health")
        return payload if answered == status else None


class TestMockProvider:
    pytestmark = pytest.mark.asyncio

    async def provider(self, aiohttp_client, **settings):
        mock = mock_provider.MockProvider(mock_provider.MockProviderConfig(**settings),
                                          random.Random(3))
        return mock, await aiohttp_client(mock.app())

    async def test_reference_is_an_idempotency_key(self, aiohttp_client):
        _mock, client = await self.provider(aiohttp_client)
        body = {"reference": "7", "channel": "sms", "to": "+254712000001", "text": "Hi"}
        first = await (await client.post("/messages", json=body)).json()
        again = await client.post("/messages", json=body)
        assert again.status == 200 and await again.json() == first
        stats = await (await client.get("/stats")).json()
        assert stats == {"received": 2, "accepted": 1, "throttled": 0, "failed": 0,
                         "duplicates": 1, "receipts_sent": 0}

    async def test_over_its_rate_it_answers_429_with_retry_after(self, aiohttp_client):
        mock, client = await self.provider(aiohttp_client, max_rps=3)
        statuses = []
        for n in range(6):
            response = await client.post("/messages", json={"reference": str(n), "channel": "sms",
                                                            "to": "+254712000001", "text": "Hi"})
            statuses.append((response.status, response.headers.get("Retry-After")))
        assert statuses[:3] == [(200, None)] * 3 and (429, "1") in statuses[3:]
        assert mock.stats["throttled"] >= 1

    async def test_it_fails_as_told_and_refuses_what_no_provider_takes(self, aiohttp_client):
        mock, client = await self.provider(aiohttp_client, failure_rate=1.0)
        response = await client.post("/messages", json={"reference": "1", "channel": "sms",
                                                        "to": "+254712000001", "text": "Hi"})
        assert response.status == 503 and mock.stats["failed"] == 1
        for body in ({"reference": "2", "channel": "sms", "to": "+999700000001", "text": "Hi"},
                     {"reference": "3", "channel": "sms", "to": "+254712000001"}, [1]):
            assert (await client.post("/messages", json=body)).status == 400

    @pytest.mark.parametrize("kind", [*list(DIALECT_URLS)[1:], "whatsapp", "smpp"])  # not generic
    async def test_every_dialect_fails_and_throttles_as_told(
            self, aiohttp_server, unused_tcp_port_factory, kind):
        """--failure-rate and --max-rps answer in each dialect's words: a transient failure,
        and a throttle (Kannel's: 503)."""
        throttled = sl.ThrottledError
        for options, first, then in [({"failure_rate": 1.0}, sl.TransientSendError, "failed"),
                                     ({"max_rps": 1}, None, "throttled")]:
            smpp_port = unused_tcp_port_factory()
            mock = mock_provider.MockProvider(mock_provider.MockProviderConfig(
                dialect=kind, smpp_port=smpp_port, app_secret="s", **options), random.Random(3))
            server = await aiohttp_server(mock.app())
            address = f"127.0.0.1:{smpp_port if kind == 'smpp' else server.port}"
            url = {"whatsapp": WA_URL, "smpp": "smpp://leopard:pw@{address}?source=L"}.get(
                kind, DIALECT_URLS.get(kind, "")).format(address=address)
            gateway = sl.GATEWAYS[kind](sl.parse_gateway_url(url), 2.0, 10, sl.Callbacks(),
                                        sl.Clock())
            await gateway.open()
            try:
                outcomes = []
                for n in range(2):
                    try:
                        await gateway(sl.Outgoing(str(n), "sms", "+254712000001", f"Hi {n}"))
                        outcomes.append(None)
                    except sl.SendError as exc:
                        outcomes.append(type(exc))
            finally:
                await gateway.close()
            expected = [first, first] if first else [None, throttled]
            assert outcomes == expected, (kind, options)
            assert mock.stats[then] >= 1

    async def test_its_settings_are_checked(self, capsys):
        assert await asyncio.to_thread(sl.main, ["mock-provider", "--failure-rate", "2"]) == 2
        assert capsys.readouterr().err == (
            "smsleopard: error: --failure-rate is out of range: it must be between 0 and 1\n")

    async def test_an_unknown_flag_shows_the_usage_and_help_says_each_unit(self, capsys):
        assert await asyncio.to_thread(sl.main, ["mock-provider", "--colour", "red"]) == 2
        err = capsys.readouterr().err
        assert ("unrecognized arguments: --colour red" in err
                and "usage: smsleopard.py mock-provider" in err)
        with pytest.raises(SystemExit):
            mock_provider.mock_provider_main(["--help"])
        shown = capsys.readouterr().out
        assert "--dialect {generic,twilio,africastalking,infobip,kannel,whatsapp,smpp}" in shown
        assert "milliseconds each request takes" in shown and "0..1" in shown


# -- SENDER: the WhatsApp Cloud API gateway (§20), its campaign field and its mock dialect ---
# (kept together at the end, apart from the other gateways' tests, so branches merge)

WA_URL = ("whatsapp+http://106540352242922:wa-t0ken@{address}/v21.0"
          "?app_secret=wa-s3cret&verify_token=vt-123")


def described(method, template, status, payload):
    """Whether an answer is as the OpenAPI document describes it (the schema's first error)."""
    operation = sl.openapi_document()["paths"][template][method.lower()]
    content = operation["responses"][str(status)]["content"]
    if "application/json" not in content:
        return isinstance(payload, str) or payload
    errors = list(openapi_validator(content["application/json"]["schema"]).iter_errors(payload))
    return errors[0].message if errors else True


def wa_signed(body, secret="wa-s3cret"):
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json",
                 "X-Hub-Signature-256":
                     "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


def wa_webhook(kind, *items):
    """A Cloud API webhook post holding statuses (or messages)."""
    return {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp",
                                           "metadata": {"display_phone_number": "15550783881",
                                                        "phone_number_id": "106540352242922"},
                                           kind: list(items)}}]}]}


class TestWhatsAppWire:
    """The WhatsApp Cloud API gateway's URL, requests and answers: tables of Meta's wire facts."""

    def test_the_url_is_taken_apart_and_shown_without_its_secrets(self):
        url = sl.parse_gateway_url("whatsapp://1065403:EAAG%2Bt0k@graph.facebook.com/v21.0"
                                   "?app_secret=wa-s3cret&verify_token=vt-123")
        assert (url.kind, url.base, url.user, url.secret, dict(url.options)) == (
            "whatsapp", "https://graph.facebook.com/v21.0", "1065403", "EAAG+t0k",
            {"app_secret": "wa-s3cret", "verify_token": "vt-123"})
        assert url.shown == "whatsapp://1065403:***@graph.facebook.com/v21.0"
        bare = sl.parse_gateway_url(
            "whatsapp+http://1:t@127.0.0.1:9000?app_secret=a&verify_token=v")
        assert bare.base == "http://127.0.0.1:9000/v21.0"  # the version when none is given

    @pytest.mark.parametrize("url, problem", [
        ("whatsapp://1065403@graph.facebook.com?app_secret=s3cret&verify_token=v",
         "whatsapp:// needs its credentials: whatsapp://PHONE_NUMBER_ID:ACCESS_TOKEN@host"),
        ("whatsapp://1065403:s3cret@graph.facebook.com?verify_token=v",
         "whatsapp:// needs app_secret=..."),
        ("whatsapp://1065403:s3cret@graph.facebook.com?app_secret=s3cret",
         "whatsapp:// needs app_secret=..."),
        ("whatsapp://1:s3cret@graph.facebook.com/messages?app_secret=s3cret&verify_token=v",
         "whatsapp:// takes the Graph API version as its path, like graph.facebook.com/v21.0"),
        ("whatsapp://1:s3cret@graph.facebook.com?app_secret=s3cret&verify_token=v&from=1",
         "whatsapp:// has an unknown option 'from' (it takes app_secret, verify_token)"),
    ])
    @pytest.mark.parametrize("flag", ["--provider-url", "--whatsapp-provider-url"])
    def test_a_bad_url_is_one_line_naming_the_problem_not_the_secret(self, url, problem, flag):
        with pytest.raises(sl.ConfigError) as refused:
            sl.load_config([flag, url], {})
        message = str(refused.value)
        assert (message.startswith(f"{flag} {problem}") and "s3cret" not in message
                and "\n" not in message)

    def test_a_text_message(self):
        body = json.loads(sl.whatsapp_body(
            outgoing(reference="42", text="Hi Jane ☕", channel="whatsapp")))
        assert body == {"messaging_product": "whatsapp", "recipient_type": "individual",
                        "to": "254712000001", "type": "text",
                        "text": {"preview_url": False, "body": "Hi Jane ☕"},
                        "biz_opaque_callback_data": "42"}

    def test_a_template_message(self):
        template = sl.WhatsAppTemplate("order_update", "en_US", ("Jane", "our shop"))
        body = json.loads(sl.whatsapp_body(
            sl.Outgoing("7", "whatsapp", "+16505551234", "Hi Jane", template)))
        assert body == {"messaging_product": "whatsapp", "recipient_type": "individual",
                        "to": "16505551234", "type": "template", "template": {
                            "name": "order_update", "language": {"code": "en_US"},
                            "components": [{"type": "body", "parameters": [
                                {"type": "text", "text": "Jane"},
                                {"type": "text", "text": "our shop"}]}]},
                        "biz_opaque_callback_data": "7"}
        bare = json.loads(sl.whatsapp_body(sl.Outgoing(
            "7", "whatsapp", "+1650", "x", sl.WhatsAppTemplate("hello_world", "en_US"))))
        assert bare["template"] == {"name": "hello_world", "language": {"code": "en_US"}}

    @staticmethod
    def error(code, message="Something", status=400, details=None):
        error = {"message": message, "type": "OAuthException", "code": code,
                 "fbtrace_id": "Az8or2"}
        if details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": details}
        return status, json.dumps({"error": error}).encode()

    @pytest.mark.parametrize("answer, outcome", [
        ((200, b'{"messaging_product": "whatsapp", '
               b'"contacts": [{"input": "1650", "wa_id": "1650"}], '
               b'"messages": [{"id": "wamid.HBgL1", "message_status": "accepted"}]}'),
         "wamid.HBgL1"),
        ((200, b'{"messages": []}'),
         ("TransientSendError", 'whatsapp answered 200 without a message id: {"messages": []}')),
        (error(130429, "(#130429) Rate limit hit",
               details="Cloud API message throughput has been reached."),
         ("ThrottledError", "whatsapp throttled it (400): error 130429: (#130429) Rate limit hit "
                            "(Cloud API message throughput has been reached.)")),
        (error(131056, "(#131056) Pair rate limit hit"),
         ("ThrottledError",
          "whatsapp throttled it (400): error 131056: (#131056) Pair rate limit hit")),
        (error(80007, "Rate limit issues"),
         ("ThrottledError", "whatsapp throttled it (400): error 80007: Rate limit issues")),
        (error(4, "Too many calls"),
         ("ThrottledError", "whatsapp throttled it (400): error 4: Too many calls")),
        (error(131047, "Re-engagement message",
               details="Message failed to send because more than 24 hours "
                       "have passed since the customer last replied."),
         ("PermanentSendError",
          "outside the customer's 24-hour window: a free-form message needs an approved "
          "template (whatsapp error 131047: Re-engagement message (Message failed to send "
          "because more than 24 hours have passed since the customer last replied.))")),
        (error(131026, "Message undeliverable"),
         ("PermanentSendError", "whatsapp refused it (400): error 131026: Message undeliverable")),
        (error(132000, "Number of parameters does not match"),
         ("PermanentSendError",
          "whatsapp refused it (400): error 132000: Number of parameters does not match")),
        (error(132001, "Template name does not exist in the translation", status=404),
         ("PermanentSendError", "whatsapp refused it (404): error 132001: Template name does not "
                                "exist in the translation")),
        (error(131000, "Something went wrong", status=500),
         ("TransientSendError", "whatsapp answered 500: error 131000: Something went wrong")),
        (error(131016, "Service unavailable", status=503),
         ("TransientSendError", "whatsapp answered 503: error 131016: Service unavailable")),
        (error(190, "Error validating access token: Session has expired", status=401),
         ("GatewayDownError", "whatsapp refused the channel (401): error 190: Error validating "
                              "access token: Session has expired")),
        (error(368, "Temporarily blocked for policies violations", status=403),
         ("GatewayDownError", "whatsapp refused the channel (403): error 368: Temporarily blocked "
                              "for policies violations")),
        (error(131031, "Account has been locked", status=403),
         ("GatewayDownError",
          "whatsapp refused the channel (403): error 131031: Account has been locked")),
        (error(3, "Capability or permissions issue", status=500),  # a 500 that is not transient
         ("GatewayDownError",
          "whatsapp refused the channel (500): error 3: Capability or permissions issue")),
        (error(99999, "Something new", status=500),
         ("TransientSendError", "whatsapp answered 500: error 99999: Something new")),
        (error(131009, "Parameter value is not valid"),
         ("PermanentSendError",
          "whatsapp refused it (400): error 131009: Parameter value is not valid")),
        ((502, b"<html>Bad gateway</html>"),
         ("TransientSendError", "whatsapp answered 502: <html>Bad gateway</html>")),
        ((429, b"slow down"), ("ThrottledError", "whatsapp throttled it (429): slow down")),
    ])
    def test_answers_map_to_outcomes_by_the_error_code_first(self, answer, outcome):
        assert raised(sl.whatsapp_outcome, *answer, 1.0) == outcome

    def test_how_long_a_throttle_or_a_channel_down_waits(self):
        pair = sl.whatsapp_error(131056, "pair", 400, 1.0)
        down = sl.whatsapp_error(190, "token", 401, 1.0)
        assert (pair.retry_after,
                sl.whatsapp_error(130429, "x", 400, 1.0).retry_after) == (6.0, 1.0)
        assert isinstance(down, sl.ThrottledError) and down.retry_after == sl.WHATSAPP_DOWN_RETRY

    def test_statuses_are_receipts(self):
        gateway = sl.WhatsAppGateway(sl.parse_gateway_url(WA_URL.format(address="h")), 1, 1,
                                     sl.Callbacks(), None)
        post = wa_webhook("statuses",
                          {"id": "wamid.1", "status": "sent", "timestamp": "1",
                           "recipient_id": "1650", "biz_opaque_callback_data": "11"},
                          {"id": "wamid.2", "status": "delivered", "recipient_id": "1650"},
                          {"id": "wamid.3", "status": "read", "biz_opaque_callback_data": "13"},
                          {"id": "wamid.4", "status": "failed", "biz_opaque_callback_data": "14",
                           "errors": [{"code": 131026, "title": "Message undeliverable",
                                       "error_data": {"details": "Message Undeliverable."}}]},
                          {"id": "wamid.5", "status": "failed", "errors": [
                              {"code": 131047, "title": "Re-engagement message"}]})
        assert gateway.receipts(post) == [
            sl.GatewayReceipt("11", "wamid.1", None),
            sl.GatewayReceipt(None, "wamid.2", "delivered"),
            sl.GatewayReceipt("13", "wamid.3", "delivered"),
            sl.GatewayReceipt("14", "wamid.4", "undelivered",
                              "whatsapp error 131026: Message undeliverable "
                              "(Message Undeliverable.)"),
            sl.GatewayReceipt(None, "wamid.5", "undelivered",
                              "outside the customer's 24-hour window: a free-form message "
                              "needs an approved template (whatsapp error 131047: "
                              "Re-engagement message)")]
        messages = wa_webhook("messages", {"from": "16505551234", "id": "wamid.9", "type": "text",
                                           "text": {"body": "STOP"}},
                              {"from": "16505551234", "id": "wamid.10", "type": "image",
                               "image": {"id": "1"}})
        assert gateway.inbound(messages) == [("+16505551234", "STOP")]
        assert gateway.receipts(messages) == [] and gateway.inbound(post) == []
        with pytest.raises(ValueError):
            gateway.receipts({"object": "page", "entry": []})

    def test_the_signature_is_metas(self):
        # the test vector of the whatsapp_sdk package's documentation
        assert sl.whatsapp_signature("secret", b"test") == \
            "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914"


class TestWhatsAppWebhook:
    """GET and POST /providers/whatsapp as Meta calls them."""

    pytestmark = pytest.mark.asyncio

    async def harness(self, make_harness, aiohttp_server, **settings):
        # never called: the tests post the webhooks
        server = await aiohttp_server(sl.web.Application())
        url = WA_URL.format(address=f"127.0.0.1:{server.port}")
        return await make_harness(whatsapp_provider_url=url, real_provider=True,
                                  public_url="https://sms.example.com", run_workers=False,
                                  **settings)

    async def sent_message(self, h, provider_id):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign(channel="whatsapp")
        await h.send(campaign_id, {"customer_ids": ids})
        message_id = (await h.sql("SELECT id FROM outbound_messages"))[0][0]
        await h.execute("UPDATE outbound_messages SET status = 'sent', provider_message_id = ? "
                        "WHERE id = ?", (provider_id, message_id))
        await h.execute("UPDATE campaigns SET sent_count = 1, status = 'sent'")  # as if dispatched
        return campaign_id, message_id

    async def test_the_verification_answers_the_challenge_only_with_the_token(
            self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server, api_key="k")
        path = "/providers/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
        response = await h.client.get(path + "vt-123")
        assert (response.status, response.content_type, await response.text()) == (
            200, "text/plain", "1158201444")
        for wrong in (path + "vt-124", path, path.replace("subscribe", "unsubscribe") + "vt-123"):
            status, payload = await h.request("GET", wrong)
            assert status == 403 and payload["error"]["code"] == "FORBIDDEN"
            assert described("GET", "/providers/whatsapp", status, payload) is True

    async def test_a_post_needs_its_signature(self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server)
        await self.sent_message(h, "wamid.1")
        raw, headers = wa_signed(wa_webhook("statuses", {"id": "wamid.1", "status": "delivered"}))
        for bad in ({**headers, "X-Hub-Signature-256": "sha256=00"},
                    {"Content-Type": "application/json"},
                    wa_signed(json.loads(raw), secret="wa-t0ken")[1]):
            status, payload = await h.request("POST", "/providers/whatsapp", raw=raw, headers=bad)
            assert status == 401 and payload["error"]["code"] == "UNAUTHORIZED"
            assert described("POST", "/providers/whatsapp", status, payload) is True
        assert (await h.sql("SELECT delivery_status FROM outbound_messages")) == [(None,)]
        for garbage in (b'{"object": "page"}', b'[{"object": "whatsapp_business_account"}]'):
            status, payload = await h.request("POST", "/providers/whatsapp", raw=garbage, headers={
                **headers, "X-Hub-Signature-256": sl.whatsapp_signature("wa-s3cret", garbage)})
            assert status == 400 and payload["error"]["message"] == (
                'not a whatsapp webhook: object must be "whatsapp_business_account", with a list '
                'of entry'), payload  # our words, never Python's
        # Parts of a post that are not what Meta sends (changes not a list) hold nothing.
        odd = b'{"object": "whatsapp_business_account", "entry": [{"changes": 7}, 3]}'
        status, payload = await h.request("POST", "/providers/whatsapp", raw=odd, headers={
            **headers, "X-Hub-Signature-256": sl.whatsapp_signature("wa-s3cret", odd)})
        assert (status, payload) == (200, {"accepted": 0, "unknown": [], "action": "none"})

    async def test_statuses_are_receipts_by_our_reference_or_the_wamid(
            self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server)
        campaign_id, message_id = await self.sent_message(h, "wamid.1")
        failed = {"id": "wamid.1", "status": "failed", "biz_opaque_callback_data": str(message_id),
                  "errors": [{"code": 131026, "title": "Message undeliverable"}]}
        for statuses, answer in [
                ([{"id": "wamid.1", "status": "sent"}],
                 {"accepted": 0, "unknown": [], "action": "none"}),
                ([{"id": "wamid.9", "status": "delivered"}],
                 {"accepted": 0, "unknown": ["wamid.9"], "action": "none"}),
                ([failed], {"accepted": 1, "unknown": [], "action": "none"})]:
            raw, headers = wa_signed(wa_webhook("statuses", *statuses))
            payload = await h.post("/providers/whatsapp", raw=raw, headers=headers, expect=200)
            assert (payload == answer
                    and described("POST", "/providers/whatsapp", 200, payload) is True)
        (row,) = await h.sql("SELECT delivery_status, last_error FROM outbound_messages")
        assert row == ("undelivered", "whatsapp error 131026: Message undeliverable")
        # by the wamid
        raw, headers = wa_signed(wa_webhook("statuses", {"id": "wamid.1", "status": "read"}))
        assert (await h.post("/providers/whatsapp", raw=raw, headers=headers,
                             expect=200))["accepted"] == 1
        assert (await h.campaign(campaign_id))["stats"]["delivered"] == 1
        # replayed, or late: never backwards
        raw, headers = wa_signed(wa_webhook("statuses", failed))
        await h.post("/providers/whatsapp", raw=raw, headers=headers, expect=200)
        assert (await h.sql("SELECT delivery_status FROM outbound_messages")) == [("delivered",)]

    async def test_an_inbound_stop_opts_out_start_back_in_and_a_repeat_is_not_acted_on(
            self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server)
        customer_id = (await h.add_customers(1))[0]
        posts = [(wamid, text, action) for wamid, (text, action) in enumerate(
            ((" Stop! ", "opted_out"), ("START", "opted_in"), ("hello", "none")))]
        posts.append((0, " Stop! ", "none"))  # Meta posts the STOP again: it undoes no START
        for wamid, text, action in posts:
            raw, headers = wa_signed(wa_webhook("messages", {
                "from": h.phones[0].removeprefix("+"), "id": f"wamid.{wamid}",
                "timestamp": "1749416383", "type": "text", "text": {"body": text}}))
            assert (await h.post("/providers/whatsapp", raw=raw, headers=headers,
                                 expect=200))["action"] == action
        assert (await h.get(f"/customers/{customer_id}"))["opted_out_at"] is None

    async def test_providers_shows_the_callback_url_and_verify_token_and_no_secret(
            self, make_harness, aiohttp_server):
        h = await self.harness(make_harness, aiohttp_server)
        shown = await h.get("/providers")
        assert described("GET", "/providers", 200, shown) is True
        mock, whatsapp = shown["data"]
        assert mock["kind"] == "mock" and mock["channels"] == ["sms"]
        callback = "https://sms.example.com/providers/whatsapp"
        assert whatsapp == {"channels": ["whatsapp"], "kind": "whatsapp", "host": whatsapp["host"],
                            "url": f"whatsapp+http://106540352242922:***@{whatsapp['host']}/v21.0",
                            "state": "up", "reason": None, "verify_token": "vt-123",
                            "callbacks": {"receipts": callback, "inbound": callback}}
        assert "wa-s3cret" not in json.dumps(shown) and "wa-t0ken" not in json.dumps(shown)
        # its webhook is one URL
        status, _ = await h.request("POST", "/providers/whatsapp/receipts")
        assert status == 404


class TestWhatsAppTemplateField:
    """A whatsapp campaign's approved template: validated on create and PATCH, previewed."""

    pytestmark = pytest.mark.asyncio
    TEMPLATE: ClassVar = {"name": "order_update", "language": "en_US",
                          "parameters": ["{first_name}", "{preferred_product|our shop}"]}

    async def test_it_is_kept_shown_and_changed(self, h):
        campaign = await h.post("/campaigns", {"name": "Launch", "channel": "whatsapp",
                                               "base_template": "Hi {first_name}",
                                               "whatsapp_template": self.TEMPLATE}, expect=201)
        assert campaign["whatsapp_template"] == self.TEMPLATE
        assert described("POST", "/campaigns", 201, campaign) is True
        assert (await h.campaign(campaign["id"]))["whatsapp_template"] == self.TEMPLATE
        bare = {"name": "hello_world", "language": "en"}
        changed = await h.request("PATCH", f"/campaigns/{campaign['id']}",
                                  {"whatsapp_template": bare}, expect=200)
        assert changed[1]["whatsapp_template"] == {**bare, "parameters": []}
        cleared = await h.request("PATCH", f"/campaigns/{campaign['id']}",
                                  {"whatsapp_template": None}, expect=200)
        assert cleared[1]["whatsapp_template"] is None
        assert described("PATCH", "/campaigns/{id}", 200, cleared[1]) is True

    @pytest.mark.parametrize("spec, code, message", [
        ("order_update", "VALIDATION_ERROR",
         'whatsapp_template must be an object {"name", "language", "parameters": [...]} or null'),
        ({"name": "Order Update", "language": "en"}, "VALIDATION_ERROR",
         "whatsapp_template name must be the approved template's name: lowercase letters, "
         "digits and underscores, like order_update"),
        ({"name": "order_update"}, "VALIDATION_ERROR",
         "whatsapp_template language must be the template's language code, like en or en_US"),
        ({"name": "order_update", "language": "english"}, "VALIDATION_ERROR",
         "whatsapp_template language must be the template's language code, like en or en_US"),
        ({"name": "order_update", "language": "en", "parameters": "{first_name}"},
         "VALIDATION_ERROR",
         "whatsapp_template parameters must be a list of at most 100 templates of 1 to 1024 "
         'characters, like ["{first_name}", "{preferred_product|our shop}"]'),
        ({"name": "order_update", "language": "en", "parameters": [""]}, "VALIDATION_ERROR",
         "whatsapp_template parameters must be a list"),
        ({"name": "order_update", "language": "en", "header": {}}, "VALIDATION_ERROR",
         "whatsapp_template has an unknown field 'header' (it takes name, language, parameters)"),
        ({"name": "order_update", "language": "en", "parameters": ["{first_name}", "{shoe_size}"]},
         "INVALID_TEMPLATE",
         "whatsapp_template.parameters[1]: placeholder {shoe_size} names unknown field "
         "'shoe_size'"),
    ])
    async def test_a_bad_spec_is_400_naming_the_problem(self, h, spec, code, message):
        body = {"name": "L", "channel": "whatsapp", "base_template": "Hi",
                "whatsapp_template": spec}
        status, payload = await h.request("POST", "/campaigns", body)
        assert status == 400 and payload["error"]["code"] == code
        assert payload["error"]["message"].startswith(message), payload
        campaign_id = await h.add_campaign(channel="whatsapp")
        status, payload = await h.request("PATCH", f"/campaigns/{campaign_id}",
                                          {"whatsapp_template": spec})
        assert status == 400 and payload["error"]["message"].startswith(message)

    async def test_it_is_only_for_a_whatsapp_campaign(self, h):
        body = {"name": "L", "channel": "sms", "base_template": "Hi",
                "whatsapp_template": self.TEMPLATE}
        status, payload = await h.request("POST", "/campaigns", body)
        assert status == 400 and payload["error"]["message"] == (
            "whatsapp_template is for a whatsapp campaign; this one's channel is sms (leave "
            "whatsapp_template out, or make it whatsapp)")
        sms = await h.add_campaign()
        status, _ = await h.request("PATCH", f"/campaigns/{sms}",
                                    {"whatsapp_template": self.TEMPLATE})
        assert status == 400
        whatsapp = await h.add_campaign(channel="whatsapp", whatsapp_template=self.TEMPLATE)
        status, payload = await h.request("PATCH", f"/campaigns/{whatsapp}", {"channel": "sms"})
        assert (status == 400
                and "set whatsapp_template to null in the same change"
                in payload["error"]["message"])
        await h.request("PATCH", f"/campaigns/{whatsapp}",
                        {"channel": "sms", "whatsapp_template": None}, expect=200)

    async def test_the_preview_shows_the_rendered_parameters(self, h):
        full, = await h.add_customers(1, preferred_product="Shoes")
        sparse = (await h.post("/customers", {"phone": "+447900000001"}, expect=201))["id"]
        campaign_id = await h.add_campaign("Hi {first_name}", channel="whatsapp",
                                           whatsapp_template=self.TEMPLATE)
        for customer_id, parameters in ((full, ["Name0", "Shoes"]),
                                        (sparse, ["[unknown]", "our shop"])):
            preview = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                                   {"customer_id": customer_id}, expect=200)
            assert preview["whatsapp_template"] == {"name": "order_update", "language": "en_US",
                                                    "parameters": parameters}
            assert described("POST", "/campaigns/{id}/personalized-preview", 200, preview) is True
        plain = await h.add_campaign("Hi", channel="whatsapp")
        preview = await h.post(f"/campaigns/{plain}/personalized-preview",
                               {"customer_id": full}, expect=200)
        assert preview["whatsapp_template"] is None

    async def test_a_parameter_is_rendered_on_one_line(self):
        spec = sl.WhatsAppTemplate("t", "en", ("{first_name}", "{location|home}"))
        values = ["Jane\n\tMary     Ann", None, "+1", None, None]
        assert sl.render_whatsapp_template(spec, values) == sl.WhatsAppTemplate(
            "t", "en", ("Jane Mary Ann", "home"))


class TestWhatsAppEndToEnd:
    """A whatsapp campaign with its template through the mock's whatsapp dialect: Meta's
    requests and answers, and its signed statuses posted to /providers/whatsapp."""

    pytestmark = pytest.mark.asyncio

    async def through(self, make_harness, aiohttp_server, port, clock, **settings):
        public = f"http://127.0.0.1:{port}"
        config = mock_provider.MockProviderConfig(
            dialect="whatsapp", delivery_rate=0.5, receipt_url=f"{public}/providers/whatsapp",
            app_secret="wa-s3cret", **settings)
        mock = mock_provider.MockProvider(config, random.Random(3), clock)
        seen = []  # the requests as the mock received them
        parse = mock._dialect.parse

        async def parse_and_keep(request):
            seen.append((request.path, request.headers["Authorization"],
                         json.loads(await request.read())))
            return await parse(request)

        mock._dialect.parse = parse_and_keep
        server = await aiohttp_server(mock.app())
        url = WA_URL.format(address=f"127.0.0.1:{server.port}")
        h = await make_harness(whatsapp_provider_url=url, real_provider=True, port=port,
                               public_url=public)
        return h, mock, seen

    async def test_a_campaign_with_a_template_and_its_signed_statuses(
            self, make_harness, aiohttp_server, unused_tcp_port, clock, caplog):
        caplog.set_level(logging.DEBUG, logger="smsleopard")
        h, mock, seen = await self.through(make_harness, aiohttp_server, unused_tcp_port, clock)
        ids = await h.add_customers(10, preferred_product="Shoes")
        refused = (await h.post("/customers", {"phone": "+99970000001"}, expect=201))["id"]
        campaign_id = await h.add_campaign(
            "Hi {first_name}", channel="whatsapp", whatsapp_template={
                "name": "order_update", "language": "en_US",
                "parameters": ["{first_name}", "{preferred_product}"]})
        await h.send(campaign_id, {"customer_ids": [*ids, refused]})
        await h.settle()
        campaign = await h.campaign(campaign_id)
        assert (campaign["stats"]["sent"], campaign["stats"]["failed"]) == (10, 1)
        path, auth, body = next(s for s in seen if s[2]["to"] == h.phones[0].removeprefix("+"))
        message_id = min(m["id"] for m in await h.messages(campaign_id))
        assert (path, auth) == ("/v21.0/106540352242922/messages", "Bearer wa-t0ken")
        assert body == {"messaging_product": "whatsapp", "recipient_type": "individual",
                        "to": h.phones[0].removeprefix("+"), "type": "template", "template": {
                            "name": "order_update", "language": {"code": "en_US"},
                            "components": [{"type": "body", "parameters": [
                                {"type": "text", "text": "Name0"},
                                {"type": "text", "text": "Shoes"}]}]},
                        "biz_opaque_callback_data": str(message_id)}

        async def reported():  # the mock counts a webhook once our answer is back
            stats = (await h.campaign(campaign_id))["stats"]
            return (stats["delivered"] + stats["undelivered"] == 10
                    and mock.stats["receipts_sent"] == 10 and stats)

        reports = await until(reported, "every status")
        assert reports["delivered"] > 0 and reports["undelivered"] > 0
        messages = await h.messages(campaign_id)
        assert all(m["provider_message_id"].startswith("wamid.")
                   for m in messages if m["status"] == "sent")
        assert {m["last_error"] for m in messages if m["delivery_status"] == "undelivered"} <= {
            f"whatsapp error 131026: {reason}" for reason in mock_provider.UNDELIVERED_REASONS}
        assert [m["last_error"] for m in messages if m["status"] == "failed"] == [
            "whatsapp refused it (400): error 131026: (#131026) Message undeliverable "
            "(Message Undeliverable.)"]
        shown = (json.dumps([messages, await h.get("/providers"), await h.get("/health")])
                 + caplog.text)
        assert "wa-s3cret" not in shown and "wa-t0ken" not in shown

    async def test_a_campaign_without_a_template_goes_as_text(self, make_harness, aiohttp_server,
                                                              unused_tcp_port, clock):
        h, mock, seen = await self.through(make_harness, aiohttp_server, unused_tcp_port, clock)
        campaign_id = await h.add_campaign("Hi {first_name} ☕", channel="whatsapp")
        await h.send(campaign_id, {"customer_ids": await h.add_customers(12)})
        await h.settle()
        assert ((await h.campaign(campaign_id))["stats"]["sent"] == 12
                and mock.stats["accepted"] == 12)
        assert seen[0][2]["type"] == "text" and seen[0][2]["text"]["body"].endswith(" ☕")

    async def test_an_expired_token_marks_the_channel_down_and_burns_nothing(
            self, make_harness, aiohttp_server, unused_tcp_port, clock):
        h, _, _ = await self.through(make_harness, aiohttp_server, unused_tcp_port, clock)
        gateway = h.app[sl.SENDER].by_kind("whatsapp")
        gateway.url = dataclasses.replace(gateway.url, secret="")  # the mock answers 190
        campaign_id = await h.add_campaign("Hi", channel="whatsapp")
        await h.send(campaign_id, {"customer_ids": await h.add_customers(3)})

        async def down():
            return gateway.down

        reason = await until(down, "the channel down")
        assert reason.startswith("whatsapp refused the channel (401): error 190")
        health = await h.get("/health", expect=503)
        assert health["provider_reason"].startswith("whatsapp: whatsapp refused the channel")
        stats = (await h.campaign(campaign_id))["stats"]
        assert stats["failed"] == 0 and stats["sent"] == 0
        assert {m["retry_count"] for m in await h.messages(campaign_id)} == {0}


class TestGatewaysKeepTheirSecrets:
    """A gateway's answer may quote our request back, and a redirect would take it elsewhere:
    no error, reason or answer of ours shows a credential or a callback's token, no request
    follows a redirect, and no answer is read past ANSWER_LIMIT."""

    pytestmark = pytest.mark.asyncio
    TWILIO_BASIC = base64.b64encode(b"AC0123:tw-s3cret").decode()

    async def gateway(self, aiohttp_server, kind, handler):
        app = sl.web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = await aiohttp_server(app)
        address = f"127.0.0.1:{server.port}"
        config = test_config(receipt_secret=RECEIPT_SECRET, public_url="https://sms.example.com",
                             provider_timeout_ms=2000, provider_token="gen-s3cret", **(
                                 {"whatsapp_provider_url": WA_URL.format(address=address)}
                                 if kind == "whatsapp" else
                                 {"provider_url": DIALECT_URLS[kind].format(address=address)}))
        sender = sl.open_sender(config, random.Random(1), sl.Clock())
        await sender.open()
        return sender

    @pytest.mark.parametrize("kind", [*DIALECT_URLS, "whatsapp"])
    async def test_an_answer_that_quotes_the_request_shows_no_secret(self, aiohttp_server, kind):
        async def echo(request):  # a proxy's error page that quotes everything it got
            said = (f"{request.method} {request.path_qs} {dict(request.headers)} "
                    f"{await request.text()}")
            return sl.web.Response(status=500, text=said[:250])  # a secret near the cut, too

        sender = await self.gateway(aiohttp_server, kind, echo)
        channel = "whatsapp" if kind == "whatsapp" else "sms"
        try:
            with pytest.raises(sl.TransientSendError) as raised:
                await sender(outgoing(channel=channel))
            said = str(raised.value)
            assert "answered 500" in said, said
            for secret in (*SECRETS, "gen-s3cret", "wa-t0ken", self.TWILIO_BASIC,
                           sl.callback_token(RECEIPT_SECRET, kind)):
                assert secret[:6] not in said, (secret, said)
        finally:
            await sender.close()

    async def test_a_short_secret_is_hidden_where_it_stands_alone_not_inside_words(self):
        said = "kannel answered 503: Temporal failure (user k, password p, url u:p@h)"
        assert sl.scrubbed(said, ["p", "k"]) == (
            "kannel answered 503: Temporal failure (user ***, password ***, url u:***@h)")
        assert sl.scrubbed("refused: password=hunte...", ["hunter2"]) == (
            "refused: password=***...")  # cut short, as a long one is

    async def test_a_secret_cut_short_is_hidden_too(self):
        padding = "x" * (sl.ERROR_TEXT_LIMIT - 3 - len("error page:  apiKey=") - 6)
        said = sl.short(f"error page: {padding} apiKey=at-s3cret-of-africastalking")
        assert said.endswith("apiKey=at-s3c...")  # cut inside the key
        assert sl.scrubbed(said, ["at-s3cret-of-africastalking"]).endswith("apiKey=***...")

    async def test_a_redirect_is_not_followed_and_shows_the_gateway_down(self, aiohttp_server):
        elsewhere = []

        async def redirect(request):
            if request.path == "/steal":
                elsewhere.append(dict(request.headers))
                return sl.web.json_response({"SMSMessageData": {"Recipients": []}})
            raise sl.web.HTTPFound("/steal")

        sender = await self.gateway(aiohttp_server, "africastalking", redirect)
        try:
            with pytest.raises(sl.TransientSendError) as raised:
                await sender(outgoing())
            assert str(raised.value) == "provider answered 302, a redirect, not followed"
            (shown,) = sender.describe()  # a moved endpoint fails no campaign for good
            assert (shown["state"], shown["reason"]) == (
                "down", "answers 302, a redirect, not followed: check its URL")
        finally:
            await sender.close()
        assert elsewhere == []  # the apiKey header went nowhere else

    @pytest.mark.parametrize("chunked", [False, True])
    async def test_an_endless_answer_is_read_only_so_far(self, aiohttp_server, chunked):
        async def flood(request):
            response = sl.web.StreamResponse(status=500)
            if chunked:
                response.enable_chunked_encoding()
            else:
                response.content_length = 8 << 20
            await response.prepare(request)
            for _ in range(8):
                await response.write(b"x" * (1 << 20))
            return response

        sender = await self.gateway(aiohttp_server, "generic", flood)
        gateway = sender.gateways["sms"]
        try:
            status, body, _ = await gateway._exchange("POST", gateway.url.base, data=b"{}")
            assert (status, len(body)) == (500, sl.ANSWER_LIMIT)
            with pytest.raises(sl.TransientSendError, match=r"provider answered 500: x+\.\.\.$"):
                await sender(outgoing())
        finally:
            await sender.close()

    async def test_a_reason_shown_as_down_hides_the_secret(self, aiohttp_server):
        async def unused(request):
            raise AssertionError("not called")

        sender = await self.gateway(aiohttp_server, "twilio", unused)
        try:
            gateway = sender.gateways["sms"]
            gateway.down = f"unreachable: Basic {self.TWILIO_BASIC} refused"
            (shown,) = sender.describe()
            assert shown["reason"] == "unreachable: Basic *** refused"
        finally:
            await sender.close()


class TestEarlyGatewayReports:
    """A report that names only the gateway's id and overtakes the record of its message's
    outcome (Africa's Talking reports fast) waits for it instead of being lost."""

    pytestmark = pytest.mark.asyncio

    async def test_a_report_before_the_answer_is_applied_with_the_outcome(self, make_harness,
                                                                          aiohttp_server):
        service = {}

        async def gateway(request):  # reports the message delivered before it answers
            token = sl.callback_token(RECEIPT_SECRET, "africastalking")
            async with sl.aiohttp.ClientSession() as session, session.post(
                    f"{service['url']}/providers/africastalking/receipts/{token}",
                    data={"id": "ATXid_1", "status": "Success"}) as report:
                service["report"] = await report.json()
            recipient = {"statusCode": 101, "number": "+254712000001", "status": "Success",
                         "messageId": "ATXid_1", "cost": "KES 0.8000"}
            return sl.web.json_response({"SMSMessageData": {
                "Message": "Sent to 1/1", "Recipients": [recipient]}}, status=201)

        app = sl.web.Application()
        app.router.add_post("/version1/messaging", gateway)
        server = await aiohttp_server(app)
        h = await make_harness(
            provider_url=DIALECT_URLS["africastalking"].format(
                address=f"127.0.0.1:{server.port}"),
            real_provider=True, public_url="https://sms.example.com",
            receipt_secret=RECEIPT_SECRET)
        service["url"] = str(h.client.make_url("")).rstrip("/")
        campaign_id = await h.launch(await h.add_customers(1))
        await h.settle()
        assert service["report"] == {"accepted": 0, "unknown": ["ATXid_1"]}  # not yet ours
        (message,) = await h.messages(campaign_id)
        assert (message["status"], message["provider_message_id"],
                message["delivery_status"]) == ("sent", "ATXid_1", "delivered")
        assert (await h.campaign(campaign_id))["stats"]["delivered"] == 1
        assert await h.sql("SELECT count(*) FROM early_gateway_receipts") == [(0,)]

    async def test_a_report_parked_just_after_its_outcome_was_recorded_is_applied(
            self, make_harness):
        """The look for the gateway's id found nothing, then the record committed, then the
        report is parked: parking finds the message, so the report is not left waiting."""
        h = await make_harness(run_workers=False)
        campaign_id, message_id = await TestGatewayCallbacks().sent_message(h, "ATXid_5")
        await h.app[sl.STORE].outcomes.keep_early(
            [sl.Receipt("ATXid_5", "delivered", "2027-01-15T08:00:00Z")], T0)
        assert await h.sql("SELECT delivery_status FROM outbound_messages WHERE id = ?",
                           (message_id,)) == [("delivered",)]
        assert (await h.campaign(campaign_id))["stats"]["delivered"] == 1
        assert await h.sql("SELECT count(*) FROM early_gateway_receipts") == [(0,)]

    async def test_a_report_no_message_takes_is_let_go_after_a_day(self, make_harness):
        h = await make_harness()
        outcomes = h.app[sl.STORE].outcomes
        await outcomes.keep_early([sl.Receipt("ATXid_9", "delivered", "2027-01-15T08:00:00Z")],
                                  T0)
        await h.app[sl.STORE].outbox.forget_old_receipts(T0 - 1)
        assert await h.sql("SELECT provider_message_id FROM early_gateway_receipts") == [
            ("ATXid_9",)]
        await h.app[sl.STORE].outbox.forget_old_receipts(T0 + 1)
        assert await h.sql("SELECT count(*) FROM early_gateway_receipts") == [(0,)]


# ---------------------------------------------------------------------------
# DISPATCH
# ---------------------------------------------------------------------------


# -- DISPATCH -----------------------------------------------------------------

class TestDispatch:
    pytestmark = pytest.mark.asyncio

    async def test_a_queued_message_is_rendered_and_sent(self, h):
        ids = await h.add_customers(3, preferred_product="Tea")
        campaign_id = await h.add_campaign("Hi {first_name}, try our {preferred_product}!")
        await h.send(campaign_id, {"customer_ids": ids})
        await h.settle()
        messages = await h.messages(campaign_id)
        assert [(m["status"], m["rendered_content"], m["retry_count"], m["last_error"])
                for m in messages] == [
            ("sent", f"Hi Name{i}, try our Tea!", 0, None) for i in range(3)]
        assert sorted(h.sender.sent) == sorted(("sms", h.phones[i], f"Hi Name{i}, try our Tea!")
                                               for i in range(3))
        campaign = await h.campaign(campaign_id)
        assert campaign["status"] == "sent"
        assert campaign["stats"] == stats(total=3, pending=0, sending=0, sent=3, failed=0)

    async def test_a_gateways_id_or_words_with_nul_or_a_lone_surrogate_are_stored(self, h):
        """No database holds them (PostgreSQL refused the commit, and the batch was sent again
        and again; SQLite stored bytes no read could decode): NUL dropped, a surrogate as ?."""
        ids = await h.add_customers(3)
        h.sender.ids = {h.phones[0]: "a\x00b", h.phones[1]: "c\ud800d"}
        h.sender.script[h.phones[2]] = [sl.PermanentSendError("no\x00 route \udfff")]
        campaign_id = await h.launch(ids)
        await h.settle()
        messages = await h.messages(campaign_id)
        assert [(m["status"], m["provider_message_id"], m["last_error"]) for m in messages] == [
            ("sent", "ab", None), ("sent", "c?d", None), ("failed", None, "no route ?")]
        assert h.sender.calls == 3

    async def test_transient_failures_are_retried_then_failed_at_max(self, make_harness):
        h = await make_harness(max_retries=3)
        ids = await h.add_customers(2)
        h.sender.script[h.phones[0]] = transient(10)
        campaign_id = await h.launch(ids)
        campaign = await h.run_until_done(campaign_id)
        failed, sent = await h.messages(campaign_id)
        assert (failed["status"], failed["retry_count"], failed["last_error"]) == (
            "failed", 3, "provider timeout")
        assert (sent["status"], sent["retry_count"]) == ("sent", 0)
        assert h.sender.attempts[h.phones[0]] == 4  # the first attempt and three retries
        assert (campaign["status"], campaign["stats"]["failed"], campaign["stats"]["sent"]) == (
            "sent", 1, 1)

    async def test_a_retry_that_succeeds_keeps_its_count(self, h):
        ids = await h.add_customers(1)
        h.sender.script[h.phones[0]] = transient(2, "throttled by carrier")
        campaign_id = await h.launch(ids)
        await h.run_until_done(campaign_id)
        message, = await h.messages(campaign_id)
        assert (message["status"], message["retry_count"], message["last_error"]) == (
            "sent", 2, "throttled by carrier")

    async def test_retries_wait_for_their_backoff(self, make_harness):
        h = await make_harness(retry_base_ms=1000)
        ids = await h.add_customers(1)
        h.sender.script[h.phones[0]] = transient(2)
        campaign_id = await h.launch(ids)
        await h.settle()
        assert h.sender.attempts[h.phones[0]] == 1
        h.clock.advance(0.7)  # less than the smallest first backoff (0.75 s)
        await h.settle()
        assert h.sender.attempts[h.phones[0]] == 1
        h.clock.advance(0.6)  # past the largest (1.25 s)
        await h.settle()
        assert h.sender.attempts[h.phones[0]] == 2
        h.clock.advance(1.4)  # less than the smallest second backoff (1.5 s)
        await h.settle()
        assert h.sender.attempts[h.phones[0]] == 2
        h.clock.advance(1.2)
        await h.settle()
        assert h.sender.attempts[h.phones[0]] == 3
        assert (await h.campaign(campaign_id))["status"] == "sent"

    async def test_permanent_failures_are_not_retried(self, h):
        ids = await h.add_customers(2)
        h.sender.script = {phone: [sl.PermanentSendError("no route")] for phone in h.phones}
        campaign_id = await h.launch(ids)
        campaign = await h.run_until_done(campaign_id)
        assert [(m["status"], m["retry_count"], m["last_error"])
                for m in await h.messages(campaign_id)] == [("failed", 0, "no route")] * 2
        assert sum(h.sender.attempts.values()) == 2
        assert campaign["status"] == "failed"  # nothing was sent

    async def test_duplicate_jobs_send_nothing_twice(self, h):
        ids = await h.add_customers(5)
        campaign_id = await h.launch(ids)
        messages = [m["id"] for m in await h.messages(campaign_id)]
        # the same job twice more, while the first is queued
        await h.campaigns.enqueue(messages)
        await h.campaigns.enqueue(messages[::-1])
        await h.settle()
        await h.campaigns.enqueue(messages)            # and once after everything is sent
        await h.settle()
        assert sorted(h.sender.attempts.values()) == [1] * 5
        assert (await h.campaign(campaign_id))["stats"]["sent"] == 5

    async def test_jobs_in_flight_at_once_claim_each_message_once(self, make_harness):
        h = await make_harness(concurrency=50)
        ids = await h.add_customers(20)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        messages = [m["id"] for m in await h.messages(campaign_id)]
        await h.campaigns.enqueue(messages)
        await h.sender.wait_for_in_flight(20)
        stats = (await h.campaign(campaign_id))["stats"]
        assert (stats["sending"], stats["pending"]) == (20, 0)
        h.sender.gate.set()
        await h.settle()
        assert sorted(h.sender.attempts.values()) == [1] * 20

    async def test_concurrency_bounds_attempts_in_flight(self, make_harness):
        h = await make_harness(concurrency=4)
        ids = await h.add_customers(30)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(4)
        h.sender.gate.set()
        await h.settle()
        assert h.sender.most_in_flight == 4 and len(h.sender.sent) == 30
        assert (await h.campaign(campaign_id))["stats"]["sent"] == 30

    async def test_a_campaign_with_every_message_failed_is_failed(self, make_harness):
        h = await make_harness(max_retries=0)
        ids = await h.add_customers(3)
        h.sender.script = {phone: transient() for phone in h.phones}
        campaign_id = await h.launch(ids)
        campaign = await h.run_until_done(campaign_id)
        assert campaign["status"] == "failed"
        assert campaign["stats"] == stats(total=3, pending=0, sending=0, sent=0, failed=3)

    async def test_stats_stay_exact_under_a_random_workload(self, make_harness):
        h = await make_harness(max_retries=2, concurrency=7, batch_size=5)
        rng = random.Random(11)
        ids = await h.add_customers(60)
        for phone in h.phones:
            h.sender.script[phone] = rng.choice([[], transient(1), transient(5),
                                                 [sl.PermanentSendError("blocked")]])
        campaign_ids = [await h.add_campaign() for _ in range(3)]
        for campaign_id in campaign_ids:
            await h.send(campaign_id, {"customer_ids": rng.sample(ids, 40)})
        for campaign_id in campaign_ids:
            campaign = await h.run_until_done(campaign_id)
            counted = Counter(m["status"] for m in await h.messages(campaign_id))
            assert campaign["stats"] == stats(total=40, sent=counted["sent"],
                                              failed=counted["failed"])

    async def test_more_messages_can_join_a_sending_campaign(self, h):
        ids = await h.add_customers(4)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.add_campaign()
        await h.send(campaign_id, {"customer_ids": ids[:2]})
        assert (await h.send(campaign_id, {"customer_ids": ids}))["messages_queued"] == 2
        h.sender.gate.set()
        campaign = await h.run_until_done(campaign_id)
        assert campaign["stats"]["sent"] == 4 and len(h.sender.sent) == 4

    async def test_a_batch_whose_outcome_could_not_be_recorded_is_sent_again_after_its_claim(
            self, make_harness, monkeypatch, caplog):
        h = await make_harness(claim_timeout=10)
        ids = await h.add_customers(3)
        record = h.store.outcomes.record
        failures = [sqlite3.OperationalError("disk I/O error")]

        async def record_failing_once(*args):
            if failures:
                raise failures.pop()
            return await record(*args)

        monkeypatch.setattr(h.store.outcomes, "record", record_failing_once)
        campaign_id = await h.launch(ids)
        await h.settle()
        assert "disk I/O error" in caplog.text
        assert (await h.campaign(campaign_id))["stats"]["sending"] == 3  # claimed, outcome unknown
        # time passes; the claims lapse at 10 s and the job must come back after that
        for _ in range(4):
            h.clock.advance(3)
            await h.settle()
        campaign = await h.campaign(campaign_id)
        assert campaign["status"] == "sent" and campaign["stats"]["sent"] == 3
        # at-least-once: sent, unrecorded, sent again
        assert sorted(h.sender.attempts.values()) == [2] * 3

    async def test_a_template_broken_in_the_database_fails_its_messages(self, h):
        ids = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        await h.execute("UPDATE campaigns SET base_template = 'Hi {nickname}' WHERE id = ?",
                        (campaign_id,))
        await h.send(campaign_id, {"customer_ids": ids})
        campaign = await h.run_until_done(campaign_id)
        message, = await h.messages(campaign_id)
        assert campaign["status"] == "failed" and message["last_error"].startswith(
            "invalid template")
        assert h.sender.attempts == {}


# -- Throttling and rate limits: on the injected clock, never on luck ---------

class TestOutcomesAsTheyHappen:
    pytestmark = pytest.mark.asyncio

    async def test_an_outcome_is_committed_within_a_group_window_not_at_its_claims_end(
            self, make_harness):
        h = await make_harness(concurrency=4)  # a group commits at once with 2 (half the slots)
        ids = await h.add_customers(4)
        h.sender.holds = {phone: asyncio.Event() for phone in h.phones}
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(4)
        h.sender.holds[h.phones[0]].set()
        await h.sender.wait_until_in_flight(3)
        for _ in range(10):  # the outcome reaches the recorder, which waits for the window
            await asyncio.sleep(0)
        # in the group
        assert (await h.campaign(campaign_id))["stats"] == stats(total=4, sending=4)
        h.clock.advance(sl.GROUP_WINDOW)
        await h.dispatcher.recorded()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=4, sent=1, sending=3)
        first = (await h.messages(campaign_id))[0]
        assert (first["status"], first["provider_message_id"]) == ("sent", f"p-{first['id']}")
        h.sender.holds[h.phones[1]].set()
        h.sender.holds[h.phones[2]].set()
        for _ in range(500):  # two ready: committed without the clock moving (no window)
            if (await h.campaign(campaign_id))["stats"] == stats(total=4, sent=3, sending=1):
                break
            await asyncio.sleep(0.002)
        assert (await h.campaign(campaign_id))["stats"] == stats(total=4, sent=3, sending=1)
        h.sender.holds[h.phones[3]].set()
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=4, sent=4)

    async def test_at_batch_end_the_outcomes_wait_for_the_claims_last(self, make_harness):
        h = await make_harness(concurrency=3, group_commits=False)  # the benchmark's comparison
        ids = await h.add_customers(3)
        h.sender.holds = {phone: asyncio.Event() for phone in h.phones}
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(3)
        h.sender.holds[h.phones[0]].set()
        await h.sender.wait_until_in_flight(2)
        h.clock.advance(sl.GROUP_WINDOW)
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sending=3)
        for hold in h.sender.holds.values():
            hold.set()
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sent=3)

    async def test_sending_counts_what_is_in_flight_and_one_claim_waiting(self, make_harness):
        h = await make_harness(concurrency=2, batch_size=3)  # four jobs, two taken at once
        ids = await h.add_customers(10)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(2)
        claimed = "SELECT count(*) FROM outbound_messages WHERE claim_token IS NOT NULL"
        for _ in range(200):  # the next claim is made while the first two are at the provider
            if (await h.sql(claimed))[0][0] == 4:
                break
            await asyncio.sleep(0.005)
        for _ in range(20):  # ... and no other claim follows it while no slot is free
            await asyncio.sleep(0.005)
        assert (await h.sql(claimed))[0][0] == 4
        assert (await h.campaign(campaign_id))["stats"] == stats(total=10, sending=4, pending=6)
        h.sender.gate.set()
        assert (await h.run_until_done(campaign_id))["stats"] == stats(total=10, sent=10)
        assert sorted(h.sender.attempts.values()) == [1] * 10

    async def test_an_attempt_the_provider_never_answers_fails_as_a_time_out(
            self, make_harness, aiohttp_server):
        requests = []

        async def never_answers(request):
            requests.append(await request.json())
            await asyncio.Event().wait()

        app = sl.web.Application()
        app.router.add_post("/messages", never_answers)
        server = await aiohttp_server(app)
        h = await make_harness(provider_url=str(server.make_url("/messages")), real_provider=True,
                               provider_timeout_ms=50, max_retries=2)
        ids = await h.add_customers(3)
        campaign_id = await h.launch(ids)
        campaign = await h.run_until_done(campaign_id)
        assert campaign["status"] == "failed" and campaign["stats"] == stats(total=3, failed=3)
        messages = await h.messages(campaign_id)
        assert {(m["retry_count"], m["last_error"]) for m in messages} == {
            (2, "provider timeout (0.05 s)")}
        # Three attempts each, no more. The service counts them; the server may see fewer, as a
        # 50 ms time-out can close a connection before the server has read its request.
        assert await h.sql("SELECT attempts_count FROM campaigns") == [(9,)]
        assert len(requests) <= 9
        assert not h.app[sl.CRASHED].is_set()

    async def test_a_message_erased_in_flight_writes_no_event_and_no_phone(
            self, make_harness, receiver):
        hooks = await receiver()
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET,
                               webhook_events="campaign,message")
        ids = await h.add_customers(2)
        phone = h.phones[0]
        h.sender.script[phone] = [sl.PermanentSendError(f"no route to {phone}")]
        h.sender.holds[phone] = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_calls(2)
        await h.request("DELETE", f"/customers/{ids[0]}", expect=204)
        h.sender.holds[phone].set()
        await h.settle()
        messages = await h.messages(campaign_id)
        assert [m["status"] for m in messages] == ["cancelled", "sent"]
        events = await h.sql("SELECT type, body FROM webhook_events ORDER BY id")
        assert "message.failed" not in [kind for kind, _ in events]
        assert not [body for _, body in events if phone in body]
        assert (await h.sql("SELECT count(*) FROM outbound_messages WHERE last_error LIKE ? "
                            "OR rendered_content LIKE ?", (f"%{phone}%", "%Name0%"))) == [(0,)]

    async def test_scheduling_and_unscheduling_emit_status_changes(self, make_harness, receiver):
        hooks = await receiver()
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET)
        campaign_id = await h.add_campaign()
        future = sl.utc_iso(T0 + 3600)
        await h.request("PATCH", f"/campaigns/{campaign_id}", {"scheduled_at": future}, expect=200)
        await h.request("PATCH", f"/campaigns/{campaign_id}", {"name": "Renamed"}, expect=200)
        await h.request("PATCH", f"/campaigns/{campaign_id}", {"scheduled_at": None}, expect=200)
        bodies = [json.loads(body)
                  for body, in await h.sql("SELECT body FROM webhook_events ORDER BY id")]
        assert [(b["type"], b["data"]["from"], b["data"]["to"]) for b in bodies] == [
            ("campaign.status_changed", "draft", "scheduled"),
            ("campaign.status_changed", "scheduled", "draft")]

    @pytest.mark.parametrize("secret, callback", [
        ("", None), (RECEIPT_SECRET, "https://sms.example.com/providers/receipts")])
    async def test_a_callback_url_only_where_receipts_are_taken(
            self, make_harness, aiohttp_server, secret, callback):
        bodies = []

        async def accept(request):
            bodies.append(await request.json())
            return sl.web.json_response({"id": "p-1"})

        app = sl.web.Application()
        app.router.add_post("/messages", accept)
        server = await aiohttp_server(app)
        h = await make_harness(provider_url=str(server.make_url("/messages")), real_provider=True,
                               public_url="https://sms.example.com", receipt_secret=secret)
        await h.launch(await h.add_customers(1))
        await h.settle()
        assert [body["callback_url"] for body in bodies] == [callback]

    async def test_a_replayed_inbound_request_is_answered_but_not_acted_on(self, make_harness):
        h = await make_harness(receipt_secret=RECEIPT_SECRET)
        customer_id = (await h.add_customers(1))[0]
        start = json.dumps({"from": h.phones[0], "text": "START"}).encode()
        captured = signed(start, message_id="msg_start")
        assert await h.post("/providers/inbound", raw=start, headers=captured, expect=200) == {
            "action": "opted_in"}
        assert await post_inbound(h, {"from": h.phones[0], "text": "STOP"}) == {
            "action": "opted_out"}
        h.clock.advance(60)  # still inside the signature's window
        assert await h.post("/providers/inbound", raw=start, headers=captured, expect=200) == {
            "action": "none"}
        assert (await h.get(f"/customers/{customer_id}"))["opted_out_at"] is not None


def throttled(n=1, retry_after=2.0):
    return [sl.ThrottledError("throttled by the provider (429): slow down", retry_after)
            for _ in range(n)]


async def tick(h, seconds, step=0.05):
    """Move the clock forward in steps, letting everything due happen at each; the calls per
    step."""
    calls = []
    for _ in range(round(seconds / step)):
        before = h.sender.calls
        h.clock.advance(step)
        await h.settle()
        calls.append(h.sender.calls - before)
    return calls


def most_in_a_window(calls, steps):
    return max(sum(calls[i:i + steps]) for i in range(max(1, len(calls) - steps + 1)))


class TestPace:
    def test_a_bucket_holds_one_second(self):
        assert sl.refill(0, T0, 10, T0 + 0.5) == 5
        assert sl.refill(0, T0, 10, T0 + 60) == 10
        assert sl.refill(0, T0, 0.5, T0 + 60) == 1  # a slow rate still lets one through
        assert sl.whole_tokens(0.9999996) == 1 and sl.whole_tokens(0.99) == 0

    def test_a_throttle_halves_the_rate_and_it_climbs_back(self):
        pace = sl.Pace(rate=100, ceiling=100, rate_at=T0)
        slowed = pace.slowed(T0 + 10, retry_after=3, going=100, limit=100)
        assert (slowed.rate, slowed.ceiling, slowed.throttled_until) == (50, 100, T0 + 13)
        assert slowed.current_rate(T0 + 10) == 50
        assert slowed.current_rate(T0 + 15) == 75   # +5% of the ceiling a second
        assert slowed.current_rate(T0 + 30) == 100  # and no further
        assert not slowed.lifted(T0 + 30, limit=100)  # a configured limit stays

    def test_throttles_in_a_burst_halve_the_rate_once(self):
        slowed = sl.Pace(rate=100, ceiling=100, rate_at=T0).slowed(T0, 1, 100, 100)
        again = slowed.slowed(T0 + 0.5, 4, 100, 100)
        assert (again.rate, again.throttled_until) == (50, T0 + 4.5)
        later = again.slowed(T0 + 2, 1, 100, 100)
        assert later.rate == (50 + 0.05 * 100 * 2) / 2

    def test_an_unlimited_channel_is_limited_by_a_throttle_then_freed(self):
        slowed = sl.Pace().slowed(T0, retry_after=1, going=400, limit=None)
        assert (slowed.rate, slowed.ceiling) == (200, 400)
        assert not slowed.lifted(T0 + 5, limit=None)
        assert slowed.lifted(T0 + 10, limit=None)


class TestThrottlingAndRateLimits:
    pytestmark = pytest.mark.asyncio

    async def test_throttling_never_uses_up_an_attempt(self, make_harness):
        h = await make_harness(max_retries=0)
        ids = await h.add_customers(5)
        for phone in h.phones:
            h.sender.script[phone] = throttled(2, retry_after=2.0)
        campaign_id = await h.launch(ids)
        await h.settle()
        assert h.sender.calls == 5
        messages = await h.messages(campaign_id)
        assert {(m["status"], m["retry_count"]) for m in messages} == {("pending", 0)}
        assert messages[0]["last_error"] == "throttled by the provider (429): slow down"
        (rate, until), = await h.sql(
            "SELECT rate, throttled_until FROM channel_pace WHERE channel = 'sms'")
        # the channel slowed, and stopped for Retry-After
        assert rate is not None and until == T0 + 2
        await tick(h, 1.9)
        assert h.sender.calls == 5  # Retry-After is honoured
        await tick(h, 30, step=0.25)  # at the slowed rate, each message throttled once more
        campaign = await h.campaign(campaign_id)
        assert campaign["stats"] == stats(total=5, sent=5)  # max_retries 0, yet nothing failed
        assert {m["retry_count"] for m in await h.messages(campaign_id)} == {0}

    async def test_a_channel_limit_holds_in_every_ten_seconds(self, make_harness):
        h = await make_harness(rate_limit="sms=10")
        ids = await h.add_customers(300)
        await h.launch(ids)
        calls = await tick(h, 15, step=0.1)
        assert most_in_a_window(calls, 100) <= 110  # rate x 11 in any 10 seconds
        # and it keeps up the rate it is allowed (its bucket starts empty)
        assert sum(calls) >= 140
        assert h.queue.ready() == 0

    async def test_campaigns_on_a_channel_share_its_rate_round_robin(self, make_harness):
        h = await make_harness(rate_limit="sms=10")
        ids = await h.add_customers(150)
        first = await h.launch(ids[:100])  # first come, with twice the messages
        second = await h.launch(ids[100:])
        await tick(h, 5)
        sent = [(await h.campaign(c))["stats"]["sent"] for c in (first, second)]
        # the first second's burst aside
        assert abs(sent[0] - sent[1]) <= 11 and sum(sent) >= 45, sent

    async def test_a_campaign_limit_leaves_the_others_alone(self, make_harness):
        h = await make_harness()
        ids = await h.add_customers(40)
        slow = await h.add_campaign(rate_limit=5)
        fast = await h.launch(ids[20:])
        await h.send(slow, {"customer_ids": ids[:20]})
        await h.settle()
        assert (await h.campaign(fast))["status"] == "sent"  # no limit: straight through the queue
        calls = await tick(h, 3)
        # a second's burst, then 5 a second
        assert (await h.campaign(slow))["stats"]["sent"] <= 5 * 4
        assert most_in_a_window(calls, 20) <= 10
        edited = await h.request("PATCH", f"/campaigns/{slow}", {"rate_limit": None})
        assert edited[0] == 409  # sending: no edits (pause it first)
        await act(h, slow, "pause")
        assert (await h.request("PATCH", f"/campaigns/{slow}",
                                {"rate_limit": None}))[1]["rate_limit"] is None
        await act(h, slow, "resume")
        await h.settle()
        assert (await h.campaign(slow))["stats"]["sent"] == 20

    async def test_a_campaign_limit_starts_empty_at_the_send_and_at_each_resume(
            self, make_harness):
        h = await make_harness()
        ids = await h.add_customers(60)
        slow = await h.add_campaign(rate_limit=10)
        await h.send(slow, {"customer_ids": ids})
        await h.settle()
        await tick(h, 1, step=0.1)
        assert h.sender.calls <= 10  # 10 a second from the start, no burst
        await act(h, slow, "pause")
        h.clock.advance(5)  # long enough to fill a bucket
        await h.settle()
        before = h.sender.calls
        await act(h, slow, "resume")
        await h.settle()
        await tick(h, 1, step=0.1)
        assert 5 <= h.sender.calls - before <= 10

    async def test_an_operators_pause_resume_and_cancel_are_in_the_log(self, make_harness,
                                                                         caplog):
        caplog.set_level(logging.INFO, logger="smsleopard")
        h = await make_harness()
        ids = await h.add_customers(20)
        slow = await h.add_campaign(rate_limit=1)
        await h.send(slow, {"customer_ids": ids})
        for action in ("pause", "resume", "cancel"):
            await act(h, slow, action)
        said = [r.getMessage() for r in caplog.records if "by an operator" in r.getMessage()]
        assert said == [f"campaign {slow} paused by an operator, now paused",
                        f"campaign {slow} resumed by an operator, now sending",
                        f"campaign {slow} cancelled by an operator, now cancelled"]

    async def test_small_jobs_do_not_hold_back_the_attempt_slots(self, make_harness):
        h = await make_harness(concurrency=10, batch_size=100, run_workers=False)
        ids = await h.add_customers(40)
        campaign_id = await h.add_campaign()
        # no jobs yet
        await h.store.claims.add_recipients(campaign_id, sl.Audience(customer_ids=tuple(ids)), T0)
        # ten one-message jobs (retries, say)
        messages = [m["id"] for m in await h.messages(campaign_id)]
        for message_id in messages[:10]:
            await h.campaigns.enqueue([message_id])
        await h.campaigns.enqueue(messages[10:])
        h.sender.gate = asyncio.Event()
        h.dispatcher.start()
        # every slot busy at once
        await asyncio.wait_for(h.sender.wait_for_in_flight(10), timeout=10)
        h.sender.gate.set()
        await h.dispatcher.drain()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=40, sent=40)

    async def test_through_the_mock_provider_over_http(self, make_harness, aiohttp_server):
        mock = mock_provider.MockProvider(mock_provider.MockProviderConfig(), random.Random(3))
        server = await aiohttp_server(mock.app())
        h = await make_harness(provider_url=str(server.make_url("/messages")), real_provider=True)
        ids = await h.add_customers(50)
        campaign_id = await h.launch(ids)
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=50, sent=50)
        messages = await h.messages(campaign_id)
        assert all(m["provider_message_id"].startswith("mp-") for m in messages)
        assert len({m["provider_message_id"] for m in messages}) == 50
        assert mock.stats == {"received": 50, "accepted": 50, "throttled": 0, "failed": 0,
                              "duplicates": 0, "receipts_sent": 0}

    @pytest.mark.parametrize("value", [0, -1, "5", True, 100_001])
    async def test_a_bad_rate_limit_is_refused(self, h, value):
        status, payload = await h.request("POST", "/campaigns", {
            "name": "n", "channel": "sms", "base_template": "x", "rate_limit": value})
        assert status == 400 and (
            "rate_limit must be a number above 0" in payload["error"]["message"])

    async def test_a_throttled_unlimited_channel_is_freed_again(self, make_harness):
        h = await make_harness()
        ids = await h.add_customers(30)
        h.sender.script[h.phones[0]] = throttled(1, retry_after=1.0)
        first = await h.launch(ids[:10])
        await h.settle()
        assert (await h.sql(
            "SELECT rate FROM channel_pace WHERE channel = 'sms'"))[0][0] is not None
        await tick(h, 30, step=0.5)
        assert (await h.campaign(first))["stats"] == stats(total=10, sent=10)
        assert await h.sql("SELECT rate FROM channel_pace WHERE channel = 'sms'") == [(None,)]
        second = await h.launch(ids[10:])  # back through the job queue at full speed
        await h.settle()
        assert (await h.campaign(second))["stats"] == stats(total=20, sent=20)


# -- DISPATCH helpers: the slot gate, eager starts, job sizes -----------------

class TestDispatchHelpers:
    pytestmark = pytest.mark.asyncio

    async def test_slots_admit_at_most_their_size_in_order(self):
        slots, admitted, gate = sl.Slots(2), [], asyncio.Event()

        async def holder(name):
            await slots.take()
            admitted.append(name)
            await gate.wait()
            slots.give()

        tasks = [asyncio.create_task(holder(n)) for n in "abcde"]
        while len(admitted) < 2:  # noqa: ASYNC110 (the holders run at the next turns of the loop)
            await asyncio.sleep(0)
        assert admitted == ["a", "b"] and not slots.try_take()
        gate.set()
        await asyncio.gather(*tasks)
        assert admitted == list("abcde")
        assert slots.try_take() and slots.try_take() and not slots.try_take()

    async def test_a_cancelled_waiter_leaves_no_slot_behind(self):
        slots = sl.Slots(1)
        assert slots.try_take()
        waiter = asyncio.create_task(slots.take())
        await asyncio.sleep(0)
        slots.give()            # hands the slot to the waiter...
        waiter.cancel()         # ...which is cancelled before it runs: it must pass the slot on
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert slots.try_take() and not slots.try_take()

    @pytest.mark.filterwarnings("ignore")
    def test_job_size_fits_a_slow_provider_inside_half_a_claim(self):
        assert Config().job_size == 1000
        assert Config(send_latency_ms=100, concurrency=1000).job_size == 1000
        slow = Config(send_latency_ms=300, concurrency=100, claim_timeout=10)
        # 300 ms x 2 x 416 / 100 slots = 2.5 s = a quarter of the claim
        assert slow.job_size == 416
        assert Config(send_latency_ms=4000, concurrency=1, claim_timeout=10).job_size == 1


# -- Recovery: the database is the source of truth ----------------------------

class TestRecovery:
    pytestmark = pytest.mark.asyncio

    async def test_a_restart_sends_what_was_pending_exactly_once(self, make_harness, tmp_path):
        db = str(tmp_path / "r.db")
        before = await make_harness(db=db, run_workers=False)
        ids = await before.add_customers(50)
        campaign_id = await before.add_campaign("Hi {first_name}")
        await before.send(campaign_id, {"customer_ids": ids})
        # rendering happens at send time, not at queue time
        await before.execute("UPDATE customers SET first_name = 'Renamed' WHERE id = ?", (ids[0],))

        after = await before.restart()
        campaign = await after.run_until_done(campaign_id)
        messages = await after.messages(campaign_id)
        assert len(messages) == 50 and {m["status"] for m in messages} == {"sent"}
        assert messages[0]["rendered_content"] == "Hi Renamed"
        assert sorted(after.sender.attempts.values()) == [1] * 50
        assert campaign["stats"]["sent"] == 50

    async def test_claims_a_crash_left_are_released_at_the_next_start(self, make_harness,
                                                                       tmp_path):
        db = str(tmp_path / "r.db")
        before = await make_harness(db=db, run_workers=False, claim_timeout=10)
        ids = await before.add_customers(6)
        campaign_id = await before.launch(ids)
        messages = [m["id"] for m in await before.messages(campaign_id)]
        # in flight when the process died
        claim = await before.store.claims.claim(messages[:2], T0, 12345, T0 + 10)
        assert len(claim.rows) == 2

        # the only process on the file: those claims are dead
        after = await before.restart(claim_timeout=10)
        campaign = await after.run_until_done(campaign_id)
        assert campaign["stats"] == stats(total=6, sent=6)
        assert sorted(after.sender.attempts.values()) == [1] * 6
        assert [m["retry_count"] for m in await after.messages(campaign_id)] == [0] * 6

    async def test_the_healer_hands_a_dead_workers_lapsed_claims_to_a_live_one(self, make_harness):
        h = await make_harness(claim_timeout=10, run_workers=False)
        ids = await h.add_customers(3)
        campaign_id = await h.launch(ids)
        messages = [m["id"] for m in await h.messages(campaign_id)]
        # another worker claimed two, then died
        await h.store.claims.claim(messages[1:], T0, 777, T0 + 10)
        h.dispatcher.start()  # this worker starts now
        h.app[sl.HEALER].start()
        await h.dispatcher.drain()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sent=1, sending=2)
        h.clock.advance(10 + sl.HEAL_INTERVAL)
        await h.app[sl.HEALER].idle.wait()
        await h.dispatcher.drain()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sent=3)
        assert sorted(h.sender.attempts.values()) == [1] * 3

    async def test_a_lapsed_claim_found_at_start_is_released_at_once(self, make_harness, tmp_path):
        db = str(tmp_path / "r.db")
        before = await make_harness(db=db, run_workers=False)
        ids = await before.add_customers(2)
        campaign_id = await before.launch(ids)
        await before.store.claims.claim([m["id"] for m in await before.messages(campaign_id)],
                                        T0, 1, T0 + 10)
        before.clock.advance(30)  # the service stayed down longer than the lease

        after = await before.restart()
        await after.settle()
        assert (await after.campaign(campaign_id))["status"] == "sent"

    async def test_retry_times_survive_a_restart(self, make_harness, tmp_path):
        db = str(tmp_path / "r.db")
        before = await make_harness(db=db)
        ids = await before.add_customers(1)
        before.sender.script[before.phones[0]] = transient(1)
        campaign_id = await before.launch(ids)
        await before.settle()
        message, = await before.messages(campaign_id)
        assert (message["status"], message["retry_count"]) == ("pending", 1)

        after = await before.restart()
        await after.settle()
        assert after.sender.attempts[after.phones[0]] == 1
        after.clock.advance(1.3)
        await after.settle()
        message, = await after.messages(campaign_id)
        assert (message["status"], message["retry_count"]) == ("sent", 1)


# ---------------------------------------------------------------------------
# SCHEDULER
# ---------------------------------------------------------------------------


# -- SCHEDULER ----------------------------------------------------------------

class TestScheduler:
    pytestmark = pytest.mark.asyncio

    async def test_a_campaign_goes_out_when_its_time_comes(self, h):
        ids = await h.add_customers(3)
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 60))
        assert (await h.send(campaign_id, {"customer_ids": ids}))["status"] == "scheduled"
        await h.settle()
        h.clock.advance(59.9)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "scheduled" and h.sender.sent == []
        h.clock.advance(0.1)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "sent" and len(h.sender.sent) == 3

    async def test_the_scheduler_sleeps_until_the_earliest_campaign(self, h):
        ids = await h.add_customers(1)
        late = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 3000))
        await h.send(late, {"customer_ids": ids})
        await h.settle()
        # earlier than the scheduler's nap
        soon = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 5))
        await h.send(soon, {"customer_ids": ids})
        await h.settle()
        h.clock.advance(5)
        await h.settle()
        assert [(await h.campaign(c))["status"] for c in (soon, late)] == ["sent", "scheduled"]

    async def test_a_due_campaign_without_recipients_waits_for_a_send(self, h):
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 10))
        h.clock.advance(20)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "scheduled"
        ids = await h.add_customers(2)
        assert (await h.send(campaign_id, {"customer_ids": ids}))["status"] == "sending"
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "sent"

    async def test_a_send_after_the_time_but_before_the_scheduler_looks_sends_everything(
            self, make_harness):
        h = await make_harness(run_scheduler=False)
        ids = await h.add_customers(4)
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 10))
        await h.send(campaign_id, {"customer_ids": ids[:2]})
        h.clock.advance(11)
        assert (await h.send(campaign_id, {"customer_ids": ids}))["status"] == "sending"
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"]["sent"] == 4

    async def test_a_broker_outage_when_a_campaign_falls_due_does_not_stop_the_scheduler(
            self, make_harness, clock, caplog):
        h = await make_harness(queue=FlakyQueue(clock))
        ids = await h.add_customers(2)
        campaign_id = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 10))
        await h.send(campaign_id, {"customer_ids": ids})
        h.queue.broken = True
        h.clock.advance(10)
        await h.settle()
        assert "broker is gone" in caplog.text and not h.app[sl.CRASHED].is_set()
        # started; its messages wait for the queue
        assert (await h.campaign(campaign_id))["status"] == "sending"
        h.queue.broken = False
        # the healer's next look publishes what the outage left behind
        h.clock.advance(sl.HEAL_INTERVAL)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "sent"
        ids = await h.add_customers(1)  # and the scheduler still works
        later = await h.add_campaign(scheduled_at=sl.utc_iso(h.clock.now() + 10))
        await h.send(later, {"customer_ids": ids})
        h.clock.advance(10)
        await h.settle()
        assert (await h.campaign(later))["status"] == "sent"

    async def test_a_campaign_that_fell_due_while_down_starts_at_once(self, make_harness,
                                                                       tmp_path):
        db = str(tmp_path / "s.db")
        before = await make_harness(db=db)
        ids = await before.add_customers(2)
        campaign_id = await before.add_campaign(scheduled_at=sl.utc_iso(T0 + 60))
        await before.send(campaign_id, {"customer_ids": ids})
        before.clock.advance(3600)

        after = await before.restart()
        await after.settle()
        assert (await after.campaign(campaign_id))["status"] == "sent"
        assert len(after.sender.sent) == 2


# ---------------------------------------------------------------------------
# WEBHOOKS
# ---------------------------------------------------------------------------


# -- Delivery receipts and outbound webhooks (signatures checked with the -----
# standardwebhooks package: an implementation that is not ours)

REQUEST_IDS = itertools.count(1)


def signed(body, secret=RECEIPT_SECRET, at=T0, message_id=None):
    """Headers that sign `body` (bytes), made by standardwebhooks; a new webhook-id unless
    one is given."""
    from standardwebhooks import Webhook

    message_id = message_id or f"msg_{next(REQUEST_IDS)}"
    signature = Webhook(secret).sign(message_id, datetime.datetime.fromtimestamp(at, datetime.UTC),
                                     body.decode())
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at)),
            "webhook-signature": signature, "Content-Type": "application/json"}


async def post_receipts(h, body, expect=200, **signing):
    raw = json.dumps(body).encode()
    return await h.post("/providers/receipts", raw=raw, headers=signed(raw, **signing),
                        expect=expect)


class TestReceipts:
    pytestmark = pytest.mark.asyncio

    async def sent_campaign(self, make_harness, customers=3, **settings):
        h = await make_harness(receipt_secret=RECEIPT_SECRET, **settings)
        ids = await h.add_customers(customers)
        campaign_id = await h.launch(ids)
        await h.settle()
        return h, campaign_id, [m["id"] for m in await h.messages(campaign_id)]

    async def test_receipts_set_delivery_and_keep_the_counters_exact(self, make_harness):
        h, campaign_id, ids = await self.sent_campaign(make_harness)
        answer = await post_receipts(h, {"receipts": [
            {"reference": str(ids[0]), "status": "delivered", "timestamp": "2027-01-15T08:00:05Z"},
            {"reference": str(ids[1]), "status": "undelivered", "error": "handset switched off"},
            {"reference": "999999", "status": "delivered"},
            {"reference": "abc", "status": "delivered"}]})
        assert answer == {"accepted": 2, "unknown": ["999999", "abc"]}
        campaign = await h.campaign(campaign_id)
        assert campaign["stats"] == stats(total=3, sent=3, delivered=1, undelivered=1)
        delivered, undelivered, _ = await h.messages(campaign_id)
        assert (delivered["delivery_status"], delivered["delivered_at"]) == (
            "delivered", "2027-01-15T08:00:05.000Z")
        assert (undelivered["delivery_status"], undelivered["last_error"],
                undelivered["status"]) == ("undelivered", "handset switched off", "sent")
        listed = await h.get(f"/campaigns/{campaign_id}/messages?delivery_status=undelivered")
        assert ([m["id"] for m in listed["data"]] == [ids[1]]
                and listed["pagination"]["total_count"] == 1)

    async def test_receipts_are_idempotent_and_never_move_back(self, make_harness):
        h, campaign_id, ids = await self.sent_campaign(make_harness)
        for status in ("undelivered", "delivered", "delivered", "undelivered"):
            await post_receipts(h, {"reference": str(ids[0]), "status": status, "error": "absent"})
        message = (await h.messages(campaign_id))[0]
        assert message["delivery_status"] == "delivered"
        assert (await h.campaign(campaign_id))["stats"] == stats(total=3, sent=3, delivered=1)

    async def test_a_receipt_before_the_outcome_is_recorded_is_not_lost(self, make_harness):
        h = await make_harness(receipt_secret=RECEIPT_SECRET)
        ids = await h.add_customers(2)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        # the provider has them; our outcome is not written yet
        await h.sender.wait_for_in_flight(2)
        references = h.sender.references[:2]
        await post_receipts(h, {"receipts": [
            {"reference": references[0], "status": "delivered"},
            {"reference": references[1], "status": "undelivered"}]})
        assert (await h.campaign(campaign_id))["stats"]["delivered"] == 0
        h.sender.gate.set()
        await h.settle()
        assert (await h.campaign(campaign_id))["stats"] == stats(total=2, sent=2, delivered=1,
                                                                 undelivered=1)
        assert await h.sql("SELECT count(*) FROM early_receipts") == [(0,)]

    async def test_the_mock_provider_races_its_receipts_against_our_records(
            self, make_harness, clock, aiohttp_server, unused_tcp_port):
        mock = mock_provider.MockProvider(
            mock_provider.MockProviderConfig(receipt_secret=RECEIPT_SECRET, delivery_rate=0.8),
            random.Random(4), clock)
        provider = await aiohttp_server(mock.app())
        # no latency, no receipt delay: receipts race records
        h = await make_harness(provider_url=str(provider.make_url("/messages")),
                               real_provider=True, receipt_secret=RECEIPT_SECRET,
                               public_url=f"http://127.0.0.1:{unused_tcp_port}",
                               port=unused_tcp_port)
        ids = await h.add_customers(300)
        campaign_id = await h.launch(ids)
        await h.settle()
        await until(lambda: asyncio.sleep(0, mock.stats["receipts_sent"] == 300),
                    "every receipt", timeout=30)
        await h.settle()
        campaign = await h.campaign(campaign_id)
        delivered, undelivered = campaign["stats"]["delivered"], campaign["stats"]["undelivered"]
        assert delivered + undelivered == 300 and 180 < delivered < 290
        assert delivered == len(await h.messages(campaign_id, delivery_status="delivered"))
        assert await h.sql("SELECT count(*) FROM early_receipts") == [(0,)]

    @pytest.mark.parametrize("tamper", ["body", "secret", "missing", "old", "future", "garbage"])
    async def test_a_receipt_that_is_not_signed_right_is_401_and_changes_nothing(
            self, make_harness, tamper):
        h, campaign_id, ids = await self.sent_campaign(make_harness)
        raw = json.dumps({"reference": str(ids[0]), "status": "delivered"}).encode()
        headers = signed(raw)
        if tamper == "body":
            raw = raw.replace(b"delivered", b"undelivered")
        elif tamper == "secret":
            headers = signed(raw, secret=WEBHOOK_SECRET)
        elif tamper == "missing":
            del headers["webhook-signature"]
        elif tamper in ("old", "future"):
            headers = signed(raw, at=T0 + (-301 if tamper == "old" else 301))
        else:
            headers["webhook-signature"] = "v1,bm90IGEgc2lnbmF0dXJl"
        payload = await h.post("/providers/receipts", raw=raw, headers=headers, expect=401)
        assert_error(payload, "UNAUTHORIZED")
        assert (await h.campaign(campaign_id))["stats"]["delivered"] == 0

    async def test_without_a_secret_receipts_are_off(self, h):
        raw = b'{"reference": "1", "status": "delivered"}'
        assert_error(await h.post("/providers/receipts", raw=raw, headers=signed(raw),
                                  expect=404), "NOT_FOUND")

    @pytest.mark.parametrize("body, words", [
        ({"reference": "1", "status": "read"}, "status must be one of delivered, undelivered"),
        ({"reference": 1, "status": "delivered"}, "reference must be a string"),
        ({"reference": "1", "status": "delivered", "extra": 1}, "unknown field 'extra'"),
        ({"reference": "1", "status": "delivered", "timestamp": "yesterday"},
         "timestamp must be an ISO-8601"),
        ({"receipts": []}, "1 to 1000 receipts"),
        ({"receipts": [{"reference": "1", "status": "delivered"}] * 1001}, "1 to 1000 receipts"),
        ({"receipts": [{"reference": "1"}]}, "receipts[0].status"),
    ])
    async def test_bad_receipts_are_400(self, make_harness, body, words):
        h = await make_harness(receipt_secret=RECEIPT_SECRET)
        payload = await post_receipts(h, body, expect=400)
        assert_error(payload, "VALIDATION_ERROR")
        assert words in payload["error"]["message"]

    async def test_receipts_need_no_api_key_but_their_signature(self, make_harness):
        h = await make_harness(receipt_secret=RECEIPT_SECRET, api_key="k")
        assert (await post_receipts(
            h, {"reference": "5", "status": "delivered"}))["unknown"] == ["5"]


class Receiver:
    """A webhook receiver on a real local port: answers as told, keeps what it got."""

    def __init__(self, answers=()):
        self.answers = list(answers)  # statuses to answer, in turn; then 204
        self.got = []  # (headers, body bytes)

    async def handle(self, request):
        self.got.append((dict(request.headers), await request.read()))
        return sl.web.Response(status=self.answers.pop(0) if self.answers else 204)

    def bodies(self):
        return [json.loads(body) for _, body in self.got]


@pytest_asyncio.fixture
async def receiver(aiohttp_server):
    async def make(*answers):
        receiver = Receiver(answers)
        app = sl.web.Application()
        app.router.add_post("/hooks", receiver.handle)
        server = await aiohttp_server(app)
        receiver.url = str(server.make_url("/hooks"))
        return receiver

    return make


class TestWebhooks:
    pytestmark = pytest.mark.asyncio

    async def deliver(self, h):
        """Let the webhook sender go through what is due (it runs on the fake clock)."""
        await h.settle()
        await h.app[sl.WEBHOOKS].idle.wait()

    async def test_status_changes_are_delivered_in_order_signed_with_stable_ids(self, make_harness,
                                                                                 receiver):
        hooks = await receiver()
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET)
        ids = await h.add_customers(2)
        campaign_id = await h.launch(ids)
        await self.deliver(h)
        assert [(b["type"], b["data"]["from"], b["data"]["to"]) for b in hooks.bodies()] == [
            ("campaign.status_changed", "draft", "sending"),
            ("campaign.status_changed", "sending", "sent")]
        assert hooks.bodies()[1]["data"] == {"campaign_id": campaign_id, "from": "sending",
                                             "to": "sent", "stats": stats(total=2, sent=2)}
        # signed as standardwebhooks, an implementation not ours, signs
        for headers, body in hooks.got:
            assert headers["webhook-timestamp"] == str(int(T0))  # the clock did not move
            expected = signed(body, WEBHOOK_SECRET, int(headers["webhook-timestamp"]),
                              headers["webhook-id"])
            assert headers["webhook-signature"] == expected["webhook-signature"]
        assert [headers["webhook-id"] for headers, _ in hooks.got] == ["evt_1", "evt_2"]

    async def test_a_failing_receiver_gets_the_same_event_again_with_backoff_and_in_order(
            self, make_harness, receiver):
        hooks = await receiver(500, 503, 500)
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET)
        ids = await h.add_customers(1)
        await h.launch(ids)
        await self.deliver(h)
        assert len(hooks.got) == 1  # the first event failed; the second waits behind it
        for wait in (1, 2, 4):  # the backoff doubles
            h.clock.advance(wait - 0.01)
            await self.deliver(h)
            before = len(hooks.got)
            h.clock.advance(0.01)
            await self.deliver(h)
            assert len(hooks.got) > before
        ids_sent = [headers["webhook-id"] for headers, _ in hooks.got]
        assert ids_sent == ["evt_1", "evt_1", "evt_1", "evt_1", "evt_2"]
        listed = await h.get("/webhooks/deliveries?status=delivered")
        assert [(e["webhook_id"], e["attempts"]) for e in listed["data"]] == [
            ("evt_2", 1), ("evt_1", 4)]

    async def test_an_event_failing_for_a_day_is_dead_and_the_next_goes(self, make_harness,
                                                                         receiver):
        hooks = await receiver(*[500] * 40)
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET)
        ids = await h.add_customers(1)
        await h.launch(ids)
        await self.deliver(h)
        for hours in itertools.count(1):  # noqa: B007 (read after the loop)
            h.clock.advance(3600)
            await self.deliver(h)
            if (dead := await h.get("/webhooks/deliveries?status=dead"))["data"]:
                break
        # 1, 2, 4 ... 2048, 3600 s apart, then the next event
        assert hours == 24 and len(hooks.got) == 26
        assert [(e["webhook_id"], e["status"]) for e in dead["data"]] == [("evt_1", "dead")]
        assert dead["data"][0]["last_error"].startswith("500")
        pending = (await h.get("/webhooks/deliveries?status=pending"))["data"]
        # its own day starts now
        assert [(e["webhook_id"], e["attempts"]) for e in pending] == [("evt_2", 1)]

    async def test_delivered_events_are_kept_a_week_and_early_receipts_a_day(self, make_harness,
                                                                              receiver):
        hooks = await receiver()
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET,
                               receipt_secret=RECEIPT_SECRET)
        await h.launch(await h.add_customers(1))
        # its messages wait, pending
        later = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 10 * 86400))
        await h.send(later, {"customer_ids": await h.add_customers(1)})
        waiting = (await h.messages(later))[0]["id"]
        # a receipt too early
        await post_receipts(h, {"reference": str(waiting), "status": "delivered"})
        await self.deliver(h)
        assert await h.sql("SELECT count(*) FROM early_receipts") == [(1,)]
        assert await h.sql("SELECT status, count(*) FROM webhook_events GROUP BY status") == [
            ("delivered", 2)]
        h.clock.advance(sl.EVENT_LIFETIME + sl.STRANDED_AFTER)
        await self.deliver(h)
        # its message never went
        assert await h.sql("SELECT count(*) FROM early_receipts") == [(0,)]
        assert await h.sql("SELECT count(*) FROM webhook_events") == [(2,)]
        h.clock.advance(sl.EVENT_RETENTION - sl.EVENT_LIFETIME)
        await self.deliver(h)
        assert await h.sql("SELECT count(*) FROM webhook_events") == [(0,)]

    async def test_message_events_are_opt_in(self, make_harness, receiver):
        hooks = await receiver()
        h = await make_harness(webhook_url=hooks.url, webhook_secret=WEBHOOK_SECRET,
                               webhook_events="campaign,message", receipt_secret=RECEIPT_SECRET)
        ids = await h.add_customers(2)
        h.sender.script[h.phones[1]] = [sl.PermanentSendError("no route")]
        campaign_id = await h.launch(ids)
        await h.settle()
        sent = [m["id"] for m in await h.messages(campaign_id, status="sent")]
        await post_receipts(h, {"reference": str(sent[0]), "status": "delivered"})
        await self.deliver(h)
        kinds = [b["type"] for b in hooks.bodies()]
        assert kinds == ["campaign.status_changed", "message.failed", "campaign.status_changed",
                         "message.delivered"]
        assert hooks.bodies()[1]["data"]["error"] == "no route"

    @pytest.mark.parametrize("argv, message", [
        (["--webhook-url", "http://h/x"], "--webhook-secret is required with --webhook-url"),
        (["--webhook-secret", "nope"], "--webhook-secret must start with whsec_"),
        (["--receipt-secret", "whsec_!!"], "--receipt-secret must be whsec_ and valid base64"),
        (["--webhook-events", "message"],
         "--webhook-events must be campaign, or campaign,message"),
    ])
    async def test_bad_webhook_settings_are_refused(self, argv, message):
        with pytest.raises(sl.ConfigError) as refused:
            sl.load_config(argv, {})
        assert str(refused.value).startswith(message)


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------


# -- HTTP: customers ----------------------------------------------------------

class TestCustomersApi:
    pytestmark = pytest.mark.asyncio

    async def test_create_one_then_read_it_back(self, h):
        status, created = await h.request("POST", "/customers", {
            "phone": "+254712345678", "first_name": "Zoë", "location": None})
        assert status == 201
        assert created == {**created, "phone": "+254712345678", "first_name": "Zoë",
                           "last_name": None, "location": None, "preferred_product": None}
        assert created["created_at"] == sl.utc_iso(T0)
        assert await h.get(f"/customers/{created['id']}") == created

    async def test_location_header_points_at_the_new_customer(self, h):
        response = await h.client.post("/customers", json={"phone": "+254712345678"})
        assert response.status == 201
        assert response.headers["Location"] == f"/customers/{(await response.json())['id']}"

    async def test_create_many_in_order(self, h):
        body = {"customers": [{"phone": f"+4479000000{i:02d}", "first_name": str(i)}
                              for i in range(30)]}
        created = (await h.post("/customers", body, expect=201))["customers"]
        assert [c["first_name"] for c in created] == [str(i) for i in range(30)]
        assert [c["id"] for c in created] == list(range(created[0]["id"], created[0]["id"] + 30))

    async def test_bulk_is_all_or_nothing(self, h):
        body = {"customers": [{"phone": "+447900000001"}, {"phone": "not a phone"}]}
        payload = await h.post("/customers", body, expect=400)
        assert_error(payload, "VALIDATION_ERROR")
        assert "customers[1].phone" in payload["error"]["message"]
        await h.post("/customers", {"phone": "+447900000009"}, expect=201)
        payload = await h.post("/customers", {"customers": [{"phone": "+447900000002"},
                                                            {"phone": "+447900000009"}]},
                               expect=409)
        assert_error(payload, "CUSTOMER_EXISTS")
        assert (await h.get("/customers"))["pagination"]["total_count"] == 1

    async def test_duplicate_phone_is_409(self, h):
        await h.post("/customers", {"phone": "+254712345678"}, expect=201)
        payload = await h.post("/customers", {"phone": "+254712345678"}, expect=409)
        assert_error(payload, "CUSTOMER_EXISTS")
        assert "+254712345678" in payload["error"]["message"]

    async def test_duplicate_phone_within_one_request_is_400(self, h):
        payload = await h.post("/customers", {"customers": [{"phone": "+447900000001"}] * 2},
                               expect=400)
        assert "more than once" in payload["error"]["message"]

    @pytest.mark.parametrize("body", [
        {"phone": "0712345678"}, {"phone": "+0712345678"}, {"phone": "+1234567"},
        {"phone": "+1234567890123456"}, {"phone": 254712345678}, {},
        {"phone": "+254712345678", "nickname": "Z"}, {"phone": "+254712345678", "first_name": 5},
        {"phone": "+254712345678", "first_name": "x" * 201}, {"customers": []},
        {"customers": "all"}, {"customers": [{"phone": "+254712345678"}], "extra": 1}, [],
    ])
    async def test_bad_customers_are_400(self, h, body):
        assert_error(await h.post("/customers", body, expect=400), "VALIDATION_ERROR")
        assert (await h.get("/customers"))["pagination"]["total_count"] == 0

    async def test_more_than_ten_thousand_is_refused(self, h):
        body = {"customers": [{"phone": f"+1555{i:07d}"} for i in range(10_001)]}
        assert "1 to 10000" in (await h.post("/customers", body, expect=400))["error"]["message"]

    async def test_list_filters_case_insensitively(self, h):
        await h.add_customers(3, location="Nairobi", preferred_product="Shoes")
        await h.add_customers(2, location="Mombasa", preferred_product="Shoes")
        assert (await h.get("/customers?location=nairobi"))["pagination"]["total_count"] == 3
        page = await h.get("/customers?location=Mombasa&preferred_product=SHOES")
        assert [c["location"] for c in page["data"]] == ["Mombasa", "Mombasa"]

    async def test_unknown_customer_is_404(self, h):
        assert_error(await h.get("/customers/42", expect=404), "CUSTOMER_NOT_FOUND")


# -- HTTP: campaigns and paging -----------------------------------------------

class TestCampaignsApi:
    pytestmark = pytest.mark.asyncio

    async def test_create_a_draft(self, h):
        response = await h.client.post("/campaigns", json={
            "name": "Launch", "channel": "whatsapp", "base_template": "Hi {first_name|there}"})
        campaign = await response.json()
        assert (response.status == 201
                and response.headers["Location"] == f"/campaigns/{campaign['id']}")
        assert campaign == {"id": campaign["id"], "name": "Launch", "channel": "whatsapp",
                            "status": "draft", "base_template": "Hi {first_name|there}",
                            "scheduled_at": None, "rate_limit": None, "quiet_hours": True,
                            "created_at": sl.utc_iso(T0), "updated_at": sl.utc_iso(T0),
                            "started_at": None, "finished_at": None, "whatsapp_template": None,
                            "stats": stats(),
                            "progress": {"percent": 0.0, "rate_per_second": 0.0,
                                         "eta_seconds": None}}
        assert await h.campaign(campaign["id"]) == campaign

    async def test_a_future_time_schedules_it(self, h):
        campaign_id = await h.add_campaign(scheduled_at="2027-01-15T12:30:00+03:00")
        campaign = await h.campaign(campaign_id)
        assert (campaign["status"], campaign["scheduled_at"]) == (
            "scheduled", "2027-01-15T09:30:00.000Z")

    @pytest.mark.parametrize("body, code, words", [
        ({"channel": "sms", "base_template": "x"}, "VALIDATION_ERROR", "name"),
        ({"name": "", "channel": "sms", "base_template": "x"}, "VALIDATION_ERROR", "name"),
        ({"name": "   ", "channel": "sms", "base_template": "x"}, "VALIDATION_ERROR", "blank"),
        ({"name": "x" * 201, "channel": "sms", "base_template": "x"}, "VALIDATION_ERROR", "name"),
        ({"name": "n", "channel": "fax", "base_template": "x"}, "VALIDATION_ERROR", "channel"),
        ({"name": "n", "channel": "sms", "base_template": ""}, "VALIDATION_ERROR",
         "base_template"),
        ({"name": "n", "channel": "sms", "base_template": "x" * 2001}, "VALIDATION_ERROR",
         "base_template"),
        ({"name": "n", "channel": "sms", "base_template": "Hi {nme}"}, "INVALID_TEMPLATE",
         "{nme}"),
        ({"name": "n", "channel": "sms", "base_template": "Hi {first_name"}, "INVALID_TEMPLATE",
         "'{'"),
        ({"name": "n", "channel": "sms", "base_template": "x",
          "scheduled_at": "2027-01-16T00:00:00"}, "VALIDATION_ERROR", "timezone"),
        ({"name": "n", "channel": "sms", "base_template": "x",
          "scheduled_at": "2020-01-01T00:00:00Z"}, "VALIDATION_ERROR", "future"),
        ({"name": "n", "channel": "sms", "base_template": "x", "scheduled_at": 1800000000},
         "VALIDATION_ERROR", "scheduled_at"),
        ({"name": "n", "channel": "sms", "base_template": "x", "status": "sent"},
         "VALIDATION_ERROR", "status"),
    ])
    async def test_bad_campaigns_are_refused(self, h, body, code, words):
        payload = await h.post("/campaigns", body, expect=400)
        assert_error(payload, code)
        assert words in payload["error"]["message"]
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 0

    @pytest.mark.parametrize("path", ["/campaigns/0", "/campaigns/-1", "/campaigns/abc",
                                      "/campaigns/1.5", "/campaigns/99999999999999999999",
                                      "/campaigns/007", "/campaigns/9"])
    async def test_ids_that_name_no_campaign_are_404(self, h, path):
        assert_error(await h.get(path, expect=404), "CAMPAIGN_NOT_FOUND")

    async def test_pages_are_newest_first_without_gaps_or_repeats(self, h):
        ids = [await h.add_campaign(channel="sms" if i % 3 else "whatsapp") for i in range(47)]
        seen = []
        for page_number in (1, 2, 3, 4):
            page = await h.get(f"/campaigns?page={page_number}&page_size=15")
            assert page["pagination"] | {"next_cursor": None} == {
                "page": page_number, "page_size": 15, "total_count": 47, "total_pages": 4,
                "next_cursor": None}
            seen += [c["id"] for c in page["data"]]
        assert seen == sorted(ids, reverse=True)
        assert (await h.get("/campaigns?page=5&page_size=15"))["data"] == []
        whatsapp = await h.get("/campaigns?channel=whatsapp&page_size=100")
        assert [c["id"] for c in whatsapp["data"]] == [i for i in reversed(ids)
                                                       if (i - ids[0]) % 3 == 0]
        assert whatsapp["pagination"]["total_count"] == 16

    async def test_cursor_paging_while_campaigns_arrive(self, h):
        first = [await h.add_campaign() for _ in range(25)]
        page = await h.get("/campaigns?page_size=10")
        seen = [c["id"] for c in page["data"]]
        while page["pagination"]["next_cursor"]:
            for _ in range(4):  # new campaigns land on page one, ahead of the reader
                await h.add_campaign()
            page = await h.get(
                f"/campaigns?page_size=10&cursor={page['pagination']['next_cursor']}")
            seen += [c["id"] for c in page["data"]]
        assert seen == sorted(first, reverse=True)
        assert page["pagination"]["next_cursor"] is None and page["pagination"]["page"] == 3

    async def test_a_cursor_knows_its_page_whatever_page_says(self, h):
        ids = [await h.add_campaign() for _ in range(5)]
        first = await h.get("/campaigns?page_size=2")
        cursor = first["pagination"]["next_cursor"]
        second = await h.get(f"/campaigns?page_size=2&page=7&cursor={cursor}")
        assert ([c["id"] for c in second["data"]] == ids[2:0:-1]
                and second["pagination"]["page"] == 2)

    async def test_status_filter(self, h):
        draft = await h.add_campaign()
        scheduled = await h.add_campaign(scheduled_at=sl.utc_iso(T0 + 3600))
        assert [c["id"] for c in (await h.get("/campaigns?status=scheduled"))["data"]] == [
            scheduled]
        assert [c["id"] for c in (await h.get("/campaigns?status=draft&channel=sms"))["data"]] == [
            draft]
        assert (await h.get("/campaigns?status=sent"))["data"] == []

    @pytest.mark.parametrize("query, words", [
        ("page_size=0", "page_size"), ("page_size=101", "page_size"), ("page=0", "page"),
        ("page=x", "page"), ("page=-1", "page"), ("channel=fax", "channel"),
        ("status=halted", "status"), ("colour=red", "colour"),
        ("page=1&page=2", "more than once"), ("channel=", "empty"), ("cursor=abc", "cursor"),
        ("cursor=W1siY3VzdG9tZXJzIiwxLDJdXQ", "cursor"),
        ("page=0&cursor=WyJjYW1wYWlnbnMiLDEsMl0", "page"),
    ])
    async def test_bad_list_queries_are_400(self, h, query, words):
        payload = await h.get(f"/campaigns?{query}", expect=400)
        assert_error(payload, "VALIDATION_ERROR")
        assert words in payload["error"]["message"]


# -- HTTP: send, messages, preview --------------------------------------------

class TestSendApi:
    pytestmark = pytest.mark.asyncio

    @pytest_asyncio.fixture
    async def quiet(self, make_harness):
        """An app whose workers are off, so messages stay as the send left them."""
        return await make_harness(run_workers=False)

    async def test_send_to_ids_creates_pending_messages(self, quiet):
        ids = await quiet.add_customers(3)
        campaign_id = await quiet.add_campaign()
        result = await quiet.send(campaign_id, {"customer_ids": [ids[0], ids[2], ids[0]]})
        assert result == {"campaign_id": campaign_id, "messages_queued": 2,
                          "duplicates_skipped": 0, "suppressed": 0, "status": "sending"}
        messages = await quiet.messages(campaign_id)
        assert [(m["customer_id"], m["status"], m["rendered_content"], m["retry_count"])
                for m in messages] == [(ids[0], "pending", None, 0), (ids[2], "pending", None, 0)]
        assert (await quiet.campaign(campaign_id))["stats"] == stats(total=2, pending=2)

    async def test_sending_again_duplicates_nothing(self, quiet):
        ids = await quiet.add_customers(4)
        campaign_id = await quiet.add_campaign()
        await quiet.send(campaign_id, {"customer_ids": ids[:2]})
        again = await quiet.send(campaign_id, {"customer_ids": ids})
        assert (again["messages_queued"], again["duplicates_skipped"]) == (2, 2)
        again = await quiet.send(campaign_id, {"all_customers": True})
        assert (again["messages_queued"], again["duplicates_skipped"]) == (0, 4)
        assert len(await quiet.messages(campaign_id)) == 4
        assert quiet.queue.ready() == 2  # each message was published once

    async def test_segments(self, quiet):
        await quiet.add_customers(2, location="Nairobi", preferred_product="Shoes")
        await quiet.add_customers(3, location="Nairobi", preferred_product="Tea")
        await quiet.add_customers(1, location="Kisumu", preferred_product="Shoes")
        campaign_id = await quiet.add_campaign()
        result = await quiet.send(campaign_id, {"segment": {"location": "nairobi",
                                                            "preferred_product": "shoes"}})
        assert result["messages_queued"] == 2
        result = await quiet.send(campaign_id, {"segment": {"location": "Nairobi"}})
        assert (result["messages_queued"], result["duplicates_skipped"]) == (3, 2)

    async def test_a_segment_that_matches_nobody_is_400_naming_it(self, quiet):
        await quiet.add_customers(1, location="Nairobi")
        campaign_id = await quiet.add_campaign()
        payload = await quiet.send(campaign_id, {"segment": {"location": "Narobi"}}, expect=400)
        assert_error(payload, "VALIDATION_ERROR")
        assert "the segment location 'Narobi' matches no customer" in payload["error"]["message"]
        campaign = await quiet.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]["total"]) == ("draft", 0)

    async def test_integral_numbers_count_as_integers_as_json_schema_says(self, quiet):
        ids = await quiet.add_customers(2)
        campaign_id = await quiet.add_campaign()
        result = await quiet.send(campaign_id, {"customer_ids": [float(ids[0]), ids[1]]})
        assert result["messages_queued"] == 2

    async def test_unknown_customers_create_nothing(self, quiet):
        ids = await quiet.add_customers(2)
        campaign_id = await quiet.add_campaign()
        payload = await quiet.send(campaign_id, {"customer_ids": [ids[0], 404, 405]}, expect=400)
        assert_error(payload, "UNKNOWN_CUSTOMERS")
        assert "404, 405" in payload["error"]["message"]
        campaign = await quiet.campaign(campaign_id)
        assert (campaign["status"], campaign["stats"]["total"]) == ("draft", 0)

    @pytest.mark.parametrize("body, words", [
        ({}, "exactly one"),
        ({"customer_ids": [1], "all_customers": True}, "exactly one"),
        ({"customer_ids": []}, "1 to 100000"),
        ({"customer_ids": "1,2"}, "list"),
        ({"customer_ids": ["1"]}, "integer"),
        ({"customer_ids": [True]}, "integer"),
        ({"customer_ids": [1.5]}, "integer"),
        ({"customer_ids": [0]}, "between"),
        ({"customer_ids": [2**63]}, "between"),
        ({"customer_ids": [None]}, "integer"),
        ({"customer_ids": list(range(1, 100_002))}, "1 to 100000"),
        ({"all_customers": False}, "must be true"),
        ({"all_customers": 1}, "must be true"),
        ({"segment": {}}, "at least one"),
        ({"segment": {"city": "Nairobi"}}, "city"),
        ({"segment": {"location": ""}}, "segment.location"),
        ({"segment": "Nairobi"}, "object"),
        ({"customers": [1]}, "customers"),
        ([1, 2], "object"),
    ])
    async def test_bad_audiences_are_400(self, quiet, body, words):
        campaign_id = await quiet.add_campaign()
        payload = await quiet.send(campaign_id, body, expect=400)
        assert_error(payload, "VALIDATION_ERROR")
        assert words in payload["error"]["message"]

    async def test_a_finished_campaign_cannot_be_sent(self, h):
        ids = await h.add_customers(1)
        campaign_id = await h.launch(ids)
        await h.settle()
        assert (await h.campaign(campaign_id))["status"] == "sent"
        assert_error(await h.send(campaign_id, {"customer_ids": ids}, expect=409),
                     "CAMPAIGN_NOT_SENDABLE")

    async def test_unknown_campaign_is_404(self, h):
        await h.add_customers(1)
        assert_error(await h.send(77, {"all_customers": True}, expect=404), "CAMPAIGN_NOT_FOUND")

    async def test_a_future_campaign_stays_scheduled_and_unpublished(self, quiet):
        ids = await quiet.add_customers(2)
        campaign_id = await quiet.add_campaign(scheduled_at=sl.utc_iso(T0 + 600))
        assert (await quiet.send(campaign_id, {"customer_ids": ids}))["status"] == "scheduled"
        assert quiet.queue.ready() == 0

    async def test_message_pages_filter_and_continue(self, quiet):
        ids = await quiet.add_customers(25)
        campaign_id = await quiet.launch(ids)
        page = await quiet.get(f"/campaigns/{campaign_id}/messages?page_size=10&page=3")
        assert [m["customer_id"] for m in page["data"]] == ids[20:]
        assert page["pagination"] == {"page": 3, "page_size": 10, "total_count": 25,
                                      "total_pages": 3, "next_cursor": None}
        assert len(await quiet.messages(campaign_id, status="pending")) == 25
        assert (await quiet.get(f"/campaigns/{campaign_id}/messages?status=sent"))["pagination"][
            "total_count"] == 0
        assert_error(await quiet.get(f"/campaigns/{campaign_id}/messages?status=lost", expect=400),
                     "VALIDATION_ERROR")
        assert_error(await quiet.get("/campaigns/999/messages", expect=404), "CAMPAIGN_NOT_FOUND")


class TestPreviewApi:
    pytestmark = pytest.mark.asyncio

    async def test_preview_for_different_customers(self, h):
        full, = await h.add_customers(1, last_name="Otieno", location="Nairobi",
                                      preferred_product="Shoes")
        sparse = (await h.post("/customers", {"phone": "+447900000001", "first_name": " "},
                               expect=201))["id"]
        campaign_id = await h.add_campaign(
            "Hi {first_name|friend}, {preferred_product} in {location}!")
        preview = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                               {"customer_id": full}, expect=200)
        assert preview["rendered_message"] == "Hi Name0, Shoes in Nairobi!"
        assert preview["used_template"] == (
            "Hi {first_name|friend}, {preferred_product} in {location}!")
        assert preview["customer"] == {"id": full, "first_name": "Name0", "last_name": "Otieno",
                                       "phone": "+254700000000", "location": "Nairobi",
                                       "preferred_product": "Shoes"}
        assert (preview["missing_fields"], preview["sms"]) == (
            [], {"encoding": "GSM-7", "characters": 27, "segments": 1})
        preview = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                               {"customer_id": sparse}, expect=200)
        assert preview["rendered_message"] == "Hi friend, [unknown] in [unknown]!"
        assert preview["missing_fields"] == ["first_name", "preferred_product", "location"]

    async def test_override_template(self, h):
        customer, = await h.add_customers(1)
        campaign_id = await h.add_campaign("Hi {first_name}")
        preview = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                               {"customer_id": customer,
                                "override_template": "Привет, {first_name}! " * 4},
                               expect=200)
        assert preview["used_template"] == "Привет, {first_name}! " * 4
        assert preview["sms"] == {"encoding": "UCS-2", "characters": 60, "segments": 1}
        # nothing stored
        assert (await h.campaign(campaign_id))["base_template"] == "Hi {first_name}"

    async def test_whatsapp_preview_has_no_sms_figures_and_flags_the_limit(self, h):
        customer, = await h.add_customers(1, first_name="x" * 200)
        campaign_id = await h.add_campaign("{first_name}" * 30, channel="whatsapp")
        preview = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                               {"customer_id": customer}, expect=200)
        assert preview["sms"] is None
        assert preview["channel_limit_problem"] == (
            "message has 6000 characters; the WhatsApp limit is 4096")

    @pytest.mark.parametrize("body, code", [
        ({"customer_id": 1, "override_template": "Hi {nickname}"}, "INVALID_TEMPLATE"),
        ({"customer_id": 1, "override_template": ""}, "VALIDATION_ERROR"),
        ({"customer_id": "1"}, "VALIDATION_ERROR"),
        ({}, "VALIDATION_ERROR"),
        ({"customer_id": 1, "template": "x"}, "VALIDATION_ERROR"),
    ])
    async def test_bad_previews_are_400(self, h, body, code):
        await h.add_customers(1)
        campaign_id = await h.add_campaign()
        assert_error(await h.post(f"/campaigns/{campaign_id}/personalized-preview", body,
                                  expect=400), code)

    async def test_unknown_campaign_or_customer_is_404(self, h):
        customer, = await h.add_customers(1)
        campaign_id = await h.add_campaign()
        assert_error(await h.post("/campaigns/50/personalized-preview",
                                  {"customer_id": customer}, expect=404), "CAMPAIGN_NOT_FOUND")
        assert_error(await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                                  {"customer_id": 50}, expect=404), "CUSTOMER_NOT_FOUND")


class TestUnsavedPreview:
    """POST /preview: the compose form's preview, with nothing saved."""

    pytestmark = pytest.mark.asyncio

    async def test_it_answers_as_a_campaigns_preview_does_and_saves_nothing(self, h):
        customer, = await h.add_customers(1, location="Nairobi")
        template = "Hi {first_name|friend}, {preferred_product} in {location}!"
        campaign_id = await h.add_campaign(template)
        stored = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                              {"customer_id": customer}, expect=200)
        unsaved = await h.post("/preview", {"template": template, "channel": "sms",
                                            "customer_id": customer}, expect=200)
        assert unsaved == stored
        assert unsaved["rendered_message"] == "Hi Name0, [unknown] in Nairobi!"
        assert unsaved["missing_fields"] == ["preferred_product"]
        chat = await h.post("/preview", {"template": "{first_name}" * 30, "channel": "whatsapp",
                                         "customer_id": customer}, expect=200)
        assert chat["sms"] is None and chat["channel_limit_problem"] is None
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 1, "no draft was made"

    async def test_a_whatsapp_template_is_rendered_as_a_saved_campaigns_is(self, h):
        customer, = await h.add_customers(1, location="Nairobi")
        spec = {"name": "order_update", "language": "en_US",
                "parameters": ["{first_name}", "{preferred_product|your order}", "{location}"]}
        campaign_id = await h.add_campaign("Hi {first_name}", channel="whatsapp")
        await h.request("PATCH", f"/campaigns/{campaign_id}", {"whatsapp_template": spec},
                        expect=200)
        stored = await h.post(f"/campaigns/{campaign_id}/personalized-preview",
                              {"customer_id": customer}, expect=200)
        unsaved = await h.post("/preview", {"template": "Hi {first_name}", "channel": "whatsapp",
                                            "customer_id": customer, "whatsapp_template": spec},
                               expect=200)
        assert unsaved == stored
        assert unsaved["whatsapp_template"]["parameters"] == ["Name0", "your order", "Nairobi"]
        plain = await h.post("/preview", {"template": "Hi", "channel": "whatsapp",
                                          "customer_id": customer, "whatsapp_template": None},
                             expect=200)
        assert plain["whatsapp_template"] is None
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 1, "no draft was made"

    @pytest.mark.parametrize("body, code, words", [
        ({"template": "Hi", "channel": "sms", "customer_id": 1,
          "whatsapp_template": {"name": "a", "language": "en_US"}}, "VALIDATION_ERROR",
         "whatsapp"),
        ({"template": "Hi", "channel": "whatsapp", "customer_id": 1,
          "whatsapp_template": {"name": "Bad Name", "language": "en_US"}}, "VALIDATION_ERROR",
         "whatsapp_template"),
        ({"template": "Hi", "channel": "whatsapp", "customer_id": 1,
          "whatsapp_template": {"name": "a", "language": "en_US", "parameters": ["{nick}"]}},
         "INVALID_TEMPLATE", "nick"),
        ({"template": "Hi {nickname}", "channel": "sms", "customer_id": 1}, "INVALID_TEMPLATE",
         "nickname"),
        ({"template": "", "channel": "sms", "customer_id": 1}, "VALIDATION_ERROR", "template"),
        ({"template": "Hi", "channel": "fax", "customer_id": 1}, "VALIDATION_ERROR", "channel"),
        ({"template": "Hi", "channel": "sms", "customer_id": "1"}, "VALIDATION_ERROR",
         "customer_id"),
        ({"template": "Hi", "channel": "sms"}, "VALIDATION_ERROR", "customer_id is required"),
        ({"channel": "sms", "customer_id": 1}, "VALIDATION_ERROR", "template is required"),
        ({"template": "Hi", "channel": "sms", "customer_id": 1, "override_template": "x"},
         "VALIDATION_ERROR", "override_template"),
        ([], "VALIDATION_ERROR", "object"),
    ])
    async def test_bad_bodies_are_400(self, h, body, code, words):
        await h.add_customers(1)
        error = await h.post("/preview", body, expect=400)
        assert_error(error, code)
        assert words in error["error"]["message"]

    async def test_an_unknown_customer_is_404_and_a_query_is_refused(self, h):
        body = {"template": "Hi", "channel": "sms", "customer_id": 50}
        assert_error(await h.post("/preview", body, expect=404), "CUSTOMER_NOT_FOUND")
        assert_error(await h.post("/preview?x=1", body, expect=400), "VALIDATION_ERROR")


class TestMessageCustomers:
    pytestmark = pytest.mark.asyncio

    async def test_a_campaigns_messages_name_their_customers_until_erased(self, h):
        named = (await h.post("/customers", {"phone": "+254711000001", "first_name": "Wanjiku",
                                             "last_name": "Kariuki"}, expect=201))["id"]
        nameless = (await h.post("/customers", {"phone": "+254711000002", "first_name": " "},
                                 expect=201))["id"]
        campaign_id = await h.launch([named, nameless])
        await h.settle()
        shown = {m["customer_id"]: (m["customer_name"], m["customer_phone"])
                 for m in await h.messages(campaign_id)}
        assert shown == {named: ("Wanjiku Kariuki", "+254711000001"),
                         nameless: (None, "+254711000002")}
        await h.request("DELETE", f"/customers/{named}", expect=204)
        shown = [(m["customer_id"], m["customer_name"], m["customer_phone"])
                 for m in await h.messages(campaign_id)]
        assert sorted(shown, key=str) == sorted([(None, None, None),
                                                 (nameless, None, "+254711000002")], key=str)


# -- Hostile input: a corpus thrown at every endpoint, and property-based tests ---

HOSTILE_BODIES = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"\xc3\x28\xa0\xa1",
    b'{"name": "\\ud800", "channel": "sms", "base_template": "x", "phone": "\\udfff"}',
    b'{"customer_ids": [1e400], "customer_id": 1e400, "phone": 1e400}',
    b'{"customer_ids": [true, false], "customer_id": true, "all_customers": "true"}',
    b'{"customer_ids": [123456789012345678901234567890], "customer_id": 99999999999999999999}',
    b'{"name": "a\\u0000b", "channel": "sms\\u0000", "base_template": "\\u0000", '
    b'"phone": "+254712345678\\u0000"}',
    json.dumps({"name": "x" * 100_000, "base_template": "{" * 100_000,
                "phone": "+" + "1" * 100_000, "customer_id": 1,
                "override_template": "}" * 100_000}).encode(),
    b'{"segment": {"location": {"$ne": null}}}',
    b'{"customers": [' + b'{"phone": "+1"},' * 2000 + b'{}]}',
    b'{"__proto__": {"admin": true}}',
    b"null", b"true", b"0", b'""', b"[]", b"{}", b"-", b"\x00", b"\xef\xbb\xbf",
    b'{"customer_ids": "' + b"9," * 50_000 + b'"}',
]

HOSTILE_QUERIES = ["?page=1&page=1", "?page=", "?page_size=", "?status=sent&status=sent", "?=",
                   "?page=%00", "?location=%ff%fe", "?cursor=" + "A" * 5000,
                   "?page=99999999999999999999", "?page_size=1e2", "?page=-0", "?channel=sms%00",
                   "?location=%ED%A0%80", "?page=%F0%9F%98%80"]


class TestHostileInput:
    pytestmark = pytest.mark.asyncio

    async def test_a_corpus_of_bad_input_at_every_endpoint(self, h):
        customer, = await h.add_customers(1)
        campaign_id = await h.launch([customer])  # sent: every action on it is refused
        await h.settle()
        paths = {}
        for route in h.app.router.routes():
            if route.method != "HEAD":
                paths.setdefault(route.resource.canonical, set()).add(route.method)
        for template, methods in paths.items():  # ids that are not ids are tested on their own
            for path in {template.replace("{id}", str(campaign_id))}:
                for method in methods | {"PUT", "PATCH"}:
                    for raw in HOSTILE_BODIES:
                        if (raw.strip() == b"{}" and method in ("POST", "DELETE")
                                and path.startswith("/customers/")):
                            # the empty body of a customer's action: valid, and it would act
                            continue
                        status, payload = await h.request(method, path, raw=raw)
                        if method == "GET":  # a GET ignores its body
                            assert status < 500, (method, path, raw[:60], payload)
                        else:
                            assert 400 <= status < 500, (method, path, raw[:60], payload)
                        if status >= 400:
                            assert_documented_error(status, payload)
                    for query in HOSTILE_QUERIES:
                        status, payload = await h.request(method, path + query)
                        assert 400 <= status < 500, (method, path + query, payload)
                        assert_documented_error(status, payload)
        assert await h.get("/health") == {"status": "ok", "db": "ok", "queue": "ok",
                                          "queue_depth": 0}
        assert (await h.get("/campaigns"))["pagination"]["total_count"] == 1
        assert (await h.campaign(campaign_id))["stats"] == stats(total=1, sent=1)
        assert (await h.get(f"/customers/{customer}"))["id"] == customer

    @pytest.mark.parametrize("query", HOSTILE_QUERIES)
    async def test_hostile_queries_are_400(self, h, query):
        status, payload = await h.request("GET", "/customers" + query)
        assert status == 400
        assert_error(payload, "VALIDATION_ERROR")


field_names = st.sampled_from(sl.CUSTOMER_FIELDS)
customers = st.fixed_dictionaries({name: st.none() | st.text(max_size=30)
                                   for name in sl.CUSTOMER_FIELDS})
literals = st.text(max_size=20)
placeholders = st.tuples(field_names, st.none() | st.text(
    alphabet=st.characters(blacklist_characters="{}"), max_size=10))
template_parts = st.lists(st.one_of(literals, placeholders), max_size=8)


def escape(text):
    return text.replace("{", "{{").replace("}", "}}")


def reference_render(parts, customer):
    """An independent model of rendering, from the parts the template was built of."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            name, fallback = part
            value = customer.get(name)
            out.append(value if value is not None and value.strip() else
                       ("[unknown]" if fallback is None else fallback))
    return "".join(out)


def build_template(parts):
    return "".join(escape(p) if isinstance(p, str)
                   else "{" + p[0] + ("" if p[1] is None else "|" + p[1]) + "}"
                   for p in parts)


class TestProperties:
    @PROPERTIES
    @given(st.text())
    def test_parsing_any_text_either_works_or_says_why(self, text):
        try:
            template = sl.parse_template(text)
        except sl.TemplateError as exc:
            assert str(exc)
        else:
            assert sl.render_template(template, dict.fromkeys(sl.CUSTOMER_FIELDS, "v")) is not None

    @PROPERTIES
    @given(template_parts, customers)
    def test_rendering_matches_the_model(self, parts, customer):
        assert sl.render_template(sl.parse_template(build_template(parts)), customer) == (
            reference_render(parts, customer))

    @PROPERTIES
    @given(literals)
    def test_escaped_text_renders_as_itself(self, text):
        assert sl.render_template(sl.parse_template(escape(text)), {}) == text

    @PROPERTIES
    @given(st.text(alphabet=sorted(sl.GSM7_CHARSET), max_size=2000))
    def test_gsm7_counting(self, text):
        info = sl.sms_info(text)
        characters = len(text) + sum(text.count(c) for c in sl.GSM7_EXTENSION)
        assert (info.encoding, info.characters) == ("GSM-7", characters)
        if characters <= 160:
            assert info.segments == 1
        else:
            assert math.ceil(characters / 153) <= info.segments <= math.ceil(characters / 152)

    @PROPERTIES
    @given(st.text(min_size=1, max_size=500).filter(lambda t: not set(t) <= sl.GSM7_CHARSET))
    def test_ucs2_counting(self, text):
        info = sl.sms_info(text)
        units = len(text.encode("utf-16-le", "surrogatepass")) // 2
        assert (info.encoding, info.characters) == ("UCS-2", units)
        assert info.segments == 1 if units <= 70 else (
            math.ceil(units / 67) <= info.segments <= math.ceil(units / 66))

    @PROPERTIES
    @given(json_values)
    def test_audience_validation_only_ever_answers_400(self, body):
        try:
            audience = sl.parse_audience(body)
        except sl.Invalid as exc:
            assert exc.code == "VALIDATION_ERROR"
        else:
            assert sum((bool(audience.customer_ids), audience.all_customers,
                        bool(audience.segment))) == 1

    @PROPERTIES
    @given(st.one_of(json_values, customers,
                     st.fixed_dictionaries({"phone": st.text(max_size=20)})))
    def test_customer_validation_only_ever_answers_400(self, body):
        try:
            customer = sl.customer_fields(body, "")
        except sl.Invalid as exc:
            assert exc.code == "VALIDATION_ERROR"
        else:
            assert sl.PHONE_PATTERN.fullmatch(customer["phone"])

    @PROPERTIES
    @given(st.text())
    def test_cursors_only_ever_answer_400(self, text):
        try:
            after, page = sl.decode_cursor(text, "campaigns")
        except sl.Invalid as exc:
            assert exc.code == "VALIDATION_ERROR"
        else:
            assert after >= 1 and page >= 1

    @PROPERTIES
    @given(st.integers(min_value=1, max_value=sl.MAX_ID),
           st.integers(min_value=1, max_value=sl.MAX_ID))
    def test_cursors_round_trip(self, after, page):
        assert sl.decode_cursor(sl.encode_cursor("customers", after, page), "customers") == (
            after, page)

    @PROPERTIES
    @given(st.lists(st.integers(min_value=1, max_value=10**6), unique=True, min_size=1,
                    max_size=300))
    def test_jobs_round_trip(self, ids):
        assert sl.decode_job(sl.encode_job(ids)) == sorted(ids)


# ---------------------------------------------------------------------------
# OPENAPI
# ---------------------------------------------------------------------------


# -- OPENAPI: every route described, real answers valid against the description ---

def openapi_validator(schema):
    import jsonschema

    document = sl.openapi_document(api_key_required=True)
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]},
                                           format_checker=jsonschema.FormatChecker())


class TestOpenApi:
    pytestmark = pytest.mark.asyncio

    async def test_every_route_is_described_and_nothing_else(self, h):
        document = (await h.get("/openapi.json"))
        assert document == json.loads(json.dumps(sl.openapi_document()))
        assert document["openapi"] == "3.1.0"
        served = {(route.resource.canonical, route.method.lower())
                  for route in h.app.router.routes()
                  if route.method != "HEAD"}
        described = {(path, method) for path, item in document["paths"].items() for method in item}
        assert served == described

    @sqlite_only  # two services at once: on one PostgreSQL database the second is refused
    async def test_security_is_declared_only_when_a_key_is_set(self, make_harness):
        open_service = await make_harness()
        assert "security" not in await open_service.get("/openapi.json")
        keyed = await make_harness(api_key="k")
        status, document = await keyed.request("GET", "/openapi.json",
                                               headers={"Authorization": "Bearer k"})
        assert status == 200 and document["security"] == [{"bearer": []}]
        assert document["paths"]["/health"]["get"]["security"] == []

    async def test_the_document_is_well_formed(self):
        import jsonschema

        document = sl.openapi_document()
        for schema in document["components"]["schemas"].values():
            jsonschema.Draft202012Validator.check_schema(schema)
        for path, item in document["paths"].items():
            for method, operation in item.items():
                assert operation["responses"], (path, method)
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path":
                        assert "{" + parameter["name"] + "}" in path and parameter["required"]

    async def test_real_answers_match_the_description(self, make_harness):
        h = await make_harness(api_key="k")
        auth = {"Authorization": "Bearer k"}
        document = sl.openapi_document(api_key_required=True)
        checked = Counter()

        async def call(method, template, path=None, body=None, *, raw=None, headers=auth):
            status, payload = await h.request(method, path or template, body, raw=raw,
                                              headers=headers)
            operation = document["paths"][template].get(method.lower())
            if operation is None:  # a method the path does not have: 405 in the error shape
                assert status == 405
                schema = {"$ref": "#/components/schemas/Error"}
            else:
                assert str(status) in operation["responses"], (method, path, status, payload)
                schema = operation["responses"][str(status)]["content"]["application/json"][
                    "schema"]
            errors = list(openapi_validator(schema).iter_errors(payload))
            assert not errors, (method, path, status, payload, errors[0].message)
            checked[status] += 1
            return payload

        customer = await call("POST", "/customers",
                              body={"phone": "+254712345678", "first_name": "Amina"})
        await call("POST", "/customers",
                   body={"customers": [{"phone": "+254712345679"}, {"phone": "+25471234567"}]})
        await call("POST", "/customers", body={"phone": "+254712345678"})
        await call("POST", "/customers", body={"phone": "bad"})
        await call("POST", "/customers", raw=b"x" * (9 * 1024 * 1024))
        await call("GET", "/customers", "/customers?location=Nairobi&page_size=1")
        await call("GET", "/customers/{id}", f"/customers/{customer['id']}")
        await call("GET", "/customers/{id}", "/customers/404")
        campaign = await call("POST", "/campaigns",
                              body={"name": "n", "channel": "sms", "base_template": "Hi"})
        await call("POST", "/campaigns",
                   body={"name": "n", "channel": "sms", "base_template": "Hi {x}"})
        await call("POST", "/campaigns", body={"name": "n", "channel": "sms", "base_template": "x",
                                               "scheduled_at": sl.utc_iso(T0 + 60)})
        await call("GET", "/campaigns", "/campaigns?page_size=1")
        await call("GET", "/campaigns", "/campaigns?page_size=1000")
        await call("GET", "/campaigns/{id}", f"/campaigns/{campaign['id']}")
        await call("GET", "/campaigns/{id}", "/campaigns/x")
        send = f"/campaigns/{campaign['id']}/send"
        await call("POST", "/campaigns/{id}/send", send, {"customer_ids": [customer["id"]]})
        await call("POST", "/campaigns/{id}/send", send, {"customer_ids": [77]})
        await call("POST", "/campaigns/{id}/send", "/campaigns/77/send", {"all_customers": True})
        await call("POST", "/campaigns/{id}/send", send, {"all_customers": True},
                   headers={**auth, "Idempotency-Key": "a"})
        await call("POST", "/campaigns/{id}/send", send, {"customer_ids": [1]},
                   headers={**auth, "Idempotency-Key": "a"})
        preview = f"/campaigns/{campaign['id']}/personalized-preview"
        await call("POST", "/campaigns/{id}/personalized-preview", preview,
                   {"customer_id": customer["id"]})
        await call("POST", "/campaigns/{id}/personalized-preview", preview, {"customer_id": 404})
        await call("POST", "/preview", body={"template": "Hi {first_name}", "channel": "sms",
                                             "customer_id": customer["id"]})
        await call("POST", "/preview",
                   body={"template": "Hi", "channel": "sms", "customer_id": 404})
        await h.settle()
        await call("GET", "/campaigns/{id}/messages",
                   f"/campaigns/{campaign['id']}/messages?status=sent")
        await call("GET", "/campaigns/{id}/timeline", f"/campaigns/{campaign['id']}/timeline")
        await call("GET", "/campaigns/{id}/timeline", "/campaigns/404/timeline")
        await call("GET", "/overview")
        await call("GET", "/campaigns/{id}/errors", f"/campaigns/{campaign['id']}/errors")
        await call("POST", "/campaigns/{id}/send", send, {"all_customers": True})
        await call("POST", "/campaigns/{id}/pause", f"/campaigns/{campaign['id']}/pause")
        await call("POST", "/campaigns/{id}/retry-failed",
                   f"/campaigns/{campaign['id']}/retry-failed")
        other = await call("POST", "/campaigns",
                           body={"name": "n", "channel": "sms", "base_template": "Hi"})
        path = f"/campaigns/{other['id']}"
        await call("PATCH", "/campaigns/{id}", path,
                   {"name": "m", "scheduled_at": sl.utc_iso(T0 + 60)})
        await call("PATCH", "/campaigns/{id}", path, {"status": "sent"})
        await call("POST", "/campaigns/{id}/send", path + "/send",
                   {"customer_ids": [customer["id"]]})
        await call("POST", "/campaigns/{id}/cancel", path + "/cancel", raw=b"{}")
        await call("POST", "/campaigns/{id}/resume", path + "/resume")
        await call("DELETE", "/campaigns/{id}", path)
        draft = await call("POST", "/campaigns",
                           body={"name": "n", "channel": "sms", "base_template": "Hi"})
        response = await h.client.delete(f"/campaigns/{draft['id']}", headers=auth)
        assert response.status == 204 and (
            "204" in document["paths"]["/campaigns/{id}"]["delete"]["responses"])
        await call("GET", "/health", headers={})
        await call("GET", "/campaigns", headers={})
        await call("PUT", "/campaigns", body={})
        assert set(checked) == {200, 201, 400, 401, 404, 405, 409, 413}


# ---------------------------------------------------------------------------
# DASHBOARD
# ---------------------------------------------------------------------------


# -- DASHBOARD: the page in a real browser (Chromium and its driver, driven by Selenium) ---

# These tests skip where Chromium or chromedriver is not installed; CI installs both
# (Debian's chromium and chromium-driver) and fails on a skip. Each test makes its own
# customers and campaigns, so they share one service process and one browser per worker.
#
# Element ids and data-testid values the tests rely on:
#
#   navigation     #nav-overview  #nav-campaigns  #nav-customers  #new-campaign  #key-status
#   overview       #overview  [data-testid=today-<channel>-sent|delivered|failed]
#                  #attempts-chart (figcaption, details)
#                  #tile-pending  #tile-queue  #tile-in-flight  #tile-latency
#                  #tile-error-rate  #tile-outbox
#                  #gateways  #gateways-table  [data-testid=gateway-<channels>]  #gateway-setup
#                  [data-testid=setup-<kind>]
#                  [data-testid=callback-webhook|receipts|inbound-<kind>]
#                  [data-testid=verify-token-<kind>]
#   API key        #key-form  #api-key-input  #api-key-submit  #key-error
#   campaign list  #campaigns-body  #campaigns-table  #campaigns-empty  #filter-status
#                  #filter-channel  [data-testid=campaign-row-<id>] (data-status)  #campaigns-prev
#                  #campaigns-next  #campaigns-page-info
#   campaign       #campaign-name  #campaign-status > .badge (data-status)  #campaign-actions
#                  #action-edit  #action-pause  #action-resume  #action-cancel  #action-retry
#                  #action-delete  #campaign-progress (role=progressbar, aria-valuenow)
#                  #progress-percent  #progress-rate
#                  [data-testid=stat-<name>] > .v
#                  #life-card  #rate-chart  #outcomes-chart  #funnel  [data-testid=funnel-<step>]
#                  #send-panel  #send-mode-all|segment|ids  #send-location  #send-product
#                  #send-ids
#                  #send-submit  #send-result  #send-status  [data-testid=message-customer]
#                  #errors-table  [data-testid=error-row]  #errors-empty
#                  #messages-table  [data-testid=message-row-<id>] (data-status)
#                  #messages-status-filter
#                  #messages-delivery-filter  #messages-prev  #messages-next  #messages-empty
#                  #confirm-dialog  #confirm-title  #confirm-ok  #confirm-cancel
#   compose        #campaign-form  #f-name  #f-channel  #f-template  #f-schedule  #f-rate  #f-quiet
#                  #save-campaign  #cancel-compose  #form-error
#                  #preview-customer  #preview-text  #preview-missing  #preview-encoding
#                  #preview-characters  #preview-segments  #preview-error  #preview-note
#                  #quiet-hint  #wa-template  #wa-mode-template  #wa-mode-text  #wa-text-hint
#                  #f-wa-name  #f-wa-language
#                  #wa-parameters  #f-wa-param-<n>  [data-testid=wa-remove-<n>]  #wa-add-parameter
#                  #f-wa-name-error  #f-wa-language-error  #f-wa-param-<n>-error
#                  #wa-parameters-error  #wa-template-error  #preview-wa
#                  [data-testid=preview-wa-parameter]  #campaign-wa-template (the campaign's page)
#   customers      #customers-table  [data-testid=customer-row-<id>] (data-opted-out)
#                  [data-testid=optout-<id>]  [data-testid=optin-<id>]  [data-testid=edit-<id>]
#                  [data-testid=erase-<id>]  #customer-form  #c-phone  #c-first  #c-last
#                  #c-location  #c-product  #c-timezone
#                  #customer-save  #customer-cancel  #customer-error
#                  #customer-filter-location  #customer-filter-product  #customer-search-submit
#                  #csv-file  #csv-text  #csv-conflict  #csv-import  #csv-result
#                  [data-testid=csv-counts]  #csv-errors  [data-testid=csv-error-line]
#   toasts         #toasts (aria-live, above the page, never over it)  [data-testid=toast]

class TestDashboardFiles:
    """The page and its files as the service serves them from static/ beside it (no browser)."""

    pytestmark = pytest.mark.asyncio

    async def test_they_need_no_key_and_carry_the_page_headers(self, make_harness):
        h = await make_harness(api_key="k")
        for path, name, content_type in (("/", "index.html", "text/html"),
                                         ("/static/app.js", "app.js", "text/javascript"),
                                         ("/static/app.css", "app.css", "text/css")):
            response = await h.client.get(path)
            assert (response.status, response.content_type, response.charset) == (
                200, content_type, "utf-8")
            assert await response.read() == (sl.STATIC_DIR / name).read_bytes()
            csp = response.headers["Content-Security-Policy"]
            assert ("script-src 'self';" in csp and "default-src 'none'" in csp
                    and "connect-src 'self'" in csp)
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Cache-Control"] == "no-cache"
            unchanged = await h.client.get(path,
                                           headers={"If-None-Match": response.headers["ETag"]})
            assert unchanged.status == 304
        page = (sl.STATIC_DIR / "index.html").read_text(encoding="utf-8")
        assert ('<script src="/static/app.js"></script>' in page
                and 'href="/static/app.css"' in page)
        # nothing inline: the policy allows none
        assert "<style" not in page and "<script>" not in page
        assert (await h.client.get("/campaigns")).status == 401

    async def test_nothing_else_is_served(self, h):
        for path in ("/static/index.html", "/static/nothing.js", "/static/.hidden.js", "/static/",
                     "/static/%2E%2E", "/static/%2E%2E/smsleopard.py",
                     "/static/..%2Fsmsleopard.py", "/static/..%2F..%2Fetc%2Fpasswd.js",
                     "/static/app.js/x", "/static/app.js%00.css",
                     "/smsleopard.py", "/app.js"):
            response = await h.client.get(yarl.URL(path, encoded=True))
            assert response.status == 404, path
            assert_documented_error(404, await response.json())


needs_browser = pytest.mark.skipif(
    not (PROCESSES and shutil.which("chromium") and shutil.which("chromedriver")),
    reason="install chromium and chromium-driver, and set SMSLEOPARD_TEST_PROCESSES=1, "
           "to run the browser tests")


class PageService:
    def __init__(self, *settings: str, api_key: str | None = None):
        self.dir = tempfile.TemporaryDirectory(prefix="smsleopard-page-")
        self.api_key = api_key
        self.log = Path(self.dir.name, "service.log")
        argv = ["--port", "0", "--db", str(Path(self.dir.name, "d.db")), "--no-seed",
                "--failure-rate", "0", *settings, *(["--api-key", api_key] if api_key else [])]
        with self.log.open("w") as log:
            self.process = start_process([sys.executable, sl.__file__, *argv], cwd=self.dir.name,
                                            stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            if match := re.search(r"listening on (http://[0-9.:]+)", self.log.read_text()):
                self.url = match[1]
                return
            time.sleep(0.02)
        log = self.log.read_text()
        self.stop()
        raise AssertionError(f"the service did not start: {log}")

    def call(self, method: str, path: str, body=None):
        """The parsed JSON answer (None for 204); urllib.error.HTTPError for 4xx/5xx."""
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url + path, method=method, headers=headers,
                                         data=None if body is None else json.dumps(body).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return json.loads(raw) if raw else None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.dir.cleanup()


@pytest.fixture
def make_page_service():
    started: list[PageService] = []

    def make(*settings: str) -> PageService:
        started.append(PageService(*settings))
        return started[-1]

    yield make
    for running in started:
        running.stop()


@pytest.fixture(scope="module")
def page_service():
    running = PageService()
    yield running
    running.stop()


@pytest.fixture
def keyed_page_service():
    running = PageService(api_key="secret-key")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--window-size=1280,900",
                     "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=DriverService(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


_page_phones = itertools.count(random.randrange(10**6) * 100)


def page_phone() -> str:
    return f"+2547{next(_page_phones) % 10**8:08d}"


def page_token() -> str:
    return uuid.uuid4().hex[:8]


def open_page(browser, page_service, route: str) -> None:
    """A fresh load of the page at a route (about:blank first: a hash change alone would not
    reload)."""
    browser.get("about:blank")
    browser.get(f"{page_service.url}/#{route}")


def open_page_answering(browser, page_service, route: str, answers: dict) -> None:
    """The page at a route with some of the API's GET answers replaced (path without its query
    -> JSON): figures the test chooses, however fast or slow the service runs."""
    open_page(browser, page_service, "/customers")
    browser.execute_script("""
        const answers = arguments[0], real = window.fetch;
        window.fetch = (path, init) => {
          const answer = answers[String(path).split('?')[0]];
          if (!answer || (init && init.method !== 'GET')) return real(path, init);
          return Promise.resolve(new Response(JSON.stringify(answer),
                                              {headers: {'Content-Type': 'application/json'}}));
        };
        location.hash = arguments[1];""", answers, "#" + route)


def page_wait(browser, timeout: float = 10) -> WebDriverWait:
    """Waits that look again when the page redraws what they were looking at (it polls while
    sending)."""
    return WebDriverWait(browser, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,))


def page_element(browser, css: str, timeout: float = 10):
    return page_wait(browser, timeout).until(
        EC.visibility_of_element_located((By.CSS_SELECTOR, css)))


def click_when_ready(browser, css: str, timeout: float = 10) -> None:
    """Click an element the page may be redrawing (a list reloading): again until it takes."""
    page_wait(browser, timeout).until(
        lambda b: b.find_element(By.CSS_SELECTOR, css).click() or True)


def page_text(browser, css: str) -> str:
    """An element's text, read again if the page redraws it meanwhile (it polls while sending)."""
    return page_wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, css).text)


def text_shows(browser, css: str, text: str, timeout: float = 10) -> None:
    page_wait(browser, timeout).until(
        EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))


def page_status(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, "#campaign-status .badge").get_attribute(
        "data-status")


def status_shows(browser, status: str, timeout: float = 10) -> None:
    page_wait(browser, timeout).until(
        EC.text_to_be_present_in_element_attribute((By.CSS_SELECTOR, "#campaign-status .badge"),
                                                   "data-status", status))


def page_api_error(page_service, method: str, path: str, body=None) -> dict:
    """The error an API call answers (it must fail)."""
    with pytest.raises(urllib.error.HTTPError) as failure:
        page_service.call(method, path, body)
    return json.loads(failure.value.read())["error"]


def page_customers(page_service, *rows: dict) -> list[dict]:
    return page_service.call(
        "POST", "/customers",
        {"customers": [{"phone": page_phone(), **row} for row in rows]})["customers"]


def page_campaign(page_service, **fields) -> dict:
    return page_service.call("POST", "/campaigns", {
        "name": f"Campaign {page_token()}", "channel": "sms",
        "base_template": "Hi {first_name|there}!", **fields})


@needs_browser
def test_create_a_campaign_with_a_live_preview_then_send_it_to_everyone(page_service, browser):
    wanjiku, nameless = page_customers(
        page_service, {"first_name": "Wanjiku", "last_name": "Kariuki", "location": "Nyeri"},
        {"last_name": "Odhiambo", "preferred_product": "Tea"})
    name = f"Spring sale {page_token()}"
    open_page(browser, page_service, "/campaigns/new")
    page_element(browser, "#f-name").send_keys(name)
    Select(page_element(browser, "#preview-customer")).select_by_value(str(nameless["id"]))
    template = page_element(browser, "#f-template")
    template.send_keys("Hi {first_name}, your {preferred_product|gift} waits")

    text_shows(browser, "#preview-text", "Hi [unknown], your Tea waits")
    text_shows(browser, "#preview-missing", "first_name")
    assert browser.find_element(By.ID, "preview-encoding").text == "GSM-7"
    assert browser.find_element(By.ID, "preview-segments").text == "1"
    # 28, and [ ] take two septets each
    assert browser.find_element(By.ID, "preview-characters").text == "30"

    # A character outside GSM-7 makes it UCS-2 (70 per segment): the figures follow the typing.
    template.send_keys(" ✓ " + "at the Nyeri branch, open every day of the week")
    text_shows(browser, "#preview-encoding", "UCS-2")
    text_shows(browser, "#preview-segments", "2")
    Select(browser.find_element(By.ID, "preview-customer")).select_by_value(str(wanjiku["id"]))
    text_shows(browser, "#preview-text", "Hi Wanjiku, your gift waits ✓")
    # it has a fallback, still missing
    text_shows(browser, "#preview-missing", "preferred_product")
    assert "first_name" not in browser.find_element(By.ID, "preview-missing").text

    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#campaign-name", name)
    saved = [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
             if c["name"] == name]
    assert len(saved) == 1, "one campaign, however many previews"
    saved = saved[0]
    assert saved["status"] == "draft"
    assert saved["base_template"] == ("Hi {first_name}, your {preferred_product|gift} waits ✓ "
                                      "at the Nyeri branch, open every day of the week")
    assert browser.current_url.endswith(f"#/campaigns/{saved['id']}")
    # The API's own preview agrees with what the page showed.
    preview = page_service.call("POST", f"/campaigns/{saved['id']}/personalized-preview",
                                {"customer_id": nameless["id"]})
    assert preview["sms"]["encoding"] == "UCS-2" and preview["sms"]["segments"] == 2

    assert page_element(browser, "#send-mode-all").is_selected()
    browser.find_element(By.ID, "send-submit").click()
    everyone = page_service.call("GET", "/customers?page_size=1")["pagination"]["total_count"]
    text_shows(browser, "#confirm-title", f"to all {everyone:,} customers?")
    browser.find_element(By.ID, "confirm-ok").click()
    # the panel goes when the campaign is sent, the toast stays a while
    text_shows(browser, "#toasts", "Queued")
    status_shows(browser, "sent", timeout=15)
    page_wait(browser).until(lambda b: b.find_element(By.ID, "campaign-progress").get_attribute(
        "aria-valuenow") == "100")
    assert browser.find_element(By.ID, "progress-percent").text == "100%"
    answer = page_service.call("GET", f"/campaigns/{saved['id']}")
    assert answer["status"] == "sent" and answer["progress"]["percent"] == 100
    assert answer["stats"]["total"] >= 2 and answer["stats"]["pending"] == 0
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=stat-total] .v").text == (
        f"{answer['stats']['total']:,}")

    # The list shows it finished, with its bar full.
    browser.find_element(By.ID, "nav-campaigns").click()
    row = page_element(browser, f"[data-testid=campaign-row-{saved['id']}]")
    assert row.get_attribute("data-status") == "sent"
    assert row.find_element(By.CSS_SELECTOR, "[role=progressbar]").get_attribute(
        "aria-valuenow") == "100"


@needs_browser
def test_pause_and_resume_while_it_sends(make_page_service, browser):
    slow = make_page_service("--send-latency-ms", "100", "--concurrency", "2")
    people = page_customers(slow, *({"first_name": f"Person {n}"} for n in range(16)))
    # Two a second: it is still sending when the person gets to the Pause button, however busy
    # the machine.
    created = page_campaign(slow, rate_limit=2)
    open_page(browser, slow, f"/campaigns/{created['id']}")
    page_element(browser, "#send-submit").click()
    page_element(browser, "#confirm-ok").click()  # to all 16 customers: it asks first
    status_shows(browser, "sending")
    page_element(browser, "#action-pause").click()

    status_shows(browser, "paused")
    page_element(browser, "#action-resume")
    assert not browser.find_elements(By.ID, "action-pause")
    paused = slow.call("GET", f"/campaigns/{created['id']}")
    assert paused["status"] == "paused"
    assert paused["stats"]["pending"] > 0, "paused before the end"
    text_shows(browser, "#progress-rate", "time left: paused")
    text_shows(browser, "#send-status", "paused: new recipients wait for Resume")

    # While paused, the rate limit can go (the edit form keeps channel and schedule as they are).
    browser.find_element(By.ID, "action-edit").click()
    assert (not page_element(browser, "#f-channel").is_enabled()
            and not browser.find_element(By.ID, "f-schedule").is_enabled())
    rate = browser.find_element(By.ID, "f-rate")
    assert rate.get_attribute("value") == "2"
    rate.clear()
    browser.find_element(By.ID, "save-campaign").click()
    status_shows(browser, "paused")
    assert slow.call("GET", f"/campaigns/{created['id']}")["rate_limit"] is None

    page_element(browser, "#action-resume").click()
    page_wait(browser).until(lambda b: page_status(b) in ("sending", "sent"))
    assert slow.call("GET", f"/campaigns/{created['id']}")["status"] in ("sending", "sent")
    status_shows(browser, "sent", timeout=20)
    done = slow.call("GET", f"/campaigns/{created['id']}")
    assert done["status"] == "sent" and done["stats"]["sent"] == len(people)
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=stat-sent] .v").text == (
        str(len(people)))


@needs_browser
def test_the_campaign_list_filters_and_pages(make_page_service, browser):
    fresh = make_page_service()
    open_page(browser, fresh, "/campaigns")
    text_shows(browser, "#campaigns-empty", "No campaigns yet — create one")
    made = [page_campaign(fresh, name=f"Promo {n:02d}") for n in range(21)]
    chat = page_campaign(fresh, name="Chat promo", channel="whatsapp")
    browser.refresh()

    def names():
        return browser.execute_script(
            "return [...document.querySelectorAll('#campaigns-table tbody tr a')]"
            ".map(a => a.textContent)")

    page_wait(browser).until(lambda b: len(names()) == 20)
    assert names()[:2] == ["Chat promo", "Promo 20"], "newest first"
    assert browser.find_element(By.ID, "campaigns-page-info").text == "Page 1 of 2 · 22 campaigns"
    browser.find_element(By.ID, "campaigns-next").click()
    page_wait(browser).until(lambda b: names() == ["Promo 01", "Promo 00"])
    browser.find_element(By.ID, "campaigns-prev").click()
    page_wait(browser).until(lambda b: len(names()) == 20)

    Select(browser.find_element(By.ID, "filter-channel")).select_by_value("whatsapp")
    page_wait(browser).until(lambda b: names() == ["Chat promo"])
    Select(browser.find_element(By.ID, "filter-status")).select_by_value("sent")
    text_shows(browser, "#campaigns-body", "No campaigns match these filters")
    fresh.call("POST", f"/campaigns/{made[0]['id']}/cancel")
    Select(browser.find_element(By.ID, "filter-channel")).select_by_value("")
    Select(browser.find_element(By.ID, "filter-status")).select_by_value("cancelled")
    page_wait(browser).until(lambda b: names() == ["Promo 00"])
    assert chat["status"] == "draft"


@needs_browser
def test_failed_messages_show_their_errors(page_service, browser):
    town = f"Errtown {page_token()}"
    try:
        page_service.call("POST", "/customers",
                          {"phone": "+999700000012", "first_name": "Kofi", "location": town})
    except urllib.error.HTTPError as exists:  # a page_service shared with another run of this test
        assert exists.code == 409
        page = page_service.call("GET", "/customers?page_size=100")["data"]
        kofi = next(c for c in page if c["phone"] == "+999700000012")
        page_service.call("PATCH", f"/customers/{kofi['id']}", {"location": town})
    page_customers(page_service, {"first_name": "Akinyi", "location": town})
    created = page_campaign(page_service)

    open_page(browser, page_service, f"/campaigns/{created['id']}")
    page_element(browser, "#send-mode-segment").click()
    page_element(browser, "#send-location").send_keys(town.upper())  # segments match in any case
    browser.find_element(By.ID, "send-submit").click()
    text_shows(browser, "#toasts", "Queued 2 messages")
    status_shows(browser, "sent", timeout=15)
    text_shows(browser, "#errors-table", "no route to +999700000012")
    error_row = browser.find_element(By.CSS_SELECTOR, "[data-testid=error-row]")
    assert error_row.find_elements(By.TAG_NAME, "td")[-1].text == "1"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=stat-failed] .v").text == "1"
    assert page_element(browser, "#action-retry").text == "Retry 1 failed"

    Select(browser.find_element(By.ID, "messages-status-filter")).select_by_value("failed")
    page_wait(browser).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#messages-table tbody tr")) == 1)
    row = browser.find_element(By.CSS_SELECTOR, "#messages-table tbody tr")
    assert row.get_attribute("data-status") == "failed"
    assert "no route to +999700000012" in row.text
    failed = page_service.call("GET", f"/campaigns/{created['id']}/messages?status=failed")["data"]
    assert [m["id"] for m in failed] == [int(row.get_attribute("data-testid").rsplit("-", 1)[1])]
    assert failed[0]["last_error"] == "no route to +999700000012"

    Select(browser.find_element(By.ID, "messages-status-filter")).select_by_value("sent")
    page_wait(browser).until(lambda b: b.execute_script(
        "return [...document.querySelectorAll('#messages-table tbody tr')]"
        ".map(r => r.dataset.status)") == ["sent"])
    Select(browser.find_element(By.ID, "messages-status-filter")).select_by_value("cancelled")
    page_element(browser, "#messages-empty")

    # a refusal at the first attempt: retrying is no use
    browser.find_element(By.ID, "action-retry").click()
    text_shows(browser, "#confirm-text", "1 of 1 failed message failed at the first attempt")
    assert "no route to +999700000012" in browser.find_element(By.ID, "confirm-text").text
    assert "will not help" in browser.find_element(By.ID, "confirm-text").text
    browser.find_element(By.ID, "confirm-ok").click()
    text_shows(browser, "#toasts", "1 failed message queued again.")
    again = page_service.call("GET", f"/campaigns/{created['id']}")
    assert again["status"] in ("sending", "sent") and again["started_at"] is not None


@needs_browser
def test_import_customers_from_a_csv_file(page_service, browser, tmp_path):
    town = f"Csvville {page_token()}"
    phones = [page_phone() for _ in range(3)]
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text("phone,first_name,last_name,location\n" +
                        "".join(f"{p},Name{i},Family{i},{town}\n" for i, p in enumerate(phones)))
    open_page(browser, page_service, "/customers")
    page_element(browser, "#csv-file").send_keys(str(csv_file))
    page_wait(browser).until(
        lambda b: phones[2] in b.find_element(By.ID, "csv-text").get_attribute("value"))
    browser.find_element(By.ID, "csv-import").click()
    text_shows(browser, "[data-testid=csv-counts]", "3 created, 0 updated, 0 skipped")
    imported = page_service.call("GET", f"/customers?location={town.replace(' ', '%20')}")["data"]
    assert sorted(c["phone"] for c in imported) == sorted(phones)

    page_element(browser, "#customer-filter-location").send_keys(town)
    browser.find_element(By.ID, "customer-search-submit").click()
    page_wait(browser).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#customers-table tbody tr")) == 3)
    table = browser.find_element(By.ID, "customers-table").text
    assert all(p in table for p in phones) and "Name0 Family0" in table

    # A bad file: the API's message and its line numbers, and nothing imported.
    bad_town = f"Badville {page_token()}"
    good_phone = page_phone()
    bad_csv = f"phone,first_name,location\n{good_phone},Good,{bad_town}\n12345,Bad,{bad_town}\n"
    area = browser.find_element(By.ID, "csv-text")
    area.clear()
    area.send_keys(bad_csv)
    browser.find_element(By.ID, "csv-import").click()
    errors = page_element(browser, "#csv-errors")
    text_shows(browser, "#csv-errors", "nothing was imported")
    lines = [li.text for li in browser.find_elements(By.CSS_SELECTOR,
                                                      "[data-testid=csv-error-line]")]
    assert len(lines) == 1 and lines[0].startswith("Line 3 (phone): phone must be in E.164 form")
    assert "the first at line 3" in errors.text
    assert page_service.call(
        "GET", f"/customers?location={bad_town.replace(' ', '%20')}")["data"] == []


@needs_browser
def test_opt_a_customer_out_and_back_in(page_service, browser):
    town = f"Optton {page_token()}"
    (person,) = page_customers(page_service,
                               {"first_name": "Halima", "last_name": "Abdi", "location": town})
    open_page(browser, page_service, "/customers")
    page_element(browser, "#customer-filter-location").send_keys(town)
    browser.find_element(By.ID, "customer-search-submit").click()
    row_css = f"[data-testid=customer-row-{person['id']}]"
    page_wait(browser).until(
        lambda b: [r.get_attribute("data-testid")
                   for r in b.find_elements(By.CSS_SELECTOR, "#customers-table tbody tr")]
        == [f"customer-row-{person['id']}"])
    assert browser.find_element(By.CSS_SELECTOR, row_css).get_attribute(
        "data-opted-out") == "false"
    browser.find_element(By.CSS_SELECTOR, f"[data-testid=optout-{person['id']}]").click()

    page_wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, row_css).get_attribute(
        "data-opted-out") == "true")
    assert "Opted out" in browser.find_element(By.CSS_SELECTOR, row_css).text
    assert page_service.call("GET", f"/customers/{person['id']}")["opted_out_at"] is not None
    text_shows(browser, "#toasts", "is opted out")

    browser.find_element(By.CSS_SELECTOR, f"[data-testid=optin-{person['id']}]").click()
    page_wait(browser).until(lambda b: b.find_element(By.CSS_SELECTOR, row_css).get_attribute(
        "data-opted-out") == "false")
    assert page_service.call("GET", f"/customers/{person['id']}")["opted_out_at"] is None


@needs_browser
def test_the_page_asks_for_the_api_key_once(keyed_page_service, browser):
    created = keyed_page_service.call("POST", "/campaigns", {
        "name": "Keyed launch", "channel": "whatsapp",
        "base_template": "Hello {first_name|friend}"})
    open_page(browser, keyed_page_service, "/campaigns")
    page_element(browser, "#api-key-input").send_keys("wrong-key")
    browser.find_element(By.ID, "api-key-submit").click()
    text_shows(browser, "#key-error", "That key was not accepted")
    text_shows(browser, "#key-error", "Missing or wrong API key")
    assert browser.execute_script("return sessionStorage.getItem('smsleopard.apiKey')") is None

    key_input = browser.find_element(By.ID, "api-key-input")
    key_input.clear()
    key_input.send_keys("secret-key")
    browser.find_element(By.ID, "api-key-submit").click()
    page_element(browser, f"[data-testid=campaign-row-{created['id']}]")
    assert browser.execute_script(
        "return sessionStorage.getItem('smsleopard.apiKey')") == "secret-key"
    assert page_element(browser, "#key-status").is_displayed()

    # Kept for the tab: a reload and other views work without asking again.
    browser.refresh()
    page_element(browser, f"[data-testid=campaign-row-{created['id']}]")
    assert not browser.find_elements(By.ID, "api-key-input")
    browser.find_element(By.ID, "nav-customers").click()
    page_element(browser, "#customers-empty")
    assert not browser.find_elements(By.ID, "api-key-input")
    browser.execute_script("sessionStorage.clear()")


@needs_browser
def test_an_api_error_is_shown_to_the_person(page_service, browser):
    page_customers(page_service, {"first_name": "Baraka"})
    name = f"Nickname test {page_token()}"
    template = "Hello {nickname}, welcome back"
    expected = page_api_error(page_service, "POST", "/campaigns",
                              {"name": name, "channel": "sms", "base_template": template})
    assert expected["code"] == "INVALID_TEMPLATE"

    open_page(browser, page_service, "/campaigns/new")
    page_element(browser, "#f-name").send_keys(name)
    browser.find_element(By.ID, "f-template").send_keys(template)
    text_shows(browser, "#preview-error", "names unknown field 'nickname'")
    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#form-error", expected["message"])
    assert "nickname" in expected["message"]
    assert browser.current_url.endswith("#/campaigns/new"), "nothing was saved, the form stays"
    assert not [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == name]

    # Put right, the preview works with nothing saved (POST /preview), and Cancel leaves nothing
    # behind.
    area = browser.find_element(By.ID, "f-template")
    area.clear()
    area.send_keys("Hello {first_name|friend}, welcome back")
    text_shows(browser, "#preview-text", "welcome back")
    assert "Nothing is saved until you press Save" in browser.find_element(
        By.ID, "preview-note").text
    assert not browser.find_element(By.ID, "preview-error").text
    assert not [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == name]
    assert not [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == "Untitled campaign"]
    browser.find_element(By.ID, "cancel-compose").click()
    page_wait(browser).until(lambda b: b.current_url.endswith("#/campaigns"))
    assert not [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == name]

    # A refused action says why, too.
    done = page_campaign(page_service)
    page_service.call("POST", f"/campaigns/{done['id']}/cancel")
    refusal = page_api_error(page_service, "POST", f"/campaigns/{done['id']}/send",
                             {"all_customers": True})
    open_page(browser, page_service, f"/campaigns/{done['id']}")
    status_shows(browser, "cancelled")
    assert (not browser.find_elements(By.ID, "action-cancel")
            and not browser.find_elements(By.ID, "action-pause"))
    assert not browser.find_element(By.ID, "send-panel").is_displayed()
    assert refusal["code"] == "CAMPAIGN_NOT_SENDABLE"


@needs_browser
def test_cancel_asks_first(page_service, browser):
    created = page_campaign(page_service)
    open_page(browser, page_service, f"/campaigns/{created['id']}")
    page_element(browser, "#action-cancel").click()
    page_element(browser, "#confirm-dialog")
    browser.find_element(By.ID, "confirm-cancel").click()
    page_wait(browser).until(EC.invisibility_of_element_located((By.ID, "confirm-dialog")))
    assert page_service.call("GET", f"/campaigns/{created['id']}")["status"] == "draft"
    browser.find_element(By.ID, "action-cancel").click()
    text_shows(browser, "#confirm-text", "No message is pending.")
    page_element(browser, "#confirm-ok").click()
    status_shows(browser, "cancelled")
    assert page_service.call("GET", f"/campaigns/{created['id']}")["status"] == "cancelled"
    assert not browser.find_elements(By.ID, "action-delete"), "a cancelled campaign is not deleted"

    # The count it says is the count cancelled: three messages waiting for their time.
    later = page_campaign(page_service, scheduled_at="2099-01-01T09:00:00Z")
    customers = page_customers(page_service, {}, {}, {})
    page_service.call("POST", f"/campaigns/{later['id']}/send",
                      {"customer_ids": [c["id"] for c in customers]})
    open_page(browser, page_service, f"/campaigns/{later['id']}")
    page_element(browser, "#action-cancel").click()
    text_shows(browser, "#confirm-text", "3 pending messages will be cancelled, never sent.")
    page_element(browser, "#confirm-ok").click()
    status_shows(browser, "cancelled")
    assert page_service.call("GET", f"/campaigns/{later['id']}")["stats"]["cancelled"] == 3

    draft = page_campaign(page_service)
    open_page(browser, page_service, f"/campaigns/{draft['id']}")
    page_element(browser, "#action-delete").click()
    text_shows(browser, "#confirm-title", "Delete")
    browser.find_element(By.ID, "confirm-ok").click()
    page_wait(browser).until(lambda b: b.current_url.endswith("#/campaigns"))
    assert page_api_error(page_service, "GET", f"/campaigns/{draft['id']}")["code"] == (
        "CAMPAIGN_NOT_FOUND")


@needs_browser
def test_the_overview_is_the_landing_page(page_service, browser):
    people = page_customers(page_service, {"first_name": "Neema"}, {"first_name": "Otieno"})
    created = page_campaign(page_service)
    page_service.call("POST", f"/campaigns/{created['id']}/send",
                      {"customer_ids": [p["id"] for p in people]})
    page_wait(browser).until(
        lambda b: page_service.call("GET", f"/campaigns/{created['id']}")["status"] == "sent")
    browser.get("about:blank")
    browser.get(page_service.url + "/")
    page_element(browser, "#overview")
    assert browser.find_element(By.ID, "nav-overview").get_attribute("aria-current") == "page"
    answer = page_service.call("GET", "/overview")
    sms = answer["today"]["channels"][0]
    assert sms["sent"] >= 2
    page_wait(browser).until(
        lambda b: b.find_element(By.CSS_SELECTOR, "[data-testid=today-sms-sent]").text
        == f"{page_service.call('GET', '/overview')['today']['channels'][0]['sent']:,}")
    chart = browser.find_element(By.CSS_SELECTOR, "#attempts-chart svg")
    assert chart.get_attribute("role") == "img"
    caption = browser.find_element(By.ID, chart.get_attribute("aria-labelledby")).text
    # the attempts just made may all be in the 10-second step in progress, not drawn yet (figures
    # of its own: test_the_overview_chart_leaves_out_the_step_in_progress)
    assert caption.startswith(("Attempts per second over the last hour, in 10-second steps: peak",
                               "Attempts began in the last 10 seconds")), caption
    assert browser.find_elements(By.CSS_SELECTOR, "#attempts-chart svg rect")
    for tile in ("#tile-pending", "#tile-queue", "#tile-in-flight", "#tile-latency",
                 "#tile-error-rate", "#tile-outbox"):
        assert browser.find_element(By.CSS_SELECTOR, tile + " .v").text, tile
    assert "ms" in browser.find_element(By.CSS_SELECTOR, "#tile-latency .v").text
    assert "Mock provider" in browser.find_element(By.ID, "gateways-table").text
    assert "Quiet hours: off" in browser.find_element(By.ID, "overview").text


@needs_browser
def test_a_campaigns_page_draws_its_life_and_names_its_customers(page_service, browser):
    amani, = page_customers(page_service, {"first_name": "Amani", "last_name": "Njoroge"})
    created = page_campaign(page_service)
    page_service.call("POST", f"/campaigns/{created['id']}/send", {"customer_ids": [amani["id"]]})
    open_page(browser, page_service, f"/campaigns/{created['id']}")
    status_shows(browser, "sent", timeout=15)
    page_element(browser, "#funnel")
    assert browser.find_element(
        By.CSS_SELECTOR, "[data-testid=funnel-queued] .value").text.startswith("1")
    assert browser.find_element(
        By.CSS_SELECTOR, "[data-testid=funnel-sent] .value").text.startswith("1")
    assert browser.find_element(
        By.CSS_SELECTOR, "[data-testid=funnel-failed] .value").text.startswith("0")
    chart = page_element(browser, "#rate-chart svg")
    assert chart.get_attribute("role") == "img"
    assert "Attempts per second" in browser.find_element(
        By.ID, chart.get_attribute("aria-labelledby")).text
    assert "1 sent" in browser.find_element(By.CSS_SELECTOR, "#outcomes-chart figcaption").text
    (message,) = page_service.call("GET", f"/campaigns/{created['id']}/messages")["data"]
    cell = page_element(
        browser, f"[data-testid=message-row-{message['id']}] [data-testid=message-customer]")
    assert "Amani Njoroge" in cell.text and amani["phone"] in cell.text and "#" not in cell.text
    assert browser.find_element(By.ID, "campaign-quiet").text == "Off: the service has none"


@needs_browser
def test_percentages_are_rounded_down_alike_everywhere(page_service, browser):
    created = page_campaign(page_service)
    # 1,999 of 2,000 settled: the API's percent, rounded to a tenth, says 100.0
    stats = dict(page_service.call("GET", f"/campaigns/{created['id']}")["stats"],
                 total=2000, sent=1999, pending=1)
    campaign = dict(page_service.call("GET", f"/campaigns/{created['id']}"), status="sending",
                    stats=stats, progress={"percent": 100.0, "rate_per_second": 0,
                                           "eta_seconds": 1})
    listed = page_service.call("GET", "/campaigns?page_size=20")
    listed["data"] = [campaign]
    overview = page_service.call("GET", "/overview")
    overview["today"]["channels"][0].update(sent=3, delivered=2)
    answers = {f"/campaigns/{created['id']}": campaign, "/campaigns": listed,
               "/overview": overview}

    open_page_answering(browser, page_service, f"/campaigns/{created['id']}", answers)
    text_shows(browser, "#progress-percent", "99%")
    assert page_wait(browser).until(lambda b: b.find_element(
        By.ID, "campaign-progress").get_attribute("aria-valuenow")) == "99"
    assert page_text(browser, "[data-testid=funnel-sent] .value") == "1,999 99%"
    open_page_answering(browser, page_service, "/campaigns", answers)
    text_shows(browser, f"[data-testid=campaign-row-{created['id']}] .pct", "99%")
    open_page_answering(browser, page_service, "/", answers)
    text_shows(browser, "[data-testid=today-sms-delivered]", "2 (66% of sent)")


LIFE_T0 = datetime.datetime(2026, 12, 6, 3, 0, 12, tzinfo=datetime.UTC).timestamp()


def life_points(*moments: tuple[float, ...]) -> list[dict]:
    """A timeline's points at (seconds after LIFE_T0, sent, suppressed[, attempts: as many as
    sent]), the other counts 0, each with its rates as the API computes them: since the point
    before."""
    points, before = [], None
    for seconds, sent, suppressed, *retried in moments:
        attempts = retried[0] if retried else sent
        rates = (0.0, 0.0) if before is None else tuple(
            round(change / (seconds - before[0]), 2)
            for change in (sent + suppressed - before[1] - before[2], attempts - before[3]))
        points.append({"at": sl.utc_iso(LIFE_T0 + seconds), "sent": sent, "failed": 0,
                       "suppressed": suppressed, "cancelled": 0, "delivered": 0,
                       "undelivered": 0, "attempts": attempts, "settled_per_second": rates[0],
                       "attempts_per_second": rates[1]})
        before = (seconds, sent, suppressed, attempts)
    return points


def open_life(browser, page_service, status: str, points: list[dict]) -> str:
    """A campaign's page drawing these timeline points, the campaign `status` (finished at the
    last point unless sending); its rate chart's caption."""
    created = page_campaign(page_service)
    last = points[-1]
    settled = last["sent"] + last["suppressed"]
    campaign = dict(page_service.call("GET", f"/campaigns/{created['id']}"), status=status,
                    started_at=points[0]["at"],
                    finished_at=None if status == "sending" else last["at"])
    campaign["stats"].update(total=settled + 100, sent=last["sent"],
                             suppressed=last["suppressed"], pending=100)
    timeline = {"campaign_id": created["id"], "started_at": campaign["started_at"],
                "finished_at": campaign["finished_at"], "points": points}
    open_page_answering(browser, page_service, f"/campaigns/{created['id']}", {
        f"/campaigns/{created['id']}": campaign,
        f"/campaigns/{created['id']}/timeline": timeline})
    page_element(browser, "#rate-chart figcaption")
    return page_text(browser, "#rate-chart figcaption")


@needs_browser
def test_a_sending_campaigns_chart_leaves_out_the_second_in_progress(page_service, browser):
    # 20 attempts a second (16 settled) for 9 s; the last point is 0.2 s into the tenth,
    # nothing recorded in it yet
    points = life_points(*[(n, 16 * n, 0, 20 * n) for n in range(10)], (9.2, 144, 0, 184))
    caption = open_life(browser, page_service, "sending", points)
    assert caption == ("Attempts per second over 9 s: peak 20/s; "
                       "20/s in the last 1 s."), caption
    assert len(browser.find_elements(By.CSS_SELECTOR, "#rate-chart svg rect")) == 9
    # the outcomes are drawn to the last point, as they are now
    assert "144 sent" in page_text(browser, "#outcomes-chart figcaption")


@needs_browser
def test_a_campaign_done_within_a_second_never_rates_more_than_it_attempted(page_service,
                                                                            browser):
    # one suppressed at the start, then 13 sent in 18 ms: the API says 722.22/s
    points = life_points((0, 0, 1), (0.018, 13, 1))
    caption = open_life(browser, page_service, "sent", points)
    assert caption == "Attempts per second over 1 s: peak 13/s.", caption
    # a longer one whose last step is short (4 in 0.1 s): it joins the one before, 24 in 1.2 s
    points = life_points((0, 0, 0), (1.1, 20, 0), (2.2, 40, 0), (2.3, 44, 0))
    caption = open_life(browser, page_service, "sent", points)
    assert caption == "Attempts per second over 2 s: peak 20/s.", caption


def clock_seconds(label: str) -> int | None:
    """Seconds past the hour of a clock time shown to the second ("03:00:57 AM"), else None."""
    match = re.search(r"\d+:(\d\d):(\d\d)", label)
    return match and int(match[1]) * 60 + int(match[2])


@needs_browser
def test_a_short_campaigns_chart_axis_tells_its_seconds(page_service, browser):
    open_life(browser, page_service, "sent", life_points((0, 0, 0), (15, 240, 0), (30, 480, 0),
                                                         (45, 720, 0)))
    for chart in ("rate", "outcomes"):
        left, right = (span.text for span in browser.find_elements(
            By.CSS_SELECTOR, f"#{chart}-chart + .axis span"))
        assert (clock_seconds(left), clock_seconds(right)) == (12, 57), (left, right)
    browser.find_element(By.CSS_SELECTOR, "#rate-chart summary").click()
    times = [row.find_element(By.TAG_NAME, "td").text for row in browser.find_elements(
        By.CSS_SELECTOR, "#rate-chart tbody tr")]
    assert [clock_seconds(t) for t in times] == [27, 42, 57], times
    # over two hours, minutes are enough
    open_life(browser, page_service, "sent", life_points((0, 0, 0), (7200, 720, 0)))
    left, right = (span.text for span in browser.find_elements(
        By.CSS_SELECTOR, "#rate-chart + .axis span"))
    assert left != right and clock_seconds(left) is None and clock_seconds(right) is None


@needs_browser
def test_the_overview_chart_leaves_out_the_step_in_progress(page_service, browser):
    # An hour of 10-second steps to 03:00:00 UTC: quiet, then 16 a second for a minute; the
    # last, 03:00:00, is the step in progress, a second in: 3 a second so far.
    overview = page_service.call("GET", "/overview")
    rates = [0] * 353 + [16] * 6 + [3]
    overview["attempts_per_second"] = [
        {"at": sl.utc_iso(LIFE_T0 - 12 - 10 * (359 - n)), "per_second": rate}
        for n, rate in enumerate(rates)]
    open_page_answering(browser, page_service, "/", {"/overview": overview})
    caption = page_element(browser, "#attempts-chart figcaption").text
    assert caption.startswith("Attempts per second over the last hour, in 10-second steps: "
                              "peak 16 at ") and caption.endswith(
        "; 16 a second over the last minute."), caption
    assert clock_seconds(caption) == 59 * 60  # the first step at 16: 02:59:00 UTC
    assert len(browser.find_elements(By.CSS_SELECTOR, "#attempts-chart svg rect")) == 359
    browser.find_element(By.CSS_SELECTOR, "#attempts-chart summary").click()
    times = [row.find_element(By.TAG_NAME, "td").text for row in browser.find_elements(
        By.CSS_SELECTOR, "#attempts-chart tbody tr")]
    assert [clock_seconds(t) for t in times] == [59 * 60 + 10 * n for n in range(6)], times
    # a rate-limited backlog: no job waits, the messages do
    overview |= {"messages_pending": 2600, "queue_depth": 0}
    open_page_answering(browser, page_service, "/", {"/overview": overview})
    assert page_element(browser, "#tile-pending .v").text == "2,600"
    # attempts in the step in progress only: said so, not "no attempts"
    overview["attempts_per_second"] = [dict(pt, per_second=0)
                                       for pt in overview["attempts_per_second"]]
    overview["attempts_per_second"][-1]["per_second"] = 3
    open_page_answering(browser, page_service, "/", {"/overview": overview})
    text_shows(browser, "#attempts-chart figcaption", "Attempts began in the last 10 seconds")


@needs_browser
def test_customers_are_added_edited_and_erased_from_the_page(page_service, browser):
    town = f"Formtown {page_token()}"
    phone = page_phone()
    open_page(browser, page_service, "/customers")
    page_element(browser, "#c-phone").send_keys("12345")
    browser.find_element(By.ID, "customer-save").click()
    text_shows(browser, "#customer-error", "E.164")
    phone_input = browser.find_element(By.ID, "c-phone")
    phone_input.clear()
    phone_input.send_keys(phone)
    browser.find_element(By.ID, "c-first").send_keys("Zawadi")
    browser.find_element(By.ID, "c-location").send_keys(town)
    browser.find_element(By.ID, "customer-save").click()
    text_shows(browser, "#toasts", "Zawadi is added")
    (made,) = page_service.call("GET", f"/customers?location={town.replace(' ', '%20')}")["data"]
    assert (made["phone"], made["first_name"], made["last_name"]) == (phone, "Zawadi", None)

    page_element(browser, "#customer-filter-location").send_keys(town)
    browser.find_element(By.ID, "customer-search-submit").click()
    page_wait(browser).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, "#customers-table tbody tr")) == 1)
    click_when_ready(browser, f"[data-testid=edit-{made['id']}]")
    text_shows(browser, "#customer-form-h", "Edit Zawadi")
    assert browser.find_element(By.ID, "c-phone").get_attribute("value") == phone
    browser.find_element(By.ID, "c-last").send_keys("Mutua")
    browser.find_element(By.ID, "customer-save").click()
    text_shows(browser, "#toasts", "Zawadi Mutua is saved")
    assert page_service.call("GET", f"/customers/{made['id']}")["last_name"] == "Mutua"
    text_shows(browser, f"[data-testid=customer-row-{made['id']}]", "Zawadi Mutua")

    click_when_ready(browser, f"[data-testid=erase-{made['id']}]")
    text_shows(browser, "#confirm-title", "Erase Zawadi Mutua?")
    browser.find_element(By.ID, "confirm-cancel").click()
    assert page_service.call("GET", f"/customers/{made['id']}")["id"] == made["id"]
    click_when_ready(browser, f"[data-testid=erase-{made['id']}]")
    page_element(browser, "#confirm-ok").click()
    text_shows(browser, "#toasts", "Zawadi Mutua is erased")
    assert page_api_error(page_service, "GET", f"/customers/{made['id']}")["code"] == (
        "CUSTOMER_NOT_FOUND")
    page_wait(browser).until(lambda b: not b.find_elements(
        By.CSS_SELECTOR, f"[data-testid=customer-row-{made['id']}]"))


@needs_browser
def test_the_compose_form_says_its_time_zone_and_quiet_hours(page_service, browser):
    open_page(browser, page_service, "/campaigns/new")
    label = page_element(browser, "label[for=f-schedule]").text
    zone = browser.execute_script("return Intl.DateTimeFormat().resolvedOptions().timeZone")
    assert zone in label
    quiet = browser.find_element(By.ID, "f-quiet")
    assert not quiet.is_selected() and not quiet.is_enabled()
    assert "Quiet hours: off" in browser.find_element(By.CSS_SELECTOR, "label[for=f-quiet]").text
    assert "no quiet hours" in browser.find_element(By.ID, "quiet-hint").text


def wa_parameters(browser) -> list[str]:
    """The template's parameter rows of the compose form, as typed."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#wa-parameters input')].map(i => i.value)")


def wa_filled(browser) -> list[str]:
    """The preview's filled-in parameters, as shown ("{{1}} Wanjiru")."""
    return browser.execute_script(
        "return [...document.querySelectorAll('[data-testid=preview-wa-parameter]')]"
        ".map(li => li.textContent)")


def add_wa_parameter(browser, text: str) -> None:
    browser.find_element(By.ID, "wa-add-parameter").click()
    browser.switch_to.active_element.send_keys(text)  # the new row has the focus


def retype(browser, element_id: str, text: str) -> None:
    element = browser.find_element(By.ID, element_id)
    element.clear()
    element.send_keys(text)


@needs_browser
def test_a_whatsapp_campaign_gets_its_template_from_the_form_with_a_preview_of_its_parameters(
        page_service, browser):
    wanjiru, nameless = page_customers(page_service,
                                       {"first_name": "Wanjiru", "preferred_product": "Tea"},
                                       {"last_name": "Odhiambo", "location": "Kisumu"})
    name = f"Order update {page_token()}"
    open_page(browser, page_service, "/campaigns/new")
    page_element(browser, "#f-name").send_keys(name)
    assert not browser.find_element(By.ID, "wa-template").is_displayed(), "no template for SMS"
    Select(browser.find_element(By.ID, "f-channel")).select_by_value("whatsapp")
    page_element(browser, "#wa-template")
    assert browser.find_element(By.ID, "wa-mode-template").is_selected()
    assert browser.find_element(By.ID, "f-wa-language").get_attribute("value") == "en_US"
    browser.find_element(By.ID, "f-template").send_keys(
        "Hi {first_name|there}, your order is on its way")
    browser.find_element(By.ID, "f-wa-name").send_keys("order_update")
    add_wa_parameter(browser, "{first_name|there}")
    add_wa_parameter(browser, "a slip")
    add_wa_parameter(browser, "{preferred_product|your   order}")
    # the rows after it move up
    browser.find_element(By.CSS_SELECTOR, "[data-testid=wa-remove-2]").click()
    assert wa_parameters(browser) == ["{first_name|there}", "{preferred_product|your   order}"]
    assert " ".join(browser.find_element(
        By.CSS_SELECTOR, "label[for=f-wa-param-2]").text.split()) == "Parameter {{2}}"

    Select(browser.find_element(By.ID, "preview-customer")).select_by_value(str(wanjiru["id"]))
    page_wait(browser).until(lambda b: wa_filled(b) == ["{{1}}Wanjiru", "{{2}}Tea"])
    assert "order_update" in browser.find_element(By.ID, "preview-wa").text
    text_shows(browser, "#preview-text", "Hi Wanjiru, your order is on its way")
    Select(browser.find_element(By.ID, "preview-customer")).select_by_value(str(nameless["id"]))
    # on one line, as sent
    page_wait(browser).until(lambda b: wa_filled(b) == ["{{1}}there", "{{2}}your order"])
    text_shows(browser, "#preview-missing", "preferred_product")  # a parameter's field counts too
    assert not [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == name], "composing saves nothing"

    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#campaign-name", name)
    (saved,) = [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == name]
    assert (saved["channel"], saved["status"]) == ("whatsapp", "draft")
    assert saved["whatsapp_template"] == {
        "name": "order_update", "language": "en_US",
        "parameters": ["{first_name|there}", "{preferred_product|your   order}"]}
    text_shows(browser, "#campaign-wa-template", "order_update")
    # The service's own preview of the saved campaign agrees with what the form showed.
    for customer, shown in ((wanjiru, ["Wanjiru", "Tea"]), (nameless, ["there", "your order"])):
        preview = page_service.call("POST", f"/campaigns/{saved['id']}/personalized-preview",
                                    {"customer_id": customer["id"]})
        assert preview["whatsapp_template"]["parameters"] == shown


@needs_browser
def test_a_whatsapp_template_is_changed_then_cleared_from_the_form(page_service, browser):
    created = page_campaign(page_service, channel="whatsapp", whatsapp_template={
        "name": "order_update", "language": "en_US", "parameters": ["{first_name}", "{location}"]})
    open_page(browser, page_service, f"/campaigns/{created['id']}/edit")
    assert page_element(browser, "#wa-mode-template").is_selected()
    assert browser.find_element(By.ID, "f-wa-name").get_attribute("value") == "order_update"
    assert wa_parameters(browser) == ["{first_name}", "{location}"]
    retype(browser, "f-wa-name", "delivery_notice_2")
    retype(browser, "f-wa-language", "sw")
    browser.find_element(By.CSS_SELECTOR, "[data-testid=wa-remove-2]").click()
    retype(browser, "f-wa-param-1", "{first_name|rafiki}")
    add_wa_parameter(browser, "{preferred_product|duka letu}")
    browser.find_element(By.ID, "save-campaign").click()
    status_shows(browser, "draft")
    text_shows(browser, "#campaign-wa-template", "delivery_notice_2")
    assert page_service.call("GET", f"/campaigns/{created['id']}")["whatsapp_template"] == {
        "name": "delivery_notice_2", "language": "sw",
        "parameters": ["{first_name|rafiki}", "{preferred_product|duka letu}"]}

    # Text instead: the hint says what that costs, and the template goes (null).
    page_element(browser, "#action-edit").click()
    page_element(browser, "#wa-mode-text").click()
    assert not browser.find_element(By.ID, "f-wa-name").is_displayed()
    assert "24 hours" in page_element(browser, "#wa-text-hint").text
    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#campaign-wa-template", "None: sent as text")
    after = page_service.call("GET", f"/campaigns/{created['id']}")
    assert (after["channel"], after["whatsapp_template"]) == ("whatsapp", None)

    # A campaign turned into SMS loses its template in the same change.
    again = page_campaign(page_service, channel="whatsapp", whatsapp_template={
        "name": "order_update", "language": "en", "parameters": []})
    open_page(browser, page_service, f"/campaigns/{again['id']}/edit")
    Select(page_element(browser, "#f-channel")).select_by_value("sms")
    assert not browser.find_element(By.ID, "wa-template").is_displayed()
    browser.find_element(By.ID, "save-campaign").click()
    page_wait(browser).until(lambda b: b.current_url.endswith(f"#/campaigns/{again['id']}"))
    status_shows(browser, "draft")
    after = page_service.call("GET", f"/campaigns/{again['id']}")
    assert (after["channel"], after["whatsapp_template"]) == ("sms", None)


@needs_browser
def test_a_refused_template_is_shown_by_its_field_and_changes_nothing(page_service, browser):
    page_customers(page_service, {"first_name": "Baraka"})
    name = f"Bad template {page_token()}"
    spec = {"name": "Order Update", "language": "en_US", "parameters": ["{first_name}"]}
    refusal = page_api_error(page_service, "POST", "/campaigns", {
        "name": name, "channel": "whatsapp", "base_template": "Hi", "whatsapp_template": spec})
    assert refusal["message"].startswith("whatsapp_template name")
    open_page(browser, page_service, "/campaigns/new")
    page_element(browser, "#f-name").send_keys(name)
    Select(browser.find_element(By.ID, "f-channel")).select_by_value("whatsapp")
    browser.find_element(By.ID, "f-template").send_keys("Hi")
    page_element(browser, "#f-wa-name").send_keys(spec["name"])
    add_wa_parameter(browser, "{first_name}")
    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#f-wa-name-error", refusal["message"])
    name_input = browser.find_element(By.ID, "f-wa-name")
    assert name_input.get_attribute("aria-invalid") == "true"
    assert name_input.get_attribute("aria-describedby") == "f-wa-name-error"
    assert browser.switch_to.active_element == name_input
    assert not browser.find_element(By.ID, "form-error").text
    assert browser.current_url.endswith("#/campaigns/new")
    assert not [c for c in page_service.call("GET", "/campaigns?page_size=100")["data"]
                if c["name"] == name]

    # Editing: a parameter the service refuses is marked on its row; the campaign stays as it was.
    kept = {"name": "order_update", "language": "en_US",
            "parameters": ["{first_name}", "{location}"]}
    created = page_campaign(page_service, channel="whatsapp", whatsapp_template=kept)
    bad = page_api_error(page_service, "PATCH", f"/campaigns/{created['id']}", {
        "whatsapp_template": {**kept, "parameters": ["{first_name}", "{nickname}"]}})
    assert bad["code"] == "INVALID_TEMPLATE" and bad["message"].startswith(
        "whatsapp_template.parameters[1]")
    open_page(browser, page_service, f"/campaigns/{created['id']}/edit")
    page_element(browser, "#f-wa-param-2")
    retype(browser, "f-wa-param-2", "{nickname}")
    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#f-wa-param-2-error", bad["message"])
    assert browser.find_element(By.ID, "f-wa-param-2").get_attribute("aria-invalid") == "true"
    assert not browser.find_element(By.ID, "f-wa-param-1-error").text
    # An empty row is a slip the page names itself, before asking the service.
    retype(browser, "f-wa-param-2", "{location}")
    add_wa_parameter(browser, "")
    browser.find_element(By.ID, "save-campaign").click()
    text_shows(browser, "#f-wa-param-3-error", "Write {{3}} or remove it.")
    assert browser.current_url.endswith(f"#/campaigns/{created['id']}/edit")
    assert page_service.call("GET", f"/campaigns/{created['id']}") == created


@needs_browser
def test_the_overview_shows_what_to_paste_into_each_gateways_console(make_page_service, browser,
                                                                     tmp_path):
    provider = ServiceProcess(tmp_path)
    provider.log = tmp_path / "provider.log"
    provider.settings = ["mock-provider", "--port", "0", "--dialect", "whatsapp",
                         "--app-secret", "wa-s3cret"]
    provider.start()
    try:
        served = make_page_service(
            "--whatsapp-provider-url", WA_URL.format(address=provider.url.split("//")[1]),
            "--public-url", "https://leopard.example.com")
        (whatsapp,) = [g for g in served.call("GET", "/providers")["data"]
                       if g["kind"] == "whatsapp"]
        open_page(browser, served, "/")
        row = page_element(browser, "[data-testid=gateway-whatsapp]")
        assert ("WhatsApp Cloud API" in row.text and whatsapp["host"] in row.text
                and "Up" in row.text)
        assert "Mock provider" in browser.find_element(
            By.CSS_SELECTOR, "[data-testid=gateway-sms]").text
        webhook = browser.find_element(By.CSS_SELECTOR,
                                       "[data-testid=callback-webhook-whatsapp] input")
        assert webhook.get_attribute("value") == whatsapp["callbacks"]["receipts"] == (
            "https://leopard.example.com/providers/whatsapp")
        assert webhook.get_attribute("readonly") is not None
        token = browser.find_element(By.CSS_SELECTOR, "[data-testid=verify-token-whatsapp] input")
        assert token.get_attribute("value") == whatsapp["verify_token"] == "vt-123"
        label = browser.find_element(By.CSS_SELECTOR, f"label[for={token.get_attribute('id')}]")
        assert label.text == "Verify token"
        browser.find_element(By.CSS_SELECTOR, "[data-testid=verify-token-whatsapp] button").click()
        text_shows(browser, "#toasts", "Verify token")
        shown = browser.execute_script(
            "return document.body.innerText"
            " + [...document.querySelectorAll('input')].map(i => i.value).join(' ')")
        assert "vt-123" in shown and "wa-t0ken" not in shown and "wa-s3cret" not in shown, (
            "never a credential")

        # At a phone's width the URLs stay inside the page, and so does the template's form.
        browser.set_window_size(390, 844)
        try:
            browser.refresh()
            page_element(browser, "[data-testid=callback-webhook-whatsapp] input")
            open_page(browser, served, "/campaigns/new")
            Select(page_element(browser, "#f-channel")).select_by_value("whatsapp")
            page_element(browser, "#f-wa-name").send_keys(
                "a_rather_long_template_name_for_a_phone")
            add_wa_parameter(browser,
                             "{preferred_product|something from our shop, with a long fallback}")
            wide = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], wide
        finally:
            browser.set_window_size(1280, 900)
    finally:
        provider.process.kill()
        provider.process.wait()


@needs_browser
def test_at_phone_width_nothing_scrolls_sideways_and_toasts_cover_nothing(page_service, browser):
    people = page_customers(page_service, *(
        {"first_name": f"Narrow {n}", "location": "A very long town name indeed"}
        for n in range(3)))
    created = page_campaign(page_service,
                            name="A campaign with a rather long name to wrap on a phone")
    page_service.call("POST", f"/campaigns/{created['id']}/send",
                      {"customer_ids": [p["id"] for p in people]})
    browser.set_window_size(390, 844)
    try:
        for route, ready in (("/", "#overview .card"), ("/campaigns", "#campaigns-table"),
                             (f"/campaigns/{created['id']}", "#messages-table"),
                             ("/customers", "#customers-table"),
                             ("/campaigns/new", "#f-template")):
            open_page(browser, page_service, route)
            page_element(browser, ready)
            wide = browser.execute_script(
                "return [document.documentElement.scrollWidth, window.innerWidth]")
            assert wide[0] <= wide[1], (route, wide)
            for link in browser.find_elements(By.CSS_SELECTOR, ".top nav a"):
                box = browser.execute_script(
                    "const r = arguments[0].getBoundingClientRect(); return [r.left, r.right]",
                    link)
                assert box[0] >= 0 and box[1] <= wide[1], (route, link.text, box)
        # A message appears above the page: it covers no control (the pager included).
        open_page(browser, page_service, "/campaigns")
        page_element(browser, "#campaigns-next")
        browser.execute_script("toast('A message that stays a while')")
        text_shows(browser, "#toasts", "A message that stays a while")
        covered = browser.execute_script("""
            const t = document.querySelector('#toasts').getBoundingClientRect();
            return [...document.querySelectorAll('main button, main a, main select, main input')]
              .filter(el => {
                const r = el.getBoundingClientRect();
                return r.width && !(r.bottom <= t.top || r.top >= t.bottom
                                    || r.right <= t.left || r.left >= t.right);
              }).map(el => el.id || el.textContent)""")
        assert covered == []
    finally:
        browser.set_window_size(1280, 900)


@needs_browser
def test_no_request_to_another_host_and_no_console_errors(page_service, browser):
    (person,) = page_customers(page_service, {"first_name": "Imani"})
    created = page_campaign(page_service)
    with contextlib.suppress(WebDriverException):
        browser.get_log("browser")  # empty the log of earlier tests
    open_page(browser, page_service, "/campaigns")
    page_element(browser, f"[data-testid=campaign-row-{created['id']}] a").click()
    page_element(browser, "#send-mode-ids").click()
    page_element(browser, "#send-ids").send_keys(f"{person['id']}")
    browser.find_element(By.ID, "send-submit").click()
    status_shows(browser, "sent", timeout=15)
    assert [m["customer_id"] for m in page_service.call(
        "GET", f"/campaigns/{created['id']}/messages")["data"]] == [person["id"]]
    page_element(browser, "#messages-table")
    browser.find_element(By.ID, "nav-customers").click()
    page_element(browser, "#customers-table")
    browser.find_element(By.ID, "nav-campaigns").click()
    page_element(browser, "#new-campaign").click()
    page_element(browser, "#f-name").send_keys(f"Console check {page_token()}")
    browser.find_element(By.ID, "f-template").send_keys("Hi {first_name}")
    text_shows(browser, "#preview-text", "Hi ")

    names = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert names, "the page spoke to the page_service"
    assert all(n.startswith(page_service.url + "/") for n in names), names
    lists = [n for n in names if "/campaigns?" in n]
    assert lists[0].endswith("/campaigns?page_size=20"), "the first paint asks for one page only"
    try:
        log = browser.get_log("browser")
    except WebDriverException:  # a driver without the log
        log = []
    assert [entry for entry in log if entry["level"] == "SEVERE"] == []
    # Leave no auto-saved draft behind for the other tests' lists.
    browser.find_element(By.ID, "save-campaign").click()
    page_element(browser, "#campaign-name")


# ---------------------------------------------------------------------------
# APP
# ---------------------------------------------------------------------------


# -- Shutdown -----------------------------------------------------------------

class TestShutdown:
    pytestmark = pytest.mark.asyncio

    async def test_stop_lets_attempts_in_flight_finish_and_releases_the_rest(self, make_harness):
        h = await make_harness(concurrency=4)
        ids = await h.add_customers(10)
        h.sender.gate = asyncio.Event()
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(4)
        stopping = asyncio.create_task(h.dispatcher.stop(timeout=30))
        await asyncio.sleep(0)
        h.sender.gate.set()
        await stopping
        messages = await h.messages(campaign_id)
        assert Counter(m["status"] for m in messages) == {"sent": 4, "pending": 6}
        assert {m["retry_count"] for m in messages} == {0}
        stats = (await h.campaign(campaign_id))["stats"]
        assert (stats["sent"], stats["pending"], stats["sending"]) == (4, 6, 0)
        claimed = await h.sql(
            "SELECT count(*) FROM outbound_messages WHERE claim_token IS NOT NULL")
        assert claimed == [(0,)]

    async def test_stop_is_bounded_when_the_provider_hangs(self, make_harness):
        h = await make_harness(concurrency=2)
        ids = await h.add_customers(2)
        h.sender.gate = asyncio.Event()  # never set: the provider hangs
        campaign_id = await h.launch(ids)
        await h.sender.wait_for_in_flight(2)
        await asyncio.wait_for(h.dispatcher.stop(timeout=0.01), timeout=5)
        messages = await h.messages(campaign_id)
        # our own shutdown interrupted them: released, no retry used up
        assert [(m["status"], m["retry_count"], m["last_error"]) for m in messages] == [
            ("pending", 0, None)] * 2
        assert (await h.campaign(campaign_id))["stats"] == stats(total=2, pending=2)


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def test_the_collector_is_tuned_once_started():
    """What the start made is frozen; young collections wait for YOUNG_OBJECTS new objects."""
    before = gc.get_threshold()  # another test's service in this process may have tuned it
    try:
        gc.set_threshold(700, 10, 10)  # Python's own
        sl.tune_collector()
        assert gc.get_threshold() == (sl.YOUNG_OBJECTS, 10, 10)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


# -- Crash safety, with a real process that really dies -----------------------

class ServiceProcess:
    """`python smsleopard.py` on a port of its choosing, driven over HTTP like a user would."""

    def __init__(self, tmp_path, *settings):
        self.db = str(tmp_path / "crash.db")
        self.log = tmp_path / "service.log"
        self.settings = ["--db", self.db, "--port", "0", "--no-seed", "--failure-rate", "0",
                         *settings]
        self.process = None
        self.url = None

    def start(self, timeout=15, cwd=None, limits=()):
        """Start the process (with resource limits, as (RLIMIT_*, soft) pairs) and wait until it
        listens."""
        self.log.write_text("")

        def limit():
            import resource

            for kind, soft in limits:
                resource.setrlimit(kind, (soft, resource.getrlimit(kind)[1]))

        self.process = start_process([sys.executable, sl.__file__, *self.settings], cwd=cwd,
                                        stdout=subprocess.DEVNULL, stderr=self.log.open("a"),
                                        preexec_fn=limit if limits else None)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            for line in self.log.read_text().splitlines():
                if match := re.search(r"listening on (http://[\w.:\[\]]+)", line):
                    self.url = match[1]
                    self.port = int(self.url.rsplit(":", 1)[1])
                    return self
            time.sleep(0.02)
        raise AssertionError(f"the service did not start: {self.log.read_text()}")

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def request(self, method, path, body=None, timeout=30):
        """(status, answer) of a request, errors included."""
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def wait_for(self, predicate, what, timeout=30):
        """Poll the live service until predicate(campaign) holds (a real process gives no
        callback)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            campaign = self.call("GET", "/campaigns/1")
            if predicate(campaign):
                return campaign
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}: {campaign}")

    def stop(self, signum, timeout=20):
        self.process.send_signal(signum)
        return self.process.wait(timeout=timeout)

    def rows(self, sql):
        with sqlite3.connect(self.db) as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def service(tmp_path):
    if not PROCESSES:
        pytest.skip(PROCESSES_OFF)
    services = []

    def make(*settings):
        services.append(ServiceProcess(tmp_path, *settings))
        return services[-1]

    yield make
    for started in services:
        if started.process and started.process.poll() is None:
            started.process.kill()
            started.process.wait()


def start_campaign(svc, customers=200, scheduled_at=None):
    svc.call("POST", "/customers", {"customers": [{"phone": f"+1555{i:07d}", "first_name": f"N{i}"}
                                                  for i in range(customers)]})
    body = {"name": "Crash test", "channel": "sms", "base_template": "Hi {first_name}"}
    if scheduled_at:
        body["scheduled_at"] = scheduled_at
    svc.call("POST", "/campaigns", body)
    return svc.call("POST", "/campaigns/1/send", {"all_customers": True})


def assert_each_customer_got_one_sent_message(svc, customers=200):
    rows = svc.rows("SELECT customer_id, status, retry_count, rendered_content, claim_token "
                    "FROM outbound_messages WHERE campaign_id = 1 ORDER BY customer_id")
    # one row per customer, none lost
    assert [row[0] for row in rows] == list(range(1, customers + 1))
    assert {(status, retries, claim) for _, status, retries, _, claim in rows} == {
        ("sent", 0, None)}
    assert all(content == f"Hi N{customer - 1}" for customer, _, _, content, _ in rows)
    campaign = svc.call("GET", "/campaigns/1")
    assert campaign["status"] == "sent"
    assert campaign["stats"] == stats(total=customers, pending=0, sending=0, sent=customers,
                                      failed=0)


def provider_counts(provider):
    """The mock provider process's GET /stats."""
    return json.loads(urllib.request.urlopen(f"{provider.url}/stats", timeout=10).read())


class TestCrashSafety:
    def test_sigterm_exits_zero_promptly_and_the_rest_resumes(self, service):
        svc = service("--send-latency-ms", "40", "--concurrency", "20").start()
        start_campaign(svc)
        svc.wait_for(lambda c: c["stats"]["sent"] >= 60, "a campaign in flight")
        began = time.monotonic()
        assert svc.stop(signal.SIGTERM) == 0
        assert time.monotonic() - began < 10
        assert svc.rows(
            "SELECT count(*) FROM outbound_messages WHERE claim_token IS NOT NULL") == [(0,)]
        assert "shutting down" in svc.log.read_text()

        svc.start()
        svc.wait_for(lambda c: c["status"] == "sent", "the campaign to finish after the restart")
        assert_each_customer_got_one_sent_message(svc)
        assert svc.stop(signal.SIGINT) == 0

    def test_while_sigterm_waits_for_attempts_the_service_still_answers(self, service):
        """A gateway's reports of the attempts in flight (and any request) still get in while
        they end; the port closed first, and those reports were lost."""
        svc = service("--send-latency-ms", "5000", "--concurrency", "5", "--shutdown-timeout",
                      "10", "--receipt-secret", RECEIPT_SECRET).start()
        start_campaign(svc, customers=5)
        svc.wait_for(lambda c: c["stats"]["sending"] == 5, "attempts in flight")
        svc.process.send_signal(signal.SIGTERM)
        until_true(lambda: "shutting down" in svc.log.read_text(), "the shutdown to begin")
        body = json.dumps({"reference": "1", "status": "delivered"}).encode()
        request = urllib.request.Request(
            svc.url + "/providers/receipts", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     **sl.webhook_headers(RECEIPT_SECRET, "msg_1", time.time(), body)})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200 and svc.process.poll() is None
        assert svc.process.wait(timeout=30) == 0
        assert svc.rows("SELECT status, delivery_status FROM outbound_messages "
                        "ORDER BY id") == [("sent", "delivered")] + [("sent", None)] * 4

    def test_kill_9_mid_campaign_loses_and_duplicates_nothing_and_a_pause_holds(self, service):
        svc = service("--send-latency-ms", "40", "--concurrency", "10",
                      "--batch-size", "20").start()
        assert start_campaign(svc)["messages_queued"] == 200
        svc.wait_for(lambda c: c["stats"]["sent"] >= 40 and c["stats"]["sending"] > 0,
                     "a campaign in flight")
        svc.process.kill()  # SIGKILL: no shutdown, claims left behind
        svc.process.wait()
        left = svc.rows(
            "SELECT count(*) FROM outbound_messages WHERE status IN ('pending', 'sending')")[0][0]
        assert 0 < left < 200

        svc.start()  # the dead process's claims are released at once: it owned the file
        until_true(lambda: "recovery:" in svc.log.read_text(), "the backlog to be published again")
        svc.wait_for(lambda c: c["stats"]["sent"] >= left // 2 and c["stats"]["sending"] > 0,
                     "sending again")
        assert svc.call("POST", "/campaigns/1/pause")["status"] == "paused"
        svc.process.kill()  # paused, with attempts still in flight
        svc.process.wait()

        svc.start()
        campaign = svc.wait_for(lambda c: c["stats"]["sending"] == 0,
                                "the dead process's claims to go")
        assert campaign["status"] == "paused" and 0 < campaign["stats"]["pending"] < 200
        # nothing went
        assert svc.call("GET", "/campaigns/1")["stats"]["sent"] == campaign["stats"]["sent"]
        assert svc.call("POST", "/campaigns/1/resume")["status"] == "sending"
        svc.wait_for(lambda c: c["status"] == "sent", "the resumed campaign to finish")
        assert_each_customer_got_one_sent_message(svc)

    def test_kill_9_sends_again_only_what_was_in_flight_or_in_the_last_group(
            self, service, tmp_path):
        provider = ServiceProcess(tmp_path)
        provider.log = tmp_path / "provider.log"
        provider.settings = ["mock-provider", "--port", "0", "--latency-ms", "200"]
        provider.start()
        try:
            svc = service("--provider-url", f"{provider.url}/messages", "--concurrency", "100",
                          "--batch-size", "1000").start()
            start_campaign(svc, customers=3000)
            until_true(lambda: provider_counts(provider)["accepted"] >= 1500,
                       "a campaign in flight")
            svc.process.kill()  # kill -9 in the middle of a batch of 1,000, 100 at the provider
            svc.process.wait()
            svc.start()
            svc.wait_for(lambda c: c["status"] == "sent", "the campaign to finish", timeout=60)
            assert_each_customer_got_one_sent_message(svc, customers=3000)
            counts = provider_counts(provider)
            # in flight (--concurrency) and answered in the last group (100 ms of 500/s): at most
            # concurrency + 20% of a second's rate, whatever the batch size
            assert 0 < counts["duplicates"] <= 100 + 100, counts
        finally:
            provider.process.kill()
            provider.process.wait()

    def test_kill_9_while_the_webhook_receiver_is_down_loses_no_event(self, service):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from standardwebhooks import Webhook

        got = []

        class Hooks(BaseHTTPRequestHandler):
            def do_POST(self):
                got.append((dict(self.headers),
                            self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        with socket.socket() as probe:  # a port with no receiver on it, yet
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        svc = service("--webhook-url", f"http://127.0.0.1:{port}/hooks",
                      "--webhook-secret", WEBHOOK_SECRET,
                      "--webhook-events", "campaign,message").start()
        svc.call("POST", "/customers",
                 {"customers": [{"phone": "+15550000001"}, {"phone": "+99970000002"}]})
        svc.call("POST", "/campaigns", {"name": "Hooks", "channel": "sms", "base_template": "Hi"})
        svc.call("POST", "/campaigns/1/send", {"all_customers": True})
        svc.wait_for(lambda c: c["status"] == "sent", "the campaign to finish")
        deadline = time.monotonic() + 10
        while (not svc.rows("SELECT 1 FROM webhook_events WHERE attempts > 0")
               and time.monotonic() < deadline):
            time.sleep(0.02)  # the first attempt failed: nobody listens
        svc.process.kill()
        svc.process.wait()
        written = svc.rows(
            "SELECT id, type FROM webhook_events WHERE status = 'pending' ORDER BY id")
        assert [kind for _, kind in written] == ["campaign.status_changed", "message.failed",
                                                 "campaign.status_changed"]

        receiver = ThreadingHTTPServer(("127.0.0.1", port), Hooks)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        try:
            svc.start()
            deadline = time.monotonic() + 20
            while len(got) < len(written) and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            receiver.shutdown()
            receiver.server_close()
        assert [headers["webhook-id"] for headers, _ in got] == [f"evt_{n}" for n, _ in written]
        # not our code
        bodies = [Webhook(WEBHOOK_SECRET).verify(body, headers) for headers, body in got]
        assert [(b["type"], b["data"].get("to")) for b in bodies] == [
            ("campaign.status_changed", "sending"), ("message.failed", None),
            ("campaign.status_changed", "sent")]
        assert bodies[1]["data"]["error"].startswith("no route")
        while svc.rows("SELECT count(*) FROM webhook_events WHERE status = 'pending'") != [(0,)]:
            assert time.monotonic() < deadline, "the deliveries were not noted"
            time.sleep(0.02)
        assert svc.rows("SELECT status, count(*) FROM webhook_events GROUP BY status") == [
            ("delivered", 3)]

    def test_a_schedule_that_passes_while_the_service_is_down(self, service):
        svc = service().start()
        due = time.time() + 0.6
        assert start_campaign(
            svc, customers=20, scheduled_at=sl.utc_iso(due))["status"] == "scheduled"
        assert svc.stop(signal.SIGTERM) == 0
        while time.time() < due:  # the due time passes while nothing runs
            time.sleep(due - time.time())
        assert svc.rows("SELECT status FROM campaigns") == [("scheduled",)]

        svc.start()
        svc.wait_for(lambda c: c["status"] == "sent", "the overdue campaign to be sent")
        assert_each_customer_got_one_sent_message(svc, customers=20)


# -- Faults, injected into a real process: it must heal itself ----------------

def until_true(predicate, what, timeout=30.0):
    """Poll a real process (it gives no callback) until predicate() is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def build_damaged(path, damage):
    """A database of release 2 with a sending campaign of 2,000 pending messages, then damaged."""
    with sqlite3.connect(path) as db:
        db.executescript(";".join(sl.MIGRATIONS) + ";PRAGMA user_version = 2;")
        db.executemany("INSERT INTO customers (phone, first_name, created_at) VALUES (?, 'x', '')",
                       [(f"+1555{i:07d}",) for i in range(2000)])
        db.execute("INSERT INTO campaigns (name, channel, status, base_template, created_at, "
                   "updated_at, total_count) VALUES ('c', 'sms', 'sending', 'Hi', '', '', 2000)")
        db.execute("INSERT INTO outbound_messages (campaign_id, customer_id, created_at, "
                   "updated_at) SELECT 1, id, '', '' FROM customers")
    data = bytearray(Path(path).read_bytes())
    damage(data)
    Path(path).write_bytes(data)


def damage_schema(data):
    data[100:1000] = b"\xff" * 900  # the page that holds the schema


def damage_middle(data):
    for page in range(8, len(data) // 4096):  # every data page past the first few
        data[page * 4096:page * 4096 + 64] = b"\x13" * 64


class TestFaults:
    @needs_processes
    def test_a_damaged_schema_page_stops_the_process_with_one_line(self, tmp_path):
        path = tmp_path / "damaged.db"
        build_damaged(path, damage_schema)
        # a thread left running hangs here
        result = subprocess.run([sys.executable, sl.__file__, "--db", str(path), "--port", "0"],
                                capture_output=True, text=True, timeout=20)
        assert result.returncode == 2
        assert result.stderr == (f"smsleopard: error: cannot use database '{path}': "
                                 "database disk image is malformed\n")

    @pytest.mark.parametrize("damage, words", [
        (lambda data: data.clear(),
         "database '{path}' is an empty file, not a database; remove it to start a new one"),
        (damage_middle, "cannot use database '{path}': database disk image is malformed"),
    ], ids=["empty", "middle pages"])
    def test_a_damaged_database_stops_the_start_with_one_line(self, tmp_path, capsys, damage,
                                                               words):
        path = tmp_path / "damaged.db"
        build_damaged(path, damage)
        threads = set(threading.enumerate())
        assert sl.main(["--db", str(path), "--port", "0"]) == 2
        assert capsys.readouterr().err == f"smsleopard: error: {words.format(path=path)}\n"
        # nothing left running (a thread may be ending)
        for thread in set(threading.enumerate()) - threads:
            thread.join(timeout=5)
            assert not thread.is_alive(), thread

    def test_a_lock_held_on_the_database_is_waited_out(self, service):
        svc = service("--busy-timeout-ms", "100").start()
        due = time.time() + 0.5
        assert start_campaign(
            svc, customers=20, scheduled_at=sl.utc_iso(due))["status"] == "scheduled"
        with contextlib.closing(sqlite3.connect(svc.db, isolation_level=None)) as other:
            # another program holds the file while the campaign falls due
            other.execute("BEGIN EXCLUSIVE")
            status, health = until_true(lambda: (lambda r: r if r[0] == 503 else None)(
                svc.request("GET", "/health")), "/health to see the database refusing writes")
            assert health["db"] == "down"
            began = time.monotonic()
            status, payload = svc.request("POST", "/customers", {"phone": "+15550009999"})
            assert (status, payload["error"]["code"]) == (503, "DATABASE_UNAVAILABLE")
            assert time.monotonic() - began < 2  # no pile-up behind the busy timeout
            assert svc.process.poll() is None
            other.execute("ROLLBACK")
        svc.wait_for(lambda c: c["status"] == "sent", "the campaign once the lock is gone")
        assert_each_customer_got_one_sent_message(svc, customers=20)
        assert svc.request("GET", "/health")[0] == 200
        assert "Traceback" not in svc.log.read_text()

    def test_a_full_disk_is_waited_out(self, service):
        import resource

        svc = service("--busy-timeout-ms", "100").start()
        due = time.time() + 0.5
        assert start_campaign(
            svc, customers=20, scheduled_at=sl.utc_iso(due))["status"] == "scheduled"
        hard = resource.getrlimit(resource.RLIMIT_FSIZE)[1]
        # no file may grow: disk full
        resource.prlimit(svc.process.pid, resource.RLIMIT_FSIZE, (1, hard))
        try:
            until_true(lambda: svc.request("GET", "/health")[0] == 503,
                       "/health to see the full disk")
            time.sleep(max(0.0, due - time.time()))  # the campaign falls due on the full disk
            status, payload = svc.request("POST", "/customers", {"phone": "+15550009999"})
            assert (status, payload["error"]["code"]) == (503, "DATABASE_UNAVAILABLE")
            assert svc.process.poll() is None
        finally:
            resource.prlimit(svc.process.pid, resource.RLIMIT_FSIZE, (hard, hard))  # room again
        svc.wait_for(lambda c: c["status"] == "sent", "the campaign once the disk has room")
        assert_each_customer_got_one_sent_message(svc, customers=20)
        until_true(lambda: svc.request("GET", "/health")[0] == 200, "/health to be ok again")

    def test_idle_connections_cannot_starve_health(self, service):
        import resource

        svc = service().start(limits=[(resource.RLIMIT_NOFILE, 1024)])
        host, port = svc.url.removeprefix("http://").split(":")
        idle = [socket.create_connection((host, int(port))) for _ in range(1100)]  # never a byte
        try:
            began = time.monotonic()
            assert svc.request("GET", "/health", timeout=10) == (
                200, {"status": "ok", "db": "ok", "queue": "ok", "queue_depth": 0})
            assert time.monotonic() - began < 5
        finally:
            for sock in idle:
                sock.close()
        assert len(svc.log.read_text()) < 20_000 and "Traceback" not in svc.log.read_text()

    def test_sigterm_shorter_than_an_attempt_uses_up_no_retry(self, service):
        svc = service("--send-latency-ms", "200", "--concurrency", "3",
                      "--shutdown-timeout", "0.05", "--max-retries", "1").start()
        start_campaign(svc, customers=6)
        # two graceful restarts, each interrupting attempts in flight: once a retry
        for _ in range(2):
            svc.wait_for(lambda c: c["stats"]["sending"] > 0, "attempts in flight")
            assert svc.stop(signal.SIGTERM) == 0
            assert svc.rows("SELECT count(*) FROM outbound_messages WHERE retry_count > 0 "
                            "OR status = 'failed'") == [(0,)]
            svc.start()
        svc.wait_for(lambda c: c["status"] == "sent", "the campaign to finish")
        assert_each_customer_got_one_sent_message(svc, customers=6)


# -- The README: every example runs, in order, against a real demo process ----

README = Path(sl.__file__).with_name("README.md")
GATEWAYS_DOC = Path(sl.__file__).parent / "docs" / "gateways.md"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PROVIDER_ID = re.compile(r"mp-[0-9a-f]{12}")
README_PORTS = (8080, 8082, 9090)  # the ports the README's examples use


@dataclass
class Example:
    command: str
    expected: str | None = None  # the answer the README shows, if it shows one
    kind: str = "json"
    background: bool = False     # `python smsleopard.py ... &`: a process the example starts


PIPED_CSV = re.compile(r"printf '[^']*' \| curl ")  # a CSV file made on the spot and sent


def readme_examples(text):
    """The README's curl commands and background processes, in order, with the answers shown."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
    examples = []
    for index, (language, body) in enumerate(blocks):
        commands = [" ".join(part.strip() for part in command.split("\\\n"))
                    for command in re.split(r"\n(?=\S)", body.strip())]
        if language != "sh" or not all(
                c.startswith(("curl ", "python smsleopard.py ")) or PIPED_CSV.match(c)
                for c in commands):
            continue
        answer = blocks[index + 1] if index + 1 < len(blocks) and blocks[index + 1][0] in (
            "json", "text") else None
        for position, command in enumerate(commands):
            if command.startswith("python "):
                assert command.endswith(" &"), command
                examples.append(Example(command.removesuffix(" &"), background=True))
            elif position == len(commands) - 1 and answer:
                examples.append(Example(command, answer[1].strip(), answer[0]))
            else:
                examples.append(Example(command))
    return examples


def comparable(text, kind):
    """An answer with what differs from run to run masked: times, the provider's ids."""
    text = PROVIDER_ID.sub("mp-<id>", TIMESTAMP.sub("<time>", text))
    return json.loads(text) if kind == "json" else text.strip()


API_DOC = README.with_name("docs") / "api.md"


class TestReadme:
    def test_every_setting_endpoint_and_error_code_is_in_its_table(self):
        # the gateways' endpoints and codes are in their own document, docs/gateways.md
        text = (README.read_text(encoding="utf-8") + API_DOC.read_text(encoding="utf-8")
                + GATEWAYS_DOC.read_text(encoding="utf-8"))
        rows = [line for line in text.splitlines() if line.startswith("| ")]
        settings = [line for line in README.read_text(encoding="utf-8").splitlines()
                    if line.startswith("| `--")]
        assert len(settings) == sum(s.metadata.get("cli", True)
                                    for s in dataclasses.fields(sl.Config))
        for setting in dataclasses.fields(sl.Config):
            if setting.metadata.get("cli", True):
                assert any(
                    row.startswith((f"| `{sl._flag(setting.name)}`", f"| `--no-{setting.name}`"))
                    for row in rows), setting.name
        for route in sl.ROUTES:
            parent, _, last = route.path.rpartition("/")
            assert any(f"`{route.method} {route.path}" in row or
                       (f"`{route.method} {parent}/" in row and f"`/{last}`" in row)
                       for row in rows), route.path
        for code, (status, _) in sl.ERROR_CODES.items():
            assert any(row.startswith(f"| {status} |") and f"`{code}`" in row
                       for row in rows), code

    def test_the_signature_check_it_shows_accepts_ours_and_nothing_else(self):
        snippet = re.search(r"```python\n(.*?)```", API_DOC.read_text(encoding="utf-8"), re.S)[1]
        namespace = {}
        exec(snippet, namespace)  # the README's own code, as a receiver would paste it
        body = b'{"type":"campaign.status_changed"}'
        headers = sl.webhook_headers(WEBHOOK_SECRET, "evt_1", time.time(), body)
        assert namespace["verify"](WEBHOOK_SECRET, headers, body)
        assert not namespace["verify"](WEBHOOK_SECRET, headers, body + b" ")
        assert not namespace["verify"](RECEIPT_SECRET, headers, body)
        stale = sl.webhook_headers(WEBHOOK_SECRET, "evt_1", time.time() - 600, body)
        assert not namespace["verify"](WEBHOOK_SECRET, stale, body)

    def test_it_is_short_for_its_readers_and_its_links_hold(self):
        text = README.read_text(encoding="utf-8")
        assert text.count("\n") <= 400
        assert not re.search(r"\bspec\b|§", text, re.I)
        for document in (README, *README.with_name("docs").glob("*.md")):
            for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)",
                                     document.read_text(encoding="utf-8")):
                if not target.startswith(("http://", "https://")) and target != "docs/gateways.md":
                    assert (document.parent / target).exists(), (document.name, target)
        for command in ("python smsleopard.py --port 9000",
                        "rm -f smsleopard.db smsleopard.db-wal smsleopard.db-shm"):
            assert command in text

    def test_demo_databases_are_ignored_by_git(self):
        patterns = README.with_name(".gitignore").read_text().split()
        for name in ("smsleopard.db", "smsleopard.db-wal", "smsleopard.db-shm",
                     "provider-demo.db"):
            assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name

    def test_the_examples_are_found(self):
        examples = readme_examples(README.read_text(encoding="utf-8"))
        curls = [e for e in examples if not e.background]
        assert len(curls) >= 25 and all(e.expected for e in curls)
        assert any("mock-provider" in e.command for e in examples if e.background)

    def test_the_ports_it_uses_are_known(self):
        text = README.read_text(encoding="utf-8")
        shown = {int(port) for port in re.findall(
            r"(?:127\.0\.0\.1:|localhost:|--port )(\d{4,5})\b", text)}
        # 3000: a web page's origin; 9000: a port chosen
        assert shown - {3000, 9000} == set(README_PORTS)

    @needs_processes
    def test_every_example_runs_in_order_and_answers_as_shown(self, tmp_path):
        # each port the README names is a free one here, known before anything starts (a mock
        # is told the service's port before the service starts)
        ports = {port: kannel.free_port() for port in README_PORTS}
        demo = ServiceProcess(tmp_path)
        # started as the README says: the demo data, the mock's failures
        demo.settings = ["--port", "0"]
        processes = [demo.start(cwd=tmp_path)]
        ports[8080] = demo.port
        try:
            for example in readme_examples(README.read_text(encoding="utf-8")):
                command = example.command
                for port, real in ports.items():
                    command = command.replace(f"127.0.0.1:{port}", f"127.0.0.1:{real}").replace(
                        f"localhost:{port}", f"localhost:{real}").replace(
                        f"--port {port}", f"--port {real}")
                if example.background:
                    processes.append(start_readme_process(command, tmp_path, len(processes)))
                    continue
                got = run_example(command, example,
                                  retry=" -X " not in command and " -d " not in command)
                assert got == comparable(example.expected, example.kind), (example.command, got)
        finally:
            for process in processes:
                process.process.kill()
                process.process.wait()


def start_readme_process(command, tmp_path, number):
    """A `python smsleopard.py ...` of the README, in the background, on a port of its choosing."""
    process = ServiceProcess(tmp_path)
    process.log = tmp_path / f"readme-{number}.log"
    process.settings = shlex.split(command)[2:]
    return process.start(cwd=tmp_path)


def run_example(command, example, retry):
    """Run one example; a GET may take a moment to show what the README shows (a campaign
    sending)."""
    deadline = time.monotonic() + 20
    while True:
        output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30,
                                check=True).stdout
        got = comparable(output, example.kind)
        if (not retry or got == comparable(example.expected, example.kind)
                or time.monotonic() > deadline):
            return got
        time.sleep(0.1)


# -- BENCHMARK: every figure measured, no timing asserted (speed is shown by `bench`) ---

class TestBenchmark:
    @needs_processes
    # it dispatches through the broker that a RabbitMQ test cuts off
    @pytest.mark.xdist_group("rabbitmq")
    def test_bench_measures_every_figure(self, capsys):
        argv = ["bench", "--customers", "3000", "--dispatch", "500", "--big", "2000",
                "--campaigns", "300", "--send-ids", "100,1000", "--failing", "100",
                "--paced-seconds", "0.2", "--csv-rows", "300", "--watch-seconds", "0.2",
                "--json",  # and PostgreSQL's figures, with RabbitMQ's, where they run
                *(["--postgres-url", PG_URL] if PG_URL else []),
                *(["--queue-url", AMQP_URL] if AMQP_URL else [])]
        assert sl.main(argv) == 0
        report = json.loads(capsys.readouterr().out)
        figures = {figure["name"]: figure for figure in report["figures"]}
        on_postgres = [name for name in figures if name.startswith("PostgreSQL")]
        assert len(on_postgres) == ((11 + 3 * bool(AMQP_URL)) if PG_URL else 0)
        apart = [name for name in on_postgres if "the API's process beside a worker's" in name]
        # the reads again, the API apart from the dispatch
        assert len(apart) == bool(PG_URL and AMQP_URL)
        assert len(figures) == 33 + bool(AMQP_URL) + len(on_postgres)
        bare = [name for name in figures if name.startswith("bare aiohttp client")]
        assert len(bare) == 2 and all(figures[name]["target"] == "reference" for name in bare)
        assert all(figure["value"] > 0 for name, figure in figures.items()
                   if not name.startswith("duplicates"))  # none is the best there can be
        for phase in ("end-to-end dispatch", "peak RSS", "the same while it dispatched",
                      "start with 2,000 pending", "/health in the",
                      "GET /campaigns first page, status=sent"):  # as on SQLite
            assert not PG_URL or any(name.startswith(f"PostgreSQL: {phase}")
                                     for name in on_postgres), phase
        assert figures["raw sqlite3 reference, 500 messages"]["target"] == "reference"
        for figure in figures.values():  # a verdict exactly where there is a target to meet
            assert (figure["met"] is None) == (figure["target"] in ("", "reference")), figure

    def test_help_gives_each_options_unit_and_meaning(self, capsys):
        with pytest.raises(SystemExit) as done:
            sl.main(["bench", "--help"])
        assert done.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        for flag, words in (("--customers N", "customers loaded through POST /customers"),
                            ("--dispatch N", "1 to 10,000,000 messages"),
                            ("--paced-seconds SECONDS", "0.1 to 3,600 seconds"),
                            ("--watch-seconds SECONDS", "seconds"), ("--csv-rows N", "rows"),
                            ("--send-ids SIZE,SIZE", "1 to 100,000 each"),
                            ("--queue-url AMQP_URL", "amqp://"),
                            ("--postgres-url POSTGRES_URL", "postgresql://"),
                            ("--quick", "a tenth"),
                            ("--json", "JSON")):
            assert flag in text and words in text, flag
        assert text.count("(default: ") == len(bench.SIZE_FLAGS) + 1

    @pytest.mark.parametrize("argv, message", [
        (["--dispatch", "0"],
         "argument --dispatch: 0 is out of range: from 1 to 10,000,000 messages"),
        (["--paced-seconds", "9999"],
         "argument --paced-seconds: 9999 is out of range: from 0.1 to 3,600 seconds"),
        (["--csv-rows", "x"], "argument --csv-rows: 'x' is not a number"),
        (["--send-ids", "5"], "argument --send-ids: '5': give two sizes, like 10000,100000"),
        (["--send-ids", "5,200000"], "200000 is out of range: from 1 to 100,000 customers"),
        (["--nope"], "unrecognized arguments: --nope"),
    ])
    def test_a_wrong_flag_names_the_range_and_shows_the_usage(self, capsys, argv, message):
        assert sl.main(["bench", *argv]) == 2
        error = capsys.readouterr().err
        assert error.startswith("smsleopard: error: ") and message in error
        assert "\nusage: smsleopard.py bench [-h] [--quick] [--json]" in error

    def test_the_table_names_the_ratio(self):
        figures = [bench.Figure("raw sqlite3 reference", 100.0, "msg/s", "reference"),
                   bench.Figure("end-to-end dispatch", 60.0, "msg/s", ">= 50%", True)]
        table = bench.format_figures(figures)
        assert "end-to-end dispatch / raw sqlite3 reference = 0.60" in table and "met" in table
