"""The benchmark: `python smsleopard.py bench` runs the real service in-process, HTTP and
all, on a temporary database, and measures its performance figures next to a raw-sqlite3
reference doing the same dispatch work in the same run.
"""

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import gc
import json
import logging
import math
import os
import random
import socket
import sqlite3
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import aiohttp
from aiohttp import web

import smsleopard
from smsleopard import (
    CUSTOMER_FIELDS,
    MAX_BULK_CUSTOMERS,
    MAX_CSV_ROWS,
    MAX_SEND_IDS,
    MIGRATIONS,
    CampaignStatus,
    Config,
    MockSender,
    Outgoing,
    PermanentSendError,
    Sender,
    Store,
    __version__,
    _ArgumentParser,
    _flag,
    create_app,
    delete_rabbit_queues,
    encode_cursor,
    is_postgres,
    listen_socket,
    parse_template,
    render_template,
    tune_collector,
    utc_iso,
)


@dataclass(frozen=True)
class BenchSizes:
    customers: int         # loaded through POST /customers
    dispatch: int          # messages in each end-to-end dispatch run
    big: int               # messages in the memory run, then behind GET /campaigns/{id}
    campaigns: int         # rows behind GET /campaigns
    send_ids: tuple[int, int]
    failing: int = 10_000  # messages sent with latency and failures
    paced_seconds: float = 30  # how long the rate limit is measured
    csv_rows: int = MAX_CSV_ROWS  # rows in the CSV file imported
    watch_seconds: float = 3.0    # how long /health is watched after a start with a backlog


FULL_SIZES = BenchSizes(customers=1_000_000, dispatch=100_000, big=1_000_000, campaigns=1_000_000,
                        send_ids=(10_000, 100_000))
QUICK_SIZES = BenchSizes(customers=100_000, dispatch=20_000, big=100_000, campaigns=100_000,
                         send_ids=(10_000, 100_000), failing=4_000, paced_seconds=10)


@dataclass(frozen=True)
class Figure:
    """One measured figure, its target, and whether the target was met."""

    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


