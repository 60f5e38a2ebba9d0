"""The mock provider: `python smsleopard.py mock-provider` is the provider side as its own
HTTP server, for demos, benchmarks and tests. POST /messages takes a message the way
HttpSender sends it, with latency, failures, a rate limit that answers 429, `reference` as
an idempotency key, and delivery receipts posted (signed, given a secret) to the message's
callback_url.
"""

import asyncio
import dataclasses
import logging
import random
import secrets
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from smsleopard import (
    UNROUTABLE_PREFIXES,
    Clock,
    ConfigError,
    _ArgumentParser,
    _dumps,
    _flag,
    channel_limit_problem,
    listen_socket,
    log,
    refill,
    secret_problem,
    utc_iso,
    webhook_headers,
)


@dataclass(frozen=True)
class MockProviderConfig:
    host: str = "127.0.0.1"
    port: int = 9090
    latency_ms: float = 0.0
    failure_rate: float = 0.0       # answers 503
    max_rps: float = 0.0            # 0: no limit; over it, 429 with Retry-After
    delivery_rate: float = 1.0      # share of accepted messages whose receipt says delivered
    receipt_delay_ms: float = 0.0
    receipt_secret: str = ""        # whsec_...: receipts are signed with it
    seed: int = 0                   # with the reference, decides each message's receipt


RECEIPT_BATCH = 1000  # receipts posted at once to one callback_url
UNDELIVERED_REASONS = ("handset switched off", "subscriber absent", "carrier rejected the message")