def _rss_mb(field_name: str = "VmRSS") -> float:
    """Resident memory of this process in MB, from /proc (0 where there is no /proc)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def reference_dispatch(path: str, count: int, batch: int = 1000) -> float:
    """The reference: the same dispatch work in plain sqlite3, one thread; messages per second.

    Insert `count` pending rows, then per batch one joined SELECT, a render,
    one executemany UPDATE and a commit, on the service's own schema.
    """
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                     f"{';'.join(MIGRATIONS)};PRAGMA foreign_keys = ON;")
    stamp = utc_iso(time.time())
    db.execute("BEGIN")
    db.executemany("INSERT INTO customers (phone, first_name, location, preferred_product, "
                   "created_at) VALUES (?, ?, 'Nairobi', 'Shoes', ?)",
                   ((f"+1{i:010d}", f"Name{i}", stamp) for i in range(count)))
    db.execute("INSERT INTO campaigns (name, channel, status, base_template, created_at, "
               "updated_at) VALUES ('reference', 'sms', 'sending', "
               "'Hi {first_name}, check out {preferred_product}!', ?, ?)", (stamp, stamp))
    db.execute("COMMIT")
    started = time.perf_counter()
    db.execute("BEGIN")
    db.execute("INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at) "
               "SELECT 1, id, ?, ? FROM customers", (stamp, stamp))
    db.execute("COMMIT")
    last = 0
    while rows := db.execute(
            "SELECT m.id, c.base_template, cu.first_name, cu.last_name, cu.phone, cu.location, "
            "cu.preferred_product FROM outbound_messages m "
            "JOIN campaigns c ON c.id = m.campaign_id JOIN customers cu ON cu.id = m.customer_id "
            "WHERE m.campaign_id = 1 AND m.id > ? ORDER BY m.id LIMIT ?",
            (last, batch)).fetchall():
        now = utc_iso(time.time())
        updates = [("sent", render_template(parse_template(row[1]),
                                            dict(zip(CUSTOMER_FIELDS, row[2:], strict=True))),
                    now, row[0]) for row in rows]
        db.execute("BEGIN")
        db.executemany("UPDATE outbound_messages SET status = ?, rendered_content = ?, "
                       "updated_at = ? WHERE id = ?", updates)
        db.execute("COMMIT")
        last = rows[-1][0]
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


class BenchService:
    """The real service, in this process, on a real socket, and an HTTP client for it."""

    def __init__(self, db: str, sender: Sender | None = None, **settings: Any):
        self.config = Config(**{"db": db, "port": 0, "seed": False, "failure_rate": 0.0,
                                "access_log": False, **settings})
        self.app = create_app(self.config, sender=sender)
        self.runner = web.AppRunner(self.app, access_log=None)
        self.session: aiohttp.ClientSession | None = None
        self.url = ""
        self.polls: list[float] = []  # how long each GET /campaigns/{id} of dispatch() took

    async def __aenter__(self) -> Self:
        await self.runner.setup()
        sock = listen_socket("127.0.0.1", 0)
        await web.SockSite(self.runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600))
        tune_collector()  # as serve() does
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.session.close()
        await self.runner.cleanup()
        gc.unfreeze()  # what this phase left is collected before the next

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, self.url + path, json=body) as response:
            payload = await response.json()
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {payload}")
            return payload

    async def timed(self, method: str, path: str, body: Any = None) -> float:
        """Seconds one request takes, answer included."""
        started = time.perf_counter()
        await self.call(method, path, body)
        return time.perf_counter() - started

    async def new_campaign(self) -> int:
        body = {"name": "bench", "channel": "sms",
                "base_template": "Hi {first_name}, check out {preferred_product}!"}
        return (await self.call("POST", "/campaigns", body))["id"]

    async def dispatch(self, audience: dict[str, Any],
                       on_tick: Callable[[], None] = lambda: None) -> tuple[int, float]:
        """(messages, seconds) from POST /send until the campaign is sent, polling like a client
        would."""
        campaign_id = await self.new_campaign()
        started = time.perf_counter()
        sent = await self.call("POST", f"/campaigns/{campaign_id}/send", audience)
        queued = sent["messages_queued"]
        while True:
            polled = time.perf_counter()
            status = (await self.call("GET", f"/campaigns/{campaign_id}"))["status"]
            self.polls.append(time.perf_counter() - polled)
            if status != CampaignStatus.SENDING:
                break
            on_tick()
            await asyncio.sleep(0.02)
        return queued, time.perf_counter() - started


async def _load_customers(db: str, count: int, segment_size: int) -> float:
    """Load customers through POST /customers, 10,000 a request; customers per second."""
    async with BenchService(db, run_workers=False, run_scheduler=False) as service:
        started = time.perf_counter()
        for first in range(0, count, MAX_BULK_CUSTOMERS):
            batch = [{"phone": f"+2547{i:08d}", "first_name": f"Name{i}", "last_name": "Bench",
                      "location": f"segment-{i // segment_size}", "preferred_product": "Shoes"}
                     for i in range(first, min(count, first + MAX_BULK_CUSTOMERS))]
            await service.call("POST", "/customers", {"customers": batch})
        return count / (time.perf_counter() - started)


def _median_ms(samples: Sequence[float]) -> float:
    return sorted(samples)[len(samples) // 2] * 1000


async def _bench_dispatch(db: str, sizes: BenchSizes, reference: float,
                          queue_url: str) -> list[Figure]:
    figures = []
    async with BenchService(db) as service:
        count, seconds = await service.dispatch({"segment": {"location": "segment-0"}})
        rate = count / seconds
        figures.append(Figure(f"end-to-end dispatch, {count:,} messages, no latency", rate,
                              "msg/s", f">= 50% of reference ({reference / 2:,.0f})",
                              rate >= reference / 2))
    async with BenchService(db, send_latency_ms=100, concurrency=1000) as service:
        count, seconds = await service.dispatch({"segment": {"location": "segment-1"}})
        rate = count / seconds
        figures.append(Figure(f"same, 100 ms latency, concurrency 1,000, {count:,} messages",
                              rate, "msg/s", ">= 8,000", rate >= 8000))
    if queue_url:
        name = f"smsleopard-bench-{os.getpid()}"
        async with BenchService(db, queue_url=queue_url, queue_name=name) as service:
            count, seconds = await service.dispatch({"segment": {"location": "segment-2"}})
        await delete_rabbit_queues(queue_url, name)
        figures.append(Figure(f"end-to-end dispatch through RabbitMQ, {count:,} messages",
                              count / seconds, "msg/s"))
    return figures


class AnswerClock:
    """A sender that notes when the provider answered each message, and a store wrapper that
    notes when each outcome was committed: the outcome's delay to become visible."""

    def __init__(self, inner: Sender):
        self._inner = inner
        self._answered: dict[int, float] = {}
        self.delays: list[float] = []

    async def __call__(self, message: Outgoing) -> str | None:
        try:
            return await self._inner(message)
        finally:
            self._answered[int(message.reference)] = time.perf_counter()

    def watch(self, store: Store) -> None:
        record = store.outcomes.record  # instrumentation: the bench's own, on this instance only

        async def timed(attempts: Sequence[Any], now: float, finished: Sequence[int]) -> Any:
            done = await record(attempts, now, finished)
            committed = time.perf_counter()
            self.delays += [committed - self._answered.pop(a.message_id)
                            for a in attempts if a.message_id in self._answered]
            return done

        store.outcomes.record = timed


async def _bench_outcomes(db: str, sizes: BenchSizes) -> list[Figure]:
    """Outcomes committed in groups as attempts end: what it costs against committing a
    claim's outcomes at its end (no latency, alternated in the same run), and how soon an
    outcome is visible in its message's row after the provider's answer."""
    rates: dict[bool, list[float]] = {True: [], False: []}
    for grouped in (False, True, True, False):
        async with BenchService(db, group_commits=grouped) as service:
            count, seconds = await service.dispatch({"segment": {"location": "segment-0"}})
        rates[grouped].append(count / seconds)
    ratio = sum(rates[True]) / sum(rates[False])
    clock = AnswerClock(MockSender(100, 0.0, random.Random(1)))
    async with BenchService(db, clock, send_latency_ms=100, concurrency=1000) as service:
        clock.watch(service.app[smsleopard.STORE])
        count, _ = await service.dispatch({"segment": {"location": "segment-1"}})
    p99 = _percentile_ms(clock.delays, 0.99)
    return [Figure(f"group commits / commits at each claim's end, no latency, {count:,} "
                   "messages, 2 runs each", ratio, "ratio", ">= 0.95", ratio >= 0.95),
            Figure(f"outcome committed after the provider's answer, p99, 100 ms latency, "
                   f"concurrency 1,000, {len(clock.delays):,} outcomes", p99, "ms", "<= 1,000",
                   p99 <= 1000)]


@contextlib.asynccontextmanager
async def _service_process(db: str, *settings: str
                           ) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """`python smsleopard.py` on `db` in a process of its own: (process, its URL)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, smsleopard.__file__, "--db", db, "--port", "0", "--no-seed", *settings,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        while line := (await process.stderr.readline()).decode():
            if "listening on " in line:
                break
        else:
            raise RuntimeError("the service did not start")
        draining = asyncio.ensure_future(process.stderr.read())  # the pipe must not fill up
        yield process, line.split("listening on ")[1].strip()
        draining.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()


async def _bench_kill_9(db: str, sizes: BenchSizes) -> list[Figure]:
    """Duplicates at the provider after a kill -9 mid-campaign: batch 1,000, concurrency 100,
    200 ms (500 msg/s), the mock provider and the service in processes of their own."""
    count, limit = min(5000, sizes.dispatch), 100 + 0.2 * 500
    async with mock_provider_process("--latency-ms", "200") as url, aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60)) as session:

        async def get(address: str) -> Any:
            async with session.get(address) as answer:
                return await answer.json()

        settings = ("--provider-url", url, "--concurrency", "100", "--batch-size", "1000")
        async with _service_process(db, *settings) as (process, service):
            body = {"name": "kill -9", "channel": "sms", "base_template": "Hi {first_name}"}
            async with session.post(f"{service}/campaigns", json=body) as answer:
                path = f"/campaigns/{(await answer.json())['id']}"
            ids = list(range(1, count + 1))
            async with session.post(f"{service}{path}/send", json={"customer_ids": ids}):
                pass
            stats_url = url.removesuffix("/messages") + "/stats"
            while (await get(stats_url))["accepted"] < count // 2:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
            process.kill()
            await process.wait()
        async with _service_process(db, *settings) as (_, service):
            while (await get(service + path))["status"] == "sending":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        duplicates = (await get(stats_url))["duplicates"]
    return [Figure(f"duplicates at the provider after kill -9 mid-campaign ({count:,} messages, "
                   "batch 1,000, concurrency 100, 200 ms)", duplicates, "messages",
                   f"<= {limit:.0f}", duplicates <= limit)]


class CountingSender:
    """A sender that counts the attempts it passes on, and when each started."""

    def __init__(self, inner: Sender):
        self._inner = inner
        self.started: list[float] = []

    async def __call__(self, message: Outgoing) -> str | None:
        self.started.append(time.perf_counter())
        return await self._inner(message)


async def _bench_failures(db: str, sizes: BenchSizes) -> list[Figure]:
    """Attempts per second with slow, sometimes failing attempts: retries must not starve the
    slots."""
    counting = CountingSender(MockSender(250, 0.05, random.Random(1)))
    async with BenchService(db, counting, send_latency_ms=250, concurrency=100, failure_rate=0.05,
                            retry_base_ms=10) as service:
        count, seconds = await service.dispatch(
            {"customer_ids": list(range(1, sizes.failing + 1))})
    rate = len(counting.started) / seconds
    return [Figure(f"250 ms latency, concurrency 100, 5% failures, {count:,} messages: attempts "
                   f"({len(counting.started):,})", rate, "attempts/s", ">= 360 (90% of 400)",
                   rate >= 360)]


@contextlib.asynccontextmanager
async def mock_provider_process(*settings: str) -> AsyncIterator[str]:
    """`python smsleopard.py mock-provider` in a process of its own (a core of its own); its
    URL."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, smsleopard.__file__, "mock-provider", "--port", "0", *settings,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        while line := (await process.stderr.readline()).decode():
            if "listening on " in line:
                address = line.split("listening on ")[1].strip()
                yield address + "/messages" if "--dialect" not in settings else address
                return
        raise RuntimeError("the mock provider did not start")
    finally:
        process.terminate()
        await process.wait()