class MockProvider:
    """The provider side: what it takes, what it answers, what it counts."""

    def __init__(self, config: MockProviderConfig, rng: random.Random | None = None,
                 clock: Clock | None = None):
        self._config = config
        self._rng = rng or random.Random()
        self._clock = clock or Clock()  # stamps and signs receipts
        self._accepted: dict[str, dict[str, str]] = {}  # reference -> the first answer
        self._bucket = (float(config.max_rps), time.monotonic())  # (tokens, when)
        self._receipts: dict[str, list[dict[str, Any]]] = defaultdict(list)  # callback -> due
        self._receipts_due = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._sender: asyncio.Task | None = None
        self.stats = Counter(dict.fromkeys(
            ("received", "accepted", "throttled", "failed", "duplicates", "receipts_sent"), 0))

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/messages", self.take)
        app.router.add_get("/stats", self.answer_stats)
        app.cleanup_ctx.append(self._receipts_context)
        return app

    async def take(self, request: web.Request) -> web.Response:
        self.stats["received"] += 1
        try:
            message = self._message(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": {"message": str(exc)}}, status=400)
        if (first := self._accepted.get(message["reference"])) is not None:
            self.stats["duplicates"] += 1  # taken before: the same answer, no second delivery
            return web.json_response(first)
        if not self._within_rate():
            self.stats["throttled"] += 1
            return web.json_response({"error": {"message": "too many requests"}}, status=429,
                                     headers={"Retry-After": "1"})
        if self._config.latency_ms:
            await asyncio.sleep(self._config.latency_ms / 1000)
        return self._answer(message)

    def _answer(self, message: dict[str, Any]) -> web.Response:
        if (first := self._accepted.get(message["reference"])) is not None:
            self.stats["duplicates"] += 1  # accepted while this one waited
            return web.json_response(first)
        if message["to"].startswith(UNROUTABLE_PREFIXES):
            return web.json_response({"error": {"message": f"no route to {message['to']}"}},
                                     status=400)
        if self._config.failure_rate and self._rng.random() < self._config.failure_rate:
            self.stats["failed"] += 1
            return web.json_response({"error": {"message": "temporarily unavailable"}}, status=503)
        answer = {"id": f"mp-{secrets.token_hex(6)}"}
        self._accepted[message["reference"]] = answer
        self.stats["accepted"] += 1
        if message.get("callback_url"):
            self._receipt_later(message)
        return web.json_response(answer)

    @staticmethod
    def _message(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        for name in ("reference", "channel", "to", "text"):
            if not isinstance(body.get(name), str) or not body[name]:
                raise ValueError(f"{name} is required and must be a string")
        if problem := channel_limit_problem(body["channel"], body["text"]):
            raise ValueError(problem)
        return body

    def _within_rate(self) -> bool:
        """A token bucket of max_rps a second (one second's burst)."""
        if not self._config.max_rps:
            return True
        tokens, then = self._bucket
        now = time.monotonic()
        tokens = refill(tokens, then, self._config.max_rps, now)
        if tokens < 1:
            self._bucket = (tokens, now)
            return False
        self._bucket = (tokens - 1, now)
        return True

    async def answer_stats(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.stats))

    # -- receipts -----------------------------------------------------------

    def _receipt_later(self, message: dict[str, Any]) -> None:
        fate = random.Random(f"{self._config.seed}:{message['reference']}")  # the same every run
        delivered = fate.random() < self._config.delivery_rate
        receipt = {"reference": message["reference"],
                   "status": "delivered" if delivered else "undelivered",
                   "timestamp": utc_iso(self._clock.now())}
        if not delivered:
            receipt["error"] = fate.choice(UNDELIVERED_REASONS)
        asyncio.get_running_loop().call_later(self._config.receipt_delay_ms / 1000,
                                              self._receipt_due, message["callback_url"], receipt)

    def _receipt_due(self, callback_url: str, receipt: dict[str, Any]) -> None:
        self._receipts[callback_url].append(receipt)
        self._receipts_due.set()

    async def _receipts_context(self, app: web.Application) -> AsyncIterator[None]:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._sender = asyncio.create_task(self._send_receipts(), name="mock-provider-receipts")
        yield
        self._sender.cancel()
        await asyncio.gather(self._sender, return_exceptions=True)
        await self._session.close()

    async def _send_receipts(self) -> None:
        while True:
            await self._receipts_due.wait()
            self._receipts_due.clear()
            for callback_url in list(self._receipts):
                while batch := self._receipts[callback_url][:RECEIPT_BATCH]:
                    del self._receipts[callback_url][:len(batch)]
                    await self._post_receipts(callback_url, batch)

    async def _post_receipts(self, callback_url: str, batch: list[dict[str, Any]]) -> None:
        body = _dumps({"receipts": batch} if len(batch) > 1 else batch[0]).encode()
        headers = {"Content-Type": "application/json"}
        if self._config.receipt_secret:
            headers |= webhook_headers(self._config.receipt_secret, f"rcpt_{secrets.token_hex(8)}",
                                       self._clock.now(), body)
        try:
            async with self._session.post(callback_url, data=body, headers=headers) as response:
                if response.status < 300:
                    self.stats["receipts_sent"] += len(batch)
                else:
                    log.warning("mock provider: %s answered %d to %d receipts", callback_url,
                                response.status, len(batch))
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("mock provider: cannot post receipts to %s: %r", callback_url, exc)


def mock_provider_main(argv: Sequence[str]) -> int:
    """`python smsleopard.py mock-provider [options]`: serve until SIGINT or SIGTERM."""
    parser = _ArgumentParser(prog="smsleopard.py mock-provider",
                             description="A mock SMS/WhatsApp provider for demos, benchmarks "
                                         "and tests.")
    for setting in dataclasses.fields(MockProviderConfig):
        parser.add_argument(_flag(setting.name), type=type(setting.default),
                            default=setting.default, help=f"default {setting.default!r}")
    config = MockProviderConfig(**vars(parser.parse_args(list(argv))))
    problems = [name for name, ok in (
        ("--port", 0 <= config.port <= 65535), ("--failure-rate", 0 <= config.failure_rate <= 1),
        ("--delivery-rate", 0 <= config.delivery_rate <= 1),
        ("--latency-ms", config.latency_ms >= 0), ("--max-rps", config.max_rps >= 0),
        ("--receipt-delay-ms", config.receipt_delay_ms >= 0),
        ("--receipt-secret",
         not config.receipt_secret or secret_problem(config.receipt_secret) is None),
    ) if not ok]
    if problems:
        raise ConfigError(f"{problems[0]} is out of range")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    return asyncio.run(_serve_mock_provider(config))


async def _serve_mock_provider(config: MockProviderConfig) -> int:
    sock = listen_socket(config.host, config.port)
    runner = web.AppRunner(MockProvider(config).app(), access_log=None)
    try:
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        log.info("listening on http://%s:%d", config.host, sock.getsockname()[1])
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()
    return 0