async def bare_http_rate(url: str, count: int, concurrency: int) -> float:
    """aiohttp's client alone, as the service's HTTP provider sets it up (one keep-alive pool
    of `concurrency`), posting §12's body to the mock provider: requests per second. The
    ceiling of any sender built on it, in the same run."""
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=30)
    numbers = iter(range(count))
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False,
                                     headers={"Accept-Encoding": "identity"},
                                     timeout=aiohttp.ClientTimeout(total=60)) as session:
        async def post_some() -> None:
            for n in numbers:
                body = json.dumps({"reference": f"bare-{n}", "channel": "sms",
                                   "to": f"+2547{n:08d}", "text": "Hi Name, check out Shoes!",
                                   "callback_url": None}).encode()
                async with session.post(url, data=body,
                                        headers={"Content-Type": "application/json"}) as answer:
                    await answer.read()

        started = time.perf_counter()
        await asyncio.gather(*(post_some() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


async def _bench_http_provider(db: str, sizes: BenchSizes) -> list[Figure]:
    """Dispatch through the HTTP provider, the mock provider running in a process of its own;
    beside each, aiohttp's bare client to the same mock in the same run."""
    figures = []
    for latency, concurrency, target in ((0, 100, 5000), (100, 1000, 8000)):
        async with mock_provider_process("--latency-ms", str(latency)) as url:
            bare = await bare_http_rate(url, sizes.dispatch // 2, concurrency)
            async with BenchService(db, provider_url=url, concurrency=concurrency) as service:
                segment = f"segment-{2 + bool(latency)}"
                count, seconds = await service.dispatch({"segment": {"location": segment}})
        rate = count / seconds
        figures += [Figure(f"bare aiohttp client to the mock provider, {latency} ms latency, "
                           f"concurrency {concurrency:,}, {sizes.dispatch // 2:,} requests",
                           bare, "req/s", "reference"),
                    Figure(f"through the HTTP provider, {latency} ms latency, concurrency "
                           f"{concurrency:,}, {count:,} messages ({rate / bare:.0%} of bare)",
                           rate, "msg/s", f">= {target:,}", rate >= target)]
    return figures + await _bench_infobip(db)


async def _bench_infobip(db: str) -> list[Figure]:
    """Through the Infobip gateway, `bulk` 100: the mock in its own process speaks Infobip."""
    async with mock_provider_process("--dialect", "infobip") as address:
        url = address.replace("http://", "infobip+http://bench-key@") + "?from=Bench&bulk=100"
        async with BenchService(db, provider_url=url, concurrency=1000) as service:
            count, seconds = await service.dispatch({"segment": {"location": "segment-2"}})
    rate = count / seconds
    return [Figure(f"through Infobip (the mock's dialect), bulk 100, no latency, {count:,} "
                   "messages", rate, "msg/s", ">= 10,000", rate >= 10_000)]


async def _refuse(message: Outgoing) -> str | None:
    raise PermanentSendError("no route")


async def _bench_message_events(db: str, sizes: BenchSizes) -> list[Figure]:
    """Campaigns whose every message fails, with message events off and on: each failure then
    writes a message.failed event in the transaction that records it. Run off, on, on, off
    (a drift in speed as the database grows falls on both alike). The receiver is down, so
    the outbox only fills."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"
    secret = "whsec_" + base64.b64encode(b"bench webhook secret").decode()
    counts: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    for events in ("campaign", "campaign,message", "campaign,message", "campaign"):
        async with BenchService(db, _refuse, webhook_url=nobody, webhook_secret=secret,
                                webhook_events=events) as service:
            count, took = await service.dispatch({"segment": {"location": "segment-4"}})
        counts[events] += count
        seconds[events] += took
    rates = {events: counts[events] / seconds[events] for events in counts}
    figures = [Figure(f"every message failing, {count:,} messages, message events {state}", rate,
                      "msg/s") for state, rate in zip(("off", "on"), rates.values(), strict=True)]
    ratio = rates["campaign,message"] / rates["campaign"]
    figures.append(Figure("  dispatch with message events / without", ratio, "x",
                          ">= 0.75 (at most a third slower)", ratio >= 0.75))
    return figures


async def _bench_rate_limit(db: str, sizes: BenchSizes) -> list[Figure]:
    """A channel limit of 200/s, measured over `sizes.paced_seconds` of a campaign that outlasts
    it."""
    counting = CountingSender(MockSender(0, 0.0, random.Random(1)))
    async with BenchService(db, counting, rate_limit="sms=200") as service:
        campaign_id = await service.new_campaign()
        ids = list(range(1, math.ceil(200 * (sizes.paced_seconds + 2)) + 1))
        started = time.perf_counter()
        await service.call("POST", f"/campaigns/{campaign_id}/send", {"customer_ids": ids})
        await asyncio.sleep(sizes.paced_seconds)
        attempts = sum(1 for moment in counting.started if moment <= started + sizes.paced_seconds)
        await service.call("POST", f"/campaigns/{campaign_id}/cancel")
    rate = attempts / sizes.paced_seconds
    return [Figure(f"rate limit sms=200, measured over {sizes.paced_seconds:g} s", rate, "msg/s",
                   "200 +-5% (190-210)", 190 <= rate <= 210)]


async def _bench_big_campaign(db: str, sizes: BenchSizes) -> list[Figure]:
    """Dispatch `big` messages watching memory, then time GET /campaigns/{id} on that campaign."""
    with contextlib.suppress(OSError):
        # restart VmHWM, to measure this phase only (a kernel file: the write does not wait)
        Path("/proc/self/clear_refs").write_text("5")  # noqa: ASYNC240
    peak = [_rss_mb()]
    async with BenchService(db) as service:
        count, seconds = await service.dispatch({"all_customers": True},
                                                lambda: peak.append(_rss_mb()))
        peak.append(_rss_mb("VmHWM"))
        p99 = _percentile_ms(service.polls, 0.99)
        campaign_id = (await service.call("GET", "/campaigns?page_size=1"))["data"][0]["id"]
        samples = [await service.timed("GET", f"/campaigns/{campaign_id}") for _ in range(50)]
    return [Figure(f"peak RSS while dispatching {count:,} messages ({count / seconds:,.0f} msg/s)",
                   max(peak), "MB", "<= 200", max(peak) <= 200),
            Figure(f"GET /campaigns/{{id}}, campaign of {count:,} messages (median of 50)",
                   _median_ms(samples), "ms", "<= 20", _median_ms(samples) <= 20),
            Figure(f"  the same while it dispatched (median {_median_ms(service.polls):.1f} ms; "
                   f"p99 of {len(service.polls):,})", p99, "ms", "<= 10", p99 <= 10)]


async def _bench_sql(db: str, *statements: tuple[str, Sequence[Any]],
                     restate: str = "") -> list[tuple]:
    """Run the Store's kind of statements straight on either database, in one transaction,
    as a process that stopped left things (then refresh the statistics of `restate`);
    the last one's rows."""
    store = await Store.open(db)
    try:
        async with store.db.transaction() as tx:
            for sql, params in statements:
                rows = await tx.fetch(sql, params)
        if restate:
            await store.db.restate(restate)
    finally:
        await store.close()
    return rows


async def _bench_startup(db: str, sizes: BenchSizes) -> list[Figure]:
    """Start on a database that holds `big` pending messages (left by a process that stopped):
    how long until the first attempt, and how long /health takes while they go out."""
    stamp = utc_iso(time.time())
    (campaign_id, waiting), = await _bench_sql(
        db,
        (("INSERT INTO campaigns (name, channel, status, base_template, created_at, updated_at, "
          "started_at) VALUES ('waiting', 'sms', 'sending', 'Hi {first_name}', ?, ?, ?)"),
         (stamp,) * 3),
        (("INSERT INTO outbound_messages (campaign_id, customer_id, created_at, updated_at) "
          "SELECT (SELECT max(id) FROM campaigns), id, ?, ? FROM customers ORDER BY id LIMIT ?"),
         (stamp, stamp, sizes.big)),
        (("UPDATE campaigns SET total_count = (SELECT count(*) FROM outbound_messages "
          "WHERE campaign_id = campaigns.id) WHERE id = (SELECT max(id) FROM campaigns)"), ()),
        ("SELECT id, total_count FROM campaigns WHERE id = (SELECT max(id) FROM campaigns)", ()))
    sender = CountingSender(MockSender(0.0, 0.0, random.Random(1)))
    service = BenchService(db, sender)
    started = time.perf_counter()
    await service.__aenter__()  # listening: the claims of the dead process are released
    listening = time.perf_counter() - started
    health: list[float] = []
    try:
        while time.perf_counter() - started < listening + sizes.watch_seconds:  # backlog going
            polled = time.perf_counter()
            async with service.session.get(service.url + "/health") as response:
                await response.read()
            health.append(time.perf_counter() - polled)
            await asyncio.sleep(0.01)
        first = sender.started[0] - started
        # The rest is not this figure's: cancel it (a 409 if it finished meanwhile).
        cancel = f"{service.url}/campaigns/{campaign_id}/cancel"
        async with service.session.post(cancel) as response:
            if response.status not in (200, 409):
                raise RuntimeError(f"cancel: {response.status} {await response.text()}")
    finally:
        await service.__aexit__(None, None, None)
    slowest = max(health) * 1000
    return [Figure(f"start with {waiting:,} pending messages: the first attempt (listening after "
                   f"{listening:.1f} s)", first, "s", "<= 2", first <= 2),
            Figure(f"  /health in the {sizes.watch_seconds:g} s after (slowest of {len(health)})",
                   slowest, "ms", "<= 100", slowest <= 100)]


async def _bench_metrics(db: str, sizes: BenchSizes) -> list[Figure]:
    """GET /metrics again and again while a campaign of `dispatch` messages sends."""
    async with BenchService(db) as service:
        samples: list[float] = []
        sending = asyncio.ensure_future(service.dispatch({"segment": {"location": "segment-2"}}))
        while not sending.done():
            started = time.perf_counter()
            async with service.session.get(service.url + "/metrics") as response:
                await response.read()
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.01)
        count, _ = await sending
    median, p99 = _percentile_ms(samples, 0.5), _percentile_ms(samples, 0.99)
    return [Figure(f"GET /metrics while {count:,} messages dispatch (median {median:.0f} ms; "
                   f"p99 of {len(samples)})", p99, "ms", "<= 20", p99 <= 20)]


def _percentile_ms(samples: Sequence[float], share: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(len(samples) * share))] * 1000


async def _bench_send_latency(db: str, sizes: BenchSizes) -> list[Figure]:
    figures = []
    async with BenchService(db, run_workers=False, run_scheduler=False) as service:
        for size, limit in zip(sizes.send_ids, (150, 1500), strict=True):
            samples = []
            for _ in range(3):
                campaign_id = await service.new_campaign()
                ids = list(range(1, size + 1))
                samples.append(await service.timed("POST", f"/campaigns/{campaign_id}/send",
                                                   {"customer_ids": ids}))
                # what it queued is not for the phases after this one to send
                await service.call("POST", f"/campaigns/{campaign_id}/cancel")
            figures.append(Figure(f"POST /send with {size:,} ids (median of 3)",
                                  _median_ms(samples), "ms", f"<= {limit:,}",
                                  _median_ms(samples) <= limit))
    return figures


async def _bench_listing(db: str, sizes: BenchSizes) -> list[Figure]:
    """GET /campaigns over `campaigns` rows (inserted with SQL: a million POSTs would only time
    HTTP)."""
    stamp = utc_iso(time.time())
    listed = ("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
              "INSERT INTO campaigns (name, channel, status, base_template, created_at, "
              "updated_at) "
              "SELECT 'listed ' || i, CASE i % 2 WHEN 0 THEN 'sms' ELSE 'whatsapp' END, "
              "CASE i % 3 WHEN 0 THEN 'draft' WHEN 1 THEN 'sent' ELSE 'failed' END, "
              "'Hi {first_name}', ?, ? FROM n")
    await _bench_sql(db, (listed, (sizes.campaigns, stamp, stamp)), restate="campaigns")
    figures = []
    async with BenchService(db, run_workers=False, run_scheduler=False) as service:
        newest = (await service.call("GET", "/campaigns?page_size=1"))["data"][0]["id"]
        middle = newest - sizes.campaigns // 2
        deep_page = sizes.campaigns // 2 // 20
        cursor = encode_cursor("campaigns", middle, deep_page)
        for name, path in (("first page", "/campaigns?page_size=20"),
                           (f"deep page by cursor (id {middle:,})",
                            f"/campaigns?page_size=20&cursor={cursor}"),
                           (f"deep page by number (page {deep_page:,})",
                            f"/campaigns?page_size=20&page={deep_page}"),
                           ("first page, status=sent", "/campaigns?page_size=20&status=sent")):
            samples = [await service.timed("GET", path) for _ in range(30)]
            figures.append(Figure(
                f"GET /campaigns {name}, {sizes.campaigns:,} campaigns (median of 30)",
                _median_ms(samples), "ms", "<= 20", _median_ms(samples) <= 20))
    return figures


@contextlib.asynccontextmanager
async def _api_beside_workers(db: str, queue_url: str,
                              workers: int) -> AsyncIterator[BenchService]:
    """The service as several processes run it: this one the API (--role api), beside
    `workers` worker processes, on a queue of their own; all stopped, and the queue
    deleted, however the phase ends (one worker failing to start included)."""
    queue_name = f"smsleopard-bench-pg-{os.getpid()}-{random.getrandbits(32):08x}"
    processes: list[asyncio.subprocess.Process] = []
    draining: list[asyncio.Future] = []  # reading each worker's log as it comes
    try:
        for _ in range(workers):
            processes.append(worker := await asyncio.create_subprocess_exec(
                sys.executable, smsleopard.__file__, "--role", "worker", "--db", db,
                "--queue-url", queue_url, "--queue-name", queue_name, "--port", "0",
                "--failure-rate", "0", "--no-seed",
                stderr=asyncio.subprocess.PIPE))
            while b"listening on" not in (line := await worker.stderr.readline()):
                if not line:
                    raise RuntimeError("a worker process did not start")
            draining.append(asyncio.ensure_future(worker.stderr.read()))  # keep reading its log
        async with BenchService(db, queue_url=queue_url, queue_name=queue_name, role="api") as api:
            yield api
    finally:
        for process in processes:
            with contextlib.suppress(ProcessLookupError):  # it has ended already
                process.terminate()
            await process.wait()
        if not is_postgres(queue_url):  # PostgreSQL's queue goes with the run's database
            await delete_rabbit_queues(queue_url, queue_name)


async def _bench_postgres(admin_url: str, sizes: BenchSizes, queue_url: str) -> list[Figure]:
    """On PostgreSQL (a database of the run's own): dispatch in one process, and with a
    broker through one and through two worker processes beside an API process, and through
    one with the database as the queue; then the big campaign, the start with a backlog and
    the listing, as on SQLite; and with a broker, the reads of a big campaign again, the
    API apart from the worker."""
    import asyncpg

    name = f"smsleopard_bench_{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    db = urllib.parse.urlunsplit(urllib.parse.urlsplit(admin_url)._replace(path=f"/{name}"))
    figures = []
    try:
        await _load_customers(db, max(3 * sizes.dispatch, sizes.big), sizes.dispatch)
        async with BenchService(db) as service:
            count, seconds = await service.dispatch({"segment": {"location": "segment-0"}})
        figures.append(Figure(f"PostgreSQL: end-to-end dispatch, {count:,} messages, one process",
                              count / seconds, "msg/s"))
        for workers, segment in ((1, 1), (2, 2)) if queue_url else ():
            async with _api_beside_workers(db, queue_url, workers) as api:
                count, seconds = await api.dispatch(
                    {"segment": {"location": f"segment-{segment}"}})
            figures.append(Figure(f"PostgreSQL and RabbitMQ: {count:,} messages, {workers} worker "
                                  f"process{'es' * (workers > 1)} beside the API's",
                                  count / seconds, "msg/s"))
        async with _api_beside_workers(db, db, 1) as api:  # no broker: the database queues too
            count, seconds = await api.dispatch({"segment": {"location": "segment-0"}})
        figures.append(Figure(f"PostgreSQL as the queue too: {count:,} messages, 1 worker "
                              "process beside the API's", count / seconds, "msg/s"))
        for phase in (_bench_big_campaign, _bench_startup, _bench_listing):
            figures += [dataclasses.replace(figure, name=f"PostgreSQL: {figure.name.lstrip()}")
                        for figure in await phase(db, sizes)]
        if queue_url:  # as the README deploys it: the API's loop has no batch work to wait behind
            async with _api_beside_workers(db, queue_url, 1) as api:
                count, seconds = await api.dispatch({"all_customers": True})
            median, p99 = _percentile_ms(api.polls, 0.5), _percentile_ms(api.polls, 0.99)
            figures.append(Figure(
                f"PostgreSQL: GET /campaigns/{{id}} while {count:,} messages dispatch "
                f"({count / seconds:,.0f} msg/s), the API's process beside a worker's "
                f"(median {median:.1f} ms; p99 of {len(api.polls):,})", p99, "ms", "<= 10",
                p99 <= 10))
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    return figures


DASHBOARD_FILES = ("/static/app.css", "/static/app.js")  # what the page loads before it runs
DASHBOARD_FIRST_CALLS = ("/campaigns?page_size=20",)  # what the page asks for as it opens


async def _bench_dashboard(db: str, sizes: BenchSizes) -> list[Figure]:
    """The dashboard's first paint, as the network sees it: the page, then its files, then
    its first API calls (each at once, as a browser makes them), over the `campaigns` rows
    of the listing."""
    async with BenchService(db, run_workers=False, run_scheduler=False) as service:

        async def get(path: str) -> None:
            async with service.session.get(service.url + path) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path}: {response.status}")

        samples = []
        for _ in range(20):
            started = time.perf_counter()
            await get("/")
            await asyncio.gather(*(get(path) for path in DASHBOARD_FILES))
            await asyncio.gather(*(get(path) for path in DASHBOARD_FIRST_CALLS))
            samples.append(time.perf_counter() - started)
    median = _median_ms(samples)
    return [Figure(f"dashboard first paint (page + its files + first API calls), "
                   f"{sizes.campaigns:,} campaigns (median of 20)", median, "ms", "<= 300",
                   median <= 300)]


async def _bench_csv_import(db: str, sizes: BenchSizes) -> list[Figure]:
    """POST /customers with a CSV file (the largest taken), into the database with its
    customers."""
    count = sizes.csv_rows
    rows = "".join(f"+3361{n:07d},Name{n},Lyon,Coffee,Europe/Paris\n" for n in range(count))
    body = ("phone,first_name,location,preferred_product,timezone\n" + rows).encode()
    async with BenchService(db, run_workers=False, run_scheduler=False) as service:
        started = time.perf_counter()
        async with service.session.post(service.url + "/customers", data=body,
                                        headers={"Content-Type": "text/csv"}) as response:
            answer = await response.json()
        seconds = time.perf_counter() - started
    if answer != {"created": count, "updated": 0, "skipped": 0}:
        raise RuntimeError(f"the CSV import answered {answer}")
    return [Figure(f"POST /customers, a CSV file of {count:,} rows ({len(body) / 2**20:.1f} MiB)",
                   seconds, "s", "<= 3", seconds <= 3)]


# -- SMPP (§23): the service against aiosmpplib alone, to the same mock SMSC -------------------

SMPP_WINDOW = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def bare_smpp_rate(port: int, count: int, window: int = SMPP_WINDOW) -> float:
    """aiosmpplib by itself: one bind, `window` submit_sm in flight (a semaphore in its broker,
    as the library has no window), registered_delivery 1 as the service asks, receipts taken
    and dropped; submit_sm_resp per second."""
    lib = smsleopard.smpp_library()
    slots, answered, done = asyncio.Semaphore(window), Counter(), asyncio.Event()
    queue: asyncio.Queue = asyncio.Queue()

    class Broker(lib.AbstractBroker):
        async def enqueue(self, message: Any) -> None:
            queue.put_nowait(message)

        async def dequeue(self) -> Any:
            message = await queue.get()
            if isinstance(message, lib.SubmitSm):
                await slots.acquire()
            return message

    class Hook(lib.AbstractHook):
        async def sending(self, *args: Any) -> None:
            pass

        async def received(self, message: Any, *args: Any) -> None:
            if isinstance(message, (lib.SubmitSmResp, lib.GenericNack)):
                slots.release()
                answered["resp"] += 1
                if answered["resp"] >= count:
                    done.set()

        async def send_error(self, *args: Any) -> None:
            slots.release()

    esme = lib.ESME(smsc_host="127.0.0.1", smsc_port=port, system_id="bare", password="pw",
                    enquire_link_interval=30.0, log_level=logging.CRITICAL, hook=Hook(),
                    broker=Broker(), correlator=smsleopard.smpp_correlator(lib)("bare"))
    runner = asyncio.create_task(esme.start())
    try:
        for n in range(count):
            queue.put_nowait(lib.SubmitSm(
                short_message=f"Hi Name{n}, check out Shoes!", log_id=str(n),
                source=lib.PhoneNumber("Bench", lib.TON.ALPHANUMERIC),
                destination=lib.PhoneNumber(f"2547{n:08d}", lib.TON.INTERNATIONAL, lib.NPI.ISDN),
                registered_delivery=1))
        started = time.perf_counter()
        await asyncio.wait_for(done.wait(), 600)
        return count / (time.perf_counter() - started)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(esme.stop(), 5)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def _bench_smpp(db: str, sizes: BenchSizes) -> list[Figure]:
    """§23's SMPP row: window 50, no latency, the mock SMSC (smpp34.Server) in a process of its
    own; the service's rate against aiosmpplib's bare rate to the same SMSC in the same run."""
    port = _free_port()
    async with mock_provider_process("--dialect", "smpp", "--smpp-port", str(port)):
        bare = await bare_smpp_rate(port, sizes.dispatch)
        url = f"smpp://bench:pw@127.0.0.1:{port}?source=Bench&window={SMPP_WINDOW}"
        async with BenchService(db, provider_url=url, concurrency=4 * SMPP_WINDOW) as service:
            count, seconds = await service.dispatch({"segment": {"location": "segment-0"}})
    rate = count / seconds
    ratio = rate / bare
    return [Figure(f"SMPP bare aiosmpplib to the mock SMSC, window {SMPP_WINDOW}, {count:,} "
                   "messages", bare, "msg/s", "reference"),
            Figure(f"SMPP through the service, window {SMPP_WINDOW}, no latency, {count:,} "
                   f"messages ({ratio:.0%} of bare)", rate, "msg/s",
                   f">= 80% of bare ({0.8 * bare:,.0f}); >= 10,000 once bare is 12,500",
                   ratio >= 0.8 and (rate >= 10_000 or bare < 10_000 / 0.8))]  # 10,000: where
    # the SMSC allows it (smpp34.Server's Python side tops out below on 2 cores)


async def run_benchmark(sizes: BenchSizes, workdir: str, queue_url: str = "",
                        postgres_url: str = "") -> list[Figure]:
    """Every figure, in an order where no phase disturbs the next; RabbitMQ and PostgreSQL
    too, given their URLs."""
    reference = reference_dispatch(os.path.join(workdir, "reference.db"), sizes.dispatch)
    figures = [Figure(f"raw sqlite3 reference, {sizes.dispatch:,} messages", reference, "msg/s",
                      "reference")]
    db = os.path.join(workdir, "bench.db")
    customers = max(sizes.customers, sizes.big, 5 * sizes.dispatch, *sizes.send_ids)
    loaded = await _load_customers(db, customers, sizes.dispatch)
    figures.append(Figure(f"POST /customers, {customers:,} customers in bulks of 10,000", loaded,
                          "customers/s"))
    figures += await _bench_dispatch(db, sizes, reference, queue_url)
    figures += await _bench_outcomes(db, sizes)
    figures += await _bench_kill_9(db, sizes)
    figures += await _bench_failures(db, sizes)
    figures += await _bench_http_provider(db, sizes)
    figures += await _bench_message_events(db, sizes)
    figures += await _bench_rate_limit(db, sizes)
    figures += await _bench_big_campaign(db, sizes)
    figures += await _bench_startup(db, sizes)
    figures += await _bench_metrics(db, sizes)
    figures += await _bench_send_latency(db, sizes)
    figures += await _bench_listing(db, sizes)
    figures += await _bench_dashboard(db, sizes)
    figures += await _bench_csv_import(db, sizes)
    figures += await _bench_smpp(db, sizes)
    if postgres_url:
        figures += await _bench_postgres(postgres_url, sizes, queue_url)
    return figures


def format_figures(figures: Sequence[Figure]) -> str:
    reference = figures[0].value
    title = (f"SMSLeopard {__version__} benchmark: Python {sys.version.split()[0]}, "
             f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    lines = [title, ""]
    width = max(len(figure.name) for figure in figures)
    for figure in figures:
        verdict = "" if figure.met is None else ("met" if figure.met else "NOT MET")
        value = (f"{figure.value:,.0f}" if figure.value >= 100 else
                 f"{figure.value:,.1f}" if figure.value >= 10 else f"{figure.value:.2f}")
        lines.append(f"{figure.name:<{width}}  {value:>10} {figure.unit:<12} "
                     f"{figure.target:<32} {verdict}")
    dispatch = next(f for f in figures if f.name.startswith("end-to-end"))
    lines += ["", "end-to-end dispatch / raw sqlite3 reference = "
                  f"{dispatch.value / reference:.2f} (target >= 0.50)"]
    return "\n".join(lines)


class BenchParser(_ArgumentParser):
    """bench's own flags: a mistake names the flag and its range, then shows the usage line."""

    def error(self, message: str) -> Any:
        return super().error(f"{message}\n{self.format_usage().rstrip()}")


def bounded(kind: Callable[[str], float], low: float, high: float, unit: str) -> Callable:
    """An argparse type: a `kind` number from `low` to `high` (in `unit`), or a message naming
    that range."""

    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: from {low:,} to {high:,} {unit}")
        return value

    return convert


def send_sizes(text: str) -> tuple[int, int]:
    """--send-ids: two sizes, 1 to MAX_SEND_IDS customers each."""
    parts = text.split(",")
    size = bounded(int, 1, MAX_SEND_IDS, "customers")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"{text!r}: give two sizes, like 10000,100000")
    return size(parts[0]), size(parts[1])


# Each size flag: its type, its range, its unit, and what it sizes.
SIZE_FLAGS = {
    "customers": (int, 1, 10_000_000, "customers", "customers loaded through POST /customers, in "
                  f"bulks of {MAX_BULK_CUSTOMERS:,}"),
    "dispatch": (int, 1, 10_000_000, "messages", "messages in each end-to-end dispatch run"),
    "big": (int, 1, 10_000_000, "messages",
            "messages of the big campaign: the memory run, then GET /campaigns/{id} behind it"),
    "campaigns": (int, 1, 10_000_000, "campaigns", "campaigns behind GET /campaigns"),
    "failing": (int, 1, 1_000_000, "messages",
                "messages sent with 250 ms of latency and 5%% failures"),
    "paced_seconds": (float, 0.1, 3600, "seconds", "how long the rate limit is measured"),
    "csv_rows": (int, 1, MAX_CSV_ROWS, "rows", "rows of the CSV file imported"),
    "watch_seconds": (float, 0.1, 600, "seconds",
                      "how long /health is watched after a start with a backlog"),
}


def bench_main(argv: Sequence[str]) -> int:
    """`python smsleopard.py bench [--quick] [--json] [sizes]`: print the performance figures."""
    parser = BenchParser(
        prog="smsleopard.py bench",
        description="Measure SMSLeopard's performance against its targets, on a temporary "
                    "database: the real service in this process, HTTP and all. Sizes default "
                    "to the full run (a million customers, messages and campaigns; minutes).")
    parser.add_argument("--quick", action="store_true",
                        help="a tenth of the full sizes: a run of a minute or two")
    parser.add_argument("--json", action="store_true",
                        help="print the sizes and figures as JSON, not as a table")
    for name, (kind, low, high, unit, meaning) in SIZE_FLAGS.items():
        parser.add_argument(_flag(name), type=bounded(kind, low, high, unit),
                            metavar="SECONDS" if unit == "seconds" else "N",
                            help=f"{meaning}; {low:,} to {high:,} {unit} (default: "
                                 f"{getattr(FULL_SIZES, name):,}, --quick: "
                                 f"{getattr(QUICK_SIZES, name):,})")
    parser.add_argument("--send-ids", type=send_sizes, metavar="SIZE,SIZE",
                        help="customers in the two POST /campaigns/{id}/send runs with "
                             f"customer_ids, 1 to {MAX_SEND_IDS:,} each (default: 10000,100000)")
    parser.add_argument("--queue-url", default="", metavar="AMQP_URL",
                        help="also dispatch through this RabbitMQ broker (amqp://user:pass@host:"
                             "5672/vhost); default: not measured")
    parser.add_argument("--postgres-url", default="", metavar="POSTGRES_URL",
                        help="also dispatch on PostgreSQL, in a database made (and dropped) on "
                             "this server (postgresql://user:pass@host:5432/name); with "
                             "--queue-url, through worker processes too; default: not measured")
    args = parser.parse_args(list(argv))
    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    changes: dict[str, Any] = {name: getattr(args, name) for name in (
        "customers", "dispatch", "big", "campaigns", "failing", "paced_seconds", "csv_rows",
        "watch_seconds") if getattr(args, name)}
    if args.send_ids:
        changes["send_ids"] = args.send_ids
    sizes = dataclasses.replace(sizes, **changes)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    with tempfile.TemporaryDirectory(prefix="smsleopard-bench-") as workdir:
        figures = asyncio.run(run_benchmark(sizes, workdir, args.queue_url, args.postgres_url))
    if args.json:
        print(json.dumps({"sizes": dataclasses.asdict(sizes),
                          "figures": [dataclasses.asdict(f) for f in figures]}, indent=2))
    else:
        print(format_figures(figures))
    return 0
