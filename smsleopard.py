#!/usr/bin/env python3
"""SMSLeopard: campaign dispatch for SMS and WhatsApp, in one asyncio process.

Businesses keep their customers here, write a campaign as a template ("Hi {first_name},
check out {preferred_product}!") and send it to thousands or millions of customers. Each
customer gets one personalised message, delivered in the background with retries: never twice
in the database, never lost.

Run it::

    pip install -r requirements.txt
    python smsleopard.py                 # http://127.0.0.1:8080, demo data from seed.sql
    python smsleopard.py --help          # every setting, with its environment variable
    python smsleopard.py bench --quick   # the performance figures

The main path of a message, and where to read it:

    POST /campaigns/{id}/send      send_campaign (HTTP) -> Campaigns.send (CAMPAIGNS)
                                   -> ClaimStore.add_recipients: one pending row each
                                   -> Campaigns.enqueue -> JobQueue.publish (QUEUE)
    the dispatcher                 Dispatcher.process (DISPATCH) -> ClaimStore.claim (a
                                   lease) -> render_template (TEMPLATES) -> the Sender
                                   (SENDER) -> OutcomeStore.record: outcomes and counters
                                   in one transaction, a small group at a time
    later                          retries published by due time; OutcomeStore.record
                                   finishes the campaign through finishing_action (LIFECYCLE)

The file reads top to bottom, each section using only what stands above it (a test checks
this with `ast`): ERRORS, CONSENT, CONFIG, TIME, MODELS, LIFECYCLE, TEMPLATES, RETRY POLICY
AND PACING, METRICS, STORAGE (SQLite, and PostgreSQL behind the same interface), QUEUE,
CAMPAIGNS, SENDER, DISPATCH, SCHEDULER, WEBHOOKS, HTTP, OPENAPI, DASHBOARD (the page itself
is in static/), APP, CLI. The benchmark and the mock provider are not the service: they are in
tools/, imported by the `bench` and `mock-provider` subcommands only.
"""

import argparse
import asyncio
import base64
import binascii
import bisect
import contextlib
import csv
import dataclasses
import datetime as dt
import email.utils
import enum
import fcntl
import functools
import gc
import hashlib
import heapq
import hmac
import importlib
import io
import itertools
import json
import logging
import math
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import ssl
import sys
import time
import traceback
import types
import urllib.parse
import zoneinfo
from collections import Counter, defaultdict, deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Protocol, Self

import aiohttp
import aiosqlite
import prometheus_client as prom
import yarl
from aiohttp import web, web_protocol
from prometheus_client.core import HistogramMetricFamily

__version__ = "2.0.0"

log = logging.getLogger("smsleopard")


# ---------------------------------------------------------------------------
# ERRORS
# What the service raises on purpose derives from SmsLeopardError. Domain
# errors carry a code and a message and know nothing of HTTP: one table in
# the HTTP section maps each class to its status code.
# ---------------------------------------------------------------------------


class SmsLeopardError(Exception):
    """Base class of the errors this module raises on purpose."""


class ConfigError(SmsLeopardError):
    """A setting is invalid, or the service cannot start with it."""


class TemplateError(SmsLeopardError):
    """A message template is malformed or names an unknown field."""


class SendError(SmsLeopardError):
    """The provider did not take a message."""


class TransientSendError(SendError):
    """Worth retrying: timeouts, a provider having a bad minute."""


class PermanentSendError(SendError):
    """Retrying cannot help: an unroutable number, a message over the channel's limit."""


class QueueUnavailable(SmsLeopardError):
    """The job queue cannot take jobs now: its broker, or the database holding it, is down."""


class DomainError(SmsLeopardError):
    """A request the domain refuses; `code` names the reason for API callers, and `errors`
    lists the problems one by one where there can be many (the lines of a CSV file)."""

    def __init__(self, code: str, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors


class Invalid(DomainError):
    """The request is well-formed but not acceptable."""


class NotFound(DomainError):
    """What the request names does not exist."""


class Conflict(DomainError):
    """The request clashes with the state of what it names."""


class Unavailable(DomainError):
    """Something the request needs (the queue, the database) is down for now."""


class DatabaseUnavailable(Unavailable):
    """The database refuses work for now: locked by another program, a full disk, damage."""

    def __init__(self, reason: str):
        super().__init__("DATABASE_UNAVAILABLE", f"The database cannot take this now ({reason}); "
                                                 "nothing was changed: try again later")
        self.reason = reason


FAULTS = (DatabaseUnavailable, QueueUnavailable)  # what the service waits out, never dies of


def invalid(message: str) -> Invalid:
    return Invalid("VALIDATION_ERROR", message)


def campaign_not_found(campaign_id: object) -> NotFound:
    return NotFound("CAMPAIGN_NOT_FOUND", f"Campaign with ID {campaign_id} not found")


def customer_not_found(customer_id: object) -> NotFound:
    return NotFound("CUSTOMER_NOT_FOUND", f"Customer with ID {customer_id} not found")


class ApiError(SmsLeopardError):
    """An error of the HTTP layer itself (routing, authentication, body size)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


# ---------------------------------------------------------------------------
# CONSENT
# What a send owes the person at the other end: no message after they said
# STOP, none in the night where they live, none past a daily cap. Pure
# rules; the claim applies them to each message as it is about to go.
# ---------------------------------------------------------------------------

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
CAP_WINDOW = 24 * 3600.0  # seconds: the frequency cap counts messages sent within this


def keyword_action(text: str) -> str:
    """What an inbound message asks: opted_out, opted_in or none. Only a keyword on its
    own counts (any case; spaces and punctuation around it ignored): "stop!" does,
    "don't stop" does not."""
    word = re.sub(r"^[\W_]+|[\W_]+$", "", text).upper()
    return ("opted_out" if word in OPT_OUT_KEYWORDS else
            "opted_in" if word in OPT_IN_KEYWORDS else "none")


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_timezone(name: str) -> bool:
    """Whether `name` is an IANA timezone this machine knows (Africa/Nairobi, UTC)."""
    return name in _timezone_names()


@functools.lru_cache(maxsize=1024)
def timezone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window in local time when nothing is sent; start > end wraps past midnight."""

    start: dt.time
    end: dt.time

    def ends(self, now: float, zone: zoneinfo.ZoneInfo) -> float | None:
        """When the window that `now` falls in ends, for someone in `zone` (epoch seconds),
        or None when `now` is outside it. Daylight saving is the zone's: the window ends
        at the first moment the local clock shows `end`."""
        local = datetime.fromtimestamp(now, zone)
        clock = local.time()
        wraps = self.start > self.end
        inside = (self.start <= clock or clock < self.end) if wraps else (
            self.start <= clock < self.end)
        if not inside:
            return None
        day = local.date() + dt.timedelta(days=1 if clock >= self.end else 0)
        end = datetime.combine(day, self.end, tzinfo=zone)
        ends = end.timestamp()
        if datetime.fromtimestamp(ends, zone).time() != self.end:  # `end` falls in a DST gap:
            low, high = int(end.replace(fold=1).timestamp()), int(ends)  # the clocks jump past it
            while high - low > 1:
                middle = (low + high) // 2
                wall = datetime.fromtimestamp(middle, zone).replace(tzinfo=None)
                if wall >= end.replace(tzinfo=None):
                    high = middle
                else:
                    low = middle
            ends = float(high)
        return ends if ends > now else None


def parse_quiet_hours(text: str) -> QuietHours | None:
    """'21:00-08:00' as QuietHours (None for empty); ValueError if malformed."""
    if not text.strip():
        return None
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError("must be HH:MM-HH:MM, like 21:00-08:00")
    hours = [int(part) for part in match.groups()]
    if hours[0] > 23 or hours[2] > 23 or hours[1] > 59 or hours[3] > 59:
        raise ValueError("must hold times between 00:00 and 23:59")
    window = QuietHours(dt.time(hours[0], hours[1]), dt.time(hours[2], hours[3]))
    if window.start == window.end:
        raise ValueError("must not start and end at the same time")
    return window


@dataclass(frozen=True, slots=True)
class Consent:
    """The rules every message is held to at the moment it would be sent."""

    quiet_hours: QuietHours | None = None
    daily_cap: int = 0  # messages per customer in any 24 hours; 0: no cap


# ---------------------------------------------------------------------------
# CONFIG
# Every setting is a dataclass field; its flag and environment variable are
# derived from the name, so the class below is the only list of settings.
# ---------------------------------------------------------------------------


def _setting(default: Any, help: str, *, cli: bool = True) -> Any:
    return field(default=default, metadata={"help": help, "cli": cli})


class SettingError(ConfigError):
    """One setting is invalid: `reason` reads after the setting's name."""

    def __init__(self, name: str, reason: str, source: str | None = None):
        self.name, self.reason = name, reason
        super().__init__(f"{source or _flag(name)} {reason}")


@dataclass(frozen=True)
class Config:
    """The service's settings, validated on construction."""

    host: str = _setting("127.0.0.1", "bind address")
    port: int = _setting(8080, "TCP port (0 picks a free one)")
    db: str = _setting("smsleopard.db", "SQLite database path (':memory:' allowed), or "
                       "postgresql://user:pass@host:5432/name")
    role: str = _setting("all", "all: HTTP, scheduler and dispatch; api: HTTP and scheduler; "
                         "worker: dispatch (api and worker need PostgreSQL and --queue-url)")
    seed: bool = _setting(True, "load seed.sql into a new database")
    failure_rate: float = _setting(
        0.05, "mock provider: probability that one attempt fails transiently (0..1)")
    send_latency_ms: float = _setting(
        0.0, "mock provider: latency per attempt in ms (below half of --claim-timeout)")
    concurrency: int = _setting(100, "most send attempts in flight at once")
    max_retries: int = _setting(3, "retries after the first attempt")
    retry_base_ms: float = _setting(
        1000.0, "first backoff in ms; doubles each retry, +-25%% jitter, at most 60 s")
    queue_url: str = _setting("", "empty: in-process queue; amqp://user:pass@host:5672/vhost: "
                              "RabbitMQ; postgresql://...: a table in that PostgreSQL database")
    api_key: str = _setting("", "when set, every endpoint but /health, / and /providers/... needs "
                            "'Authorization: Bearer <key>'")
    queue_name: str = _setting("campaign_sends",
                               "the queue's name (RabbitMQ's delay queues share the prefix)")
    batch_size: int = _setting(1000, "most messages in one job (claimed a part at a time)")
    provider_url: str = _setting(
        "", "empty: the mock provider in this process; http(s)://...: a generic JSON provider; "
        "twilio://SID:TOKEN@api.twilio.com?from=..., africastalking://USER:KEY@api.africastalking"
        ".com?from=..., infobip://KEY@BASE.api.infobip.com?from=...&bulk=100, kannel://USER:PASS@"
        "host:13013?from=...&smsc=..., smpp://SYSTEM_ID:PASS@host:2775?source=...&window=50 "
        "(smpps:// with TLS) (KIND+http:// for plain HTTP; docs/gateways.md)")
    whatsapp_provider_url: str = _setting(
        "", "the whatsapp channel's gateway when it differs from --provider-url: whatsapp://"
        "PHONE_NUMBER_ID:TOKEN@graph.facebook.com/v21.0?app_secret=...&verify_token=...")
    provider_token: str = _setting("", "sent to the provider as 'Authorization: Bearer <token>'")
    provider_timeout_ms: float = _setting(
        10_000.0, "ms an attempt at the HTTP provider may take (below half of --claim-timeout)")
    public_url: str = _setting("", "this service's address as the provider sees it, for its "
                               "receipts (callback_url); empty: where it listens")
    rate_limit: str = _setting(
        "", "messages per second per channel, like sms=50,whatsapp=20 (empty: unlimited)")
    receipt_secret: str = _setting(
        "", "whsec_...: the provider signs delivery receipts with it (empty: receipts are off)")
    webhook_url: str = _setting("", "where events are POSTed, signed (empty: no webhooks)")
    webhook_secret: str = _setting("", "whsec_...: what webhooks are signed with")
    webhook_events: str = _setting("campaign", "campaign: status changes; campaign,message: "
                                   "also each failed or delivered message")
    default_timezone: str = _setting("UTC", "IANA timezone of customers created without one")
    quiet_hours: str = _setting(
        "", "like 21:00-08:00: nothing is sent then, in each customer's timezone (empty: off)")
    max_per_customer_per_day: int = _setting(
        0, "most messages a customer is sent in any 24 hours; more are suppressed (0: no cap)")
    claim_timeout: float = _setting(
        30.0, "seconds a claimed message may stay in flight; a crash's claims lapse after it")
    busy_timeout_ms: int = _setting(
        5000, "ms a write waits for a lock another program holds on the database")
    shutdown_timeout: float = _setting(10.0, "seconds SIGTERM waits for attempts in flight")
    log_level: str = _setting("info", "debug, info, warning or error")
    log_format: str = _setting("text", "text, or json: one JSON object per line")
    cors_origins: str = _setting("", "origins whose web pages may call the API, comma-separated "
                                 "(https://app.example.com), or *; empty: none")
    # Switches for tests and the benchmark, not command-line settings.
    run_workers: bool = _setting(True, "consume the job queue (if the role does)", cli=False)
    run_scheduler: bool = _setting(True, "run the scheduler task (if the role does)", cli=False)
    access_log: bool = _setting(True, "log every HTTP request", cli=False)
    seed_path: str = _setting(str(Path(__file__).with_name("seed.sql")), "sample data", cli=False)
    group_commits: bool = _setting(
        True, "commit outcomes as attempts end (off: at the end of each claim)", cli=False)

    def __post_init__(self) -> None:
        for name, problem in self._problems():
            if problem:
                raise SettingError(name, problem)

    def _problems(self) -> Iterable[tuple[str, str | None]]:
        """(setting, what is wrong with it), in the order checked; empty or None: nothing."""
        yield "port", _between(self.port, 0, 65535)
        yield "failure_rate", _between(self.failure_rate, 0, 1)
        yield "send_latency_ms", _unless(self.send_latency_ms >= 0, "must not be negative")
        yield "concurrency", _between(self.concurrency, 1, 100_000)
        yield "max_retries", _between(self.max_retries, 0, 100)
        yield "retry_base_ms", _between(self.retry_base_ms, 0, 3_600_000)
        yield "batch_size", _between(self.batch_size, 1, 10_000)
        yield "claim_timeout", _between(self.claim_timeout, 0.1, 3600, " seconds")
        yield "shutdown_timeout", _between(self.shutdown_timeout, 0, 3600, " seconds")
        yield "busy_timeout_ms", _between(self.busy_timeout_ms, 0, 600_000)
        yield "send_latency_ms", _unless(
            self.send_latency_ms < self.claim_timeout * 500,
            "must stay below half of --claim-timeout (an attempt must end inside its claim)")
        yield "queue_url", _unless(
            self.queue_url == "" or self.queue_url.startswith(("amqp://", "amqps://"))
            or is_postgres(self.queue_url),
            "must be empty or start with amqp://, amqps:// or postgresql:// (or postgres://)")
        for name in ("provider_url", "whatsapp_provider_url"):
            url = getattr(self, name)
            yield name, url and _parse_problem(parse_gateway_url, url)
        yield "public_url", _unless(
            self.public_url == "" or (HTTP_URL.fullmatch(self.public_url)
                                      and not re.search("[?#]", self.public_url)),
            "must be empty or an http:// or https:// URL with no query or fragment (the "
            "callbacks' paths are added to it)")
        yield "provider_timeout_ms", _unless(
            self.provider_timeout_ms >= 1 and (
                not self.provider_url or self.provider_timeout_ms < self.claim_timeout * 500),
            "must be at least 1 and, with --provider-url, below half of --claim-timeout")
        yield "provider_token", _unless(PRINTABLE.fullmatch(self.provider_token),
                                        "must be printable ASCII without spaces")
        yield "rate_limit", _parse_problem(parse_rate_limit, self.rate_limit,
                                           "must be like sms=50,whatsapp=20: ")
        for name in ("receipt_secret", "webhook_secret"):
            secret = getattr(self, name)
            yield name, secret and secret_problem(secret)
        yield "webhook_url", _unless(
            self.webhook_url == "" or HTTP_URL.fullmatch(self.webhook_url),
            "must be empty or an http:// or https:// URL")
        yield "webhook_secret", _unless(bool(self.webhook_secret) or not self.webhook_url,
                                        "is required with --webhook-url (whsec_ and base64)")
        kinds = set(comma_list(self.webhook_events))
        yield "webhook_events", _unless("campaign" in kinds and kinds <= {"campaign", "message"},
                                        "must be campaign, or campaign,message")
        yield "default_timezone", _unless(
            is_timezone(self.default_timezone),
            "must be an IANA timezone name, like Africa/Nairobi or UTC")
        yield "quiet_hours", _parse_problem(parse_quiet_hours, self.quiet_hours)
        yield "max_per_customer_per_day", _between(self.max_per_customer_per_day, 0, 1_000_000)
        yield "queue_name", _unless(re.fullmatch(r"[A-Za-z0-9_.:-]{1,200}", self.queue_name),
                                    "must be 1-200 letters, digits, '_', '.', ':' or '-'")
        yield "api_key", _unless(PRINTABLE.fullmatch(self.api_key),
                                 "must be printable ASCII without spaces")
        yield "log_format", _unless(self.log_format in ("text", "json"), "must be text or json")
        yield "role", _unless(self.role in ("all", "api", "worker"), "must be all, api or worker")
        yield "role", _unless(
            self.role == "all" or (is_postgres(self.db) and bool(self.queue_url)),
            f"{self.role} runs part of the service: the other part runs in other processes, "
            "which share the work only through PostgreSQL (--db postgresql://...) and a shared "
            "queue (--queue-url amqp://... or postgresql://...)")
        yield "cors_origins", cors_problem(self.cors_origins)
        yield "log_level", _unless(self.log_level in ("debug", "info", "warning", "error"),
                                   "must be debug, info, warning or error")

    @property
    def events(self) -> frozenset[str]:
        """The kinds of webhook events asked for (none without a --webhook-url)."""
        return frozenset(comma_list(self.webhook_events) if self.webhook_url else ())

    @property
    def consent(self) -> Consent:
        """What the customers' consent and the law ask of every send."""
        return Consent(parse_quiet_hours(self.quiet_hours), self.max_per_customer_per_day)

    @property
    def dispatches(self) -> bool:
        """Whether this process sends messages (--role all or worker)."""
        return self.run_workers and self.role != "api"

    @property
    def schedules(self) -> bool:
        """Whether this process starts campaigns when due (--role all or api)."""
        return self.run_scheduler and self.role != "worker"

    @property
    def cors(self) -> frozenset[str]:
        """The origins --cors-origins lets in ('*': any)."""
        return frozenset(origin.rstrip("/") for origin in comma_list(self.cors_origins))

    @property
    def rate_limits(self) -> dict[str, float]:
        """--rate-limit as {channel: messages per second}."""
        return parse_rate_limit(self.rate_limit)

    @property
    def job_size(self) -> int:
        """Messages per job and per claim: a batch, unless the provider is too slow for one.

        A job's attempts share `concurrency` slots with the next job's, so a
        job of n messages takes about latency x 2n / concurrency; it must fit
        well inside the half of a claim in which its attempts may start.
        """
        if not self.send_latency_ms:
            return self.batch_size
        fits = self.concurrency * (self.claim_timeout * 1000 / 4) / (2 * self.send_latency_ms)
        return max(1, min(self.batch_size, int(fits)))


def _between(value: float, low: float, high: float, unit: str = "") -> str | None:
    return None if low <= value <= high else f"must be between {low} and {high}{unit}"


def _unless(ok: object, problem: str) -> str | None:
    return None if ok else problem


def _parse_problem(parse: Callable[[str], object], text: str, prefix: str = "") -> str | None:
    """What `parse` finds wrong with `text` (its ValueError, after `prefix`), or None."""
    try:
        parse(text)
    except ValueError as exc:
        return prefix + str(exc)
    return None


def comma_list(text: str) -> list[str]:
    """The items of a comma-separated setting, stripped, empty ones left out."""
    return [part.strip() for part in text.split(",") if part.strip()]


HTTP_URL = re.compile(r"https?://[^\s/?#]+(/[^\s]*)?")
PRINTABLE = re.compile(r"[\x21-\x7e]*")  # ASCII without spaces or control characters
CHANNELS = ("sms", "whatsapp")
MAX_RATE = 100_000.0  # messages per second: more than any provider takes


def parse_rate_limit(text: str) -> dict[str, float]:
    """'sms=50,whatsapp=20' as {'sms': 50.0, 'whatsapp': 20.0}; ValueError if malformed."""
    limits: dict[str, float] = {}
    for part in comma_list(text):
        channel, equals, rate = part.partition("=")
        channel = channel.strip()
        if not equals or channel not in CHANNELS:
            raise ValueError(f"{part!r} is not channel=rate for a channel of "
                             f"{', '.join(CHANNELS)}")
        if channel in limits:
            raise ValueError(f"{channel} is given twice")
        try:
            limits[channel] = float(rate)
        except ValueError:
            raise ValueError(f"the rate of {channel} must be a number, "
                             f"not {rate.strip()!r}") from None
        if not 0 < limits[channel] <= MAX_RATE:
            raise ValueError(f"the rate of {channel} must be above 0 and at most {MAX_RATE:g}")
    return limits


def secret_problem(secret: str) -> str | None:
    """Why `secret` is not a Standard Webhooks secret (whsec_<base64>, 16+ bytes), or None."""
    if not secret.startswith("whsec_"):
        return ("must start with whsec_ and hold base64 "
                "(like whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw)")
    try:
        key = base64.b64decode(secret[6:], validate=True)
    except binascii.Error:
        return "must be whsec_ and valid base64"
    return None if len(key) >= 16 else "must hold at least 16 bytes (24 base64 characters)"


def redacted(url: str) -> str:
    """A URL fit for a log: no password, no query (where tokens hide)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    where = f"{parts.username}@{host}" if parts.username else host
    port = f":{parts.port}" if parts.port else ""
    return urllib.parse.urlunsplit((parts.scheme, where + port, parts.path, "", ""))


# --provider-url names the gateway by its scheme (§20): KIND://credentials@host?options over
# HTTPS, KIND+http:// over plain HTTP, http(s):// the generic JSON provider of §12.
# Each KIND with its credentials (as the URL gives them) and the options it takes.
GATEWAY_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "twilio": ("ACCOUNT_SID:AUTH_TOKEN@", ("from", "messaging_service")),
    "africastalking": ("USERNAME:API_KEY@", ("from",)),
    "infobip": ("API_KEY@", ("from", "bulk")),
    "kannel": ("USER:PASSWORD@", ("from", "smsc")),
    "smpp": ("SYSTEM_ID:PASSWORD@", ("source", "window", "system_type")),
    "whatsapp": ("PHONE_NUMBER_ID:ACCESS_TOKEN@", ("app_secret", "verify_token")),
}
MAX_BULK = 1000  # messages in one Infobip request
MAX_SMPP_WINDOW = 1000  # submit_sm in flight on one bind
WHATSAPP_VERSION = "v21.0"  # the Graph API version when the URL names none


@dataclass(frozen=True)
class GatewayUrl:
    """--provider-url taken apart: which gateway, where, with what credentials and options."""

    kind: str                    # generic, twilio, africastalking, infobip, kannel or smpp
    base: str                    # scheme://host[:port][/path], no credentials, no query
    user: str = ""               # account SID, username (infobip: none, its key is the secret)
    secret: str = field(default="", repr=False)  # auth token, API key, password: never shown
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.base).netloc

    @property
    def shown(self) -> str:
        """The URL fit for a log or an answer: the secret and the query are ***."""
        if self.kind == "generic":
            return redacted(self.base)
        user = f"{self.user}:***@" if self.user else "***@"
        parts = urllib.parse.urlsplit(self.base)
        suffix = {"http": "+http", "smpps": "s"}.get(parts.scheme, "")  # plain HTTP, TLS
        return f"{self.kind}{suffix}://{user}{parts.netloc}{parts.path}"


def parse_gateway_url(url: str) -> GatewayUrl:
    """--provider-url as a GatewayUrl; ValueError naming the problem (never the secret)."""
    scheme, _, rest = url.partition("://")
    kind, plus, transport = scheme.lower().partition("+")
    if kind in ("http", "https") and not plus:
        if HTTP_URL.fullmatch(url) is None:
            raise ValueError("must be an http:// or https:// URL with a host")
        return GatewayUrl("generic", url)
    kind = "smpp" if kind == "smpps" and not plus else kind
    if not rest or kind not in GATEWAY_KINDS or (plus and transport != "http"):
        raise ValueError("must be empty, http(s)://..., or twilio://, africastalking://, "
                         "infobip://, kannel://, smpp:// or whatsapp:// (KIND+http:// for plain "
                         "HTTP)")
    parts = urllib.parse.urlsplit("x://" + rest)
    try:
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"{kind}:// has a bad port") from None
    if not host:
        raise ValueError(f"{kind}:// needs a host")
    user = urllib.parse.unquote(parts.username or "")
    secret = urllib.parse.unquote(parts.password or "")
    if kind == "infobip":
        user, secret = "", secret or user
    if not secret or (kind != "infobip" and not user):
        raise ValueError(f"{kind}:// needs its credentials: {kind}://{GATEWAY_KINDS[kind][0]}host")
    if kind == "smpp" and (len(user) > 15 or len(secret) > 8):  # SMPP 3.4's bind fields
        raise ValueError("smpp:// system_id must be at most 15 and the password 8 characters")
    options = _gateway_options(kind, parts.query)
    netloc, path = parts.netloc.rpartition("@")[2], parts.path.rstrip("/")
    if kind == "whatsapp":  # the path is the Graph API version
        path = path or "/" + WHATSAPP_VERSION
        if re.fullmatch(r"/v\d{1,3}\.\d{1,2}", path) is None:
            raise ValueError("whatsapp:// takes the Graph API version as its path, like "
                             f"graph.facebook.com/{WHATSAPP_VERSION}")
    transport = scheme.lower() if kind == "smpp" else "http" if plus else "https"  # smpp(s)
    return GatewayUrl(kind, f"{transport}://{netloc}{path}", user, secret, options)


def _gateway_options(kind: str, query: str) -> dict[str, str]:
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    options = dict(pairs)
    allowed = GATEWAY_KINDS[kind][1]
    if unknown := [name for name, _ in pairs if name not in allowed]:
        raise ValueError(f"{kind}:// has an unknown option {unknown[0][:40]!r} "
                         f"(it takes {', '.join(allowed)})")
    if len(options) < len(pairs):
        raise ValueError(f"{kind}:// gives an option twice")
    if kind == "twilio" and len(options.keys() & {"from", "messaging_service"}) != 1:
        raise ValueError("twilio:// needs from=+15550001111 or messaging_service=MG... (one)")
    for name, high in (("bulk", MAX_BULK), ("window", MAX_SMPP_WINDOW)):  # infobip's, smpp's
        count = options.get(name, "1")
        if not (count.isascii() and count.isdigit() and 1 <= int(count) <= high):
            raise ValueError(f"{kind}:// {name} must be between 1 and {high}")
    if kind == "whatsapp" and not (options.get("app_secret") and options.get("verify_token")):
        raise ValueError("whatsapp:// needs app_secret=... (the app's secret, which signs the "
                         "webhook) and verify_token=... (the one pasted into Meta's console)")
    if kind == "smpp" and len(options.get("system_type", "")) > 12:  # SMPP 3.4's field sizes
        raise ValueError("smpp:// system_type must be at most 12 characters")
    if kind == "smpp" and not 1 <= len(options.get("source", "")) <= 20:
        raise ValueError("smpp:// needs source=SENDER (1 to 20 characters)")
    return options


def is_postgres(db: str) -> bool:
    """Whether --db names a PostgreSQL database (else it is a SQLite file)."""
    return db.startswith(("postgresql://", "postgres://"))


def shown_database(db: str) -> str:
    """--db as logs and errors show it: a PostgreSQL URL without its password."""
    return redacted(db) if is_postgres(db) else db


ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


def cors_problem(text: str) -> str | None:
    """What is wrong with a --cors-origins value, if anything."""
    origins = [origin.rstrip("/") for origin in comma_list(text)]
    if "*" in origins and len(origins) > 1:
        return "must be * alone, or a list of origins"
    bad = [origin for origin in origins if origin != "*" and not ORIGIN.fullmatch(origin)]
    return f"must list origins like https://app.example.com, not {bad[0]!r}" if bad else None


class _ArgumentParser(argparse.ArgumentParser):
    """An argument parser whose mistakes end in ConfigError, not in a usage dump."""

    def error(self, message: str) -> Any:
        raise ConfigError(message)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _env_name(name: str) -> str:
    return "SMSLEOPARD_" + name.upper()


BOOLEAN_WORDS = {"1": True, "true": True, "yes": True, "on": True,
                 "0": False, "false": False, "no": False, "off": False}


def _convert(setting: dataclasses.Field, raw: str, source: str) -> Any:
    if setting.type is bool:
        word = raw.strip().lower()
        if word not in BOOLEAN_WORDS:
            raise ConfigError(f"{source} must be one of {', '.join(BOOLEAN_WORDS)}, not {raw!r}")
        return BOOLEAN_WORDS[word]
    try:
        value = setting.type(raw)
    except ValueError:
        kind = "an integer" if setting.type is int else "a number"
        raise ConfigError(f"{source} must be {kind}, not {raw!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{source} must be a finite number, not {raw!r}")
    return value


CLI_EPILOG = """\
commands:
  python smsleopard.py bench [--quick]   measure the performance figures (bench --help)
  python smsleopard.py mock-provider     a mock SMS/WhatsApp provider (mock-provider --help)

Every setting is also an environment variable, named in its help; the flag wins."""


def _parser(settings: Sequence[dataclasses.Field]) -> _ArgumentParser:
    parser = _ArgumentParser(prog="smsleopard.py", epilog=CLI_EPILOG,
                             formatter_class=argparse.RawDescriptionHelpFormatter,
                             description="SMSLeopard: campaign dispatch for SMS and WhatsApp.")
    for setting in settings:
        env = _env_name(setting.name)
        if setting.type is bool:
            parser.add_argument(_flag("no_" + setting.name), dest=setting.name,
                                action="store_const", const="0",
                                help=f"don't {setting.metadata['help']} ({env}=0)")
        else:
            parser.add_argument(_flag(setting.name), dest=setting.name,
                                metavar=setting.name.upper(),
                                help=f"{setting.metadata['help']} "
                                     f"(default {setting.default!r}; {env})")
    return parser


def load_config(argv: Sequence[str], environ: Mapping[str, str]) -> Config:
    """The Config from flags, then environment variables, then defaults; an error names
    where the bad value came from: the flag, or the variable."""
    settings = [f for f in dataclasses.fields(Config) if f.metadata["cli"]]
    args = _parser(settings).parse_args(list(argv))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for setting in settings:
        raw, source = getattr(args, setting.name), _flag(setting.name)
        if raw is None:
            source = _env_name(setting.name)
            raw = environ.get(source)
        if raw is not None:
            sources[setting.name] = source
            values[setting.name] = _convert(setting, raw, source)
    try:
        return Config(**values)
    except SettingError as exc:
        raise SettingError(exc.name, exc.reason, sources.get(exc.name)) from None


# ---------------------------------------------------------------------------
# TIME
# Times are epoch seconds inside the service and ISO-8601 UTC with a 'Z' at
# the edges. The clock is passed in, so tests move time instead of waiting.
# ---------------------------------------------------------------------------

LATEST_TIMESTAMP = 253402300799.999  # 9999-12-31T23:59:59.999Z: later instants have no ISO form


def utc_iso(timestamp: float) -> str:
    """Epoch seconds as '2026-11-28T23:48:04.123Z' (fixed width, so text order is time order)."""
    whole = math.floor(timestamp)
    millis = min(999, round((timestamp - whole) * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


TIMESTAMP_PATTERN = re.compile(
    r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?([Zz]|[+-]\d\d:?\d\d)")


def parse_timestamp(text: str) -> float:
    """An ISO-8601 (RFC 3339) timestamp with a timezone, as epoch seconds; ValueError otherwise."""
    if not TIMESTAMP_PATTERN.fullmatch(text):
        raise ValueError("not an ISO-8601 timestamp with a timezone")
    text = text[:10] + "T" + text[11:]
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text))
    try:
        timestamp = moment.timestamp()
    except (OverflowError, ValueError):
        raise ValueError("timestamp out of range") from None
    if not 0 <= timestamp <= LATEST_TIMESTAMP:
        raise ValueError("timestamp out of range: it must lie between 1970 and 9999 (UTC)")
    return timestamp


class Clock:
    """Wall-clock time in epoch seconds, and timers set on it."""

    def now(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """Run callback at wall-clock time `when` (at once if it has passed)."""
        return asyncio.get_running_loop().call_later(max(0.0, when - self.now()), callback)


# ---------------------------------------------------------------------------
# MODELS
# ---------------------------------------------------------------------------


class Channel(enum.StrEnum):
    SMS = "sms"
    WHATSAPP = "whatsapp"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    DELIVERED = "delivered"      # the receipt says it reached the phone
    UNDELIVERED = "undelivered"  # the receipt says it did not


class MessageStatus(enum.StrEnum):
    PENDING = "pending"        # waiting for an attempt (perhaps for its retry time)
    SENDING = "sending"        # claimed by a worker: being attempted, or about to be
    SENT = "sent"              # the provider took it
    FAILED = "failed"          # permanently, or after the last retry
    CANCELLED = "cancelled"    # its campaign was cancelled before an attempt
    SUPPRESSED = "suppressed"  # never to be sent: opted out, over the daily cap, or erased


CUSTOMER_FIELDS = ("first_name", "last_name", "phone", "location", "preferred_product")
CUSTOMER_INPUT_FIELDS = ("phone", "first_name", "last_name", "location", "preferred_product",
                         "timezone")  # what a customer is created or changed with
SEGMENT_FIELDS = ("location", "preferred_product")

# The limits of what the service accepts.
MAX_ID = 2**63 - 1            # the largest integer SQLite (and a bigint) holds
MAX_SEND_IDS = 100_000        # customer ids in one send
MAX_BULK_CUSTOMERS = 10_000   # customers in one POST /customers
MAX_CSV_ROWS = 100_000        # customers in one CSV import
MAX_LISTED_ERRORS = 100       # problems listed one by one in an error answer
MAX_TEXT = 200                # characters in a name, a customer field, a segment value
MAX_TEMPLATE = 2000
ERROR_TEXT_LIMIT = 300        # characters of a provider's (or receiver's) answer kept as an error
ANSWER_LIMIT = 1 << 20        # bytes of a gateway's answer read (Infobip's, 100 messages: 30 KB)
MAX_RECEIPTS = 1000           # receipts in one POST /providers/receipts
PHONE_PATTERN = re.compile(r"\+[1-9][0-9]{7,14}")  # E.164: '+' and 8 to 15 digits
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a send is for: exactly one of explicit customer ids, everyone, or a segment."""

    customer_ids: tuple[int, ...] = ()
    all_customers: bool = False
    segment: tuple[tuple[str, str], ...] = ()  # (field, value) pairs, all must match


@dataclass(frozen=True, slots=True)
class SendResult:
    """What POST /campaigns/{id}/send answers, and what the send leaves to publish."""

    campaign_id: int
    messages_queued: int
    duplicates_skipped: int
    suppressed: int               # created suppressed: the customer had opted out
    status: str
    new_ids: Sequence[int] = ()   # the messages this send created
    publish_all: bool = False     # it started a campaign that had recipients waiting
    paced: bool = False           # a campaign or channel rate limit: the pacer sends it
    channel: str = ""             # the campaign's

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "campaign_id", "messages_queued", "duplicates_skipped", "suppressed", "status")}


class Result(enum.Enum):
    SENT = "sent"            # the provider took it
    RETRY = "retry"          # transient failure, another attempt later
    THROTTLED = "throttled"  # the provider said not now (429): later, no attempt used up
    FAILED = "failed"        # permanent failure, or retries used up
    RELEASED = "released"    # never attempted (shutdown, deadline, pause): claim dropped


class WhatsAppTemplate(NamedTuple):
    """An approved WhatsApp template (§20): as a campaign names it, its parameters are
    templates of §4; as one customer receives it, they are rendered."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(slots=True)
class Attempt:
    """One try at handing a claimed message to the provider, and how it ended."""

    message_id: int
    campaign_id: int
    channel: str
    phone: str
    text: str
    retry_count: int                # retries so far; one more once the result is RETRY
    result: Result | None = None    # None while the attempt is under way
    error: str | None = None
    next_attempt_at: float = 0.0    # for RETRY and THROTTLED: when the next attempt may start
    started: bool = False           # the provider was called
    provider_id: str | None = None  # the provider's id for it, once sent
    retry_after: float = 0.0        # for THROTTLED: what the provider asked for
    token: int = 0                  # the claim it belongs to
    paced: bool = False             # claimed by the pacer, which finds its retries itself
    opted_out: bool = False         # the gateway refused it as opted out: the customer is, too
    whatsapp_template: WhatsAppTemplate | None = None  # the campaign's, rendered for the customer


class ClaimedMessage(NamedTuple):
    """A message a claim handed to the dispatcher, with what rendering it needs."""

    id: int
    campaign_id: int
    retry_count: int
    first_name: str | None
    last_name: str | None
    phone: str
    location: str | None
    preferred_product: str | None

    @property
    def fields(self) -> tuple[str | None, ...]:
        """The customer's fields in CUSTOMER_FIELDS order, as render_row takes them."""
        return (self.first_name, self.last_name, self.phone, self.location, self.preferred_product)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A provider's word on whether a message reached the phone."""

    reference: str            # our message id, as we sent it
    status: str               # delivered or undelivered
    at: str                   # when, ISO-8601 UTC
    error: str | None = None  # why not, for undelivered

    @property
    def message_id(self) -> int | None:
        return int(self.reference) if re.fullmatch(r"[1-9][0-9]{0,17}", self.reference) else None


class ErrorCount(NamedTuple):
    """One line of a campaign's error breakdown."""

    last_error: str
    status: str
    count: int


def encode_job(ids: Sequence[int]) -> bytes:
    """A job as JSON runs of consecutive ids, [[first, last], ...]: a range takes a few bytes."""
    runs: list[list[int]] = []
    for message_id in sorted(ids):
        if runs and runs[-1][1] == message_id - 1:
            runs[-1][1] = message_id
        else:
            runs.append([message_id, message_id])
    return json.dumps(runs, separators=(",", ":")).encode()


def decode_job(body: bytes) -> list[int]:
    """The ids of an encoded job; ValueError when the body is not one."""
    runs = json.loads(body)
    valid = isinstance(runs, list) and all(
        isinstance(run, list) and len(run) == 2 and all(type(n) is int for n in run)
        and 1 <= run[0] <= run[1] for run in runs)
    if not valid or sum(last - first + 1 for first, last in runs) > 100_000:
        raise ValueError("not a job: expected [[first, last], ...] with at most 100000 ids")
    return [message_id for first, last in runs for message_id in range(first, last + 1)]


# ---------------------------------------------------------------------------
# LIFECYCLE
# A campaign's statuses and the actions that move it, as one table. Every
# status change in the service, whether an operator's action, the
# scheduler's or the dispatcher's, asks next_status() first.
# ---------------------------------------------------------------------------


class Action(enum.StrEnum):
    EDIT = "change its channel"       # PATCH channel
    EDIT_CONTENT = "edit"             # PATCH name or template
    SCHEDULE = "schedule"             # PATCH a future scheduled_at
    UNSCHEDULE = "unschedule"         # PATCH scheduled_at: null
    ADD_RECIPIENTS = "send"           # POST /send (the new messages wait while paused)
    START = "start"                   # a send, or the scheduler at scheduled_at
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    FINISH_SENT = "finish as sent"    # the last message settled, at least one was sent
    FINISH_FAILED = "finish as failed"  # the last message settled, none was sent
    RETRY_FAILED = "retry-failed"
    DELETE = "delete"


_S = CampaignStatus
DELETED = None  # where DELETE leads

TRANSITIONS: dict[Action, dict[CampaignStatus, CampaignStatus | None]] = {
    Action.EDIT: {_S.DRAFT: _S.DRAFT, _S.SCHEDULED: _S.SCHEDULED},
    Action.EDIT_CONTENT: {_S.DRAFT: _S.DRAFT, _S.SCHEDULED: _S.SCHEDULED, _S.PAUSED: _S.PAUSED},
    Action.SCHEDULE: {_S.DRAFT: _S.SCHEDULED, _S.SCHEDULED: _S.SCHEDULED},
    Action.UNSCHEDULE: {_S.SCHEDULED: _S.DRAFT},
    Action.ADD_RECIPIENTS: {_S.DRAFT: _S.DRAFT, _S.SCHEDULED: _S.SCHEDULED,
                            _S.SENDING: _S.SENDING, _S.PAUSED: _S.PAUSED},
    Action.START: {_S.DRAFT: _S.SENDING, _S.SCHEDULED: _S.SENDING},
    Action.PAUSE: {_S.SENDING: _S.PAUSED},
    Action.RESUME: {_S.PAUSED: _S.SENDING},
    Action.CANCEL: {_S.DRAFT: _S.CANCELLED, _S.SCHEDULED: _S.CANCELLED,
                    _S.SENDING: _S.CANCELLED, _S.PAUSED: _S.CANCELLED},
    Action.FINISH_SENT: {_S.SENDING: _S.SENT},
    Action.FINISH_FAILED: {_S.SENDING: _S.FAILED},
    Action.RETRY_FAILED: {_S.SENDING: _S.SENDING, _S.PAUSED: _S.SENDING,
                          _S.SENT: _S.SENDING, _S.FAILED: _S.SENDING},
    Action.DELETE: {_S.DRAFT: DELETED},
}

# What an operator may ask for, in the words of the API; the rest the service does itself.
OPERATOR_ACTIONS = (Action.ADD_RECIPIENTS, Action.EDIT_CONTENT, Action.PAUSE, Action.RESUME,
                    Action.CANCEL, Action.RETRY_FAILED, Action.DELETE)


class InvalidState(Conflict):
    """The campaign's status does not allow the action."""

    def __init__(self, campaign_id: int, status: CampaignStatus, action: Action,
                 code: str = "INVALID_STATE"):
        allowed = ", ".join(allowed_actions(status))
        allowed = f"allowed when {status}: {allowed}" if allowed else f"{status} is final"
        super().__init__(code,
                         f"Campaign {campaign_id} is {status}; it cannot {action} ({allowed})")


def next_status(status: CampaignStatus, action: Action, campaign_id: int = 0,
                code: str = "INVALID_STATE") -> CampaignStatus | None:
    """Where `action` takes a campaign in `status` (None: deleted), or InvalidState."""
    moves = TRANSITIONS[action]
    if status not in moves:
        raise InvalidState(campaign_id, CampaignStatus(status), action, code)
    return moves[status]


def allowed_actions(status: CampaignStatus) -> list[str]:
    """The operator actions a campaign in `status` accepts, as the API names them."""
    return [str(action) for action in OPERATOR_ACTIONS if status in TRANSITIONS[action]]


def finishing_action(sent: int, failed: int) -> Action:
    """How a campaign ends once every message has settled: failed if nothing was sent and
    something failed; else sent (one whose every message was suppressed went as it should)."""
    return Action.FINISH_FAILED if failed and not sent else Action.FINISH_SENT


# ---------------------------------------------------------------------------
# TEMPLATES
# Pure functions: parse once (cached), render in one pass, count SMS segments.
# ---------------------------------------------------------------------------

UNKNOWN_VALUE = "[unknown]"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """`{field}` or `{field|fallback}` in a template."""

    field: str
    fallback: str | None  # None: a missing value renders as UNKNOWN_VALUE


Template = tuple[str | Placeholder, ...]

_TEMPLATE_TOKEN = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")


@functools.lru_cache(maxsize=1024)
def parse_template(text: str) -> Template:
    """Split a template into literal text and placeholders, or raise TemplateError:
    `{field}` and `{field|fallback}` are placeholders for customer fields, `{{` and `}}`
    literal braces; any other brace is an error."""
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    position = 0
    for token in _TEMPLATE_TOKEN.finditer(text):
        literal.append(text[position:token.start()])
        position = token.end()
        match token.group():
            case "{{":
                literal.append("{")
            case "}}":
                literal.append("}")
            case "{" | "}" as brace:
                raise TemplateError(f"stray '{brace}' at position {token.start()}: "
                                    f"write '{brace * 2}' for a literal brace")
            case placeholder:
                parts.extend(("".join(literal), _parse_placeholder(placeholder)))
                literal.clear()
    parts.append("".join(literal) + text[position:])
    return tuple(part for part in parts if part != "")


def _parse_placeholder(token: str) -> Placeholder:
    name, bar, fallback = token[1:-1].partition("|")
    name = name.strip()
    if name not in CUSTOMER_FIELDS:
        reason = "is empty" if not name else f"names unknown field {name!r}"
        raise TemplateError(f"placeholder {token} {reason}; "
                            f"fields are {', '.join(CUSTOMER_FIELDS)}")
    return Placeholder(name, fallback if bar else None)


def is_missing(value: str | None) -> bool:
    """A customer field counts as missing when NULL, empty or only whitespace."""
    return value is None or not value.strip()


def render_template(template: Template, customer: Mapping[str, str | None]) -> str:
    """The message for one customer. One pass: values are copied in, never parsed again."""
    return render_row(positional(template), [customer.get(name) for name in CUSTOMER_FIELDS])


@functools.lru_cache(maxsize=1024)
def positional(template: Template) -> tuple[str | tuple[int, str | None], ...]:
    """The template with each placeholder as (position in CUSTOMER_FIELDS, fallback)."""
    return tuple(part if isinstance(part, str) else
                 (CUSTOMER_FIELDS.index(part.field), part.fallback) for part in template)


def render_row(parts: tuple[str | tuple[int, str | None], ...],
               values: Sequence[str | None]) -> str:
    """Render from the customer's fields in CUSTOMER_FIELDS order: what a batch renders from,
    straight off its rows."""
    out = []
    for part in parts:
        if part.__class__ is str:
            out.append(part)
        else:
            value = values[part[0]]
            if value is None or not value.strip():
                value = UNKNOWN_VALUE if part[1] is None else part[1]
            out.append(value)
    return "".join(out)


def missing_fields(template: Template, customer: Mapping[str, str | None]) -> list[str]:
    """The fields the template uses that this customer lacks, each once, in order."""
    names = (p.field for p in template
             if isinstance(p, Placeholder) and is_missing(customer.get(p.field)))
    return list(dict.fromkeys(names))


# GSM 03.38: the basic alphabet (ESC excluded) and the extension table, whose
# characters take an escape septet and so count twice.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7_CHARSET = GSM7_BASIC | GSM7_EXTENSION
SMS_MAX_SEGMENTS = 10
WHATSAPP_MAX_CHARACTERS = 4096


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """How an SMS carrier sees a text: encoding, length in its units, segments."""

    encoding: str    # "GSM-7" or "UCS-2"
    characters: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def sms_info(text: str) -> SmsInfo:
    """Encoding, length and segment count of `text` sent as one SMS. GSM-7 fits 160 septets
    in one segment and 153 per segment of a longer message; UCS-2 70 and 67 code units. A
    two-unit character (a GSM-7 escape, a UTF-16 surrogate pair) is never split across
    segments."""
    if set(text) <= GSM7_CHARSET:
        units = [2 if char in GSM7_EXTENSION else 1 for char in text]
        encoding, single, multi = "GSM-7", 160, 153
    else:
        units = [2 if ord(char) > 0xFFFF else 1 for char in text]
        encoding, single, multi = "UCS-2", 70, 67
    characters = sum(units)
    return SmsInfo(encoding, characters,
                   1 if characters <= single else _pack_segments(units, multi))


def _pack_segments(units: Iterable[int], capacity: int) -> int:
    segments, used = 1, 0
    for unit in units:
        if used + unit > capacity:
            segments, used = segments + 1, 0
        used += unit
    return segments


# No text this short can need more than 10 SMS segments, whatever its characters
# (10 UCS-2 segments hold 335 surrogate pairs), so most messages skip the count.
SMS_SURELY_FITS = SMS_MAX_SEGMENTS * 67 // 2


def channel_limit_problem(channel: str, text: str) -> str | None:
    """Why `text` is too long for the channel, or None when it fits."""
    if channel == Channel.SMS and len(text) > SMS_SURELY_FITS:
        segments = sms_info(text).segments
        if segments > SMS_MAX_SEGMENTS:
            return f"message needs {segments} SMS segments; the limit is {SMS_MAX_SEGMENTS}"
    elif len(text) > WHATSAPP_MAX_CHARACTERS:
        return (f"message has {len(text)} characters; "
                f"the WhatsApp limit is {WHATSAPP_MAX_CHARACTERS}")
    return None


WHATSAPP_TEMPLATE_KEYS = ("name", "language", "parameters")
WHATSAPP_TEMPLATE_NAME = re.compile(r"[a-z0-9_]{1,512}")  # as Meta's console allows them
WHATSAPP_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Za-z]{2,4})?")  # en, en_US, pt_BR, zh_CN
WHATSAPP_MAX_PARAMETERS = 100
WHATSAPP_MAX_PARAMETER = 1024  # characters of one parameter's template


def whatsapp_template_spec(value: Any) -> WhatsAppTemplate:
    """A campaign's whatsapp_template from its JSON: ValueError naming what is wrong, or
    TemplateError (with the parameter's position) for a placeholder that does not parse."""
    if not isinstance(value, dict):
        raise ValueError('must be an object {"name", "language", "parameters": [...]} or null')
    if unknown := sorted(value.keys() - set(WHATSAPP_TEMPLATE_KEYS)):
        raise ValueError(f"has an unknown field {unknown[0][:40]!r} (it takes name, language, "
                         "parameters)")
    name, language = value.get("name"), value.get("language")
    if not isinstance(name, str) or WHATSAPP_TEMPLATE_NAME.fullmatch(name) is None:
        raise ValueError("name must be the approved template's name: lowercase letters, "
                         "digits and underscores, like order_update")
    if not isinstance(language, str) or WHATSAPP_LANGUAGE.fullmatch(language) is None:
        raise ValueError("language must be the template's language code, like en or en_US")
    parameters = value.get("parameters", [])
    if not isinstance(parameters, list) or len(parameters) > WHATSAPP_MAX_PARAMETERS or not all(
            isinstance(p, str) and 1 <= len(p) <= WHATSAPP_MAX_PARAMETER for p in parameters):
        raise ValueError(f"parameters must be a list of at most {WHATSAPP_MAX_PARAMETERS} "
                         f"templates of 1 to {WHATSAPP_MAX_PARAMETER} characters, "
                         'like ["{first_name}", "{preferred_product|our shop}"]')
    for n, parameter in enumerate(parameters):
        try:
            parse_template(parameter)
        except TemplateError as exc:
            raise TemplateError(f"parameters[{n}]: {exc}") from None
    return WhatsAppTemplate(name, language, tuple(parameters))


def stored_whatsapp_template(text: str | None) -> WhatsAppTemplate | None:
    """A campaign's whatsapp_template as stored (JSON text), or None."""
    if not text:
        return None
    spec = json.loads(text)
    return WhatsAppTemplate(spec["name"], spec["language"], tuple(spec["parameters"]))


def whatsapp_template_json(spec: WhatsAppTemplate | None) -> dict[str, Any] | None:
    return None if spec is None else {"name": spec.name, "language": spec.language,
                                      "parameters": list(spec.parameters)}


def render_whatsapp_template(spec: WhatsAppTemplate, values: Sequence[str | None]
                             ) -> WhatsAppTemplate:
    """The template for one customer (fields in CUSTOMER_FIELDS order). Meta refuses a
    parameter with a newline, a tab or more than four spaces in a row (132018): a customer's
    value is folded onto one line."""
    return spec._replace(parameters=tuple(
        " ".join(render_row(positional(parse_template(p)), values).split())
        for p in spec.parameters))


def build_preview(campaign: Mapping[str, Any], customer: Mapping[str, Any],
                  override: str | None) -> dict[str, Any]:
    """The personalized-preview answer for one campaign and customer."""
    used = campaign["base_template"] if override is None else override
    template = parse_template(used)
    rendered = render_template(template, customer)
    sms = sms_info(rendered) if campaign["channel"] == Channel.SMS else None
    whatsapp = stored_whatsapp_template(campaign.get("whatsapp_template"))
    return {
        "rendered_message": rendered,
        "used_template": used,
        "customer": {name: customer[name] for name in ("id", *CUSTOMER_FIELDS)},
        "missing_fields": missing_fields(template, customer),
        "sms": dataclasses.asdict(sms) if sms else None,
        "channel_limit_problem": channel_limit_problem(campaign["channel"], rendered),
        "whatsapp_template": whatsapp_template_json(whatsapp and render_whatsapp_template(
            whatsapp, [customer.get(name) for name in CUSTOMER_FIELDS])),
    }


# ---------------------------------------------------------------------------
# RETRY POLICY AND PACING
# When a message is tried again, and how fast a channel may go: pure
# functions of the time they are given.
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RetryPolicy:
    """When a transiently failed message is tried again: exponential backoff with jitter."""

    max_retries: int
    base: float                      # seconds before the first retry
    jitter: float = 0.25             # each delay is scaled by a factor in [1 - jitter, 1 + jitter]
    cap: float = 60.0                # seconds: no retry waits longer
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, retry: int) -> float | None:
        """Seconds to wait before retry `retry` (1 is the first), or None when none is left."""
        if retry > self.max_retries:
            return None
        nominal = self.base * 2.0 ** (retry - 1)
        return min(self.cap, nominal * self.rng.uniform(1 - self.jitter, 1 + self.jitter))


MIN_RATE = 1.0         # messages per second: throttling never slows a channel below this
RECOVERY = 0.05        # after throttling, the rate regains this share of its ceiling a second
DECREASE_EVERY = 1.0   # seconds: throttles within this of the last one do not halve the rate again


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a channel may go: its rate, and a token bucket holding one second of it.

    A bucket of `rate` tokens refilled at `rate` a second lets through at most rate x 11
    attempts in any 10 seconds. Throttling (a 429) halves the rate and stops the channel until
    Retry-After; the rate then climbs back to its ceiling (the configured limit, or for an
    unlimited channel the rate it was going at, where the limit is lifted again):
    multiplicative decrease, additive increase.
    """

    rate: float | None = None      # messages per second allowed at rate_at; None: unlimited
    ceiling: float | None = None   # where the rate climbs back to; None: unlimited
    rate_at: float = 0.0
    tokens: float = 0.0
    tokens_at: float = 0.0
    throttled_until: float = 0.0

    def current_rate(self, now: float) -> float | None:
        """The rate allowed at `now`: None when unlimited (or back to unlimited)."""
        if self.rate is None:
            return None
        if self.ceiling is None:
            return self.rate
        climbed = self.rate + RECOVERY * self.ceiling * max(0.0, now - self.rate_at)
        return min(self.ceiling, climbed)

    def lifted(self, now: float, limit: float | None) -> bool:
        """Whether a throttled channel with no configured limit is back to its ceiling."""
        return (limit is None and self.rate is not None and now >= self.throttled_until
                and self.current_rate(now) >= (self.ceiling or 0))

    def slowed(self, now: float, retry_after: float, going: float, limit: float | None) -> Self:
        """After a 429: half the rate (once a second at most), nothing until Retry-After."""
        until = max(self.throttled_until, now + retry_after)
        current = self.current_rate(now)
        if current is not None and now - self.rate_at < DECREASE_EVERY and self.rate < (
                self.ceiling or math.inf):
            return dataclasses.replace(self, throttled_until=until)
        rate = max(MIN_RATE, (current if current is not None else max(going, MIN_RATE)) / 2)
        ceiling = limit if limit is not None else max(going, rate * 2)
        return Pace(rate, ceiling, now, min(self.tokens, rate), now, until)


def refill(tokens: float, since: float, rate: float, now: float) -> float:
    """A token bucket of one second's capacity, refilled at `rate` since `since`."""
    return min(max(1.0, rate), tokens + rate * max(0.0, now - since))


def whole_tokens(tokens: float) -> int:
    """The attempts a bucket allows (0.9999999 is 1: epoch seconds are not exact)."""
    return math.floor(tokens + 1e-6)


# ---------------------------------------------------------------------------
# METRICS
# What Prometheus scrapes at GET /metrics, kept by prometheus_client in a
# registry of the app's own. Counters move where things happen; gauges are
# read from the database and the queue when scraped.
# ---------------------------------------------------------------------------

OUTCOME_NAMES = {Result.SENT: "sent", Result.FAILED: "failed", Result.RETRY: "retried",
                 Result.THROTTLED: "throttled"}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
RECENT_STEP = 10.0     # seconds per point of the recent attempts series (GET /overview)
RECENT_SPAN = 3600.0   # seconds that series covers
RECENT_WINDOW = 300.0  # seconds the provider's latency and error rate are taken over


def bucket_quantile(q: float, bounds: Sequence[float], counts: Sequence[float]) -> float | None:
    """The q-quantile of a histogram (cumulative counts per upper bound, +Inf last), found
    by linear interpolation inside its bucket, as Prometheus's histogram_quantile does;
    None when it holds nothing."""
    if counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    for index, count in enumerate(counts[:-1]):
        if count >= rank:
            low, below = (bounds[index - 1], counts[index - 1]) if index else (0.0, 0.0)
            share = (rank - below) / (count - below) if count > below else 1.0
            return low + (bounds[index] - low) * share
    return bounds[-2]  # past the last finite bound: that bound is all a histogram can say


class Latencies:
    """How long the provider took to answer, per channel: the histogram
    smsleopard_provider_latency_seconds. Attempts end on the event loop's thread only, so an
    observation takes no lock (prometheus_client's Histogram takes two, 1.5 us: 4% of the
    dispatch rate when the provider answers at once)."""

    def __init__(self) -> None:
        self.counts = {channel: [0] * (len(LATENCY_BUCKETS) + 1) for channel in CHANNELS}
        self.sums = dict.fromkeys(CHANNELS, 0.0)
        self.created = time.time()

    def observe(self, channel: str, seconds: float) -> None:
        self.counts[channel][bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1  # le: <= bound
        self.sums[channel] += seconds

    def cumulative(self, channel: str | None = None) -> list[int]:
        """Observations at or under each bound, +Inf last: of one channel, or of all."""
        counts = self.counts.values() if channel is None else [self.counts[channel]]
        return list(itertools.accumulate(map(sum, zip(*counts, strict=True))))

    def collect(self) -> Iterator[HistogramMetricFamily]:
        name = "smsleopard_provider_latency_seconds"
        family = HistogramMetricFamily(name, "How long the provider took to answer",
                                       labels=["channel"])
        bounds = [*map(prom.utils.floatToGoString, LATENCY_BUCKETS), "+Inf"]
        for channel in CHANNELS:
            family.add_metric([channel], list(zip(bounds, self.cumulative(channel), strict=True)),
                              self.sums[channel])
            family.add_sample(f"{name}_created", {"channel": channel}, self.created)
        yield family


class Metrics:
    """The service's Prometheus metrics, every series there from the start (at zero), and
    what this process did lately: the totals noted at the start of each RECENT_STEP."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._marks: deque[tuple[int, tuple[float, ...]]] = deque()  # (step, totals at its start)
        self.registry = prom.CollectorRegistry()
        registry = self.registry  # each metric registers itself in it
        self.messages = prom.Counter("smsleopard_messages",
                                     "Attempts' outcomes, and messages suppressed",
                                     ["channel", "outcome"], registry=registry)
        self.provider_latency = Latencies()
        registry.register(self.provider_latency)
        self.http_duration = prom.Histogram(
            "smsleopard_http_request_duration_seconds", "How long answering a request took",
            ["route", "method", "status"], buckets=HTTP_BUCKETS, registry=registry)
        self.queue_depth = prom.Gauge("smsleopard_queue_depth", "Jobs waiting in the queue",
                                      registry=registry)
        self.in_flight = prom.Gauge("smsleopard_attempts_in_flight",
                                    "Attempts at the provider right now", registry=registry)
        self.campaigns = prom.Gauge("smsleopard_campaigns", "Campaigns by status", ["status"],
                                    registry=registry)
        self.outbox_depth = prom.Gauge("smsleopard_webhook_outbox_depth",
                                       "Webhook events not delivered yet", registry=registry)
        for channel in CHANNELS:
            for outcome in (*OUTCOME_NAMES.values(), "suppressed"):
                self.messages.labels(channel, outcome)

    def note_step(self) -> None:
        """Before a batch's attempts: their latencies then fall after this step's mark."""
        self._mark(self._clock.now())

    def count_outcomes(self, attempts: Iterable[Attempt]) -> None:
        self._mark(self._clock.now())
        counts = Counter((a.channel, OUTCOME_NAMES[a.result]) for a in attempts
                         if a.result in OUTCOME_NAMES)
        for (channel, outcome), count in counts.items():
            self.messages.labels(channel, outcome).inc(count)

    def count_suppressed(self, by_channel: Mapping[str, int]) -> None:
        for channel, count in by_channel.items():
            self.messages.labels(channel, "suppressed").inc(count)

    def exposition(self, campaigns: Mapping[str, int], outbox_depth: int,
                   queue_depth: int | None) -> bytes:
        """The text Prometheus reads, with the gauges read just now."""
        for status in CampaignStatus:
            self.campaigns.labels(status).set(campaigns.get(status, 0))
        self.queue_depth.set(math.nan if queue_depth is None else queue_depth)
        self.outbox_depth.set(outbox_depth)
        return prom.generate_latest(self.registry)

    def _totals(self) -> tuple[float, ...]:
        """Attempts, errors (failed or to be retried), throttled, then the provider latency
        histogram's cumulative counts per bucket, all channels together."""
        outcomes: Counter[str] = Counter()
        for sample in self.messages.collect()[0].samples:
            if sample.name.endswith("_total"):
                outcomes[sample.labels["outcome"]] += sample.value
        attempts = sum(outcomes[name] for name in OUTCOME_NAMES.values())
        return (attempts, outcomes["failed"] + outcomes["retried"], outcomes["throttled"],
                *self.provider_latency.cumulative())

    def _mark(self, now: float) -> None:
        """Note the totals at the start of this step, before its first outcome is counted."""
        step = math.floor(now / RECENT_STEP)
        if not self._marks or self._marks[-1][0] < step:
            self._marks.append((step, self._totals()))
        while self._marks[0][0] < step - RECENT_SPAN / RECENT_STEP - 1:
            self._marks.popleft()

    def _starts(self, first: int, last: int, now_totals: tuple[float, ...]
                ) -> list[tuple[float, ...]]:
        """The totals at the start of each step from `first` to `last`: its mark, or the next
        one's (no step between counted anything), or the totals now."""
        marks, starts, later = dict(self._marks), [], now_totals
        for step in range(last, first - 1, -1):
            later = marks.get(step, later)
            starts.append(later)
        return starts[::-1]

    def in_flight_now(self) -> int:
        return int(self.in_flight.collect()[0].samples[0].value)

    def recent(self) -> dict[str, Any]:
        """This process's attempts per second over the last hour (a point per RECENT_STEP,
        the last one the step so far), and the provider's latency (median, p95) and error
        rate over the last RECENT_WINDOW seconds."""
        now = self._clock.now()
        self._mark(now)
        step, totals = math.floor(now / RECENT_STEP), self._totals()
        count = int(RECENT_SPAN / RECENT_STEP)
        marked = self._starts(step - count + 1, step, totals)
        starts = [start[0] for start in marked]
        ends = [*starts[1:], totals[0]]
        lengths = [RECENT_STEP] * (count - 1) + [max(1.0, now - step * RECENT_STEP)]
        series = [{"at": utc_iso((step - count + 1 + n) * RECENT_STEP),
                   "per_second": round((ends[n] - starts[n]) / lengths[n], 2)}
                  for n in range(count)]
        before = marked[-int(RECENT_WINDOW / RECENT_STEP)]
        window = [now_total - then for now_total, then in zip(totals, before, strict=True)]
        attempts, errors, throttled, buckets = *window[:3], window[3:]
        bounds = (*LATENCY_BUCKETS, math.inf)
        latency = {name: None if (value := bucket_quantile(q, bounds, buckets)) is None
                   else round(value * 1000, 1)
                   for name, q in (("median_ms", 0.5), ("p95_ms", 0.95))}
        return {"step_seconds": RECENT_STEP, "attempts_per_second": series,
                "provider": {"window_seconds": RECENT_WINDOW, "attempts": int(attempts),
                             "errors": int(errors), "throttled": int(throttled),
                             "error_rate": round(errors / attempts, 4) if attempts else None,
                             **latency}}


# ---------------------------------------------------------------------------
# STORAGE
# All SQL lives here; handlers and workers never hold any. The Store speaks
# to the database through a small adapter (fetch, and transactions that
# fetch and execute), with '?' placeholders; what the dialects say otherwise
# (lists, string search, row locks) is written out in both, side by side
# (Dialect). Hot paths are set-based or batched: one statement for a batch.
# ---------------------------------------------------------------------------

# MIGRATIONS[n] takes a database from schema version n to n + 1 (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    # 1: customers, campaigns, messages, idempotency keys.
    """
    CREATE TABLE customers (
        id INTEGER PRIMARY KEY, phone TEXT NOT NULL UNIQUE, first_name TEXT, last_name TEXT,
        location TEXT COLLATE NOCASE, preferred_product TEXT COLLATE NOCASE,
        created_at TEXT NOT NULL
    );
    CREATE INDEX customers_by_location ON customers (location);
    CREATE INDEX customers_by_product ON customers (preferred_product);

    CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
        status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'failed')),
        base_template TEXT NOT NULL CHECK (length(base_template) BETWEEN 1 AND 2000),
        scheduled_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        total_count INTEGER NOT NULL DEFAULT 0, sending_count INTEGER NOT NULL DEFAULT 0,
        sent_count INTEGER NOT NULL DEFAULT 0, failed_count INTEGER NOT NULL DEFAULT 0,
        CHECK (sending_count >= 0 AND sent_count >= 0 AND failed_count >= 0
               AND sending_count + sent_count + failed_count <= total_count)
    );
    CREATE INDEX campaigns_by_id ON campaigns (id);
    CREATE INDEX campaigns_by_status ON campaigns (status);
    CREATE INDEX campaigns_by_channel ON campaigns (channel);
    CREATE INDEX campaigns_by_status_channel ON campaigns (status, channel);
    CREATE INDEX campaigns_due ON campaigns (scheduled_at)
        WHERE status = 'scheduled' AND total_count > 0;

    CREATE TABLE outbound_messages (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
        customer_id INTEGER NOT NULL REFERENCES customers (id),
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
        rendered_content TEXT, last_error TEXT,
        retry_count INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
        next_attempt_at REAL NOT NULL DEFAULT 0, claim_token INTEGER, claim_expires_at REAL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (campaign_id, customer_id)
    );
    CREATE INDEX outbound_messages_by_campaign ON outbound_messages (campaign_id);
    CREATE INDEX outbound_messages_by_campaign_status ON outbound_messages (campaign_id, status);

    CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, response TEXT NOT NULL,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 2: the campaign lifecycle (paused, cancelled; start and finish times, progress, a counter per
    # message status), claims as a message status, answers kept for every idempotent request.
    # SQLite cannot alter a CHECK constraint, so the tables are rebuilt and their rows copied;
    # claims of the stopped process are dropped (nothing runs while a database is migrated).
    """
    CREATE TABLE campaigns_v2 (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
        status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent',
                                               'failed', 'cancelled')),
        base_template TEXT NOT NULL CHECK (length(base_template) BETWEEN 1 AND 2000),
        scheduled_at TEXT,
        rate_limit REAL CHECK (rate_limit > 0),  -- messages per second; NULL: the channel's
        pace_tokens REAL NOT NULL DEFAULT 0, pace_at REAL NOT NULL DEFAULT 0,  -- its token bucket
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
        -- A counter per message status, changed in the same transactions as the
        -- messages, so stats are one row read however large the campaign; pending
        -- is what the others leave of total_count.
        total_count INTEGER NOT NULL DEFAULT 0, sending_count INTEGER NOT NULL DEFAULT 0,
        sent_count INTEGER NOT NULL DEFAULT 0, failed_count INTEGER NOT NULL DEFAULT 0,
        cancelled_count INTEGER NOT NULL DEFAULT 0, suppressed_count INTEGER NOT NULL DEFAULT 0,
        -- Of the sent: those the receipt says delivered, and those it says undelivered.
        delivered_count INTEGER NOT NULL DEFAULT 0, undelivered_count INTEGER NOT NULL DEFAULT 0,
        -- Progress: settled messages counted at rate_at, and the rate seen then.
        rate_at REAL, rate_settled INTEGER NOT NULL DEFAULT 0, rate REAL NOT NULL DEFAULT 0,
        CHECK (sending_count >= 0 AND sent_count >= 0 AND failed_count >= 0
               AND cancelled_count >= 0 AND suppressed_count >= 0 AND delivered_count >= 0
               AND undelivered_count >= 0
               AND sending_count + sent_count + failed_count + cancelled_count + suppressed_count
                   <= total_count
               AND delivered_count + undelivered_count <= sent_count)
    );
    INSERT INTO campaigns_v2 (id, name, channel, status, base_template, scheduled_at,
        created_at, updated_at, started_at, finished_at, total_count, sent_count, failed_count)
    SELECT id, name, channel, status, base_template, scheduled_at, created_at, updated_at,
           CASE WHEN status IN ('sending', 'sent', 'failed') THEN created_at END,
           CASE WHEN status IN ('sent', 'failed') THEN updated_at END,
           total_count, sent_count, failed_count
    FROM campaigns;

    CREATE TABLE outbound_messages_v2 (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
        customer_id INTEGER REFERENCES customers (id),
        status TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'failed', 'cancelled', 'suppressed')),
        rendered_content TEXT, last_error TEXT,
        retry_count INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
        next_attempt_at REAL NOT NULL DEFAULT 0,  -- epoch seconds; not tried before then
        -- The claim of the worker sending it (the API says "sending"), and when it lapses.
        claim_token INTEGER, claim_expires_at REAL,
        sent_at REAL, provider_message_id TEXT,  -- when the provider took it, and its id for it
        delivery_status TEXT CHECK (delivery_status IN ('delivered', 'undelivered')),
        delivered_at TEXT,  -- when the receipt says it arrived (or not)
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (campaign_id, customer_id),
        CHECK (claim_token IS NULL OR status = 'pending'),
        CHECK (delivery_status IS NULL OR status = 'sent')
    );
    INSERT INTO outbound_messages_v2 (id, campaign_id, customer_id, status, rendered_content,
        last_error, retry_count, next_attempt_at, sent_at, created_at, updated_at)
    SELECT id, campaign_id, customer_id, status, rendered_content, last_error, retry_count,
           next_attempt_at, CASE WHEN status = 'sent' THEN 0 END, created_at, updated_at
    FROM outbound_messages;

    DROP TABLE outbound_messages;
    DROP TABLE campaigns;
    ALTER TABLE campaigns_v2 RENAME TO campaigns;
    ALTER TABLE outbound_messages_v2 RENAME TO outbound_messages;

    -- Looks redundant with the primary key, but walking an OFFSET or counting over
    -- these 8-byte entries is ~4x faster than over whole rows (deep pages).
    CREATE INDEX campaigns_by_id ON campaigns (id);
    CREATE INDEX campaigns_by_status ON campaigns (status);
    CREATE INDEX campaigns_by_channel ON campaigns (channel);
    CREATE INDEX campaigns_by_status_channel ON campaigns (status, channel);
    CREATE INDEX campaigns_due ON campaigns (scheduled_at)
        WHERE status = 'scheduled' AND total_count > 0;
    -- A campaign's messages by status, in id order (the UNIQUE index orders them by customer).
    CREATE INDEX outbound_messages_by_campaign ON outbound_messages (campaign_id);
    CREATE INDEX outbound_messages_by_campaign_status ON outbound_messages (campaign_id, status);
    CREATE INDEX outbound_messages_errors ON outbound_messages (campaign_id, status, last_error)
        WHERE last_error IS NOT NULL;
    -- The claims ledger: one row per claimed batch, so a lapsed claim (a worker that died)
    -- is found without an index on every message's claim (which every claim and record
    -- would have to update).
    CREATE TABLE claims (
        token INTEGER PRIMARY KEY, expires_at REAL NOT NULL,
        message_ids TEXT NOT NULL  -- the messages it claimed, as runs: [[first, last], ...]
    );
    CREATE INDEX claims_by_expiry ON claims (expires_at);
    CREATE INDEX outbound_messages_by_delivery ON outbound_messages (campaign_id, delivery_status)
        WHERE delivery_status IS NOT NULL;

    -- A receipt for a message whose outcome is not recorded yet (the provider was quick):
    -- it waits here, and the record that marks the message sent applies it.
    CREATE TABLE early_receipts (
        message_id INTEGER PRIMARY KEY,
        delivery_status TEXT NOT NULL CHECK (delivery_status IN ('delivered', 'undelivered')),
        delivered_at TEXT NOT NULL, error TEXT, received_at REAL NOT NULL
    );

    -- The webhook outbox: each event is written in the transaction that makes the change it
    -- reports, and delivered from here, oldest first, until the receiver says 2xx.
    CREATE TABLE webhook_events (
        id INTEGER PRIMARY KEY, type TEXT NOT NULL,
        body TEXT NOT NULL,  -- the JSON delivered, as it is signed
        status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        first_attempt REAL,  -- epoch seconds: dead if still failing 24 hours on
        created_at TEXT NOT NULL, delivered_at TEXT
    );
    CREATE INDEX webhook_events_by_status ON webhook_events (status, id);

    -- How fast each channel may go (see Pace): a configured limit, or one that throttling
    -- set; the row is shared by every process on the database.
    CREATE TABLE channel_pace (
        channel TEXT PRIMARY KEY CHECK (channel IN ('sms', 'whatsapp')),
        rate REAL,  -- messages per second at rate_at; NULL: unlimited
        ceiling REAL, rate_at REAL NOT NULL DEFAULT 0,
        tokens REAL NOT NULL DEFAULT 0, tokens_at REAL NOT NULL DEFAULT 0,
        throttled_until REAL NOT NULL DEFAULT 0,
        last_campaign INTEGER NOT NULL DEFAULT 0  -- round-robin: the campaign served last
    ) WITHOUT ROWID;
    INSERT INTO channel_pace (channel) VALUES ('sms'), ('whatsapp');

    DROP TABLE idempotency_keys;
    CREATE TABLE idempotency_keys (
        key TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,  -- sha256 of the method, the path and the canonical body
        status INTEGER NOT NULL,
        response TEXT NOT NULL,  -- the body answered the first time
        location TEXT,  -- and its Location header, if any
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 3: consent. Where each customer lives (quiet hours are theirs), whether they said
    # STOP, and which campaigns are transactional (quiet hours do not apply).
    """
    ALTER TABLE customers ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';
    ALTER TABLE customers ADD COLUMN opted_out_at TEXT;
    ALTER TABLE campaigns ADD COLUMN quiet_hours INTEGER NOT NULL DEFAULT 1
        CHECK (quiet_hours IN (0, 1));
    -- A customer's messages: what the daily cap counts, and what erasure scrubs.
    CREATE INDEX outbound_messages_by_customer ON outbound_messages (customer_id, sent_at);

    -- How many campaigns have each status, kept by triggers: /metrics reads it at once,
    -- where counting a million campaigns would take a tenth of a second.
    CREATE TABLE campaign_counts (
        status TEXT PRIMARY KEY, count INTEGER NOT NULL CHECK (count >= 0)
    ) WITHOUT ROWID;
    INSERT INTO campaign_counts (status, count)
        SELECT value, (SELECT count(*) FROM campaigns WHERE status = value)
        FROM json_each(
            '["draft", "scheduled", "sending", "paused", "sent", "failed", "cancelled"]');
    CREATE TRIGGER campaign_counted AFTER INSERT ON campaigns BEGIN
        UPDATE campaign_counts SET count = count + 1 WHERE status = NEW.status;
    END;
    CREATE TRIGGER campaign_uncounted AFTER DELETE ON campaigns BEGIN
        UPDATE campaign_counts SET count = count - 1 WHERE status = OLD.status;
    END;
    CREATE TRIGGER campaign_recounted AFTER UPDATE OF status ON campaigns
    WHEN OLD.status != NEW.status BEGIN
        UPDATE campaign_counts SET count = count - 1 WHERE status = OLD.status;
        UPDATE campaign_counts SET count = count + 1 WHERE status = NEW.status;
    END;
    """,
    # 4: the webhook outbox counted as the campaigns are: /metrics reads its depth at once,
    # where counting an outbox of a few hundred thousand events took tens of milliseconds.
    """
    CREATE TABLE webhook_outbox (pending INTEGER NOT NULL CHECK (pending >= 0));
    INSERT INTO webhook_outbox SELECT count(*) FROM webhook_events WHERE status = 'pending';
    CREATE TRIGGER webhook_event_counted AFTER INSERT ON webhook_events
    WHEN NEW.status = 'pending' BEGIN
        UPDATE webhook_outbox SET pending = pending + 1;
    END;
    CREATE TRIGGER webhook_event_uncounted AFTER DELETE ON webhook_events
    WHEN OLD.status = 'pending' BEGIN
        UPDATE webhook_outbox SET pending = pending - 1;
    END;
    CREATE TRIGGER webhook_event_recounted AFTER UPDATE OF status ON webhook_events
    WHEN OLD.status != NEW.status BEGIN
        UPDATE webhook_outbox
            SET pending = pending + (NEW.status = 'pending') - (OLD.status = 'pending');
    END;
    """,
    # 5: the webhook-ids of signed requests seen lately: a replay within the signature's
    # window is answered without being acted on.
    """
    CREATE TABLE seen_requests (id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
    CREATE INDEX seen_requests_by_time ON seen_requests (seen_at);
    """,
    # 6: a campaign's progress over its life, for its chart and today's counts: a row when a
    # run starts, then at most one a second while outcomes are recorded (where the rate is
    # sampled), so a chart reads a few dozen rows however many messages the campaign has.
    """
    CREATE TABLE campaign_progress (
        campaign_id INTEGER NOT NULL,
        at REAL NOT NULL,  -- epoch seconds; the counters below are the campaign's then
        sent INTEGER NOT NULL, failed INTEGER NOT NULL, suppressed INTEGER NOT NULL,
        cancelled INTEGER NOT NULL, delivered INTEGER NOT NULL, undelivered INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, at)
    ) WITHOUT ROWID;
    CREATE INDEX campaign_progress_by_time ON campaign_progress (at);
    """,
    # 7: a receipt that names only the gateway's own id (Africa's Talking) finds its message.
    # Partial: the mock's messages have none, and cost the dispatch nothing.
    """
    CREATE INDEX outbound_messages_by_provider_id ON outbound_messages (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
    """,
    # 8: a whatsapp campaign's approved template, {"name", "language", "parameters"} as JSON.
    """
    ALTER TABLE campaigns ADD COLUMN whatsapp_template TEXT;
    """,
    # 9: early_receipts' kin for a receipt that names only the gateway's id (Africa's
    # Talking): it waits for the record that gives a message that id, or a day.
    """
    CREATE TABLE early_gateway_receipts (
        provider_message_id TEXT PRIMARY KEY,
        delivery_status TEXT NOT NULL CHECK (delivery_status IN ('delivered', 'undelivered')),
        delivered_at TEXT NOT NULL, error TEXT, received_at REAL NOT NULL
    );
    """,
    # 10: a campaign counts its attempts (calls to the provider: a retried message makes
    # several), for its chart; counted from the upgrade on, older progress rows say 0.
    """
    ALTER TABLE campaigns ADD COLUMN attempts_count INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE campaign_progress ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

CUSTOMER_COLUMNS = ("id", "phone", "first_name", "last_name", "location", "preferred_product",
                    "timezone", "opted_out_at", "created_at")
CAMPAIGN_SHOWN = ("id", "name", "channel", "status", "base_template", "scheduled_at",
                  "rate_limit", "quiet_hours", "created_at", "updated_at", "started_at",
                  "finished_at", "whatsapp_template")
CAMPAIGN_COLUMNS = (*CAMPAIGN_SHOWN, "delivered_count", "undelivered_count", "total_count",
                    "sending_count", "sent_count", "failed_count", "cancelled_count",
                    "suppressed_count", "attempts_count", "rate_at", "rate_settled", "rate")
MESSAGE_COLUMNS = ("id", "campaign_id", "customer_id", "status", "rendered_content",
                   "last_error", "retry_count", "provider_message_id", "delivery_status",
                   "delivered_at", "created_at", "updated_at")
# A message is "sending" while a worker's claim is on it; in the table it is pending until then.
MESSAGE_SELECT = tuple("CASE WHEN claim_token IS NULL THEN status ELSE 'sending' END AS status"
                       if column == "status" else column for column in MESSAGE_COLUMNS)
MESSAGE_STATUS_SQL = {  # names from MessageStatus, as SQL conditions
    "pending": "status = 'pending' AND claim_token IS NULL",
    "sending": "status = 'pending' AND claim_token IS NOT NULL",
    **{status: f"status = '{status}'" for status in ("sent", "failed", "cancelled", "suppressed")},
    "delivered": "status = 'sent' AND delivery_status = 'delivered'",
    "undelivered": "status = 'sent' AND delivery_status = 'undelivered'"}
DELIVERY_RANK = {None: 0, "undelivered": 1, "delivered": 2}  # a receipt never moves back down
EVENT_COLUMNS = ("id", "type", "status", "attempts", "last_error", "next_attempt_at", "created_at",
                 "delivered_at", "body")
EVENT_LIFETIME = 24 * 3600.0  # seconds a webhook event is retried before it is dead
EVENT_RETENTION = 7 * 24 * 3600.0  # seconds delivered and dead events stay listed

# A campaign's stats, each kept as a counter (pending is what the others leave of total).
STAT_NAMES = ("total", "pending", "sending", "sent", "failed", "cancelled", "suppressed",
              "delivered", "undelivered")
SETTLED_COUNTS = "sent_count + failed_count + cancelled_count + suppressed_count"
# What a progress row keeps of a campaign's counters (campaign_progress, schema 6; attempts, 10).
PROGRESS_COUNTS = ("sent", "failed", "suppressed", "cancelled", "delivered", "undelivered",
                   "attempts")


class ProgressPoint(NamedTuple):
    """A campaign's counters at a moment: a progress row, or the campaign now."""

    at: float
    sent: int
    failed: int
    suppressed: int
    cancelled: int
    delivered: int
    undelivered: int
    attempts: int

    @property
    def settled(self) -> int:
        return self.sent + self.failed + self.suppressed + self.cancelled


# The messages a claim reads, as ClaimRows.
CLAIM_SELECT = ("SELECT m.id, m.campaign_id, m.retry_count, cu.first_name, cu.last_name, "
                "cu.phone, cu.location, cu.preferred_product, m.claim_token IS NULL, cu.id, "
                "cu.opted_out_at, cu.timezone, c.quiet_hours, c.channel FROM outbound_messages m "
                "JOIN campaigns c ON c.id = m.campaign_id "
                "JOIN customers cu ON cu.id = m.customer_id")


class ClaimRow(NamedTuple):
    """A message to claim, with what consent and rendering need of its customer and campaign."""

    id: int
    campaign_id: int
    retry_count: int
    first_name: str | None
    last_name: str | None
    phone: str
    location: str | None
    preferred_product: str | None
    unclaimed: bool              # no claim held it (else a lapsed one did: it counted as sending)
    customer_id: int
    opted_out_at: str | None
    timezone: str
    quiet_hours: bool            # the campaign respects quiet hours
    channel: str

    def message(self) -> ClaimedMessage:
        return ClaimedMessage(self.id, self.campaign_id, self.retry_count, self.first_name,
                              self.last_name, self.phone, self.location, self.preferred_product)


class ReceiptTarget(NamedTuple):
    """A message a receipt names, as apply_receipts reads it."""

    id: int
    campaign_id: int
    status: str
    delivery_status: str | None


RESTATE_AFTER = 10_000  # messages one send inserts before the planner's statistics are refreshed
OPTED_OUT = "opted out"        # the last_error of a message suppressed for each reason
OVER_CAP = "frequency cap"
# A campaign sending through the job queue: neither it nor its channel is paced.
UNPACED_SENDING = ("c.status = 'sending' AND c.rate_limit IS NULL AND c.channel NOT IN "
                   "(SELECT channel FROM channel_pace WHERE rate IS NOT NULL)")
PACE_TICK = 0.05  # seconds of tokens the pacer gathers before a paced claim
PACE_POLL = 1.0   # seconds: the longest the pacer waits without looking (for other processes)

DUE_GRACE = 0.05  # seconds: a job arriving this early for a retry still counts as on time
DUE_SPREAD = 0.1  # seconds: messages falling due this close together may share one delayed job
RATE_WINDOW = 1.0  # seconds between two samples of a campaign's progress


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which slice of a list: a page number, or the keyset position after the last id seen."""

    page: int = 1
    page_size: int = 20
    after: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[dict[str, Any]]
    total: int
    request: PageRequest
    has_more: bool


@dataclass(frozen=True, slots=True)
class Claim:
    """What claiming a job found: messages to send now, their campaigns, messages not due yet."""

    rows: list[ClaimedMessage]
    campaigns: dict[int, tuple[str, str]]  # campaign id -> (channel, template)
    deferred: list[tuple[int, float]]      # (message id, when it falls due)
    suppressed: Mapping[str, int] = field(default_factory=dict)  # channel -> messages held back
    whatsapp: Mapping[int, str] = field(default_factory=dict)  # campaign id -> its template


@dataclass(frozen=True, slots=True)
class PacedClaim:
    """A paced claim, when to look again, and whether it lifted the channel's throttling."""

    claim: Claim
    next_look: float | None
    lifted: bool


def next_look(pace: Pace, rate: float | None, now: float, took: bool,
              waiting: bool) -> float | None:
    """When a paced channel is worth another claim: at once after one that took messages;
    when tokens for a tick have gathered if messages wait; else when something changes."""
    if took:
        return now
    if not waiting:
        return None
    if rate is None:
        return now + PACE_TICK
    short = max(1.0, rate * PACE_TICK) - refill(pace.tokens, pace.tokens_at, rate, now)
    return max(now, pace.throttled_until) + max(0.001, short / rate)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """An answer kept for an Idempotency-Key."""

    status: int
    body: str
    location: str | None


async def _rows(connection: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> list[tuple]:
    """A query's rows, in one hop to the connection's thread. A read that fails on its way
    (text that is not UTF-8) lets its cursor go at once, which resets its statement: held by
    the traceback until the collector came, it kept the connection's snapshot, and every
    later read on it saw the database as it was."""
    try:
        return list(await connection.execute_fetchall(sql, _bind(params)))
    except sqlite3.Error as exc:
        traceback.clear_frames(exc.__traceback__)  # the worker's frame held the cursor
        raise


def _bind(params: Sequence[Any]) -> Sequence[Any]:
    """SQLite takes an id list as JSON text, read back with json_each(?)."""
    lists = (list, range, tuple, set, frozenset)
    if any(isinstance(p, lists) for p in params):
        return [json.dumps(list(p)) if isinstance(p, lists) else p for p in params]
    return params


@dataclass(frozen=True)
class Dialect:
    """The SQL that SQLite and PostgreSQL say differently, written out in both (SQLITE_SQL,
    POSTGRES_SQL, side by side below): the Store composes its statements of these and of
    text both take alike. A list is one parameter in both, JSON text (`_in`)."""

    ids: str          # `column {ids}`: the column is one of the listed ids
    texts: str        # `column {texts}`: the column is one of the listed texts
    id_rows: str      # the listed ids as rows of one column, `id`
    unknown_ids: str  # `{unknown_ids} (SELECT id ...)`: the listed ids the subquery lacks
    event_rows: str   # (type, body) of the listed events, in their order (then `?`: the stamp)
    sent_rows: str    # `FROM {sent_rows}`: the listed [id, text, provider id, token] as j, of m
    time_rows: str    # `FROM {time_rows}`: the listed times as rows b, each `b.value`
    find: str         # `{find}(text, part) > 0`: `part` is in `text`
    claim_lock: str   # what a claim's SELECT adds to lock its rows


SQLITE_SQL = Dialect(
    ids="IN (SELECT value FROM json_each(?))",
    texts="IN (SELECT value FROM json_each(?))",
    id_rows="SELECT value AS id FROM json_each(?)",
    unknown_ids="SELECT value FROM json_each(?) WHERE value NOT IN",
    event_rows="SELECT j.value ->> 'type', j.value, ? FROM json_each(?) AS j ORDER BY j.key",
    sent_rows="json_each(?) AS j WHERE m.id = j.value ->> 0",
    time_rows="json_each(?) AS b",
    find="instr",
    claim_lock="",  # one writer: a claim's rows need no lock of their own
)
POSTGRES_SQL = Dialect(
    # = ANY(ARRAY(...)): the list drives an index scan, whatever the planner guesses
    ids="= ANY(ARRAY(SELECT json_array_elements_text(?::json)::bigint))",
    texts="= ANY(ARRAY(SELECT json_array_elements_text(?::json)))",
    id_rows="SELECT value::bigint AS id FROM json_array_elements_text(?::json) AS value",
    unknown_ids="SELECT value FROM json_array_elements_text(?::json) AS value "
                "WHERE value::bigint NOT IN",
    event_rows="SELECT j.value ->> 'type', j.value::text, ? FROM json_array_elements(?::json) "
               "WITH ORDINALITY AS j(value, key) ORDER BY j.key",
    sent_rows="json_array_elements(?::json) AS j(value) WHERE m.id = (j.value ->> 0)::bigint",
    time_rows="(SELECT value::double precision "
              "FROM json_array_elements_text(?::json) AS value) AS b",
    find="strpos",
    claim_lock=" FOR UPDATE OF m SKIP LOCKED",  # the messages another claim holds are its
)


class Transaction:
    """One write transaction of either database (SqliteTransaction, PostgresTransaction):
    statements in, row counts and rows out; callbacks to call once it commits."""

    def __init__(self, connection: Any):
        self._connection = connection
        self.committed: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        if callback not in self.committed:
            self.committed.append(callback)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int: ...


class Database(Protocol):
    """What the Store needs of a database: SqliteDatabase and PostgresDatabase both are one."""

    exclusive: bool   # one process owns it (SQLite): claims found at start are a dead one's
    sql: Dialect      # how it says what the dialects say differently
    write_failure: str | None  # why writes fail now (None: they do not)

    async def close(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def migrate(self, number: int, script: str) -> None: ...
    def transaction(self, *, secure_delete: bool = False, claim: bool = False
                    ) -> contextlib.AbstractAsyncContextManager[Transaction]: ...
    async def checkpoint(self) -> None: ...
    async def hold(self, name: str) -> bool: ...
    async def restate(self, table: str) -> None: ...
    async def probe(self) -> None: ...
    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...
    async def fetch_point(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]: ...
    def stream(self, sql: str, params: Sequence[Any], size: int) -> AsyncIterator[list[tuple]]: ...


class SqliteTransaction(Transaction):
    """One transaction on the writing connection."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return await _rows(self._connection, sql, params)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement that returns no rows; the number of rows it changed. (Its cursor
        holds nothing once it has run: it is dropped, not closed, which would cost a trip to
        aiosqlite's thread: 7% of the dispatch rate.)"""
        return (await self._connection.execute(sql, _bind(params))).rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """One statement per row; the rows it changed. No rows, no trip to aiosqlite's thread
        (a group commit's counters and finishes are often empty)."""
        rows = list(rows)
        return (await self._connection.executemany(sql, rows)).rowcount if rows else 0


async def _connect(path: str, busy_timeout_ms: int, *,
                   readonly: bool = False) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(path, isolation_level=None)
    pragmas = ["foreign_keys = ON", f"busy_timeout = {busy_timeout_ms:d}", "cache_size = -32000",
               "temp_store = MEMORY"]
    if path != ":memory:":
        pragmas += ["journal_mode = WAL", "synchronous = NORMAL"]
    if readonly:
        pragmas.append("query_only = ON")
    try:
        for pragma in pragmas:
            await connection.execute(f"PRAGMA {pragma}")
    except BaseException:
        await connection.close()  # or its thread outlives the failed start
        raise
    return connection


def _claim_file(path: str) -> int:
    """An exclusive lock on a SQLite file for the life of this process (flock, which SQLite's
    own fcntl locks ignore), once a probe found it a database (or none yet): a second process
    on one file is refused; ConfigError or sqlite3.Error otherwise. It blocks, briefly:
    SqliteDatabase.open calls it once, as the process starts, before aiosqlite has a thread."""
    if os.path.exists(path) and os.path.getsize(path) == 0:
        raise ConfigError(f"database {path!r} is an empty file, not a database; "
                          "remove it to start a new one")
    with contextlib.closing(sqlite3.connect(path)) as probe:
        probe.execute("PRAGMA user_version")
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise ConfigError(f"database {path!r} is in use by another SMSLeopard process; one "
                          "process per SQLite file (PostgreSQL serves several)") from None
    return descriptor


def _point_reader(path: str) -> sqlite3.Connection:
    """A read-only connection for reads of a row by its key on the event loop's thread,
    made on that thread as sqlite3 wants (it blocks, briefly, once as the process starts)."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True,
                           timeout=0,  # never wait for a lock on the loop's thread
                           isolation_level=None)


async def finish_despite_cancellation(cleanup: Coroutine[Any, Any, None]) -> None:
    """Run a short cleanup to its end; a cancellation meanwhile takes effect right after it."""
    task = asyncio.ensure_future(cleanup)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


def database_fault(exc: sqlite3.Error) -> bool:
    """An error of the database itself (locked, full, read-only, damaged), not of a query."""
    return isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError


class SqliteDatabase:
    """SQLite through aiosqlite: one connection writes, one transaction at a time; others read
    beside it (WAL): for requests, for long scans, and for reads by key on the event loop's
    thread. In memory, one connection serves all.

    One process owns the file (_claim_file), so claims found at start are a dead process's.
    While the database refuses writes (another program holds a lock, the disk is full),
    `write_failure` says why, and a write does not queue behind the one trying: it fails at
    once, so requests do not pile up behind the busy timeout."""

    exclusive = True
    sql = SQLITE_SQL

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection,
                 scanner: aiosqlite.Connection, lock: int | None,
                 point: sqlite3.Connection | None = None):
        self._writer = writer
        self._reader = reader
        self._scanner = scanner  # long scans (stream) go here: short reads never wait behind them
        self._point = point      # reads of a row by its key, on the event loop's thread
        self._lock = lock
        self._write_lock = asyncio.Lock()  # coroutines sharing a connection share its transaction
        self.write_failure: str | None = None

    @classmethod
    async def open(cls, path: str, busy_timeout_ms: int = 5000) -> Self:
        writer = reader = scanner = lock = None
        try:
            if path == ":memory:":
                writer = await _connect(path, busy_timeout_ms)
                return cls(writer, writer, writer, None)
            lock = _claim_file(path)  # fail on a bad path before aiosqlite starts a thread for it
            writer = await _connect(path, busy_timeout_ms)
            reader = await _connect(path, busy_timeout_ms, readonly=True)
            scanner = await _connect(path, busy_timeout_ms, readonly=True)
            return cls(writer, reader, scanner, lock, _point_reader(path))
        except BaseException as exc:
            for connection in {writer, reader, scanner} - {None}:
                await connection.close()
            if lock is not None:
                os.close(lock)
            if isinstance(exc, sqlite3.Error):
                raise ConfigError(f"cannot use database {path!r}: {exc}") from None
            raise

    async def close(self) -> None:
        if self._point is not None:
            self._point.close()
            self._point = None
        if self._reader is not self._writer:
            await self._reader.close()
            await self._scanner.close()
        await self._writer.close()
        if self._lock is not None:
            os.close(self._lock)

    async def schema_version(self) -> int:
        (version,), = await self._writer.execute_fetchall("PRAGMA user_version")
        return version

    async def migrate(self, number: int, script: str) -> None:
        """Run migration `number` (to version number + 1) as one transaction."""
        await self._writer.execute("PRAGMA foreign_keys = OFF")  # tables are rebuilt
        try:
            await self.run_script(f"{script};\nPRAGMA user_version = {number + 1};")
        finally:
            await self._writer.execute("PRAGMA foreign_keys = ON")

    async def run_script(self, script: str) -> None:
        async with self._write_lock:
            try:
                await self._writer.executescript(f"BEGIN IMMEDIATE;\n{script}\nCOMMIT;")
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    @contextlib.asynccontextmanager
    async def transaction(self, *, secure_delete: bool = False,
                          claim: bool = False) -> AsyncIterator[SqliteTransaction]:
        """A write transaction; rolled back if anything in it raises. With `secure_delete`,
        what it deletes or overwrites is zeroed in the file, not only unlinked. (A `claim`
        is a write like any other here.)"""
        if self.write_failure is not None and self._write_lock.locked():
            raise DatabaseUnavailable(self.write_failure)  # one write at a time tries a sick disk
        async with self._write_lock, self._secure_delete(secure_delete):
            begin = asyncio.ensure_future(self._writer.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
                tx = SqliteTransaction(self._writer)
                yield tx
                await self._writer.execute("COMMIT")
            except BaseException as exc:
                await finish_despite_cancellation(self._abandon(begin))
                if not isinstance(exc, sqlite3.Error) or not database_fault(exc):
                    raise
                if self.write_failure is None:
                    log.error("database: writes fail (%s); answering 503 until one succeeds", exc)
                self.write_failure = str(exc)
                raise DatabaseUnavailable(str(exc)) from None
        if self.write_failure is not None:
            log.warning("database: writes succeed again")
            self.write_failure = None
        for callback in tx.committed:
            callback()

    @contextlib.asynccontextmanager
    async def _secure_delete(self, on: bool) -> AsyncIterator[None]:
        """Zero what is deleted while inside (off again after: zeroing costs writes)."""
        if not on:
            yield
            return
        await self._writer.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            await finish_despite_cancellation(self._writer.execute("PRAGMA secure_delete = OFF"))

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database and empty it (best effort: a reader
        still on an old snapshot leaves the log as it is, to be emptied later)."""
        with contextlib.suppress(sqlite3.Error):
            async with self._write_lock:
                await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _abandon(self, begin: asyncio.Future) -> None:
        """Roll back a transaction that failed (or was cancelled), even one whose BEGIN was
        still running: the connection must be out of it before the lock is released."""
        with contextlib.suppress(BaseException):
            await begin
        if self._writer.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self._writer.execute("ROLLBACK")

    async def hold(self, name: str) -> bool:
        """Whether this process holds the lock `name` (one process owns a SQLite file: yes)."""
        return True

    async def restate(self, table: str) -> None:
        """After a large insert: nothing to do, SQLite plans these queries by their indexes."""

    async def probe(self) -> None:
        """A real write (the header page), to learn whether the database takes writes again."""
        async with self.transaction() as tx:
            (version,), = await tx.fetch("PRAGMA user_version")
            await tx.execute(f"PRAGMA user_version = {version:d}")

    @contextlib.asynccontextmanager
    async def _reading(self, connection: aiosqlite.Connection
                       ) -> AsyncIterator[aiosqlite.Connection]:
        """A reading connection; a fault of the database is DatabaseUnavailable."""
        try:
            if connection is self._writer:  # one connection: reads wait for the writer
                async with self._write_lock:
                    yield connection
            else:
                yield connection
        except sqlite3.Error as exc:
            if database_fault(exc):
                raise DatabaseUnavailable(str(exc)) from None
            raise

    async def fetch_point(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a read by key (tens of microseconds), on the event loop's own thread: while
        a campaign dispatches, the hop to the reader's thread and back had cost more than the
        read, up to 15 ms. The reader's thread serves it instead when the database is in
        memory (one connection) or the read fails (a lock, a fault: fetch says which)."""
        if self._point is not None:
            with contextlib.suppress(sqlite3.Error):  # fetch says what it is, waits out a lock
                cursor = self._point.execute(sql, _bind(params))
                try:
                    return cursor.fetchall()
                finally:
                    cursor.close()  # at once, as _rows does
        return await self.fetch(sql, params)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query that needs no transaction."""
        async with self._reading(self._reader) as db:
            return await _rows(db, sql, params)

    async def stream(self, sql: str, params: Sequence[Any], size: int
                     ) -> AsyncIterator[list[tuple]]:
        """A large result in chunks of `size` rows, read on a connection of its own."""
        async with self._reading(self._scanner) as db, db.execute(sql, _bind(params)) as cursor:
            while rows := await cursor.fetchmany(size):
                yield list(rows)


# PostgreSQL: the schema as PostgreSQL databases began, at version 3; PG_SCHEMA below is
# it with every later migration (each is in MIGRATIONS and in PG_MIGRATIONS alike).
# Types widen where SQLite's are dynamic: ids and tokens BIGINT, REAL double precision;
# location and product compare in any case through an ICU collation, as SQLite's NOCASE does.
PG_SCHEMA_3 = """
CREATE COLLATION IF NOT EXISTS nocase
    (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE customers (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, phone TEXT NOT NULL UNIQUE,
    first_name TEXT, last_name TEXT,
    location TEXT COLLATE nocase, preferred_product TEXT COLLATE nocase,
    created_at TEXT NOT NULL, timezone TEXT NOT NULL DEFAULT 'UTC', opted_out_at TEXT
);
CREATE INDEX customers_by_location ON customers (location);
CREATE INDEX customers_by_product ON customers (preferred_product);
CREATE TABLE campaigns (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    channel TEXT NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    status TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent',
                                           'failed', 'cancelled')),
    base_template TEXT NOT NULL CHECK (length(base_template) BETWEEN 1 AND 2000),
    scheduled_at TEXT, rate_limit DOUBLE PRECISION CHECK (rate_limit > 0),
    pace_tokens DOUBLE PRECISION NOT NULL DEFAULT 0, pace_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
    total_count BIGINT NOT NULL DEFAULT 0, sending_count BIGINT NOT NULL DEFAULT 0,
    sent_count BIGINT NOT NULL DEFAULT 0, failed_count BIGINT NOT NULL DEFAULT 0,
    cancelled_count BIGINT NOT NULL DEFAULT 0, suppressed_count BIGINT NOT NULL DEFAULT 0,
    delivered_count BIGINT NOT NULL DEFAULT 0, undelivered_count BIGINT NOT NULL DEFAULT 0,
    rate_at DOUBLE PRECISION, rate_settled BIGINT NOT NULL DEFAULT 0,
    rate DOUBLE PRECISION NOT NULL DEFAULT 0,
    quiet_hours INTEGER NOT NULL DEFAULT 1 CHECK (quiet_hours IN (0, 1)),
    CHECK (sending_count >= 0 AND sent_count >= 0 AND failed_count >= 0 AND cancelled_count >= 0
           AND suppressed_count >= 0 AND delivered_count >= 0 AND undelivered_count >= 0
           AND sending_count + sent_count + failed_count + cancelled_count + suppressed_count
               <= total_count
           AND delivered_count + undelivered_count <= sent_count)
);
CREATE INDEX campaigns_by_status ON campaigns (status, id);
CREATE INDEX campaigns_by_channel ON campaigns (channel, id);
CREATE INDEX campaigns_by_status_channel ON campaigns (status, channel, id);
CREATE INDEX campaigns_due ON campaigns (scheduled_at)
    WHERE status = 'scheduled' AND total_count > 0;
CREATE TABLE outbound_messages (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id),
    customer_id BIGINT REFERENCES customers (id),
    status TEXT NOT NULL DEFAULT 'pending'
           CHECK (status IN ('pending', 'sent', 'failed', 'cancelled', 'suppressed')),
    rendered_content TEXT, last_error TEXT,
    retry_count BIGINT NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
    next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    claim_token BIGINT, claim_expires_at DOUBLE PRECISION,
    sent_at DOUBLE PRECISION, provider_message_id TEXT,
    delivery_status TEXT CHECK (delivery_status IN ('delivered', 'undelivered')),
    delivered_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (campaign_id, customer_id),
    CHECK (claim_token IS NULL OR status = 'pending'),
    CHECK (delivery_status IS NULL OR status = 'sent')
);
CREATE INDEX outbound_messages_by_campaign ON outbound_messages (campaign_id, id);
CREATE INDEX outbound_messages_by_campaign_status ON outbound_messages (campaign_id, status, id);
CREATE INDEX outbound_messages_errors ON outbound_messages (campaign_id, status, last_error)
    WHERE last_error IS NOT NULL;
CREATE INDEX outbound_messages_by_delivery ON outbound_messages (campaign_id, delivery_status)
    WHERE delivery_status IS NOT NULL;
CREATE INDEX outbound_messages_by_customer ON outbound_messages (customer_id, sent_at);
CREATE INDEX outbound_messages_pending ON outbound_messages (campaign_id, next_attempt_at)
    WHERE status = 'pending';
CREATE TABLE claims (
    token BIGINT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL, message_ids TEXT NOT NULL
);
CREATE INDEX claims_by_expiry ON claims (expires_at);
CREATE TABLE early_receipts (
    message_id BIGINT PRIMARY KEY,
    delivery_status TEXT NOT NULL CHECK (delivery_status IN ('delivered', 'undelivered')),
    delivered_at TEXT NOT NULL, error TEXT, received_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE webhook_events (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, type TEXT NOT NULL, body TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0, next_attempt_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_error TEXT, first_attempt DOUBLE PRECISION, created_at TEXT NOT NULL, delivered_at TEXT
);
CREATE INDEX webhook_events_by_status ON webhook_events (status, id);
CREATE TABLE channel_pace (
    channel TEXT PRIMARY KEY CHECK (channel IN ('sms', 'whatsapp')),
    rate DOUBLE PRECISION, ceiling DOUBLE PRECISION, rate_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    tokens DOUBLE PRECISION NOT NULL DEFAULT 0, tokens_at DOUBLE PRECISION NOT NULL DEFAULT 0,
    throttled_until DOUBLE PRECISION NOT NULL DEFAULT 0, last_campaign BIGINT NOT NULL DEFAULT 0
);
INSERT INTO channel_pace (channel) VALUES ('sms'), ('whatsapp');
CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL,
    response TEXT NOT NULL, location TEXT, created_at TEXT NOT NULL
);
CREATE TABLE campaign_counts (status TEXT PRIMARY KEY, count BIGINT NOT NULL CHECK (count >= 0));
INSERT INTO campaign_counts (status, count) SELECT unnest(ARRAY['draft', 'scheduled', 'sending',
    'paused', 'sent', 'failed', 'cancelled']), 0;
CREATE FUNCTION count_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE campaign_counts SET count = count - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE campaign_counts SET count = count + 1 WHERE status = NEW.status;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER campaign_counted AFTER INSERT OR DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION count_campaigns();
CREATE TRIGGER campaign_recounted AFTER UPDATE OF status ON campaigns
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION count_campaigns();
CREATE TABLE smsleopard_schema (version INTEGER NOT NULL);
"""


def _statement_triggers(table: str, name: str, function: str) -> str:
    """PostgreSQL: `function` called once per statement that inserts, deletes or updates rows
    of `table`, which it sees as new_rows and old_rows. (Names are the schema's own.)"""
    return "".join(
        f"CREATE TRIGGER {name}_{verb} AFTER {event} ON {table}\n"
        f"    REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}();\n"
        for verb, event, tables in (
            ("counted", "INSERT", "NEW TABLE AS new_rows"),
            ("uncounted", "DELETE", "OLD TABLE AS old_rows"),
            ("recounted", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")))


# PG_MIGRATIONS[n] takes a PostgreSQL database from version n to n + 1.
# Version 4 on PostgreSQL: the outbox counted too, and both counts kept by statement
# triggers, which move each count once a statement. (Row triggers made a bulk insert of a
# million campaigns in one transaction update one row a million times, each time walking
# the versions it had left: hours.) Counts move in the order of their status, so two
# claims that finish campaigns together cannot deadlock on them.
PG_MIGRATIONS: dict[int, str] = {3: """
CREATE TABLE webhook_outbox (pending BIGINT NOT NULL CHECK (pending >= 0));
INSERT INTO webhook_outbox SELECT count(*) FROM webhook_events WHERE status = 'pending';
CREATE FUNCTION count_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        delta := delta + (SELECT count(*) FROM new_rows WHERE status = 'pending');
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        delta := delta - (SELECT count(*) FROM old_rows WHERE status = 'pending');
    END IF;
    IF delta != 0 THEN
        UPDATE webhook_outbox SET pending = pending + delta;
    END IF;
    RETURN NULL;
END $$;
""" + _statement_triggers("webhook_events", "webhook_event", "count_outbox") + """
DROP TRIGGER campaign_counted ON campaigns;
DROP TRIGGER campaign_recounted ON campaigns;
CREATE OR REPLACE FUNCTION count_campaigns() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved RECORD;
BEGIN
    IF TG_OP = 'INSERT' THEN
        FOR moved IN SELECT status, count(*) AS n FROM new_rows GROUP BY status
                     ORDER BY status LOOP
            UPDATE campaign_counts SET count = count + moved.n WHERE status = moved.status;
        END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR moved IN SELECT status, count(*) AS n FROM old_rows GROUP BY status
                     ORDER BY status LOOP
            UPDATE campaign_counts SET count = count - moved.n WHERE status = moved.status;
        END LOOP;
    ELSE  -- an UPDATE: only a change of status moves a count
        FOR moved IN SELECT status, sum(n) AS n FROM (SELECT status, 1 AS n FROM new_rows
                     UNION ALL SELECT status, -1 FROM old_rows) AS moves GROUP BY status
                     HAVING sum(n) != 0 ORDER BY status LOOP
            UPDATE campaign_counts SET count = count + moved.n WHERE status = moved.status;
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
""" + _statement_triggers("campaigns", "campaign", "count_campaigns")}
PG_MIGRATIONS[4] = """
CREATE TABLE seen_requests (id TEXT PRIMARY KEY, seen_at DOUBLE PRECISION NOT NULL);
CREATE INDEX seen_requests_by_time ON seen_requests (seen_at);
"""
PG_MIGRATIONS[5] = """
CREATE TABLE campaign_progress (
    campaign_id BIGINT NOT NULL, at DOUBLE PRECISION NOT NULL,
    sent BIGINT NOT NULL, failed BIGINT NOT NULL, suppressed BIGINT NOT NULL,
    cancelled BIGINT NOT NULL, delivered BIGINT NOT NULL, undelivered BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, at)
);
CREATE INDEX campaign_progress_by_time ON campaign_progress (at);
"""
PG_MIGRATIONS[6] = MIGRATIONS[6]  # the same in both dialects
PG_MIGRATIONS[7] = MIGRATIONS[7]
PG_MIGRATIONS[8] = """
CREATE TABLE early_gateway_receipts (
    provider_message_id TEXT PRIMARY KEY,
    delivery_status TEXT NOT NULL CHECK (delivery_status IN ('delivered', 'undelivered')),
    delivered_at TEXT NOT NULL, error TEXT, received_at DOUBLE PRECISION NOT NULL
);
"""
PG_MIGRATIONS[9] = """
ALTER TABLE campaigns ADD COLUMN attempts_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaign_progress ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
"""
PG_SCHEMA = PG_SCHEMA_3 + "".join(PG_MIGRATIONS[n] for n in sorted(PG_MIGRATIONS))
PG_FIRST_VERSION = 3  # the first version PostgreSQL databases were made at

PG_WRITE_LOCK = 0x5_3E0_1EA9  # the advisory lock every write transaction holds
PG_POOL_SIZE = 8  # connections a process keeps to PostgreSQL
PG_COMMAND_TIMEOUT = 60  # seconds a statement may take, waiting for a lock included


@functools.lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """A statement with PostgreSQL's placeholders, $1, $2 ..., for SQLite's `?`s (the one
    difference left to a statement whose dialect's parts are already PostgreSQL's)."""
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


def pg_faults(*, refusals: bool = False) -> tuple[type[BaseException], ...]:
    """What asyncpg raises when the database is out of reach, or ended a connection (a
    restart, pg_terminate_backend: InternalClientError, as asyncpg finds out when it next
    uses it); with `refusals`, whatever the server answers too, where any failure means
    "try again later" (a connection to make, a lock's session, the queue's own statements)."""
    import asyncpg

    lost = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError,
            asyncpg.CannotConnectNowError, asyncpg.InsufficientResourcesError,
            asyncpg.AdminShutdownError, asyncpg.InternalClientError)
    return (*lost, asyncpg.PostgresError) if refusals else lost


def _changed(status: str) -> int:
    """The row count of a command tag: 'UPDATE 3' -> 3."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PostgresTransaction(Transaction):
    """One transaction on a pooled connection, with SqliteTransaction's methods."""

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return [tuple(row) for row in await self._connection.fetch(numbered(sql), *_bind(params))]

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _changed(await self._connection.execute(numbered(sql), *_bind(params)))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Inserts go in one pipelined round; updates and deletes one by one, as their
        counts matter (a claim lost is found by counting what changed). No rows, no round trip."""
        statement, rows = numbered(sql), list(rows)
        if not rows:
            return 0
        if sql.lstrip().upper().startswith("INSERT"):
            await self._connection.executemany(statement, rows)
            return len(rows)
        prepared = await self._connection.prepare(statement)
        changed = 0
        for row in rows:
            await prepared.fetch(*row)
            changed += _changed(prepared.get_statusmsg())
        return changed


class PostgresDatabase:
    """PostgreSQL through asyncpg (imported only here), with SqliteDatabase's interface, so the
    Store's statements run on both (POSTGRES_SQL's parts, placeholders numbered). Several processes
    share it: every write transaction holds one advisory lock, so writes are serialized as SQLite
    serializes them and the Store's read-then-write transactions hold across processes; reads run
    beside them, on a pool of connections. Claims, the hot path, hold that lock shared: they run
    beside each other (each skips the rows another has locked), never beside any other write."""

    exclusive = False  # claims found at start may be another live process's
    sql = POSTGRES_SQL

    def __init__(self, pool: Any, url: str):
        self._pool = pool
        self._url = url
        self._write_lock = asyncio.Lock()  # this process's writers queue here, not in the pool
        self._claims = asyncio.Semaphore(PG_POOL_SIZE // 2)  # and its claims: the rest read
        self._held: dict[str, Any] = {}    # lock name -> the connection holding it
        self.write_failure: str | None = None

    @classmethod
    async def open(cls, url: str) -> Self:
        try:
            import asyncpg
        except ImportError:
            raise ConfigError("--db postgresql://... needs asyncpg: pip install asyncpg") from None
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=PG_POOL_SIZE,
                                             command_timeout=PG_COMMAND_TIMEOUT,
                                             reset=_keep_session)
        except pg_faults(refusals=True) as exc:
            raise ConfigError(f"cannot use database {redacted(url)}: {exc}") from None
        return cls(pool, url)

    async def close(self) -> None:
        for connection in self._held.values():
            await connection.close()
        await self._pool.close()

    async def schema_version(self) -> int:
        async with self._connection() as connection:
            return await self._version_on(connection)

    async def create_schema(self) -> None:
        await self.run_script(f"{PG_SCHEMA}\nINSERT INTO smsleopard_schema "
                              f"VALUES ({SCHEMA_VERSION:d});", unless_at=0)

    async def migrate(self, number: int, script: str) -> None:
        await self.run_script(f"{script}\nUPDATE smsleopard_schema SET version = {number + 1:d};",
                              unless_at=number)

    async def run_script(self, script: str, unless_at: int | None = None) -> None:
        """Run a script under the write lock; with `unless_at`, only if the schema is still at
        that version once the lock is held (processes starting together migrate once)."""
        async with self._connection(own=True) as connection:  # the lock ends with its session
            # the lock, then the transaction: it sees what the last holder made, catalog included
            await connection.execute("SELECT pg_advisory_lock($1)", PG_WRITE_LOCK)
            async with connection.transaction():
                if unless_at is not None and await self._version_on(connection) != unless_at:
                    return
                await connection.execute(script)

    @staticmethod
    async def _version_on(connection: Any) -> int:
        if not await connection.fetchval("SELECT to_regclass('smsleopard_schema') IS NOT NULL"):
            return 0
        return await connection.fetchval("SELECT version FROM smsleopard_schema")

    async def _connect(self) -> Any:
        """A connection outside the pool, for a session-level lock."""
        import asyncpg

        try:
            return await asyncpg.connect(self._url, command_timeout=PG_COMMAND_TIMEOUT)
        except pg_faults(refusals=True) as exc:
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from None

    @contextlib.asynccontextmanager
    async def _connection(self, *, own: bool = False) -> AsyncIterator[Any]:
        """A pooled connection (or, `own`, one of its own, closed after: whatever its session
        holds ends with it); a database out of reach is DatabaseUnavailable."""
        try:
            if own:
                connection = await self._connect()
                try:
                    yield connection
                finally:
                    await connection.close()
            else:
                async with self._pool.acquire() as connection:
                    yield connection
        except pg_faults() as exc:
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from None

    @contextlib.asynccontextmanager
    async def transaction(self, *, secure_delete: bool = False,
                          claim: bool = False) -> AsyncIterator[PostgresTransaction]:
        """A write transaction, serialized with every other process's writes; a `claim` runs
        beside other claims, this process's too. (Erasure needs nothing more here: VACUUM
        reclaims the dead rows' space.)"""
        lock = "pg_advisory_xact_lock_shared" if claim else "pg_advisory_xact_lock"
        try:
            async with (self._claims if claim else self._write_lock,
                        self._connection() as connection, connection.transaction()):
                await connection.execute(f"SELECT {lock}($1)", PG_WRITE_LOCK)
                tx = PostgresTransaction(connection)
                yield tx
        except DatabaseUnavailable as exc:
            if self.write_failure is None:
                log.error("database: writes fail (%s); answering 503 until one succeeds", exc)
            self.write_failure = str(exc)
            raise
        if self.write_failure is not None:
            log.warning("database: writes succeed again")
            self.write_failure = None
        for callback in tx.committed:
            callback()

    async def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL's own checkpoints and VACUUM look after the files."""

    async def restate(self, table: str) -> None:
        """After a large insert, refresh the planner's statistics of `table` (a name of ours)
        at once, not at autovacuum's next round: a campaign of 100,000 new messages that the
        planner believes to hold one has its claims scan them all."""
        try:  # best effort: the send has committed; autovacuum analyzes later anyway
            async with self._connection() as connection:
                await connection.execute(f"ANALYZE {table}")
        except Exception as exc:  # noqa: BLE001
            log.warning("database: could not refresh the statistics of %s: %s", table, exc)

    async def probe(self) -> None:
        async with self.transaction():
            pass

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        async with self._connection() as connection:
            return [tuple(row) for row in await connection.fetch(numbered(sql), *_bind(params))]

    fetch_point = fetch  # a read by key is a round trip like any other here

    async def stream(self, sql: str, params: Sequence[Any], size: int
                     ) -> AsyncIterator[list[tuple]]:
        async with self._connection() as connection, connection.transaction():
            cursor = await connection.cursor(numbered(sql), *_bind(params))
            while rows := await cursor.fetch(size):
                yield [tuple(row) for row in rows]

    async def hold(self, name: str) -> bool:
        """Whether this process holds the lock `name` (taking it if it is free): a session
        advisory lock on a connection of its own, held until the process ends. So one
        process of many delivers the outbox (in order), and another takes over when it dies."""
        if name in self._held:
            try:  # the session that holds the lock may have ended (a restart, the network)
                await self._held[name].fetchval("SELECT 1")
                return True
            except pg_faults(refusals=True):
                self._held.pop(name).terminate()
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:7], "big")
        connection = await self._connect()
        if await connection.fetchval("SELECT pg_try_advisory_lock($1)", key):
            self._held[name] = connection
            return True
        await connection.close()
        return False


# PostgreSQL as the queue (--queue-url postgresql://...): a job is a row. A consumer takes
# the first one due with FOR UPDATE SKIP LOCKED and moves it a lease ahead (a visibility
# timeout): acknowledged, the row is deleted; a consumer that died without acknowledging
# hands its jobs on when their lease ends, as a broker redelivers. NOTIFY wakes idle
# consumers in every process at once; a poll finds delayed jobs and jobs handed on. Times
# are the server's clock, so the processes' clocks need not agree.
PG_QUEUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS smsleopard_jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue TEXT NOT NULL, ids TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS smsleopard_jobs_due ON smsleopard_jobs (queue, due_at);
"""
PG_NOW = "extract(epoch FROM clock_timestamp())"
PG_QUEUE_CHANNEL = "smsleopard_jobs"  # NOTIFY's channel; the payload names the queue
PG_QUEUE_LOCK = 0x5_3E0_1EAA  # held while a process makes the table (processes start together)


class PostgresJobs:
    """The statements of the job table (QUEUE's), each on a connection its caller holds."""

    @staticmethod
    async def make(connection: Any) -> None:
        """The table, made once by processes starting together (the lock first: then each
        sees a table another made)."""
        await connection.execute("SELECT pg_advisory_lock($1)", PG_QUEUE_LOCK)
        await connection.execute(PG_QUEUE_SCHEMA)

    @staticmethod
    async def publish(connection: Any, queue: str, delay: float, jobs: list[str]) -> None:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO smsleopard_jobs (queue, ids, due_at) SELECT $1, job.ids, "
                f"{PG_NOW} + $2 FROM unnest($3::text[]) WITH ORDINALITY AS job(ids, n) "
                "ORDER BY job.n", queue, delay, jobs)
            await connection.execute("SELECT pg_notify($1, $2)", PG_QUEUE_CHANNEL, queue)

    @staticmethod
    async def take(connection: Any, queue: str, lease: float) -> tuple[int, str] | None:
        """The first job due, moved a lease ahead: (id, ids), or None."""
        row = await connection.fetchrow(
            f"UPDATE smsleopard_jobs SET due_at = {PG_NOW} + $2 WHERE id = (SELECT id FROM "
            f"smsleopard_jobs WHERE queue = $1 AND due_at <= {PG_NOW} ORDER BY due_at, id "
            "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, ids", queue, lease)
        return None if row is None else (row["id"], row["ids"])

    @staticmethod
    async def next_due_in(connection: Any, queue: str) -> float | None:
        """Seconds until the queue's next job falls due (None: it is empty)."""
        return await connection.fetchval(
            f"SELECT min(due_at) - {PG_NOW} FROM smsleopard_jobs WHERE queue = $1", queue)

    @staticmethod
    async def delete(connection: Any, job_id: int) -> None:
        await connection.execute("DELETE FROM smsleopard_jobs WHERE id = $1", job_id)

    @staticmethod
    async def due_now(connection: Any, job_ids: list[int]) -> None:
        await connection.execute(f"UPDATE smsleopard_jobs SET due_at = {PG_NOW} "
                                 "WHERE id = ANY($1::bigint[])", job_ids)

    @staticmethod
    async def depth(connection: Any, queue: str) -> int:
        return await connection.fetchval("SELECT count(*) FROM smsleopard_jobs WHERE queue = $1",
                                         queue)


async def _keep_session(connection: Any) -> None:
    """What a pooled connection runs as it is given back, beyond the rollback of a transaction left
    open (asyncpg 0.32's pool rolls back before it calls this; check again on an upgrade): nothing.
    asyncpg's default resets the session, a second round trip after every read and write; and
    nothing here leaves anything in a pooled session to reset (writes take their lock for the
    transaction; session locks have connections of their own; LISTEN and SET are never used)."""


def _dumps(data: Any) -> str:
    """Compact JSON, UTF-8 as it is (bodies, the outbox, the lists a Dialect reads)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _in(values: Iterable[Any]) -> list[Any]:
    """A list parameter, for `column {sql.ids}` and the Dialect's other lists."""
    return list(values)


class Rows:
    """What every part of the Store shares: the database adapter, its dialect, pages of rows."""

    def __init__(self, db: Database):
        self.db = db
        self.sql = db.sql  # its dialect's parts of statements

    @staticmethod
    def _where(conditions: list[str]) -> str:
        return f" WHERE {' AND '.join(conditions)}" if conditions else ""

    @staticmethod
    async def _add_counts(tx: Transaction, deltas: Mapping[int, Sequence[int]],
                          *names: str) -> None:
        """Add each campaign's deltas to its counters `names`, in id order (claims running
        side by side lock their campaigns in one order)."""
        counts = ", ".join(f"{name}_count = {name}_count + ?" for name in names)
        await tx.executemany(
            f"UPDATE campaigns SET {counts} WHERE id = ?",
            [(*delta, campaign_id) for campaign_id, delta in sorted(deltas.items())])

    async def _filtered_page(self, table: str, columns: Sequence[str], filters: Mapping[str, str],
                             order: str, request: PageRequest) -> Page:
        """A page of rows whose columns equal the filters (their names come from fixed
        lists, never from a caller)."""
        where, params = [f"{name} = ?" for name in filters], list(filters.values())
        if table == "campaigns" and set(filters) <= {"status"}:  # counted by triggers: no count(*)
            counts = dict(await self.db.fetch("SELECT status, count FROM campaign_counts"))
            total = counts[filters["status"]] if filters else sum(counts.values())
        else:
            (total,), = await self.db.fetch(f"SELECT count(*) FROM {table}{self._where(where)}",
                                            params)
        return await self._page(table, columns, where, params, order, request, total)

    async def _page(self, table: str, columns: Sequence[str], where: list[str], params: list[Any],
                    order: str, request: PageRequest, total: int) -> Page:
        """One page by number or, when `request.after` is set, strictly after that id. A numbered
        page first walks its offset over ids alone (a covering index), then reads by key."""
        newer = "<" if order == "DESC" else ">"  # the direction pages go in
        if request.after is not None:
            where, params = [*where, f"id {newer} ?"], [*params, request.after]
        elif (offset := (request.page - 1) * request.page_size) >= total:
            return Page([], total, request, False)
        elif offset:
            first = await self.db.fetch(f"SELECT id FROM {table}{self._where(where)} "
                                        f"ORDER BY id {order} LIMIT 1 OFFSET ?", [*params, offset])
            if not first:
                return Page([], total, request, False)
            (start,), = first
            where, params = [*where, f"id {newer}= ?"], [*params, start]
        rows = await self.db.fetch(f"SELECT {', '.join(columns)} FROM {table}{self._where(where)} "
                                   f"ORDER BY id {order} LIMIT ?",
                                   [*params, request.page_size + 1])
        names = [column.rsplit(" AS ", 1)[-1] for column in columns]
        return Page([dict(zip(names, row, strict=True)) for row in rows[:request.page_size]],
                    total, request, len(rows) > request.page_size)


class OutboxStore(Rows):
    """The webhook outbox: events written in the transaction that makes them true, then
    delivered, retried and forgotten; and the signed requests already seen (replays)."""

    def __init__(self, db: Database):
        super().__init__(db)
        self.events: frozenset[str] = frozenset()  # the webhook events to write: campaign, message
        self.on_events_written: Callable[[], None] = lambda: None  # wakes the webhook sender

    async def emit(self, tx: Transaction, events: list[tuple[str, dict[str, Any]]],
                   now: float) -> None:
        """Write webhook events to the outbox, in the caller's transaction, in one statement
        (a batch of outcomes may write a thousand: SQLite builds the bodies)."""
        if not events:
            return
        tx.after_commit(self.on_events_written)
        stamp = utc_iso(now)
        bodies = [{"type": kind, "timestamp": stamp, "data": data} for kind, data in events]
        await tx.execute("INSERT INTO webhook_events (type, body, created_at) "
                         f"{self.sql.event_rows}", (stamp, _dumps(bodies)))

    async def emit_status_changes(self, tx: Transaction, changes: list[tuple[int, str]],
                                  now: float) -> None:
        """campaign.status_changed for each (campaign id, status before), with its stats now,
        when campaign events are asked for."""
        if not changes or "campaign" not in self.events:
            return
        rows = await tx.fetch(f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns "
                              f"WHERE id {self.sql.ids}", (_in(c for c, _ in changes),))
        campaigns = {campaign["id"]: campaign for campaign in (
            dict(zip(CAMPAIGN_COLUMNS, row, strict=True)) for row in rows)}
        events = [("campaign.status_changed", {
            "campaign_id": campaign_id, "from": before, "to": campaigns[campaign_id]["status"],
            "stats": message_stats(campaigns[campaign_id])}) for campaign_id, before in changes]
        await self.emit(tx, events, now)

    async def next(self) -> tuple[int, str, int, float, float | None] | None:
        """The oldest pending event: (id, body, attempts, next attempt, first attempt)."""
        rows = await self.db.fetch("SELECT id, body, attempts, next_attempt_at, first_attempt "
                                   "FROM webhook_events WHERE status = 'pending' "
                                   "ORDER BY id LIMIT 1")
        return tuple(rows[0]) if rows else None

    async def delivered(self, event_id: int, now: float) -> None:
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE webhook_events SET status = 'delivered', delivered_at = ?, "
                             "attempts = attempts + 1 WHERE id = ?", (utc_iso(now), event_id))

    async def failed(self, event_id: int, error: str, now: float, retry_at: float | None) -> None:
        """Another attempt at `retry_at`, or, with None, dead."""
        async with self.db.transaction() as tx:
            await tx.execute("UPDATE webhook_events SET attempts = attempts + 1, last_error = ?, "
                             "first_attempt = coalesce(first_attempt, ?), "
                             "next_attempt_at = coalesce(?, next_attempt_at), "
                             "status = CASE WHEN ? THEN 'dead' ELSE status END WHERE id = ?",
                             (error[:ERROR_TEXT_LIMIT], now, retry_at, retry_at is None, event_id))

    async def page(self, status: str | None, request: PageRequest) -> Page:
        filters = {} if status is None else {"status": status}
        return await self._filtered_page("webhook_events", EVENT_COLUMNS, filters, "DESC", request)

    async def forget_old(self, before: float) -> int:
        """Delivered and dead events written before `before` go (a bounded bite at a time)."""
        async with self.db.transaction() as tx:
            return await tx.execute(
                "DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events "
                "WHERE status != 'pending' AND created_at < ? ORDER BY id LIMIT 10000)",
                (utc_iso(before),))

    async def first_sighting(self, request_id: str, now: float, window: float) -> bool:
        """Whether a signed request's id is new within `window` seconds (else a replay)."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM seen_requests WHERE seen_at < ?", (now - window,))
            return bool(await tx.execute("INSERT INTO seen_requests (id, seen_at) VALUES (?, ?) "
                                         "ON CONFLICT DO NOTHING", (request_id, now)))

    async def forget_old_receipts(self, before: float) -> int:
        """Early receipts whose message never got sent (it failed after all) are let go."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM early_gateway_receipts WHERE received_at < ?", (before,))
            return await tx.execute("DELETE FROM early_receipts WHERE received_at < ?", (before,))


class CampaignStore(Rows):
    """Campaigns: their rows, their moves through the lifecycle (each a status event),
    finishing them, and their progress over time."""

    def __init__(self, db: Database, outbox: OutboxStore):
        super().__init__(db)
        self.outbox = outbox

    async def create(self, fields: Mapping[str, Any], now: float) -> dict[str, Any]:
        """A new campaign from validated fields: a draft, or scheduled for scheduled_at."""
        scheduled_at = fields.get("scheduled_at")
        status = CampaignStatus.DRAFT if scheduled_at is None else CampaignStatus.SCHEDULED
        values = {**fields,
                  "scheduled_at": None if scheduled_at is None else utc_iso(scheduled_at),
                  "status": status, "created_at": utc_iso(now), "updated_at": utc_iso(now)}
        async with self.db.transaction() as tx:  # the names come from a fixed list, never a caller
            rows = await tx.fetch(
                f"INSERT INTO campaigns ({', '.join(values)}) "
                f"VALUES ({', '.join('?' * len(values))}) "
                f"RETURNING {', '.join(CAMPAIGN_COLUMNS)}", tuple(values.values()))
        return dict(zip(CAMPAIGN_COLUMNS, rows[0], strict=True))

    async def get(self, campaign_id: int) -> dict[str, Any] | None:
        rows = await self.db.fetch_point(f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns "
                                          "WHERE id = ?", (campaign_id,))
        return dict(zip(CAMPAIGN_COLUMNS, rows[0], strict=True)) if rows else None

    async def page(self, filters: Mapping[str, str], request: PageRequest) -> Page:
        """Campaigns matching every filter (channel, status), newest first."""
        return await self._filtered_page("campaigns", CAMPAIGN_COLUMNS, filters, "DESC", request)

    async def campaign_in(self, tx: Transaction, campaign_id: int) -> dict[str, Any]:
        """The campaign, read inside a transaction; NotFound if there is none."""
        rows = await tx.fetch(f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns WHERE id = ?",
                              (campaign_id,))
        if not rows:
            raise campaign_not_found(campaign_id)
        return dict(zip(CAMPAIGN_COLUMNS, rows[0], strict=True))

    async def move(self, tx: Transaction, campaign: dict[str, Any], action: Action,
                   now: float) -> CampaignStatus:
        """Apply `action` to the campaign's status, as the transition table allows."""
        before = CampaignStatus(campaign["status"])
        after = next_status(before, action, campaign["id"])
        if after == before:
            return after
        stamp = utc_iso(now)
        if after == CampaignStatus.SENDING:  # a new run starts: the progress sample and the
            settled = sum(campaign[f"{s}_count"]  # rate limit's bucket (empty) start from now
                          for s in ("sent", "failed", "cancelled", "suppressed"))
            await tx.execute("UPDATE campaigns SET status = ?, updated_at = ?, "
                             "started_at = coalesce(started_at, ?), finished_at = NULL, "
                             "rate_at = ?, rate_settled = ?, rate = 0, pace_tokens = 0, "
                             "pace_at = ? WHERE id = ?",
                             (after, stamp, stamp, now, settled, now, campaign["id"]))
            await self.note_progress(tx, [campaign["id"]], now)
        else:
            final = after in (CampaignStatus.SENT, CampaignStatus.FAILED, CampaignStatus.CANCELLED)
            await tx.execute("UPDATE campaigns SET status = ?, updated_at = ?, finished_at = "
                             "CASE WHEN ? THEN ? ELSE finished_at END WHERE id = ?",
                             (after, stamp, final, stamp, campaign["id"]))
        campaign["status"] = after
        await self.outbox.emit_status_changes(tx, [(campaign["id"], before)], now)
        return after

    async def transition(self, campaign_id: int, action: Action, now: float) -> dict[str, Any]:
        """Pause or resume a campaign (actions that change nothing but its status)."""
        async with self.db.transaction() as tx:
            campaign = await self.campaign_in(tx, campaign_id)
            await self.move(tx, campaign, action, now)
            if campaign["status"] == CampaignStatus.SENDING:  # resumed with nothing left to do
                await self.finish(tx, [campaign_id], now)
            return await self.campaign_in(tx, campaign_id)

    async def cancel(self, campaign_id: int, now: float) -> dict[str, Any]:
        """Cancel a campaign: its pending messages become cancelled, never attempted; those
        being attempted finish, and become cancelled then unless sent."""
        async with self.db.transaction() as tx:
            campaign = await self.campaign_in(tx, campaign_id)
            next_status(CampaignStatus(campaign["status"]), Action.CANCEL, campaign_id)
            cancelled = await tx.execute(
                "UPDATE outbound_messages SET status = 'cancelled', updated_at = ? "
                "WHERE campaign_id = ? AND status = 'pending' AND claim_token IS NULL",
                (utc_iso(now), campaign_id))
            await tx.execute("UPDATE campaigns SET cancelled_count = cancelled_count + ? "
                             "WHERE id = ?", (cancelled, campaign_id))
            await self.move(tx, campaign, Action.CANCEL, now)
            return await self.campaign_in(tx, campaign_id)

    async def retry_failed(self, campaign_id: int, now: float) -> tuple[int, str]:
        """Make every failed message pending again with no retries used; (count, status)."""
        async with self.db.transaction() as tx:
            campaign = await self.campaign_in(tx, campaign_id)
            next_status(CampaignStatus(campaign["status"]), Action.RETRY_FAILED, campaign_id)
            if not campaign["failed_count"]:
                raise Conflict("INVALID_STATE",
                               f"Campaign {campaign_id} has no failed messages to retry")
            requeued = await tx.execute(
                "UPDATE outbound_messages SET status = 'pending', retry_count = 0, "
                "next_attempt_at = 0, updated_at = ? WHERE campaign_id = ? AND status = 'failed'",
                (utc_iso(now), campaign_id))
            await tx.execute("UPDATE campaigns SET failed_count = failed_count - ? WHERE id = ?",
                             (requeued, campaign_id))
            campaign["failed_count"] -= requeued
            status = await self.move(tx, campaign, Action.RETRY_FAILED, now)
        return requeued, status

    async def update(self, campaign_id: int, changes: Mapping[str, Any],
                     now: float) -> dict[str, Any]:
        """PATCH: change fields as the campaign's status allows (names from a fixed list)."""
        async with self.db.transaction() as tx:
            campaign = await self.campaign_in(tx, campaign_id)
            status = CampaignStatus(campaign["status"])
            for action in edit_actions(status, changes):
                status = next_status(status, action, campaign_id)
            values = {name: (utc_iso(value) if name == "scheduled_at" and value is not None
                             else value) for name, value in changes.items()}
            values |= {"status": status, "updated_at": utc_iso(now)}
            await tx.execute(f"UPDATE campaigns SET {', '.join(f'{n} = ?' for n in values)} "
                             "WHERE id = ?", (*values.values(), campaign_id))
            if status != campaign["status"]:  # scheduled, or back to a draft
                await self.outbox.emit_status_changes(tx, [(campaign_id, campaign["status"])], now)
            return await self.campaign_in(tx, campaign_id)

    async def delete(self, campaign_id: int) -> None:
        """Delete a draft that has no messages; InvalidState otherwise."""
        async with self.db.transaction() as tx:
            campaign = await self.campaign_in(tx, campaign_id)
            next_status(CampaignStatus(campaign["status"]), Action.DELETE, campaign_id)
            if campaign["total_count"]:
                raise Conflict("INVALID_STATE", f"Campaign {campaign_id} has "
                               f"{campaign['total_count']} messages; cancel it instead")
            await tx.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))

    async def finish(self, tx: Transaction, campaign_ids: list[int],
                     now: float) -> list[tuple[int, str]]:
        """Sending campaigns with every message settled finish, as finishing_action says."""
        settled = await tx.fetch(
            f"SELECT id, sent_count, failed_count FROM campaigns WHERE id {self.sql.ids} "
            f"AND status = ? AND {SETTLED_COUNTS} = total_count ORDER BY id",
            (_in(campaign_ids), CampaignStatus.SENDING))
        finished = [(campaign_id,
                     next_status(CampaignStatus.SENDING, finishing_action(sent, failed)))
                    for campaign_id, sent, failed in settled]
        stamp = utc_iso(now)
        await tx.executemany("UPDATE campaigns SET status = ?, updated_at = ?, finished_at = ? "
                             "WHERE id = ?", [(status, stamp, stamp, campaign_id)
                                              for campaign_id, status in finished])
        await self.outbox.emit_status_changes(
            tx, [(campaign_id, CampaignStatus.SENDING) for campaign_id, _ in finished], now)
        return finished

    async def start_due(self, now: float) -> list[int]:
        """Move scheduled campaigns that are due and have recipients to sending."""
        async with self.db.transaction() as tx:
            due = [campaign_id for campaign_id, in await tx.fetch(
                "SELECT id FROM campaigns WHERE status = 'scheduled' AND total_count > 0 "
                "AND scheduled_at <= ? ORDER BY id", (utc_iso(now),))]
            for campaign_id in due:
                await self.move(tx, await self.campaign_in(tx, campaign_id), Action.START, now)
        return due

    async def next_due_time(self) -> float | None:
        """When the earliest scheduled campaign with recipients falls due, or None."""
        (earliest,), = await self.db.fetch(
            "SELECT min(scheduled_at) FROM campaigns "
            "WHERE status = 'scheduled' AND total_count > 0")
        return None if earliest is None else parse_timestamp(earliest)

    async def active(self) -> list[dict[str, Any]]:
        """Campaigns that are sending or paused, for the progress lines of the log."""
        rows = await self.db.fetch(f"SELECT {', '.join(CAMPAIGN_COLUMNS)} FROM campaigns "
                                   "WHERE status IN ('sending', 'paused') ORDER BY id")
        return [dict(zip(CAMPAIGN_COLUMNS, row, strict=True)) for row in rows]

    async def halted_among(self, campaign_ids: Sequence[int]) -> list[int]:
        """Which of these campaigns are paused or cancelled now."""
        rows = await self.db.fetch(f"SELECT id FROM campaigns WHERE id {self.sql.ids} "
                                   "AND status IN ('paused', 'cancelled')", (_in(campaign_ids),))
        return [campaign_id for campaign_id, in rows]

    async def restart_progress(self, now: float) -> None:
        """At a start: the sending campaigns' rates are sampled from now, not averaged over the
        time the service was down (another process's next record samples them again)."""
        async with self.db.transaction() as tx:
            await tx.execute(f"UPDATE campaigns SET rate_at = ?, rate_settled = {SETTLED_COUNTS}, "
                             "rate = 0 WHERE status = 'sending'", (now,))

    async def note_progress(self, tx: Transaction, campaign_ids: list[int], now: float) -> None:
        """A progress row for each of these campaigns sampled just now (rate_at = now)."""
        await tx.execute(
            f"INSERT INTO campaign_progress (campaign_id, at, {', '.join(PROGRESS_COUNTS)}) "
            f"SELECT id, rate_at, {', '.join(f'{name}_count' for name in PROGRESS_COUNTS)} "
            f"FROM campaigns WHERE id {self.sql.ids} AND rate_at = ? "
            "ON CONFLICT DO NOTHING", (_in(campaign_ids), now))

    async def progress_points(self, campaign_id: int,
                              times: Sequence[float]) -> list[ProgressPoint]:
        """The last progress row at or before each of `times`, each row once, oldest first:
        one index lookup per time, however long the campaign ran."""
        return [ProgressPoint(*row) for row in await self.db.fetch(
            f"SELECT DISTINCT p.at, {', '.join(f'p.{name}' for name in PROGRESS_COUNTS)} "
            f"FROM {self.sql.time_rows} JOIN campaign_progress AS p ON p.campaign_id = ? "
            "AND p.at = (SELECT max(at) FROM campaign_progress WHERE campaign_id = ? "
            "AND at <= b.value) ORDER BY p.at",
            (json.dumps(list(times)), campaign_id, campaign_id))]

    async def today_counts(self, since: float) -> dict[str, dict[str, int]]:
        """Messages sent, delivered and failed since `since`, per channel: each campaign's
        counters now less those of its last progress row before then, for the campaigns
        with progress since (their runs started or recorded outcomes)."""
        names = ("sent", "delivered", "failed")
        changes = ", ".join(f"CAST(sum(c.{name}_count - coalesce(b.{name}, 0)) AS BIGINT)"
                            for name in names)
        rows = await self.db.fetch(
            f"SELECT c.channel, {changes} FROM campaigns AS c LEFT JOIN campaign_progress AS b "
            "ON b.campaign_id = c.id AND b.at = (SELECT max(at) FROM campaign_progress "
            "WHERE campaign_id = c.id AND at < ?) "
            "WHERE c.id IN (SELECT campaign_id FROM campaign_progress WHERE at >= ?) "
            "GROUP BY c.channel", (since, since))
        counts = {channel: dict.fromkeys(names, 0) for channel in CHANNELS}
        for channel, *values in rows:
            counts[channel] = {name: max(0, value)
                               for name, value in zip(names, values, strict=True)}
        return counts


def erased_from(answer: str, phone: str) -> str | None:
    """A stored answer that shows customers (a create, an edit), with the fields of the one
    who had `phone` erased: phone "[erased]", the others null. None for any other answer
    that quotes the phone (a preview's text holds their name too): it is forgotten."""
    try:
        shown = json.loads(answer)
    except ValueError:
        return None
    customers = shown.get("customers") if isinstance(shown, dict) else None
    if not isinstance(customers, list):
        customers = [shown]
    if not all(isinstance(c, dict) and c.keys() == set(CUSTOMER_COLUMNS) for c in customers):
        return None
    for customer in customers:
        if customer["phone"] == phone:
            customer.update(dict.fromkeys(CUSTOMER_FIELDS), phone="[erased]")
    return _dumps(shown)


class CustomerStore(Rows):
    """Customers: bulk and CSV loads, edits, consent, and erasure."""

    def __init__(self, db: Database, campaigns: CampaignStore):
        super().__init__(db)
        self.campaigns = campaigns

    async def create(self, customers: Sequence[Mapping[str, Any]],
                     now: float) -> list[dict[str, Any]]:
        """Insert customers (validated, with every input field), all or nothing; Conflict
        CUSTOMER_EXISTS if a phone is taken."""
        async with self.db.transaction() as tx:
            taken = await tx.fetch(f"SELECT phone FROM customers WHERE phone {self.sql.texts} "
                                   "LIMIT 5", (_in(c["phone"] for c in customers),))
            if taken:
                listed = ", ".join(phone for phone, in taken)
                raise Conflict("CUSTOMER_EXISTS", f"A customer with phone {listed} already exists")
            (last_id,), = await tx.fetch("SELECT coalesce(max(id), 0) FROM customers")
            await self._insert(tx, customers, now)
            created = await tx.fetch(f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers "
                                     "WHERE id > ? ORDER BY id", (last_id,))
        return [dict(zip(CUSTOMER_COLUMNS, row, strict=True)) for row in created]

    @staticmethod
    async def _insert(tx: Transaction, customers: Sequence[Mapping[str, Any]], now: float) -> None:
        stamp = utc_iso(now)
        await tx.executemany(
            f"INSERT INTO customers ({', '.join(CUSTOMER_INPUT_FIELDS)}, created_at) "
            f"VALUES ({', '.join('?' * len(CUSTOMER_INPUT_FIELDS))}, ?)",
            [(*(c[name] for name in CUSTOMER_INPUT_FIELDS), stamp) for c in customers])

    async def import_rows(self, lines: Sequence[tuple[int, Mapping[str, Any]]],
                          columns: Sequence[str], on_conflict: str, now: float) -> dict[str, int]:
        """A CSV file's customers, (line, fields) each, all or nothing. A phone already here
        is an error (CUSTOMER_EXISTS, its lines listed), skipped, or updated with the file's
        `columns`, as `on_conflict` says."""
        async with self.db.transaction() as tx:
            existing = dict(await tx.fetch(
                f"SELECT phone, id FROM customers WHERE phone {self.sql.texts}",
                (_in(fields["phone"] for _, fields in lines),)))
            if existing and on_conflict == "error":
                clashes = [(line, fields["phone"]) for line, fields in lines
                           if fields["phone"] in existing]
                raise Conflict("CUSTOMER_EXISTS", f"{len(clashes)} phones already belong to "
                               "customers; import with ?on_conflict=skip or ?on_conflict=update",
                               [{"line": line, "field": "phone",
                                 "message": f"a customer with phone {phone} already exists"}
                                for line, phone in clashes[:MAX_LISTED_ERRORS]])
            await self._insert(
                tx, [fields for _, fields in lines if fields["phone"] not in existing], now)
            changed = [name for name in columns if name != "phone"]
            updates = [fields for _, fields in lines if fields["phone"] in existing]
            if on_conflict == "update" and updates and changed:  # names from CUSTOMER_INPUT_FIELDS
                await tx.executemany(
                    f"UPDATE customers SET {', '.join(f'{n} = ?' for n in changed)} WHERE id = ?",
                    [(*(fields[name] for name in changed), existing[fields["phone"]])
                     for fields in updates])
        updated = len(updates) if on_conflict == "update" else 0
        return {"created": len(lines) - len(updates), "updated": updated,
                "skipped": len(updates) - updated}

    async def update(self, customer_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH: change the given fields (at least one, from CUSTOMER_INPUT_FIELDS); the phone
        stays unique. Messages not sent yet are rendered from the customer as they are then."""
        async with self.db.transaction() as tx:
            await self._customer_in(tx, customer_id)
            if "phone" in changes and await tx.fetch(
                    "SELECT 1 FROM customers WHERE phone = ? AND id != ?",
                    (changes["phone"], customer_id)):
                raise Conflict("CUSTOMER_EXISTS",
                               f"A customer with phone {changes['phone']} already exists")
            await tx.execute(f"UPDATE customers SET {', '.join(f'{n} = ?' for n in changes)} "
                             "WHERE id = ?", (*changes.values(), customer_id))
            return await self._customer_in(tx, customer_id)

    async def _customer_in(self, tx: Transaction, customer_id: int) -> dict[str, Any]:
        rows = await tx.fetch(f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers WHERE id = ?",
                              (customer_id,))
        if not rows:
            raise customer_not_found(customer_id)
        return dict(zip(CUSTOMER_COLUMNS, rows[0], strict=True))

    async def set_opted_out(self, customer_id: int, opted_out: bool, now: float) -> dict[str, Any]:
        """Opt a customer out (kept as the moment they first said so) or back in."""
        async with self.db.transaction() as tx:
            await self._customer_in(tx, customer_id)
            await tx.execute("UPDATE customers SET opted_out_at = CASE WHEN ? THEN "
                             "coalesce(opted_out_at, ?) END WHERE id = ?",
                             (opted_out, utc_iso(now), customer_id))
            return await self._customer_in(tx, customer_id)

    async def opt_by_phone(self, phone: str, opted_out: bool, now: float) -> bool:
        """What an inbound STOP or START does; whether a customer has that phone."""
        async with self.db.transaction() as tx:
            return bool(await tx.execute(
                "UPDATE customers SET opted_out_at = CASE WHEN ? THEN coalesce(opted_out_at, ?) "
                "END WHERE phone = ?", (opted_out, utc_iso(now), phone)))

    async def erase(self, customer_id: int, now: float) -> None:
        """Forget a customer: their row goes; their messages lose the text rendered for them,
        the link to them and their phone wherever an error quoted it; those not sent yet are
        cancelled (counters kept exact); stored answers lose the customer's fields, and
        events their phone. The pages the data was on are zeroed (secure_delete) and the
        write-ahead log is emptied after, so the bytes are gone from the files, not only from
        the tables."""
        async with self.db.transaction(secure_delete=True) as tx:
            phone = (await self._customer_in(tx, customer_id))["phone"]
            stamp = utc_iso(now)
            unsent = await tx.fetch("SELECT campaign_id, claim_token IS NOT NULL FROM "
                                    "outbound_messages WHERE customer_id = ? "
                                    "AND status = 'pending'", (customer_id,))
            await tx.execute("UPDATE outbound_messages SET status = 'cancelled', "
                             "claim_token = NULL, claim_expires_at = NULL, updated_at = ? "
                             "WHERE customer_id = ? AND status = 'pending'", (stamp, customer_id))
            deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # cancelled, sending
            for campaign_id, claimed in unsent:
                deltas[campaign_id][0] += 1
                deltas[campaign_id][1] -= claimed
            await self._add_counts(tx, deltas, "cancelled", "sending")
            await tx.execute(
                "UPDATE outbound_messages SET customer_id = NULL, rendered_content = NULL, "
                "last_error = replace(last_error, ?, '[erased]') WHERE customer_id = ?",
                (phone, customer_id))
            await tx.execute("DELETE FROM customers WHERE id = ?", (customer_id,))
            answers = {key: erased_from(response, phone) for key, response in await tx.fetch(
                f"SELECT key, response FROM idempotency_keys WHERE {self.sql.find}(response, ?) "
                "> 0", (phone,))}  # a create's is kept, so that a replay creates no one again
            await tx.executemany("UPDATE idempotency_keys SET response = ? WHERE key = ?",
                                 [(shown, key) for key, shown in answers.items() if shown])
            await tx.executemany("DELETE FROM idempotency_keys WHERE key = ?",
                                 [(key,) for key, shown in answers.items() if shown is None])
            await tx.execute("UPDATE webhook_events SET body = replace(body, ?, '[erased]') "
                             f"WHERE {self.sql.find}(body, ?) > 0", (phone, phone))
            await self.campaigns.finish(tx, list(deltas), now)
        await self.db.checkpoint()

    async def get(self, customer_id: int) -> dict[str, Any] | None:
        rows = await self.db.fetch(f"SELECT {', '.join(CUSTOMER_COLUMNS)} FROM customers "
                                    "WHERE id = ?", (customer_id,))
        return dict(zip(CUSTOMER_COLUMNS, rows[0], strict=True)) if rows else None

    async def page(self, filters: Mapping[str, str], request: PageRequest) -> Page:
        """Customers matching every filter (location, preferred_product; in any case),
        oldest first."""
        return await self._filtered_page("customers", CUSTOMER_COLUMNS, filters, "ASC", request)

    async def labels(self, customer_ids: Iterable[int]) -> dict[int, tuple]:
        """id -> (first_name, last_name, phone) of these customers (the erased are absent)."""
        rows = await self.db.fetch("SELECT id, first_name, last_name, phone FROM customers "
                                   f"WHERE id {self.sql.ids}", (_in(customer_ids),))
        return {customer_id: tuple(rest) for customer_id, *rest in rows}


class ClaimStore(Rows):
    """Messages and claims: recipients added, claimed by a lease (held back by consent and
    quiet hours), paced by channel and campaign, and released when a claim lapses."""

    def __init__(self, db: Database, campaigns: CampaignStore):
        super().__init__(db)
        self.campaigns = campaigns
        self.consent = Consent()  # what every message is held to as it is claimed

    async def add_recipients(self, campaign_id: int, audience: Audience, now: float) -> SendResult:
        """One pending message per new (campaign, customer) pair, suppressed at once for a
        customer who opted out. A draft, or a scheduled campaign whose time has come, starts
        sending once it has recipients; one scheduled later keeps waiting."""
        async with self.db.transaction() as tx:
            campaign = await self.campaigns.campaign_in(tx, campaign_id)
            status = CampaignStatus(campaign["status"])
            next_status(status, Action.ADD_RECIPIENTS, campaign_id, "CAMPAIGN_NOT_SENDABLE")
            source, params = await self._audience_source(tx, audience)
            (requested,), = await tx.fetch(f"SELECT count(*) FROM ({source}) AS audience", params)
            if not requested:
                raise invalid(empty_audience(audience))
            (last_id,), = await tx.fetch("SELECT coalesce(max(id), 0) FROM outbound_messages")
            stamp = utc_iso(now)
            inserted = await tx.execute(
                "INSERT INTO outbound_messages (campaign_id, customer_id, status, last_error, "
                "created_at, updated_at) SELECT ?, a.id, CASE WHEN cu.opted_out_at IS NULL "
                "THEN 'pending' ELSE 'suppressed' END, "
                "CASE WHEN cu.opted_out_at IS NULL THEN NULL ELSE ? END, ?, ? "
                f"FROM ({source}) AS a JOIN customers cu ON cu.id = a.id "
                "WHERE true ON CONFLICT DO NOTHING",
                (campaign_id, OPTED_OUT, stamp, stamp, *params))
            (suppressed,), = await tx.fetch("SELECT count(*) FROM outbound_messages "
                                            "WHERE id > ? AND status = 'suppressed'", (last_id,))
            await tx.execute("UPDATE campaigns SET total_count = total_count + ?, "
                             "suppressed_count = suppressed_count + ? WHERE id = ?",
                             (inserted, suppressed, campaign_id))
            waiting = campaign["total_count"]  # recipients added while it waited to start
            campaign["total_count"] += inserted
            started = bool(campaign["total_count"]) and is_due(campaign, now)
            if started:
                await self.campaigns.move(tx, campaign, Action.START, now)
            if suppressed and campaign["status"] == CampaignStatus.SENDING:
                for _, finished in await self.campaigns.finish(tx, [campaign_id], now):
                    campaign["status"] = finished  # everyone it was for had opted out
            new_ids = await self._new_message_ids(tx, last_id, inserted)
            paced = campaign["rate_limit"] is not None or bool(await tx.fetch(
                "SELECT 1 FROM channel_pace WHERE channel = ? AND rate IS NOT NULL",
                (campaign["channel"],)))
        if inserted >= RESTATE_AFTER:
            await self.db.restate("outbound_messages")
        return SendResult(campaign_id, inserted - suppressed, requested - inserted, suppressed,
                          campaign["status"], new_ids, publish_all=started and waiting > 0,
                          paced=paced, channel=campaign["channel"])

    async def _audience_source(self, tx: Transaction, audience: Audience) -> tuple[str, tuple]:
        """A SELECT of the audience's customer ids; UNKNOWN_CUSTOMERS for ids with no customer."""
        if audience.customer_ids:
            ids = _in(audience.customer_ids)
            unknown = await tx.fetch(f"{self.sql.unknown_ids} (SELECT id FROM customers) LIMIT 20",
                                     (ids,))
            if unknown:
                listed = ", ".join(str(value) for value, in unknown)
                raise Invalid("UNKNOWN_CUSTOMERS",
                              f"No customer has ID {listed}; nothing was queued")
            return self.sql.id_rows, (ids,)
        if audience.all_customers:
            return "SELECT id FROM customers ORDER BY id", ()
        where = " AND ".join(f"{name} = ?" for name, _ in audience.segment)  # SEGMENT_FIELDS
        return (f"SELECT id FROM customers WHERE {where} ORDER BY id",
                tuple(value for _, value in audience.segment))

    async def _new_message_ids(self, tx: Transaction, last_id: int,
                               inserted: int) -> Sequence[int]:
        """The ids one INSERT just created: a range, as new rows are numbered max(id) + 1 on."""
        (top,), = await tx.fetch("SELECT coalesce(max(id), 0) FROM outbound_messages")
        if top == last_id + inserted:
            return range(last_id + 1, top + 1)
        rows = await tx.fetch("SELECT id FROM outbound_messages WHERE id > ? ORDER BY id",
                              (last_id,))
        return [message_id for message_id, in rows]

    async def claim(self, ids: Sequence[int], now: float, token: int, lease_until: float) -> Claim:
        """Mark the job's messages that may be sent now as `sending`, and return them. One is
        claimable while pending with no live claim, its campaign is sending, and neither its
        campaign nor its channel is paced (the pacer claims those). Claimable messages not due
        yet come back as `deferred`; the others (sent, claimed by a live worker, of a paused
        campaign) are no business of this job."""
        claimable = (f"WHERE m.id {self.sql.ids} AND {UNPACED_SENDING} AND m.status = 'pending' "
                     "AND (m.claim_token IS NULL OR m.claim_expires_at <= ?) ")
        params = (_in(ids), now, now + DUE_GRACE)
        # Claims of several processes run at once (on PostgreSQL), each skipping the rows
        # another holds; but a daily cap counts what every claim takes, so then one at a time.
        async with self.db.transaction(claim=not self.consent.daily_cap) as tx:
            rows = await tx.fetch(f"{CLAIM_SELECT} {claimable} AND m.next_attempt_at <= ?"
                                  f"{self.sql.claim_lock}", params)
            deferred = [] if len(rows) == len(ids) else [tuple(row) for row in await tx.fetch(
                "SELECT m.id, m.next_attempt_at FROM outbound_messages m JOIN campaigns c "
                f"ON c.id = m.campaign_id {claimable} AND m.next_attempt_at > ? "
                "ORDER BY m.next_attempt_at", params)]
            return await self._take(tx, rows, token, lease_until, deferred, now)

    async def _take(self, tx: Transaction, rows: Sequence[tuple], token: int,
                    lease_until: float, deferred: list[tuple[int, float]], now: float) -> Claim:
        """Claim rows read by CLAIM_SELECT: mark them with the token and its lease, in the
        ledger too; but first hold back what consent forbids now."""
        rows = [ClaimRow(*row) for row in rows]
        # claims run side by side: lock their campaigns in one order
        if rows and self.sql.claim_lock:
            await tx.fetch(f"SELECT id FROM campaigns WHERE id {self.sql.ids} "
                           "ORDER BY id FOR NO KEY UPDATE",
                           (_in({row.campaign_id for row in rows}),))
        rows, quiet, suppressed = await self._hold_back(tx, rows, now)
        deferred = sorted(deferred + quiet, key=lambda item: item[1])
        if not rows:
            return Claim([], {}, deferred, suppressed)
        ids = _in(row.id for row in rows)
        await tx.execute("UPDATE outbound_messages SET claim_token = ?, claim_expires_at = ? "
                         f"WHERE id {self.sql.ids}", (token, lease_until, ids))
        await tx.execute("INSERT INTO claims (token, expires_at, message_ids) VALUES (?, ?, ?)",
                         (token, lease_until, encode_job(ids).decode()))
        newly = Counter(row.campaign_id for row in rows if row.unclaimed)
        await self._add_counts(tx, {c: (n,) for c, n in newly.items()}, "sending")
        campaigns = await tx.fetch("SELECT id, channel, base_template, whatsapp_template "
                                   f"FROM campaigns WHERE id {self.sql.ids}",
                                   (_in({row.campaign_id for row in rows}),))
        return Claim([row.message() for row in rows],
                     {c: (channel, template) for c, channel, template, _ in campaigns},
                     deferred, suppressed, {c: spec for c, _, _, spec in campaigns if spec})

    async def _hold_back(self, tx: Transaction, rows: list[ClaimRow], now: float
                         ) -> tuple[list[ClaimRow], list[tuple[int, float]], Counter[str]]:
        """Of rows about to be claimed, those that may go now; the others are suppressed
        (the customer opted out after the send, or is over the daily cap) or put off to
        the end of the customer's quiet hours, with no attempt used: (rows, deferred,
        suppressed per channel)."""
        consent = self.consent
        if not rows or (consent.quiet_hours is None and not consent.daily_cap
                        and all(row.opted_out_at is None for row in rows)):
            return rows, [], Counter()
        sent_lately: Counter[int] = Counter()
        if consent.daily_cap:  # sent in the window, or in flight under another live claim
            sent_lately.update(dict(await tx.fetch(
                "SELECT customer_id, count(*) FROM outbound_messages "
                f"WHERE customer_id {self.sql.ids} "
                "AND ((status = 'sent' AND sent_at > ?) OR "
                "(status = 'pending' AND claim_token IS NOT NULL AND claim_expires_at > ?)) "
                "GROUP BY customer_id",
                (_in({row.customer_id for row in rows}), now - CAP_WINDOW, now))))
        kept, deferred, suppressed = [], [], []
        for row in rows:
            quiet_until = (consent.quiet_hours.ends(now, timezone(row.timezone))
                           if consent.quiet_hours is not None and row.quiet_hours else None)
            if row.opted_out_at is not None:
                suppressed.append((row, OPTED_OUT))
            elif quiet_until is not None:
                deferred.append((row, quiet_until))
            elif consent.daily_cap and sent_lately[row.customer_id] >= consent.daily_cap:
                suppressed.append((row, OVER_CAP))
            else:
                sent_lately[row.customer_id] += 1
                kept.append(row)
        if deferred:
            await tx.executemany(
                "UPDATE outbound_messages SET next_attempt_at = ?, claim_token = NULL, "
                "claim_expires_at = NULL WHERE id = ?",
                [(until, row.id) for row, until in deferred])
        if suppressed:
            await tx.executemany(
                "UPDATE outbound_messages SET status = 'suppressed', last_error = ?, "
                "claim_token = NULL, claim_expires_at = NULL, updated_at = ? WHERE id = ?",
                [(reason, utc_iso(now), row.id) for row, reason in suppressed])
        deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # sending, suppressed
        for row, _ in deferred + suppressed:  # one taken over from a lapsed claim was sending
            deltas[row.campaign_id][0] -= not row.unclaimed
        for row, _ in suppressed:
            deltas[row.campaign_id][1] += 1
        await self._add_counts(tx, deltas, "sending", "suppressed")
        if suppressed:
            await self.campaigns.finish(tx, list({row.campaign_id for row, _ in suppressed}), now)
        return (kept, [(row.id, until) for row, until in deferred],
                Counter(row.channel for row, _ in suppressed))

    async def configure_pace(self, limits: Mapping[str, float], now: float) -> None:
        """Set each channel's configured limit (--rate-limit); no limit makes it unlimited."""
        async with self.db.transaction() as tx:  # the bucket fills from now
            await tx.executemany("UPDATE channel_pace SET rate = ?, ceiling = ?, rate_at = ?, "
                                 "tokens = 0, tokens_at = ? WHERE channel = ?",
                                 [(limits.get(c), limits.get(c), now, now, c) for c in CHANNELS])

    async def _pace_of(self, tx: Transaction, channel: str) -> tuple[Pace, int]:
        (rate, ceiling, rate_at, tokens, tokens_at, until, last), = await tx.fetch(
            "SELECT rate, ceiling, rate_at, tokens, tokens_at, throttled_until, last_campaign "
            "FROM channel_pace WHERE channel = ?", (channel,))
        return Pace(rate, ceiling, rate_at, tokens, tokens_at, until), last

    async def _set_pace(self, tx: Transaction, channel: str, pace: Pace, last: int) -> None:
        await tx.execute("UPDATE channel_pace SET rate = ?, ceiling = ?, rate_at = ?, tokens = ?, "
                         "tokens_at = ?, throttled_until = ?, last_campaign = ? WHERE channel = ?",
                         (pace.rate, pace.ceiling, pace.rate_at, pace.tokens, pace.tokens_at,
                          pace.throttled_until, last, channel))

    async def slow_down(self, channel: str, now: float, retry_after: float, going: float,
                        limit: float | None) -> Pace:
        """The provider throttled the channel: halve its rate, stop it until Retry-After."""
        async with self.db.transaction() as tx:
            pace, last = await self._pace_of(tx, channel)
            pace = pace.slowed(now, retry_after, going, limit)
            await self._set_pace(tx, channel, pace, last)
        return pace

    async def claim_paced(self, channel: str, now: float, token: int, lease_until: float,
                          most: int, limit: float | None) -> "PacedClaim":
        """Claim what the channel's pace (and each campaign's own limit) allows now, serving
        its campaigns round-robin. Says when to look again, and whether the channel's
        throttling was lifted (its pending messages then go back to the job queue)."""
        async with self.db.transaction() as tx:
            pace, last = await self._pace_of(tx, channel)
            if lifted := pace.lifted(now, limit):
                pace = Pace()
                await self._set_pace(tx, channel, pace, last)
            rate = pace.current_rate(now)
            campaigns = await tx.fetch(
                "SELECT id, rate_limit, pace_tokens, pace_at FROM campaigns "
                "WHERE status = 'sending' AND channel = ? AND (? OR rate_limit IS NOT NULL) "
                "ORDER BY id", (channel, rate is not None))
            if not campaigns:
                return PacedClaim(Claim([], {}, []), None, lifted)
            tokens = math.inf if rate is None else refill(pace.tokens, pace.tokens_at, rate, now)
            allowed = (0 if now < pace.throttled_until else most if rate is None
                       else min(most, whole_tokens(tokens)))
            chosen, waiting = await self._choose_round_robin(tx, campaigns, last, allowed, now)
            claim = await self._take(tx, await tx.fetch(
                f"{CLAIM_SELECT} WHERE m.id {self.sql.ids}",
                (_in(message_id for message_id, _ in chosen),)), token, lease_until, [], now)
            taken = Counter(campaign_id for _, campaign_id in chosen)
            await self._spend_campaign_tokens(tx, campaigns, taken, now)
            if rate is not None:
                pace = dataclasses.replace(pace, tokens=tokens - len(chosen), tokens_at=now)
            await self._set_pace(tx, channel, pace, chosen[-1][1] if chosen else last)
        return PacedClaim(claim, next_look(pace, rate, now, bool(chosen), waiting), lifted)

    async def _choose_round_robin(self, tx: Transaction, campaigns: list[tuple], last: int,
                                  allowed: int, now: float) -> tuple[list[tuple[int, int]], bool]:
        """Up to `allowed` due messages, one campaign after another starting after `last`;
        also whether any campaign has due messages waiting (for tokens)."""
        order = sorted(campaigns, key=lambda c: (c[0] <= last, c[0]))
        queues, waiting = [], False
        for campaign_id, rate_limit, tokens, at in order:
            share = allowed if rate_limit is None else min(
                allowed, whole_tokens(refill(tokens, at, rate_limit, now)))
            rows = await tx.fetch("SELECT id FROM outbound_messages WHERE campaign_id = ? "
                                  "AND status = 'pending' AND claim_token IS NULL "
                                  "AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                                  (campaign_id, now, max(1, share)))
            waiting = waiting or bool(rows)
            queues.append(deque((message_id, campaign_id) for message_id, in rows[:share]))
        chosen: list[tuple[int, int]] = []
        while len(chosen) < allowed and any(queues):
            for queue in queues:
                if queue and len(chosen) < allowed:
                    chosen.append(queue.popleft())
        return chosen, waiting

    async def _spend_campaign_tokens(self, tx: Transaction, campaigns: list[tuple],
                                     taken: Counter, now: float) -> None:
        await tx.executemany(
            "UPDATE campaigns SET pace_tokens = ?, pace_at = ? WHERE id = ?",
            [(refill(tokens, at, rate_limit, now) - taken[campaign_id], now, campaign_id)
             for campaign_id, rate_limit, tokens, at in campaigns if rate_limit is not None])

    async def cancel_leftovers(self, tx: Transaction, ids: list[int], now: float) -> None:
        """Messages of cancelled campaigns that came back pending are cancelled, never retried."""
        rows = await tx.fetch(
            "UPDATE outbound_messages SET status = 'cancelled', updated_at = ? "
            f"WHERE id {self.sql.ids} AND status = 'pending' "
            "AND campaign_id IN (SELECT id FROM campaigns WHERE status = 'cancelled') "
            "RETURNING campaign_id", (utc_iso(now), _in(ids)))
        cancelled = Counter(campaign_id for campaign_id, in rows)
        await self._add_counts(tx, {c: (n,) for c, n in cancelled.items()}, "cancelled")

    async def release_lapsed_claims(self, now: float, *, every: bool = False) -> list[int]:
        """Drop claims whose lease has run out (left by a worker that died), or `every` claim,
        keeping the counters exact. Returns the released messages a sending campaign waits for."""
        async with self.db.transaction() as tx:
            lapsed = await tx.fetch("DELETE FROM claims WHERE expires_at <= ? RETURNING token, "
                                    "message_ids", (math.inf if every else now,))
            released = []
            for token, message_ids in lapsed:
                released += await tx.fetch(
                    "UPDATE outbound_messages SET claim_token = NULL, claim_expires_at = NULL "
                    f"WHERE id {self.sql.ids} AND claim_token = ? "
                    "RETURNING id, campaign_id", (decode_job(message_ids.encode()), token))
            if not released:
                return []
            by_campaign = Counter(campaign_id for _, campaign_id in released)
            await self._add_counts(tx, {c: (-n,) for c, n in by_campaign.items()}, "sending")
            await self.cancel_leftovers(tx, [message_id for message_id, _ in released], now)
            await self.campaigns.finish(tx, list(by_campaign), now)
            sending = {campaign_id for campaign_id, in await tx.fetch(
                f"SELECT id FROM campaigns WHERE status = 'sending' AND id {self.sql.ids}",
                (_in(by_campaign),))}
        return sorted(message_id for message_id, campaign_id in released if campaign_id in sending)

    async def pending_jobs(self, now: float, size: int, campaign_id: int | None = None
                           ) -> AsyncGenerator[tuple[float, Sequence[int]], None]:
        """Pending messages of sending campaigns as (due time, ids) chunks of at most `size`:
        those due now first, in id order; then those waiting for a retry time or for the claim
        of a dead worker to lapse, as they fall due."""
        scope = UNPACED_SENDING + (" AND c.id = ?" if campaign_id is not None else "")
        params = (campaign_id,) if campaign_id is not None else ()
        base = ("FROM campaigns c JOIN outbound_messages m ON m.campaign_id = c.id "
                f"WHERE {scope} AND ")
        due_now = (f"SELECT m.id, 0 {base} m.status = 'pending' AND m.claim_token IS NULL "
                   "AND m.next_attempt_at <= ? ORDER BY m.id")
        later = (f"SELECT m.id, CASE WHEN m.claim_token IS NOT NULL THEN m.claim_expires_at "
                 f"ELSE m.next_attempt_at END AS due {base} m.status = 'pending' "
                 "AND (m.next_attempt_at > ? OR m.claim_token IS NOT NULL) ORDER BY due, m.id")
        for sql in (due_now, later):
            async for rows in self.db.stream(sql, (*params, now), size):
                for chunk in _split_by_due(rows, DUE_SPREAD):
                    yield chunk[-1][1], compact_ids([message_id for message_id, _ in chunk])

    async def has_overdue_messages(self, due_before: float) -> bool:
        """Whether a campaign sending through the job queue has a pending message that was due
        before `due_before` (a paced one's wait for the pacer, not for a job)."""
        return bool(await self.db.fetch(
            "SELECT 1 FROM campaigns c JOIN outbound_messages m ON m.campaign_id = c.id "
            f"AND m.status = 'pending' WHERE {UNPACED_SENDING} AND m.claim_token IS NULL "
            "AND m.next_attempt_at < ? LIMIT 1", (due_before,)))

    async def pending_count(self) -> int:
        """Messages not settled yet, from the counters of the campaigns that have any."""
        (count,), = await self.db.fetch(
            f"SELECT coalesce(sum(total_count - ({SETTLED_COUNTS})), 0) FROM campaigns "
            "WHERE status IN ('scheduled', 'sending', 'paused')")
        return int(count)  # PostgreSQL's sum of bigints is a numeric

    async def list_messages(self, campaign: Mapping[str, Any], status: str | None,
                            request: PageRequest) -> Page:
        """A campaign's messages in creation order; the total comes from its counters."""
        where = ["campaign_id = ?"] + ([MESSAGE_STATUS_SQL[status]] if status is not None else [])
        total = message_stats(campaign)["total" if status is None else status]
        return await self._page("outbound_messages", MESSAGE_SELECT, where, [campaign["id"]],
                                "ASC", request, total)

    async def error_counts(self, campaign_id: int) -> list[ErrorCount]:
        """What went wrong: failed messages, and pending ones that carry an error, by error."""
        rows = await self.db.fetch(
            "SELECT last_error, status, count(*) AS n FROM outbound_messages "
            "WHERE campaign_id = ? AND last_error IS NOT NULL AND status IN ('failed', 'pending') "
            "GROUP BY last_error, status ORDER BY n DESC, last_error, status", (campaign_id,))
        return [ErrorCount(*row) for row in rows]


# How a receipt meets one already waiting for the same message: a delivered one replaces it.
DELIVERED_WINS = ("DO UPDATE SET delivery_status = excluded.delivery_status, "
                  "delivered_at = excluded.delivered_at, error = excluded.error "
                  "WHERE excluded.delivery_status = 'delivered'")


class OutcomeStore(Rows):
    """Outcomes: what attempts and delivery receipts did to messages, recorded with their
    campaigns' counters in one transaction."""

    def __init__(self, db: Database, campaigns: CampaignStore, claims: ClaimStore,
                 outbox: OutboxStore):
        super().__init__(db)
        self.campaigns = campaigns
        self.claims = claims
        self.outbox = outbox

    async def record(self, attempts: Sequence[Attempt], now: float,
                     finished: Sequence[int]) -> list[tuple[int, str]]:
        """Store a group of outcomes (of one claim or several) and the counters in one
        transaction, and drop the claims `finished` (tokens) whose last outcome it holds;
        returns (campaign id, status) of the campaigns it finished. An outcome whose claim
        was lost (it lapsed and someone else claimed the message, or the customer was erased
        meanwhile) changes nothing and emits no event; its campaign's counters are recounted."""
        stamp = utc_iso(now)
        sent, others, releases = [], [], []
        # per campaign: sending, sent, failed, and attempts (those where the provider was called)
        deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for attempt in attempts:
            delta = deltas[attempt.campaign_id]
            delta[0] -= 1  # no longer in flight
            delta[3] += attempt.started
            if attempt.result is Result.SENT:
                delta[1] += 1
                sent.append((attempt.message_id, attempt.text, attempt.provider_id, attempt.token))
            elif attempt.result is Result.RELEASED:
                releases.append((attempt.message_id, attempt.token))
            else:
                delta[2] += attempt.result is Result.FAILED
                status = (MessageStatus.FAILED if attempt.result is Result.FAILED
                          else MessageStatus.PENDING)
                others.append((status, attempt.text, attempt.error, attempt.retry_count,
                               attempt.next_attempt_at, stamp, attempt.message_id, attempt.token))
        async with self.db.transaction() as tx:
            changed = 0
            if sent:  # the common case, in one statement: SQLite reads the batch from JSON
                changed += await tx.execute(
                    "UPDATE outbound_messages AS m SET status = 'sent', "
                    "rendered_content = j.value ->> 1, provider_message_id = j.value ->> 2, "
                    "sent_at = ?, claim_token = NULL, claim_expires_at = NULL, updated_at = ? "
                    f"FROM {self.sql.sent_rows} AND m.claim_token = CAST(j.value ->> 3 AS BIGINT)",
                    (now, stamp, json.dumps(sent)))
            if others:
                changed += await tx.executemany(
                    "UPDATE outbound_messages SET status = ?, rendered_content = ?, "
                    "last_error = ?, retry_count = ?, next_attempt_at = ?, claim_token = NULL, "
                    "claim_expires_at = NULL, updated_at = ? WHERE id = ? AND claim_token = ?",
                    others)
            if releases:
                changed += await tx.executemany(
                    "UPDATE outbound_messages SET claim_token = NULL, claim_expires_at = NULL "
                    "WHERE id = ? AND claim_token = ?", releases)
            if finished:
                await tx.execute(f"DELETE FROM claims WHERE token {self.sql.ids}",
                                 (_in(finished),))
            failed = ([a for a in attempts if a.result is Result.FAILED]
                      if "message" in self.outbox.events else [])
            if failed and changed < len(attempts):  # only what this group changed is news
                recorded = {message_id for message_id, in await tx.fetch(
                    f"SELECT id FROM outbound_messages WHERE id {self.sql.ids} "
                    "AND status = 'failed' AND updated_at = ?",
                    (_in(a.message_id for a in failed), stamp))}
                failed = [a for a in failed if a.message_id in recorded]
            await self.outbox.emit(tx, [("message.failed", {
                "message_id": a.message_id, "campaign_id": a.campaign_id, "error": a.error,
                "retry_count": a.retry_count}) for a in failed], now)
            if changed == len(attempts):
                await self._add_counts(tx, deltas, "sending", "sent", "failed", "attempts")
            else:
                log.warning("%d of %d outcomes had lost their claim; recounting",
                            len(attempts) - changed, len(attempts))
                await self._recount(tx, list(deltas))  # the messages hold no attempts: add ours
                await self._add_counts(tx, {c: d[3:] for c, d in deltas.items()}, "attempts")
            if opted_out := [a.phone for a in attempts if a.opted_out]:
                await self._opt_out_phones(tx, opted_out, now)
            if sent:
                await self._apply_early_receipts(
                    tx, [message_id for message_id, *_ in sent],
                    [provider_id for _, _, provider_id, _ in sent if provider_id], now)
            if others or releases:
                await self.claims.cancel_leftovers(tx, [a.message_id for a in attempts
                                                  if a.result is not Result.SENT], now)
            await self._sample_progress(tx, list(deltas), now)
            return await self.campaigns.finish(tx, list(deltas), now)

    async def _opt_out_phones(self, tx: Transaction, phones: list[str], now: float) -> None:
        """Customers a gateway says opted out (Twilio 21610, Africa's Talking 406) are here too."""
        await tx.execute("UPDATE customers SET opted_out_at = coalesce(opted_out_at, ?) "
                         f"WHERE phone {self.sql.texts}", (utc_iso(now), _in(phones)))

    async def _recount(self, tx: Transaction, campaign_ids: list[int]) -> None:
        """Rebuild campaigns' counters from their messages (rare paths only: O(messages))."""
        counts = ", ".join(
            f"{status}_count = (SELECT count(*) FROM outbound_messages "
            f"WHERE campaign_id = campaigns.id AND {MESSAGE_STATUS_SQL[status]})"
            for status in STAT_NAMES[2:])
        await tx.execute(f"UPDATE campaigns SET {counts} "
                         f"WHERE id {self.sql.ids}", (_in(campaign_ids),))

    async def _sample_progress(self, tx: Transaction, campaign_ids: list[int], now: float) -> None:
        """Once a second per campaign, note the settled count and the rate since the last note."""
        if await tx.execute(
                f"UPDATE campaigns SET rate = ({SETTLED_COUNTS} - rate_settled) / (? - rate_at), "
                f"rate_settled = {SETTLED_COUNTS}, rate_at = ? WHERE id {self.sql.ids} "
                "AND rate_at <= ?", (now, now, _in(campaign_ids), now - RATE_WINDOW)):
            await self.campaigns.note_progress(tx, campaign_ids, now)

    async def apply_receipts(self, receipts: Sequence[Receipt], now: float) -> dict[str, Any]:
        """Note what the provider says reached the phone. A receipt never moves a message back
        (undelivered, then delivered, is fine; not the other way), applying one twice changes
        nothing, and one for a message whose outcome is not recorded yet waits for it."""
        ids = _in({r.message_id for r in receipts if r.message_id is not None})
        async with self.db.transaction() as tx:
            known = {row.id: row for row in map(ReceiptTarget._make, await tx.fetch(
                "SELECT id, campaign_id, status, delivery_status FROM outbound_messages "
                f"WHERE id {self.sql.ids}", (ids,)))}
            furthest: dict[int, Receipt] = {}
            for receipt in receipts:
                kept = furthest.get(receipt.message_id)
                if receipt.message_id in known and (
                        kept is None
                        or DELIVERY_RANK[receipt.status] > DELIVERY_RANK[kept.status]):
                    furthest[receipt.message_id] = receipt
            sent = [r for i, r in furthest.items() if known[i].status == MessageStatus.SENT]
            waiting = [r for i, r in furthest.items() if known[i].status == MessageStatus.PENDING]
            await self._deliver(tx, [(r, known[r.message_id].campaign_id,
                                      known[r.message_id].delivery_status) for r in sent], now)
            await tx.executemany(
                "INSERT INTO early_receipts (message_id, delivery_status, delivered_at, error, "
                f"received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) {DELIVERED_WINS}",
                [(r.message_id, r.status, r.at, r.error, now) for r in waiting])
        unknown = [r.reference for r in receipts if r.message_id not in known]
        return {"accepted": len(receipts) - len(unknown), "unknown": unknown[:100]}

    async def keep_early(self, receipts: Sequence[Receipt], now: float) -> None:
        """Receipts naming a gateway's id (`reference`) no message has yet: they wait for the
        record of its outcome (the gateway answered, and its report overtook our commit)."""
        async with self.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO early_gateway_receipts (provider_message_id, delivery_status, "
                "delivered_at, error, received_at) VALUES (?, ?, ?, ?, ?) "
                f"ON CONFLICT (provider_message_id) {DELIVERED_WINS}",
                [(r.reference, r.status, r.at, r.error, now) for r in receipts])
            # The record may have come between the caller's look and this transaction (writes
            # are serialized: it came before, or it comes after and finds these).
            ids = _in(r.reference for r in receipts)
            if sent := await tx.fetch(
                    "SELECT id, provider_message_id FROM outbound_messages WHERE "
                    f"status = 'sent' AND provider_message_id {self.sql.texts}", (ids,)):
                await self._apply_early_receipts(
                    tx, [message_id for message_id, _ in sent],
                    [provider_id for _, provider_id in sent], now)

    async def references_of(self, provider_ids: Iterable[str]) -> dict[str, str]:
        """{gateway's id: our reference (message id)} for the messages gateways know by these."""
        rows = await self.db.fetch(
            "SELECT provider_message_id, min(id) FROM outbound_messages WHERE provider_message_id "
            f"{self.sql.texts} GROUP BY provider_message_id", (_in(provider_ids),))
        return {provider_id: str(message_id) for provider_id, message_id in rows}

    async def _deliver(self, tx: Transaction,
                       receipts: list[tuple[Receipt, int, str | None]], now: float) -> None:
        """Apply receipts to sent messages: (receipt, campaign id, delivery status before)."""
        moves = [(r, campaign_id, before) for r, campaign_id, before in receipts
                 if DELIVERY_RANK[r.status] > DELIVERY_RANK[before]]
        await tx.executemany(
            "UPDATE outbound_messages SET delivery_status = ?, delivered_at = ?, "
            "last_error = CASE WHEN ? = 'undelivered' THEN ? ELSE last_error END, updated_at = ? "
            "WHERE id = ?", [(r.status, r.at, r.status, r.error or "undelivered", utc_iso(now),
                              r.message_id) for r, _, _ in moves])
        deltas: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # delivered, undelivered
        for r, campaign_id, before in moves:
            deltas[campaign_id][0 if r.status == "delivered" else 1] += 1
            if before == "undelivered":
                deltas[campaign_id][1] -= 1
        await self._add_counts(tx, deltas, "delivered", "undelivered")
        if "message" in self.outbox.events:
            await self.outbox.emit(tx, [(f"message.{r.status}", {
                "message_id": r.message_id, "campaign_id": campaign_id, "delivered_at": r.at,
                "error": r.error}) for r, campaign_id, _ in moves], now)

    async def _apply_early_receipts(self, tx: Transaction, sent_ids: list[int],
                                    provider_ids: list[str], now: float) -> None:
        """Receipts that came before the outcome they report, applied now it is recorded (those
        naming the gateway's id found by the ids the record gave the messages). Both tables
        are nearly always empty; the one by the gateway's id is looked up by these ids only
        when it is not (it may hold reports of messages other applications sent)."""
        ours, theirs = (await tx.fetch(
            "SELECT (SELECT 1 FROM early_receipts LIMIT 1), "
            "(SELECT 1 FROM early_gateway_receipts LIMIT 1)"))[0]
        if theirs and provider_ids and await tx.fetch(
                "SELECT 1 FROM early_gateway_receipts "
                f"WHERE provider_message_id {self.sql.texts} LIMIT 1", (_in(provider_ids),)):
            await tx.execute(
                "INSERT INTO early_receipts (message_id, delivery_status, delivered_at, error, "
                "received_at) SELECT m.id, g.delivery_status, g.delivered_at, g.error, "
                "g.received_at FROM early_gateway_receipts g JOIN outbound_messages m "
                f"ON m.provider_message_id = g.provider_message_id WHERE m.id {self.sql.ids} "
                f"ON CONFLICT (message_id) {DELIVERED_WINS}", (_in(sent_ids),))
            await tx.execute(
                "DELETE FROM early_gateway_receipts WHERE provider_message_id IN (SELECT "
                f"provider_message_id FROM outbound_messages WHERE id {self.sql.ids})",
                (_in(sent_ids),))
        elif not ours:
            return
        parked = await tx.fetch(
            "DELETE FROM early_receipts WHERE message_id IN (SELECT id FROM outbound_messages "
            f"WHERE id {self.sql.ids} AND status = 'sent') "
            "RETURNING message_id, delivery_status, delivered_at, error", (_in(sent_ids),))
        if parked:
            campaigns = dict(await tx.fetch(
                "SELECT id, campaign_id FROM outbound_messages "
                f"WHERE id {self.sql.ids}", (_in(message_id for message_id, *_ in parked),)))
            await self._deliver(tx, [(Receipt(str(message_id), status, at, error),
                                      campaigns[message_id], None)
                                     for message_id, status, at, error in parked], now)

    async def gauges(self) -> tuple[dict[str, int], int]:
        """Campaigns per status and the webhook events not delivered yet, both kept by
        triggers (no count over a table): what /metrics reads, in one query."""
        counts = dict(await self.db.fetch_point(
            "SELECT status, count FROM campaign_counts "
            "UNION ALL SELECT '', pending FROM webhook_outbox"))
        return counts, counts.pop("")


class AnswerStore(Rows):
    """Idempotency keys: the answers kept for a replay."""

    async def recall(self, key: str, fingerprint: str) -> StoredAnswer | None:
        """The answer kept for `key`; Conflict if the key came with another request."""
        rows = await self.db.fetch("SELECT fingerprint, status, response, location "
                                    "FROM idempotency_keys WHERE key = ?", (key,))
        if not rows:
            return None
        (stored_fingerprint, status, body, location), = rows
        if stored_fingerprint != fingerprint:
            raise Conflict("IDEMPOTENCY_KEY_REUSED",
                           "This Idempotency-Key was used with a different request; use a new key")
        return StoredAnswer(status, body, location)

    async def keep(self, key: str, fingerprint: str, answer: StoredAnswer, now: float) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO idempotency_keys (key, fingerprint, status, response, location, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (key, fingerprint, answer.status, answer.body, answer.location, utc_iso(now)))


class Store:
    """The database, by what it stores: customers, campaigns, messages and their claims,
    outcomes, the webhook outbox and idempotency keys, each a part over one adapter."""

    def __init__(self, db: Database):
        self.db = db  # the database adapter: SQL goes through it (tests read rows with it too)
        self.outbox = OutboxStore(db)
        self.campaigns = CampaignStore(db, self.outbox)
        self.customers = CustomerStore(db, self.campaigns)
        self.claims = ClaimStore(db, self.campaigns)
        self.outcomes = OutcomeStore(db, self.campaigns, self.claims, self.outbox)
        self.answers = AnswerStore(db)

    @classmethod
    async def open(cls, path: str, busy_timeout_ms: int = 5000) -> "Store":
        """Open a SQLite file or a postgresql:// URL, creating and migrating it when needed."""
        db = await (PostgresDatabase.open(path) if is_postgres(path)
                    else SqliteDatabase.open(path, busy_timeout_ms))
        try:
            store = cls(db)
            await store._migrate()
            return store
        except BaseException as exc:
            await db.close()
            if isinstance(exc, sqlite3.Error):
                raise ConfigError(f"cannot use database {path!r}: {exc}") from None
            raise

    async def close(self) -> None:
        await self.db.close()

    async def _migrate(self) -> None:
        version = await self.db.schema_version()
        if version > SCHEMA_VERSION:
            raise ConfigError(f"database schema version {version} is newer than this release "
                              f"({SCHEMA_VERSION})")
        if isinstance(self.db, PostgresDatabase):
            if version == 0:
                await self.db.create_schema()
            for number in range(max(version, PG_FIRST_VERSION), SCHEMA_VERSION):
                await self.db.migrate(number, PG_MIGRATIONS[number])
            return
        for number in range(version, SCHEMA_VERSION):
            await self.db.migrate(number, MIGRATIONS[number])

    async def seed_if_empty(self, script: str) -> bool:
        """Load sample data into a database without customers; True when it did."""
        if await self.db.fetch("SELECT 1 FROM customers LIMIT 1"):
            return False
        try:
            await self.db.run_script(script)
        except sqlite3.Error as exc:
            raise ConfigError(f"cannot load the sample data: {exc}") from None
        return True

    async def ping(self) -> bool:
        """True when the database answers a query and its last write succeeded."""
        try:
            return await self.db.fetch("SELECT 1") == [(1,)] and self.db.write_failure is None
        except (sqlite3.Error, DatabaseUnavailable):
            return False


def edit_actions(status: CampaignStatus, changes: Mapping[str, Any]) -> list[Action]:
    """The lifecycle actions a PATCH with these changes amounts to."""
    actions = []
    if changes.keys() & {"name", "base_template", "rate_limit", "quiet_hours",
                         "whatsapp_template"}:
        actions.append(Action.EDIT_CONTENT)
    if "channel" in changes:
        actions.append(Action.EDIT)
    if changes.get("scheduled_at") is not None:
        actions.append(Action.SCHEDULE)
    elif "scheduled_at" in changes:
        actions.append(Action.UNSCHEDULE if status == CampaignStatus.SCHEDULED else Action.EDIT)
    return actions


def is_due(campaign: Mapping[str, Any], now: float) -> bool:
    """Whether a draft or scheduled campaign with recipients should be sending by now."""
    if campaign["status"] == CampaignStatus.DRAFT:
        return True
    return (campaign["status"] == CampaignStatus.SCHEDULED
            and campaign["scheduled_at"] is not None and campaign["scheduled_at"] <= utc_iso(now))


def empty_audience(audience: Audience) -> str:
    """Why a send found nobody (a typo in a segment must not pass silently)."""
    if audience.segment:
        named = " and ".join(f"{name} {value!r}" for name, value in audience.segment)
        return f"the segment {named} matches no customer; nothing was queued"
    return "there are no customers yet; nothing was queued"


def message_stats(campaign: Mapping[str, Any]) -> dict[str, int]:
    """A campaign's messages by status, from its counters: one row, any campaign size."""
    counted = {status: campaign[f"{status}_count"] for status in STAT_NAMES[2:7]}
    return {"total": campaign["total_count"],
            "pending": campaign["total_count"] - sum(counted.values()), **counted,
            "delivered": campaign["delivered_count"], "undelivered": campaign["undelivered_count"]}


STALE_RATE = 5.0  # seconds: a progress sample older than this is averaged up to now


def campaign_progress(campaign: Mapping[str, Any], now: float) -> dict[str, Any]:
    """How far a campaign is, how fast it goes now, and when it should be done. The rate is the
    one sampled at the last record (at most once a second); if nothing was recorded for a
    while, the rate since that sample."""
    stats = message_stats(campaign)
    settled = stats["total"] - stats["pending"] - stats["sending"]
    percent = round(100 * settled / stats["total"], 1) if stats["total"] else 0.0
    rate, eta = 0.0, None
    if campaign["status"] == CampaignStatus.SENDING and campaign["rate_at"] is not None:
        elapsed = now - campaign["rate_at"]
        rate = campaign["rate"] if elapsed < STALE_RATE else (
            (settled - campaign["rate_settled"]) / elapsed)
        eta = math.ceil((stats["total"] - settled) / rate) if rate > 0 else None
    elif campaign["finished_at"] is not None:
        eta = 0
    return {"percent": percent, "rate_per_second": round(rate, 1), "eta_seconds": eta}


def _split_by_due(rows: list[tuple[int, float]],
                  spread: float) -> Iterable[list[tuple[int, float]]]:
    """Cut (id, due) rows sorted by due into runs whose due times lie within `spread` seconds."""
    start = 0
    for index in range(1, len(rows) + 1):
        if index == len(rows) or rows[index][1] - rows[start][1] > spread:
            yield rows[start:index]
            start = index


def compact_ids(ids: list[int]) -> Sequence[int]:
    """Distinct ids that fill a span as a range (a few bytes instead of 36 per id)."""
    if ids and max(ids) - min(ids) == len(ids) - 1:
        return range(min(ids), max(ids) + 1)
    return ids


# ---------------------------------------------------------------------------
# QUEUE
# A job is a list of outbound message ids. Three backends share one small
# interface: the in-process queue (default), RabbitMQ and PostgreSQL (--queue-url).
# A job is acknowledged only after the database has the outcome of its
# messages; losing a job is harmless (the database keeps them pending and
# recovery publishes them again), and delivering one twice is harmless (a
# message is claimed before it is sent).
# ---------------------------------------------------------------------------


@dataclass
class Backoff:
    """How long a background loop waits after a fault: 1 s, doubling to 30 s; success resets it."""

    delay: float = 0.0

    def failed(self) -> float:
        self.delay = min(30.0, max(1.0, self.delay * 2))
        return self.delay

    def succeeded(self) -> None:
        self.delay = 0.0


def message_budget(config: Config) -> int:
    """Messages the dispatcher works on at once (claimed or about to be): every attempt slot
    busy, and a whole job ready behind them, so a batch's last wave leaves no slot idle."""
    return config.concurrency + config.job_size


def prefetch(config: Config) -> int:
    """Jobs a broker may hand over before any is acknowledged: a budget's worth of whole jobs,
    and room for small ones (retries), which must not hold the big ones back."""
    return 2 * math.ceil(message_budget(config) / config.job_size) + 6


@dataclass(frozen=True, slots=True)
class Delivery:
    """A job handed to the dispatcher; `ack` once its outcomes are committed."""

    ids: Sequence[int]
    ack: Callable[[], Awaitable[None]]


class JobQueue:
    """Where jobs wait for the dispatcher. Subclasses are the backends."""

    reconnects = 0  # how many times a lost broker came back: its jobs may need publishing again

    async def open(self) -> None:
        """Connect; ConfigError when that is impossible."""

    async def close(self) -> None:
        """Disconnect; unacknowledged jobs stay with the broker (or die with the process)."""

    async def publish(self, jobs: Sequence[Sequence[int]], delay: float = 0.0) -> None:
        """Hand jobs over, delivered after `delay` seconds; QueueUnavailable if it cannot."""
        raise NotImplementedError

    async def get(self) -> Delivery:
        """The next job, waiting for one."""
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    async def depth(self) -> int:
        """Jobs waiting: ready or delayed."""
        raise NotImplementedError

    def ready(self) -> int:
        """Jobs that a get() would return without waiting."""
        raise NotImplementedError


async def _nothing_to_ack() -> None:
    """The in-process queue forgets a job once handed out; the database remembers its messages."""


class MemoryQueue(JobQueue):
    """An asyncio.Queue of ready jobs, and a heap of delayed ones released by one timer."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._ready: asyncio.Queue[Sequence[int]] = asyncio.Queue()
        self._delayed: list[tuple[float, int, Sequence[int]]] = []  # (due, tie-breaker, job)
        self._sequence = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = math.inf

    async def close(self) -> None:
        if self._timer:
            self._timer.cancel()

    async def publish(self, jobs: Sequence[Sequence[int]], delay: float = 0.0) -> None:
        if delay <= 0:
            for job in jobs:
                self._ready.put_nowait(job)
            return
        due = self._clock.now() + delay
        for job in jobs:
            heapq.heappush(self._delayed, (due, next(self._sequence), job))
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._delayed and self._delayed[0][0] < self._timer_due:
            if self._timer:
                self._timer.cancel()
            self._timer_due = self._delayed[0][0]
            self._timer = self._clock.call_at(self._timer_due, self._release_due)

    def _release_due(self) -> None:
        self._timer, self._timer_due = None, math.inf
        now = self._clock.now()
        while self._delayed and self._delayed[0][0] <= now:
            self._ready.put_nowait(heapq.heappop(self._delayed)[2])
        self._arm_timer()

    async def get(self) -> Delivery:
        return Delivery(await self._ready.get(), _nothing_to_ack)

    def healthy(self) -> bool:
        return True

    async def depth(self) -> int:
        return self._ready.qsize() + len(self._delayed)

    def ready(self) -> int:
        return self._ready.qsize()


PUBLISH_TIMEOUT = 10.0  # seconds to wait for the broker to confirm a publish
RECONNECT_DELAY = 1.0  # seconds before the first attempt to reach a lost broker (then Backoff's)


class RabbitQueue(JobQueue):
    """A durable RabbitMQ queue with publisher confirms and manual acknowledgement. Delayed
    jobs go to delay queues whose messages expire (per-message TTL) into the work queue.
    RabbitMQ only expires the message at the head of a queue, so delays are bucketed by power
    of two: a job may come back up to one bucket's width late (never early), and the
    dispatcher checks each message's retry time anyway."""

    def __init__(self, url: str, name: str, prefetch: int):
        self._url = url
        self._name = name
        self._prefetch = prefetch
        self._deliveries: asyncio.Queue[Delivery] = asyncio.Queue()
        self._delay_queues: set[str] = set()
        self._connection: Any = None
        self._channel: Any = None
        self._backoff: asyncio.Task | None = None
        self._closing = False

    @property
    def _where(self) -> str:
        return re.sub(r"//[^@/]*@", "//", self._url)  # the URL without its password

    async def open(self) -> None:
        import aio_pika  # only a RabbitMQ deployment needs it

        try:
            self._connection = await aio_pika.connect_robust(
                self._url, reconnect_interval=RECONNECT_DELAY, timeout=10)
        except (aio_pika.exceptions.AMQPError, OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"cannot connect to RabbitMQ at {self._where}: "
                              f"{exc or type(exc).__name__}") from None
        self._connection.close_callbacks.add(self._lost)
        self._connection.reconnect_callbacks.add(self._reconnected)
        self._channel = await self._connection.channel(publisher_confirms=True)
        queue = await self._channel.declare_queue(self._name, durable=True)
        if self._prefetch:  # 0: this process only publishes (--role api): it takes no job
            await self._channel.set_qos(prefetch_count=self._prefetch)
            await queue.consume(self._on_message)
        log.info("queue: RabbitMQ at %s, queue %r", self._where, self._name)

    async def close(self) -> None:
        self._closing = True
        if self._connection is not None:
            await self._connection.close()
        if self._backoff is not None:
            self._backoff.cancel()

    def _lost(self, *_: Any) -> None:
        if not self._closing and (self._backoff is None or self._backoff.done()):
            log.warning("queue: lost the RabbitMQ connection; reconnecting")
            self._backoff = asyncio.create_task(self._back_off(), name="rabbitmq-backoff")

    async def _back_off(self) -> None:
        """Double the robust connection's wait between attempts while the broker stays away."""
        backoff = Backoff()
        while not self._connection.is_closed and not self._connection.connected.is_set():
            self._connection.reconnect_interval = backoff.failed()
            await asyncio.sleep(self._connection.reconnect_interval)
        self._connection.reconnect_interval = RECONNECT_DELAY

    async def _reconnected(self, *_: Any) -> None:
        log.warning("queue: RabbitMQ connection restored")
        self.reconnects += 1

    async def _on_message(self, message: Any) -> None:
        try:
            ids = decode_job(message.body)
        except ValueError as exc:
            log.error("queue: dropping a malformed job: %s", exc)
            await message.reject(requeue=False)
            return
        self._deliveries.put_nowait(Delivery(ids, message.ack))

    async def _delay_queue(self, delay: float) -> str:
        """The delay queue for `delay` seconds, declared on first use."""
        name = delay_queue_name(self._name, delay)
        if name not in self._delay_queues:
            await self._channel.declare_queue(name, durable=True, arguments={
                "x-dead-letter-exchange": "", "x-dead-letter-routing-key": self._name})
            self._delay_queues.add(name)
        return name

    async def publish(self, jobs: Sequence[Sequence[int]], delay: float = 0.0) -> None:
        import aio_pika

        try:
            routing_key = self._name if delay <= 0 else await self._delay_queue(delay)
            expiration = max(0.001, delay) if delay > 0 else None
            persistent = aio_pika.DeliveryMode.PERSISTENT
            await asyncio.gather(*(self._channel.default_exchange.publish(
                aio_pika.Message(encode_job(job), delivery_mode=persistent, expiration=expiration),
                routing_key=routing_key, timeout=PUBLISH_TIMEOUT) for job in jobs))
        except (aio_pika.exceptions.AMQPError, ConnectionError, OSError, RuntimeError,
                TimeoutError) as exc:
            raise QueueUnavailable("RabbitMQ did not take the jobs: "
                                   f"{exc or type(exc).__name__}") from None

    async def get(self) -> Delivery:
        return await self._deliveries.get()

    def healthy(self) -> bool:
        return (self._connection is not None and self._connection.connected.is_set()
                and not self._channel.is_closed)

    @property
    def reconnect_delay(self) -> float:
        """Seconds between attempts to reach a lost broker, as the backoff has set them now."""
        return self._connection.reconnect_interval if self._connection else 0.0

    async def depth(self) -> int:
        channel = await self._channel.get_underlay_channel()
        declared = await channel.queue_declare(queue=self._name, passive=True, timeout=5)
        return declared.message_count + self._deliveries.qsize()

    def ready(self) -> int:
        return self._deliveries.qsize()


# 2**22 ms (70 minutes) holds the longest delay: a claim of --claim-timeout 3600
MAX_DELAY_BUCKET = 22


def delay_queue_name(name: str, delay: float) -> str:
    """The delay queue for `delay` seconds: one per power of two of milliseconds."""
    bucket = min(MAX_DELAY_BUCKET, math.ceil(math.log2(max(1.0, delay * 1000))))
    return f"{name}.delay.{2 ** bucket}ms"


async def delete_rabbit_queues(url: str, name: str) -> None:
    """Delete a work queue and its delay queues (the benchmark's and the tests' clean-up)."""
    import aio_pika

    async with await aio_pika.connect(url) as connection:
        channel = await connection.channel()
        for queue in (name, *(f"{name}.delay.{2 ** bucket}ms"
                              for bucket in range(MAX_DELAY_BUCKET + 1))):
            await channel.queue_delete(queue)


PG_QUEUE_POLL = 1.0  # seconds at most between looks for due jobs, with no notification


class PostgresQueue(JobQueue):
    """Jobs as rows of a PostgreSQL table (usually in the service's own database), taken
    with SKIP LOCKED, announced with LISTEN/NOTIFY; see PG_QUEUE_SCHEMA."""

    def __init__(self, url: str, name: str, lease: float, consumes: bool):
        self._url = url
        self._name = name
        self._lease = lease
        self._consumes = consumes  # False: this process only publishes (--role api)
        self._pool: Any = None
        self._listener: Any = None  # a connection that LISTENs; without one, the poll finds jobs
        self._wake = asyncio.Event()
        self._taken: set[int] = set()  # jobs handed out and not acknowledged: handed back at close
        self._failed_at: float | None = None  # time.monotonic() of the last use, if it failed
        self._closing = False

    async def open(self) -> None:
        try:
            import asyncpg
        except ImportError:
            raise ConfigError("--queue-url postgresql://... needs asyncpg: "
                              "pip install asyncpg") from None
        try:
            self._pool = await asyncpg.create_pool(self._url, min_size=1, max_size=2,
                                                   reset=_keep_session,
                                                   command_timeout=PG_COMMAND_TIMEOUT)
            connection = await asyncpg.connect(self._url, command_timeout=PG_COMMAND_TIMEOUT)
            try:
                await PostgresJobs.make(connection)
            finally:
                await connection.close()
        except pg_faults(refusals=True) as exc:
            await self.close()
            raise ConfigError(f"cannot use the queue in {redacted(self._url)}: "
                              f"{exc or type(exc).__name__}") from None
        if self._consumes:
            await self._listen()
        log.info("queue: PostgreSQL at %s, queue %r", redacted(self._url), self._name)

    async def _listen(self) -> None:
        """LISTEN on a connection of its own, if one can be had: a notification only saves
        the wait for the next poll, so its absence stops nothing (it is tried again)."""
        import asyncpg

        listener = None
        try:
            listener = await asyncpg.connect(self._url, command_timeout=PG_COMMAND_TIMEOUT)
            await listener.add_listener(PG_QUEUE_CHANNEL, self._notified)
        except pg_faults(refusals=True) as exc:
            if listener is not None:
                listener.terminate()
            log.warning("queue: cannot LISTEN (%s); looking for jobs every %g s",
                        exc or type(exc).__name__, PG_QUEUE_POLL)
            return
        self._listener = listener

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == self._name:
            self._wake.set()

    async def close(self) -> None:
        self._closing = True
        if self._listener is not None:
            self._listener.terminate()
        # what this process took and never finished is due again now, not a lease later
        if self._taken:
            with contextlib.suppress(*pg_faults(refusals=True)):
                async with self._pool.acquire() as connection:
                    await PostgresJobs.due_now(connection, list(self._taken))
        if self._pool is not None:
            await self._pool.close()

    @contextlib.asynccontextmanager
    async def _acquire(self, task: str) -> AsyncIterator[Any]:
        """A connection of the pool; QueueUnavailable when PostgreSQL fails to do `task`."""
        try:
            async with self._pool.acquire() as connection:
                yield connection
        except pg_faults(refusals=True) as exc:
            self._failed_at = time.monotonic()
            raise QueueUnavailable(f"PostgreSQL did not {task}: "
                                   f"{exc or type(exc).__name__}") from None
        self._failed_at = None

    async def publish(self, jobs: Sequence[Sequence[int]], delay: float = 0.0) -> None:
        if jobs:
            async with self._acquire("take the jobs") as connection:
                await PostgresJobs.publish(connection, self._name, max(0.0, delay),
                                           [encode_job(job).decode() for job in jobs])

    async def get(self) -> Delivery:
        backoff = Backoff()
        while not self._closing:
            self._wake.clear()  # before the look: a notification during it is not lost
            if self._listener is None or self._listener.is_closed():
                await self._listen()
            try:
                job, due_in = await self._take()
            except pg_faults(refusals=True) as exc:
                if self._failed_at is None:
                    log.warning("queue: PostgreSQL out of reach (%s); trying again",
                                exc or type(exc).__name__)
                self._failed_at = time.monotonic()
                wait = backoff.failed()
            else:
                if self._failed_at is not None:
                    log.warning("queue: PostgreSQL reachable again")
                self._failed_at = None
                backoff.succeeded()
                if job is not None:
                    return job
                wait = PG_QUEUE_POLL if due_in is None else min(PG_QUEUE_POLL, max(0.01, due_in))
            with contextlib.suppress(asyncio.TimeoutError):  # a notification: a job, or it is back
                await asyncio.wait_for(self._wake.wait(), wait)
        raise QueueUnavailable("the queue is closed")

    async def _take(self) -> tuple[Delivery | None, float | None]:
        """The first job due, taken for a lease; else None and the seconds until one is due."""
        async with self._pool.acquire() as connection:
            taken = await PostgresJobs.take(connection, self._name, self._lease)
            if taken is None:
                return None, await PostgresJobs.next_due_in(connection, self._name)
            job_id, text = taken
            try:
                ids = decode_job(text.encode())
            except ValueError as exc:
                log.error("queue: dropping a malformed job: %s", exc)
                await PostgresJobs.delete(connection, job_id)
                return None, 0.0
        self._taken.add(job_id)
        return Delivery(ids, functools.partial(self._ack, job_id)), None

    async def _ack(self, job_id: int) -> None:
        async with self._pool.acquire() as connection:
            await PostgresJobs.delete(connection, job_id)
        self._taken.discard(job_id)

    def healthy(self) -> bool:
        """Reachable at the last use, or that failed a while ago: worth a try (a publish or
        /health's count tells again), so the jobs of sends that waited go out once it is back."""
        return self._failed_at is None or time.monotonic() - self._failed_at >= PG_QUEUE_POLL

    async def depth(self) -> int:
        async with self._acquire("count the jobs") as connection:
            return await PostgresJobs.depth(connection, self._name)

    def ready(self) -> int:
        return 0  # jobs wait in the table, none in this process


def open_queue(config: Config, clock: Clock, prefetch: int) -> JobQueue:
    """The backend --queue-url names: PostgreSQL, RabbitMQ, or (with none) in-process."""
    if is_postgres(config.queue_url):
        # a job's lease outlasts its claims' (taking them may wait on the write lock): a live
        # consumer's job is seldom handed on; a dead one's claims lapse first anyway
        return PostgresQueue(config.queue_url, config.queue_name, 2 * config.claim_timeout,
                             prefetch > 0)
    if config.queue_url:
        return RabbitQueue(config.queue_url, config.queue_name, prefetch)
    return MemoryQueue(clock)


# ---------------------------------------------------------------------------
# CAMPAIGNS
# The campaign lifecycle in one place: creating and editing, sending to an
# audience, starting scheduled campaigns, pause, resume, cancel, retrying
# failed messages; and keeping the queue in step with the database, so that
# pending work is published at once, when it falls due, and again after a
# fault.
# ---------------------------------------------------------------------------


class Signal:
    """A wake-up call for a background loop, and whether that loop is idle (tests wait on it)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.idle = asyncio.Event()

    def set(self) -> None:
        self.idle.clear()
        self.event.set()


def logged(campaign: dict[str, Any], what: str) -> dict[str, Any]:
    """An operator's action in the log, with where the campaign stands."""
    log.info("campaign %d %s by an operator, now %s", campaign["id"], what, campaign["status"],
             extra={"event": f"campaign_{what}", "campaign_id": campaign["id"],
                    "status": campaign["status"]})
    return campaign


RECOVERED = ("recovery: %d pending messages published (rate-limited ones are left to the "
             "pacer), %d lapsed claims released")


class Campaigns:
    """What operators and the scheduler do to campaigns, with the job queue kept in step."""

    def __init__(self, store: Store, queue: JobQueue, clock: Clock, job_size: int,
                 metrics: Metrics):
        self._store = store
        self._queue = queue
        self._clock = clock
        self._job_size = job_size
        self._metrics = metrics
        self.halted: dict[int, int] = {}         # paused or cancelled -> when (a stamp, below)
        self._stamps = itertools.count(1)        # this process's order of halts and claims
        self.schedule_changed = Signal()         # wakes the scheduler
        self.pace_changed = Signal()             # wakes the pacer
        self.debt = False                        # a publish failed: recover() must run
        self._backlog: AsyncGenerator | None = None  # the scan the start's recovery goes on with

    # -- operator actions ---------------------------------------------------

    async def create(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        campaign = await self._store.campaigns.create(fields, self._clock.now())
        self.schedule_changed.set()
        return campaign

    async def edit(self, campaign_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        campaign = await self._store.campaigns.update(campaign_id, changes, self._clock.now())
        self.schedule_changed.set()
        return campaign

    async def delete(self, campaign_id: int) -> None:
        await self._store.campaigns.delete(campaign_id)

    async def send(self, campaign_id: int, audience: Audience) -> SendResult:
        """Add an audience; its messages are published now, or when the campaign starts. With
        the queue down they stay pending for recovery, and the caller hears QUEUE_UNAVAILABLE."""
        result = await self._store.claims.add_recipients(campaign_id, audience, self._clock.now())
        self._metrics.count_suppressed({result.channel: result.suppressed})
        counts = {"messages_queued": result.messages_queued,
                  "duplicates_skipped": result.duplicates_skipped, "suppressed": result.suppressed}
        log.info("campaign %d: send accepted, %d messages queued (%d already there, "
                 "%d suppressed)", campaign_id, *counts.values(),
                 extra={"event": "send_accepted", "campaign_id": campaign_id, **counts})
        if result.paced:
            self.pace_changed.set()
        elif result.status == CampaignStatus.SENDING:
            try:
                if result.publish_all:
                    await self.publish_pending(campaign_id)
                else:
                    await self.enqueue(result.new_ids)
            except QueueUnavailable:
                raise Unavailable("QUEUE_UNAVAILABLE", "The messages are stored but the queue "
                                  "is down; they are dispatched when it is back (repeating this "
                                  "request creates nothing twice)") from None
        self.schedule_changed.set()
        return result

    async def log_finished(self, campaign_id: int) -> None:
        campaign = await self._store.campaigns.get(campaign_id)
        if campaign is None:
            return
        stats = message_stats(campaign)
        log.info("campaign %d finished %s: %s", campaign_id, campaign["status"],
                 ", ".join(f"{count} {name}" for name, count in stats.items() if count),
                 extra={"event": "campaign_finished", "campaign_id": campaign_id,
                        "status": campaign["status"], "stats": stats})

    async def pause(self, campaign_id: int) -> dict[str, Any]:
        """No attempt starts after this returns; attempts in flight finish and are recorded."""
        campaign = await self._store.campaigns.transition(campaign_id, Action.PAUSE,
                                                          self._clock.now())
        self.halt(campaign_id)
        return logged(campaign, "paused")

    async def resume(self, campaign_id: int) -> dict[str, Any]:
        campaign = await self._store.campaigns.transition(campaign_id, Action.RESUME,
                                                          self._clock.now())
        self.halted.pop(campaign_id, None)
        await self._publish_quietly(campaign_id)
        return logged(campaign, "resumed")

    async def cancel(self, campaign_id: int) -> dict[str, Any]:
        campaign = await self._store.campaigns.cancel(campaign_id, self._clock.now())
        self.halt(campaign_id)
        return logged(campaign, "cancelled")

    async def retry_failed(self, campaign_id: int) -> tuple[int, str]:
        requeued, status = await self._store.campaigns.retry_failed(campaign_id, self._clock.now())
        self.halted.pop(campaign_id, None)
        await self._publish_quietly(campaign_id)
        return requeued, status

    # -- halts: what a batch in flight must leave alone -----------------------

    def stamp(self) -> int:
        """A point in this process's order of events; a batch takes one before it claims."""
        return next(self._stamps)

    def halt(self, campaign_id: int, since: int | None = None) -> None:
        """The campaign was paused or cancelled (after `since`, or just now): the batches that
        claimed its messages before that start no more attempts on them. Batches claimed
        later saw the campaign's status themselves, so a halt resumed by another process
        stops nothing more."""
        self.halted[campaign_id] = max(self.halted.get(campaign_id, 0), since or self.stamp())

    def stops(self, campaign_id: int, claimed: int) -> bool:
        """Whether a batch that claimed at `claimed` leaves the campaign's messages alone."""
        return self.halted.get(campaign_id, 0) > claimed

    # -- the scheduler's part -----------------------------------------------

    async def start_due(self) -> None:
        """Move due scheduled campaigns with recipients to sending and publish their messages
        (with the queue down, the recovery that runs when it is back publishes them)."""
        for campaign_id in await self._store.campaigns.start_due(self._clock.now()):
            count = await self._publish_quietly(campaign_id)
            log.info("scheduler: campaign %d started with %d messages", campaign_id, count)

    # -- publishing -----------------------------------------------------------

    async def recover(self, *, starting: bool = False, ready: Callable[[], None] = lambda: None,
                      rest: Callable[[Coroutine[Any, Any, None]], Any] | None = None) -> None:
        """Publish again everything pending: at start, and after a fault of the queue. At the
        start of the only process on a database, every claim is a dead process's. `ready` is
        called once the claims are released (the dispatcher begins there). Given `rest`, only
        the first job is published here and `rest` publishes the others in the background, so
        a backlog of a million messages neither delays the first attempt nor keeps /health
        from answering."""
        self.debt = False
        sole = starting and self._store.db.exclusive
        jobs = self._store.claims.pending_jobs(self._clock.now(), self._job_size)
        try:
            released = await self._store.claims.release_lapsed_claims(self._clock.now(),
                                                                       every=sole)
            if starting:
                await self._store.campaigns.restart_progress(self._clock.now())
            ready()
            published = await self._publish_jobs(jobs, 1 if rest else None)
        except QueueUnavailable as exc:
            await jobs.aclose()
            log.error("recovery: %s; it runs again when the queue is back", exc)
            return
        except BaseException:
            await jobs.aclose()
            raise
        if rest is not None:
            self._backlog = jobs
            rest(self._publish_rest(jobs, published, len(released)))
        else:
            log.info(RECOVERED, published, len(released))

    async def _publish_jobs(self, jobs: AsyncGenerator[tuple[float, Sequence[int]], None],
                            limit: int | None = None) -> int:
        """Publish (at most `limit` of) the jobs, each when due; how many messages."""
        now, published, count = self._clock.now(), 0, 0
        async for due, ids in jobs:
            await self._publish([ids], max(0.0, due - now))
            published, count = published + len(ids), count + 1
            if count == limit:
                break  # the rest stay in `jobs`, for a later call
        return published

    async def _publish_rest(self, jobs: AsyncGenerator[tuple[float, Sequence[int]], None],
                            published: int, released: int) -> None:
        try:
            published += await self._publish_jobs(jobs)
        except FAULTS as exc:  # the healer runs recovery again
            self.debt = True
            log.error("recovery: %s; it runs again", exc)
            return
        finally:
            await self.close_backlog()
        log.info(RECOVERED, published, released)

    async def close_backlog(self) -> None:
        """Let go of the backlog's scan (its task may have been cancelled before it began)."""
        backlog, self._backlog = self._backlog, None
        if backlog is not None:
            await backlog.aclose()

    async def release_lapsed_claims(self) -> None:
        """Give the messages of a dead worker (its claims lapsed) to a live one."""
        released = await self._store.claims.release_lapsed_claims(self._clock.now())
        if released:
            log.warning("%d claims of a worker that stopped lapsed; their messages go out again",
                        len(released))
            with contextlib.suppress(QueueUnavailable):  # recovery publishes them, then
                await self.enqueue(compact_ids(released))

    async def publish_pending(self, campaign_id: int | None = None) -> int:
        """Publish the pending messages of a sending campaign (or of all), each when due."""
        pending = self._store.claims.pending_jobs(self._clock.now(), self._job_size, campaign_id)
        async with contextlib.aclosing(pending) as jobs:
            return await self._publish_jobs(jobs)

    async def enqueue(self, ids: Sequence[int], delay: float = 0.0) -> None:
        """Publish message ids as jobs of `job_size`."""
        size = self._job_size
        if ids:
            await self._publish([ids[start:start + size] for start in range(0, len(ids), size)],
                                delay)

    async def publish_by_due(self, due_ids: list[tuple[int, float]]) -> None:
        """Publish (id, due) pairs sorted by due, grouping ids that fall due together."""
        now = self._clock.now()
        for group in _split_by_due(due_ids, DUE_SPREAD):
            await self._publish([[message_id for message_id, _ in group]], group[-1][1] - now)

    async def _publish(self, jobs: Sequence[Sequence[int]], delay: float) -> None:
        try:
            await self._queue.publish(jobs, delay)
        except QueueUnavailable:
            self.debt = True
            raise

    async def _publish_quietly(self, campaign_id: int) -> int:
        """Publish a campaign's pending messages; if the queue is down, recovery will."""
        self.pace_changed.set()  # the pacer sends them if the campaign or its channel is paced
        try:
            return await self.publish_pending(campaign_id)
        except QueueUnavailable as exc:
            log.error("campaign %d: %s; its messages go out when the queue is back",
                      campaign_id, exc)
            return 0


# ---------------------------------------------------------------------------
# SENDER
# The provider: a callable that takes one message and answers the provider's
# id for it, or raises: a mock inside the process (the default, so the demo
# needs nothing else), or the gateways of --provider-url (HTTP APIs, SMPP).
# ---------------------------------------------------------------------------


class ThrottledError(SendError):
    """The provider asks us to slow down (429): not a failed attempt, just not now."""

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


class GatewayDownError(ThrottledError):
    """The gateway cannot take the channel's messages now (unreachable, not bound, an expired
    token, a blocked account): the message did not reach it, so nothing is used up; the
    gateway shows down until it takes a message again."""


class Outgoing(NamedTuple):
    """One message as the provider receives it."""

    reference: str  # our message id: the provider's idempotency key, and the receipts' key
    channel: str
    to: str
    text: str
    whatsapp_template: WhatsAppTemplate | None = None  # rendered for this customer (§20)


# The provider's message id; raises SendError. A sender whose `answers_at_once` is true never
# waits (the mock with no latency): the dispatcher calls it without a task of its own.
Sender = Callable[[Outgoing], Awaitable[str | None]]
UNROUTABLE_PREFIXES = ("+999",)  # no country has calling code 999
TRANSIENT_ERRORS = ("provider timeout", "provider returned 503 Service Unavailable",
                    "throttled by carrier", "connection reset by provider")


class MockSender:
    """A provider stand-in in the process: latency, random transient failures, permanent ones
    for a phone it cannot route (calling code +999) and for a message over the channel's
    limit (SMS: 10 segments; WhatsApp: 4096 characters)."""

    def __init__(self, latency_ms: float, failure_rate: float, rng: random.Random):
        self.answers_at_once = not latency_ms  # never waits: the dispatcher needs no task for it
        self._latency = latency_ms / 1000
        self._failure_rate = failure_rate
        self._rng = rng

    async def __call__(self, message: Outgoing) -> str | None:
        if self._latency:
            await asyncio.sleep(self._latency)
        if message.to.startswith(UNROUTABLE_PREFIXES):
            raise PermanentSendError(f"no route to {message.to}")
        if problem := channel_limit_problem(message.channel, message.text):
            raise PermanentSendError(problem)
        if self._failure_rate and self._rng.random() < self._failure_rate:
            raise TransientSendError(self._rng.choice(TRANSIENT_ERRORS))
        return None


DEFAULT_RETRY_AFTER = 1.0   # seconds to wait after a 429 that does not say
MAX_RETRY_AFTER = 3600.0


def parse_retry_after(value: str | None, now: float) -> float:
    """Seconds a Retry-After header asks for: delta-seconds or an HTTP date (RFC 9110)."""
    if value is not None:
        text = value.strip()
        if re.fullmatch(r"\d{1,10}(\.\d+)?", text):
            return min(MAX_RETRY_AFTER, float(text))
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            moment = email.utils.parsedate_to_datetime(text)
            return min(MAX_RETRY_AFTER, max(0.0, moment.timestamp() - now))
    return DEFAULT_RETRY_AFTER


def sane(text: str) -> str:
    """A gateway's text as either database stores it: no NUL, no lone surrogate (as '?')."""
    if text.isascii() and "\0" not in text:
        return text
    return text.replace("\0", "").encode("utf-8", "replace").decode("utf-8")


def short(text: Any) -> str:
    """A gateway's words, fit for last_error."""
    text = " ".join(str(text).split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[:ERROR_TEXT_LIMIT - 3] + "..."


async def answer_body(response: aiohttp.ClientResponse) -> bytes:
    """A gateway's answer, read as far as ANSWER_LIMIT: no answer fills the memory."""
    if response.content_length is not None and response.content_length <= ANSWER_LIMIT:
        return await response.read()
    body = b""
    while len(body) < ANSWER_LIMIT and (chunk := await response.content.read(
            ANSWER_LIMIT - len(body))):
        body += chunk
    return body


def answer_words(body: bytes) -> str:
    """A gateway's answer as it came, fit for last_error."""
    return short(body.decode("utf-8", "replace")) or "(nothing)"


def provider_text(body: bytes) -> str:
    """What a provider said, made fit for last_error: its JSON error message if it gave one."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:  # not JSON: the words as they came
        return short(text)
    error = as_mapping(data).get("error", data)
    said = as_mapping(error).get("message", error)
    return short(said if isinstance(said, str) else json.dumps(said, ensure_ascii=False))


def as_mapping(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def as_code(value: Any) -> int | None:
    """A gateway's numeric code, when `value` is one (never a list or an object, which a
    garbled answer may hold and which no table of codes could look up)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def answer_object(body: bytes) -> Mapping[str, Any]:
    """A gateway's answer as a JSON object; empty when it is not one."""
    try:
        return as_mapping(json.loads(body))
    except ValueError:  # not JSON, or not UTF-8
        return {}


def http_outcome(kind: str, status: int, said: str, retry_after: float) -> SendError:
    """What an HTTP status means when the answer says nothing more precise (§12)."""
    if status == 429:
        return ThrottledError(f"{kind} throttled it (429): {said}", retry_after)
    if status == 408 or status >= 500:
        return TransientSendError(f"{kind} answered {status}: {said}")
    return PermanentSendError(f"{kind} refused it ({status}): {said}")


class OptedOutError(PermanentSendError):
    """The gateway refused the message because the customer opted out with it (Twilio 21610,
    Africa's Talking 406): permanent, and the customer is opted out here too (§14)."""


SHORT_SECRET = 8  # characters: a secret shorter is hidden where it stands alone, not inside words


def scrubbed(text: str, secrets_: Iterable[str]) -> str:
    """`text` with every secret (as is and URL-encoded) replaced by ***, a secret that a text
    cut short (by short()) ends inside of too. A short one (a test box's password "p") is
    hidden where no letter or digit touches it: inside words it garbled every error."""
    for secret in filter(None, secrets_):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            if len(form) < SHORT_SECRET:
                text = re.sub(rf"(?<![^\W_]){re.escape(form)}(?![^\W_])", "***", text)
            else:
                text = text.replace(form, "***")
            body, dots = (text[:-3], "...") if text.endswith("...") else (text, "")
            cut = next((n for n in range(len(form) - 1, 3, -1) if body.endswith(form[:n])), 0)
            text = body[:-cut] + "***" + dots if cut else text
    return text


def callback_token(receipt_secret: str, kind: str) -> str:
    """The secret path segment of a gateway's callbacks: derived from --receipt-secret, so the
    same across restarts, and different per gateway."""
    key = hashlib.sha256(b"smsleopard callback token " + receipt_secret.encode()).digest()
    return hmac.new(key, kind.encode(), hashlib.sha256).hexdigest()[:32]


class Callbacks(NamedTuple):
    """Where a gateway calls us back (None: it does not), as pasted into its console."""

    receipts: str | None = None
    inbound: str | None = None


class GatewayReceipt(NamedTuple):
    """A delivery report as a gateway words it: our reference or its own id, and what it
    means (status None: an intermediate report that changes nothing)."""

    reference: str | None
    provider_id: str | None
    status: str | None
    error: str | None = None


async def apply_gateway_receipts(store: Store, reports: Sequence[GatewayReceipt],
                                 now: float) -> dict[str, Any]:
    """Apply a gateway's delivery reports, those naming only its own id found in one read:
    {accepted, unknown} as for POST /providers/receipts."""
    reports = [GatewayReceipt(*(sane(v) if isinstance(v, str) else v for v in r))
               for r in reports if r.status is not None]
    ours = await store.outcomes.references_of(
        {r.provider_id for r in reports if not r.reference and r.provider_id})
    receipts, unknown = [], []
    for report in reports:
        reference = report.reference or ours.get(report.provider_id or "")
        if reference is None and report.provider_id:
            unknown.append(Receipt(report.provider_id, report.status, utc_iso(now), report.error))
        elif reference is not None:
            receipts.append(Receipt(reference, report.status, utc_iso(now), report.error))
    taken = (await store.outcomes.apply_receipts(receipts, now) if receipts
             else {"accepted": 0, "unknown": []})
    if unknown:  # perhaps a report that overtook the record of its message's outcome
        await store.outcomes.keep_early(unknown, now)
    return {**taken, "unknown": (taken["unknown"] + [r.reference for r in unknown])[:100]}


Fields = Mapping[str, Any]  # a callback's form fields, query or JSON body


def field_text(fields: Fields, name: str, *, required: bool = True) -> str:
    """One field of a gateway's callback as text; ValueError naming it when missing."""
    value = fields.get(name) if isinstance(fields, Mapping) else None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        if required:
            raise ValueError(f"{name} is required")
        return ""
    return str(value)[:2000]


def gateway_phone(text: str) -> str:
    """A number as a gateway writes it (+2547..., 2547..., 002547..., whatsapp:+2547...) in
    E.164 form, as customers are stored; empty (no customer's) for a sender that is no such
    number: a short code, an alphanumeric sender, garbage. Its message opts no one in or out,
    and is taken all the same (an SMSC would send it again and again)."""
    number = text.strip().removeprefix("whatsapp:").replace(" ", "")
    number = "+" + number[2:] if number.startswith("00") else number
    number = number if number.startswith("+") else "+" + number
    return number if PHONE_PATTERN.fullmatch(number) else ""


# A gateway's callback path, its secret token in the second group: what follows receipts/ or
# inbound/, however many slashes (or ./) stand around them. Linear: a log line pays for it.
CALLBACK_TOKEN = re.compile(
    r"(/providers/[^/?#\s'\"]+/(?:\.?/)*(?:receipts|inbound)/)([^?#\s'\"]+)")


class Gateway:
    """What every gateway over HTTP shares: one keep-alive pool, the time-out, the mapping of
    time-outs and connection errors to transient failures (a refused connection: the
    gateway down, the message back unspent), the state /providers and /health show (down
    after a connection error, or a time-out with no answer at all while it waited; up at
    the next answer or connection), and where it calls back."""

    kind = "generic"
    signs = False  # whether its callbacks carry a signature (else a token in their path)
    _down: str | None = None
    _answered_at = -math.inf  # time.monotonic() of its last answer, of any kind
    _session: aiohttp.ClientSession | None = None
    unheard: str | None = None  # the flag without which it has no URL to call back

    def __init__(self, url: GatewayUrl, timeout: float, concurrency: int, callbacks: Callbacks,
                 clock: Clock):
        self.url, self.callbacks = url, callbacks
        self._timeout, self._concurrency, self._clock = timeout, concurrency, clock

    @property
    def down(self) -> str | None:
        """Why the gateway is down; None while it answers. A change is logged once."""
        return self._down

    @down.setter
    def down(self, reason: str | None) -> None:
        if reason and not self._down:
            log.warning("%s gateway down: %s", self.kind, self.scrubbed(reason))
        elif self._down and not reason:
            log.info("%s gateway up", self.kind)
        self._down = reason

    async def _connect_once(self) -> None:
        """A connection to the gateway's address, closed at once; OSError or TimeoutError."""
        address = urllib.parse.urlsplit(self.url.base)
        port = address.port or (443 if address.scheme == "https" else 80)
        _, writer = await asyncio.wait_for(asyncio.open_connection(address.hostname, port),
                                           timeout=self._timeout)
        writer.close()

    async def probe(self) -> None:
        """Down for want of a connection: up again once one opens; for want of an answer: up
        again at an answer of any kind to a HEAD of its URL, no credentials sent (with
        nothing to send, no attempt would find out)."""
        if not (seen := self.down) or not seen.startswith(("unreachable", "no answer")):
            return
        with contextlib.suppress(OSError, TimeoutError, aiohttp.ClientError):
            if seen.startswith("unreachable"):
                await self._connect_once()
            else:
                async with self._session.head(self.url.base, allow_redirects=False):
                    pass
            if self.down == seen:  # no attempt said otherwise meanwhile
                self._answered()

    async def open(self) -> None:
        """The connection pool; ConfigError if nothing answers at the gateway's address."""
        try:
            await self._connect_once()
        except (OSError, TimeoutError) as exc:
            raise ConfigError(f"cannot reach the provider at {self.url.shown}: "
                              f"{getattr(exc, 'strerror', None) or exc or 'timed out'}") from None
        # no cookies, no decompression: a little less per call; so the answers must come
        # uncompressed (aiohttp would offer gzip and deflate, and could not read them)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._concurrency, keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=self._timeout), auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(), headers={"Accept-Encoding": "identity"})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _exchange(self, method: str, url: Any, **options: Any) -> tuple[int, bytes, float]:
        """(status, body, seconds its Retry-After asks for) of one request; an answer past
        ANSWER_LIMIT is read that far. A redirect is not followed (it would take the
        credentials elsewhere): the gateway is down, the attempt transient, until its URL is
        put right (or it stops redirecting)."""
        try:
            async with self._session.request(method, url, allow_redirects=False,
                                             **options) as response:
                status = response.status
                body = await answer_body(response)
                retry_after = DEFAULT_RETRY_AFTER if status < 400 else parse_retry_after(
                    response.headers.get("Retry-After"), self._clock.now())
        except TimeoutError:
            if self._answered_at < time.monotonic() - self._timeout:  # silent while it waited
                self.down = f"no answer within {self._timeout:g} s"
            raise TransientSendError(f"provider timeout ({self._timeout:g} s)") from None
        except aiohttp.ClientPayloadError as exc:  # it answered, but not all of it came
            self._answered()
            raise TransientSendError(f"provider answered {status} in part: "
                                     f"{type(exc).__name__}") from None
        except aiohttp.ClientError as exc:  # its words, without the URL (a text, a phone)
            said = exc.message if isinstance(exc, aiohttp.ClientResponseError) else str(exc)
            said = said or type(exc).__name__  # scrubbed where shown: describe(), GatewaySender
            self.down = f"unreachable: {said}"
            if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(
                    exc, aiohttp.ClientSSLError):  # no connection: it never got the request
                raise GatewayDownError(f"provider unreachable: {said}",
                                       DEFAULT_RETRY_AFTER) from None
            raise TransientSendError(f"provider unreachable: {said}") from None
        if 300 <= status < 400:
            self.down = f"answers {status}, a redirect, not followed: check its URL"
            raise TransientSendError(f"provider answered {status}, a redirect, not followed")
        self._answered()
        return status, body, retry_after

    def _answered(self) -> None:
        self.down, self._answered_at = None, time.monotonic()

    @functools.cached_property
    def secrets(self) -> tuple[str, ...]:
        """What no error, log or answer may show: the secret (as Basic credentials too), the
        app's secret and verify token, and the secret tokens of the callbacks' paths."""
        basic = self.url.secret and base64.b64encode(
            f"{self.url.user}:{self.url.secret}".encode()).decode()
        tokens = [found[2] for url in self.callbacks if url and (
            found := CALLBACK_TOKEN.search(url))]
        return (self.url.secret, basic, *tokens, self.url.options.get("app_secret", ""),
                self.url.options.get("verify_token", ""))

    def scrubbed(self, text: str) -> str:
        return scrubbed(text, self.secrets)

    def receipts(self, fields: Fields) -> list[GatewayReceipt]:
        """The delivery reports in a callback; ValueError when it is not one."""
        raise ValueError(f"{self.kind} sends no delivery reports here")

    def inbound(self, fields: Fields) -> list[tuple[str, str]]:
        """(phone, text) of each message a customer sent; ValueError when it is not one."""
        raise ValueError(f"{self.kind} sends no inbound messages here")

    def describe(self, channels: list[str]) -> dict[str, Any]:
        """The gateway as GET /providers shows it: never a password, key or secret."""
        return {"channels": channels, "kind": self.kind, "host": self.url.host,
                "url": self.url.shown, "state": "down" if self.down else "up",
                "reason": self.down and self.scrubbed(self.down),
                "callbacks": self.callbacks._asdict()}


class HttpSender(Gateway):
    """The generic JSON provider (§12): a POST of each message as JSON, answered {"id"}."""

    def __init__(self, url: str, token: str, timeout: float, concurrency: int,
                 callback_url: str | None, clock: Clock):
        inbound = callback_url and callback_url.removesuffix("/receipts") + "/inbound"
        super().__init__(GatewayUrl("generic", url, secret=token), timeout, concurrency,
                         Callbacks(callback_url, inbound), clock)
        self._headers = {"Content-Type": "application/json",
                         **({"Authorization": f"Bearer {token}"} if token else {})}

    async def __call__(self, message: Outgoing) -> str:
        body = json.dumps({"reference": message.reference, "channel": message.channel,
                           "to": message.to, "text": message.text,
                           "callback_url": self.callbacks.receipts}).encode()
        status, answer, retry_after = await self._exchange("POST", self.url.base, data=body,
                                                           headers=self._headers)
        if 200 <= status < 300:
            message_id = answer_object(answer).get("id")
            if isinstance(message_id, (str, int)) and not isinstance(message_id, bool):
                return str(message_id)[:200]
            raise TransientSendError(f"provider answered {status} without a message id: "
                                     f"{provider_text(answer) or '(nothing)'}")
        said = provider_text(answer)
        if status == 429:  # worded unlike http_outcome's
            raise ThrottledError(f"throttled by the provider (429): {said}", retry_after)
        raise http_outcome("provider", status, said, retry_after)


# -- Twilio -------------------------------------------------------------------

TWILIO_THROTTLED = {20429}
TWILIO_OPTED_OUT = {21610}
TWILIO_STATUSES = {"delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}


def twilio_form(message: Outgoing, options: Mapping[str, str], callback: str | None
                ) -> dict[str, str]:
    """The form of Twilio's Messages.json for one message (whatsapp: numbers prefixed)."""
    prefix = "whatsapp:" if message.channel == "whatsapp" else ""
    form = {"To": prefix + message.to, "Body": message.text}
    if "messaging_service" in options:
        form["MessagingServiceSid"] = options["messaging_service"]
    else:
        form["From"] = prefix + options["from"].removeprefix(prefix)
    if callback:
        form["StatusCallback"] = f"{callback}?ref={message.reference}"
    return form


def twilio_outcome(status: int, body: bytes, retry_after: float) -> str:
    """Twilio's answer: 2xx {"sid"} is sent; else its error code decides (§20)."""
    data = answer_object(body)
    if 200 <= status < 300:
        if isinstance(data.get("sid"), str) and data["sid"]:
            return data["sid"][:200]
        raise TransientSendError(f"twilio answered {status} without a sid: {answer_words(body)}")
    code = as_code(data.get("code"))
    said = short(f"error {code}: {data.get('message', '')}") if code else answer_words(body)
    if code in TWILIO_THROTTLED:
        raise ThrottledError(f"twilio throttled it ({status}): {said}", retry_after)
    if code in TWILIO_OPTED_OUT:
        raise OptedOutError(f"twilio refused it ({status}): {said}")
    raise http_outcome("twilio", status, said, retry_after)


class TwilioGateway(Gateway):
    """Twilio Programmable Messaging: a form POST to Messages.json, HTTP Basic SID:TOKEN."""

    kind, signs = "twilio", True

    async def __call__(self, message: Outgoing) -> str:
        form = twilio_form(message, self.url.options, self.callbacks.receipts)
        endpoint = f"{self.url.base}/2010-04-01/Accounts/{self.url.user}/Messages.json"
        basic = base64.b64encode(f"{self.url.user}:{self.url.secret}".encode()).decode()
        status, body, retry_after = await self._exchange(
            "POST", endpoint, data=form, headers={"Authorization": f"Basic {basic}"})
        return twilio_outcome(status, body, retry_after)

    def receipts(self, fields: Fields) -> list[GatewayReceipt]:
        """A status callback: MessageSid, MessageStatus, ErrorCode (our reference in ?ref=)."""
        status = field_text(fields, "MessageStatus")
        code = field_text(fields, "ErrorCode", required=False)
        words = field_text(fields, "ErrorMessage", required=False)
        meaning = TWILIO_STATUSES.get(status)
        error = (short(f"twilio error {code}" + (f": {words}" if words else ""))
                 if code and meaning == "undelivered" else None)
        return [GatewayReceipt(field_text(fields, "ref", required=False) or None,
                               field_text(fields, "MessageSid"), meaning, error)]

    def inbound(self, fields: Fields) -> list[tuple[str, str]]:
        return [(gateway_phone(field_text(fields, "From")), field_text(fields, "Body"))]


def twilio_signature(auth_token: str, url: str, form: Mapping[str, Any]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and the sorted form fields, each name
    followed by its values (sorted), as twilio's RequestValidator computes it."""
    getall = getattr(form, "getall", None)  # a MultiDict's repeated fields
    signed = url + "".join(name + value for name in sorted(set(form))
                           for value in sorted(set(getall(name) if getall else [form[name]])))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_urls(url: str) -> list[str]:
    """The URL as given, with its default port and without it: Twilio signs either."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    bare = host.rsplit(":", 1)[0] if parts.port else host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return [url] + [urllib.parse.urlunsplit(parts._replace(netloc=n))
                    for n in (bare, f"{bare}:{port}") if n != parts.netloc]


# -- Africa's Talking ---------------------------------------------------------

AFRICASTALKING_SENT = {100, 101, 102}
AFRICASTALKING_TRANSIENT = {500, 501}
AFRICASTALKING_OPTED_OUT = {406}
AFRICASTALKING_UNDELIVERED = {"Failed", "Rejected", "Expired", "AbsentSubscriber"}


def africastalking_outcome(status: int, body: bytes, retry_after: float) -> str:
    """Africa's Talking's answer: the first recipient's statusCode decides (§20)."""
    answer = as_mapping(answer_object(body).get("SMSMessageData"))
    recipients = answer.get("Recipients")
    if not isinstance(recipients, list) or not recipients or not isinstance(recipients[0], dict):
        listed = isinstance(recipients, list)
        said = short(answer.get("Message")) if listed else answer_words(body)
        if not 200 <= status < 300:
            raise http_outcome("africastalking", status, said, retry_after)
        if listed:
            raise PermanentSendError(f"africastalking sent it to nobody: {said}")
        raise TransientSendError(f"africastalking answered {status} without recipients: {said}")
    recipient = recipients[0]
    code, message_id = as_code(recipient.get("statusCode")), recipient.get("messageId")
    said = short(f"status {code} {recipient.get('status', '')}")
    if code in AFRICASTALKING_SENT and isinstance(message_id, str) and message_id not in (
            "", "None"):
        return message_id[:200]
    if code in AFRICASTALKING_SENT or code in AFRICASTALKING_TRANSIENT:
        raise TransientSendError(f"africastalking answered {said}")
    if code in AFRICASTALKING_OPTED_OUT:
        raise OptedOutError(f"africastalking refused it: {said}")
    raise PermanentSendError(f"africastalking refused it: {said}")


class AfricasTalkingGateway(Gateway):
    """Africa's Talking SMS: a form POST to /version1/messaging with the apiKey header."""

    kind = "africastalking"

    async def __call__(self, message: Outgoing) -> str:
        form = {"username": self.url.user, "to": message.to, "message": message.text}
        if self.url.options.get("from"):
            form["from"] = self.url.options["from"]
        status, body, retry_after = await self._exchange(
            "POST", self.url.base + "/version1/messaging", data=form,
            headers={"apiKey": self.url.secret, "Accept": "application/json"})
        return africastalking_outcome(status, body, retry_after)

    def receipts(self, fields: Fields) -> list[GatewayReceipt]:
        """A delivery report: id (Africa's Talking's), status, failureReason."""
        status = field_text(fields, "status")
        reason = field_text(fields, "failureReason", required=False)
        meaning = ("delivered" if status == "Success" else
                   "undelivered" if status in AFRICASTALKING_UNDELIVERED else None)
        error = short(f"africastalking: {status}" + (f" ({reason})" if reason else ""))
        return [GatewayReceipt(None, field_text(fields, "id"), meaning,
                               error if meaning == "undelivered" else None)]

    def inbound(self, fields: Fields) -> list[tuple[str, str]]:
        return [(gateway_phone(field_text(fields, "from")), field_text(fields, "text"))]


# -- Infobip ------------------------------------------------------------------

INFOBIP_SENT_GROUPS = {"PENDING", "DELIVERED"}  # accepted; the delivery report says the rest
INFOBIP_UNDELIVERED = {"UNDELIVERABLE", "EXPIRED", "REJECTED"}
INFOBIP_NOT_FINAL = {"DELIVERED_TO_OPERATOR"}  # group DELIVERED, but "a further DLR may follow"


def infobip_body(messages: Sequence[Outgoing], options: Mapping[str, str],
                 callback: str | None) -> bytes:
    """One request of /sms/2/text/advanced: each message personalised, messageId ours."""
    return json.dumps({"messages": [{
        **({"from": options["from"]} if options.get("from") else {}),
        "destinations": [{"to": m.to.removeprefix("+"), "messageId": m.reference}],
        "text": m.text,
        **({"notifyUrl": callback, "notifyContentType": "application/json"} if callback else {}),
    } for m in messages]}).encode()


def infobip_error(body: bytes) -> str:
    """The words of an Infobip error, in either of its two shapes."""
    data = answer_object(body)
    service = as_mapping(data.get("requestError")).get("serviceException")
    if isinstance(service, dict):
        return short(f"{service.get('messageId', '')}: {service.get('text', '')}")
    if "errorCode" in data:
        return short(f"{data['errorCode']}: {data.get('description', '')}")
    return answer_words(body)


def infobip_outcomes(status: int, body: bytes, references: Sequence[str], retry_after: float
                     ) -> dict[str, str | SendError]:
    """Each message's outcome in one Infobip answer: its id, or the error to raise."""
    if not 200 <= status < 300:
        error = http_outcome("infobip", status, infobip_error(body), retry_after)
        return dict.fromkeys(references, error)
    by_id = {a["messageId"]: a for a in as_list(answer_object(body).get("messages"))
             if isinstance(a, dict) and isinstance(a.get("messageId"), str)}
    return {ref: infobip_message_outcome(by_id.get(ref), status) for ref in references}


def infobip_message_outcome(answer: dict[str, Any] | None, status: int) -> str | SendError:
    """One message's outcome, from its own part of Infobip's answer."""
    if answer is None:
        return TransientSendError(f"infobip answered {status} without this message")
    state = as_mapping(answer.get("status"))
    group, name = str(state.get("groupName", "")).upper(), state.get("name", "")
    if group in INFOBIP_SENT_GROUPS or name == "REJECTED_DUPLICATE_MESSAGE_ID":
        return str(answer["messageId"])[:200]  # a duplicate: an earlier attempt got through
    return PermanentSendError(short(f"infobip refused it: {group or '?'} {name}: "
                                    f"{state.get('description', '')}"))


class InfobipGateway(Gateway):
    """Infobip SMS, many messages per request: the attempts that arrive together (up to
    `bulk`) go out as one request, each caller answered its own outcome."""

    kind = "infobip"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._bulk = int(self.url.options.get("bulk", "100"))
        self._waiting: list[tuple[Outgoing, asyncio.Future]] = []
        self._requests: set[asyncio.Task] = set()

    async def __call__(self, message: Outgoing) -> str:
        outcome = asyncio.get_running_loop().create_future()
        self._waiting.append((message, outcome))
        if len(self._waiting) >= self._bulk:
            self._flush()
        elif len(self._waiting) == 1:  # the others starting in this turn of the loop join it
            asyncio.get_running_loop().call_soon(self._flush)
        return await outcome

    def _flush(self) -> None:
        batch, self._waiting = self._waiting[:self._bulk], self._waiting[self._bulk:]
        batch = [(m, f) for m, f in batch if not f.done()]  # an attempt cancelled meanwhile
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)
        if batch:
            task = asyncio.create_task(self._send(batch), name="infobip-request")
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    async def _send(self, batch: list[tuple[Outgoing, asyncio.Future]]) -> None:
        references = [message.reference for message, _ in batch]
        try:
            status, body, retry_after = await self._exchange(
                "POST", self.url.base + "/sms/2/text/advanced",
                data=infobip_body([m for m, _ in batch], self.url.options,
                                  self.callbacks.receipts),
                headers={"Authorization": f"App {self.url.secret}",
                         "Content-Type": "application/json", "Accept": "application/json"})
            outcomes = infobip_outcomes(status, body, references, retry_after)
        except SendError as exc:
            outcomes = dict.fromkeys(references, exc)
        for message, future in batch:
            outcome = outcomes[message.reference]
            if not future.done():  # its attempt may have been cancelled meanwhile
                if isinstance(outcome, SendError):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    def receipts(self, fields: Fields) -> list[GatewayReceipt]:
        return [infobip_receipt(result) for result in infobip_results(fields)]

    def inbound(self, fields: Fields) -> list[tuple[str, str]]:
        return [(gateway_phone(field_text(r, "from")), field_text(r, "text"))
                for r in infobip_results(fields)]


def infobip_results(fields: Fields) -> list[Mapping[str, Any]]:
    results = fields.get("results") if isinstance(fields, Mapping) else None
    if not isinstance(results, list) or not results or not all(
            isinstance(r, Mapping) for r in results):
        raise ValueError("results must be a list of objects")
    return results


def infobip_receipt(result: Mapping[str, Any]) -> GatewayReceipt:
    """One delivery report: messageId (ours), status.groupName, error."""
    status = as_mapping(result.get("status"))
    group, name = str(status.get("groupName", "")).upper(), str(status.get("name", ""))
    error = as_mapping(result.get("error"))
    meaning = ("delivered" if group == "DELIVERED" and name not in INFOBIP_NOT_FINAL else
               "undelivered" if group in INFOBIP_UNDELIVERED else None)
    words = short(f"infobip: {group} {name}" + (
        f" ({error.get('name')}: {error.get('description', '')})" if error.get("id") else ""))
    return GatewayReceipt(field_text(result, "messageId"), None, meaning,
                          words if meaning == "undelivered" else None)


# -- Kannel -------------------------------------------------------------------

KANNEL_DLR_MASK = 19  # 1 delivered, 2 undelivered, 16 refused by the SMSC
KANNEL_REPORTS = {"1": "delivered", "2": "undelivered", "16": "undelivered"}  # 4, 8: not final


def kannel_query(message: Outgoing, url: GatewayUrl, callback: str | None) -> str:
    """The query of Kannel's sendsms for one message; the dlr-url carries our reference."""
    query = {"username": url.user, "password": url.secret, "to": message.to,
             "text": message.text, "charset": "UTF-8"}
    query |= {name: url.options[name] for name in ("from", "smsc") if url.options.get(name)}
    if sms_info(message.text).encoding == "UCS-2":
        query["coding"] = "2"
    if callback:
        query |= {"dlr-mask": str(KANNEL_DLR_MASK),
                  "dlr-url": f"{callback}?ref={message.reference}&type=%d&reply=%A"}
    return urllib.parse.urlencode(query)


def kannel_outcome(status: int, body: bytes, retry_after: float) -> None:
    """Kannel's answer: 202 is sent (it gives no id: our reference is the key); 503 ("Temporal
    failure, try again later": smsbox cannot queue it now) is its only way to say "slow
    down", so it is throttled, no attempt used; 500 is transient; other 4xx permanent."""
    if 200 <= status < 300:
        return None
    if status == 503:
        raise ThrottledError(f"kannel is busy (503): {answer_words(body)}", retry_after)
    raise http_outcome("kannel", status, answer_words(body), retry_after)


class KannelGateway(Gateway):
    """Kannel's sendsms HTTP interface: one GET per message."""

    kind = "kannel"

    async def __call__(self, message: Outgoing) -> None:
        address = urllib.parse.urlsplit(self.url.base)
        base = address._replace(path=address.path or "/cgi-bin/sendsms").geturl()
        query = kannel_query(message, self.url, self.callbacks.receipts)
        status, body, retry_after = await self._exchange(
            "GET", yarl.URL(f"{base}?{query}", encoded=True))
        return kannel_outcome(status, body, retry_after)

    def receipts(self, fields: Fields) -> list[GatewayReceipt]:
        """A delivery report fetched from our dlr-url: ref (ours), type (%d), reply (%A)."""
        kind = field_text(fields, "type")
        reply = field_text(fields, "reply", required=False)
        meaning = KANNEL_REPORTS.get(kind)
        error = short(f"kannel report {kind}" + (f": {reply}" if reply else ""))
        return [GatewayReceipt(field_text(fields, "ref"), None, meaning,
                               error if meaning == "undelivered" else None)]

    def inbound(self, fields: Fields) -> list[tuple[str, str]]:
        return [(gateway_phone(field_text(fields, "from")), kannel_text(fields))]


def kannel_text(fields: Fields) -> str:
    """The text of an inbound message: the query's bytes (read as latin-1) in the charset
    Kannel names (UTF-16BE for UCS-2 without mo-recode)."""
    raw = field_text(fields, "text").encode("latin-1", "replace")
    charset = field_text(fields, "charset", required=False).upper() or "UTF-8"
    encoding = "utf-16-be" if charset in ("UTF-16BE", "UCS-2", "UTF-16") else "utf-8"
    return raw.decode(encoding if charset != "ISO-8859-1" else "latin-1", "replace")


# -- WhatsApp Business Cloud API --------------------------------------------------
# Meta answers its rate limits with HTTP 400 and a token it no longer takes with 401, so the
# error's code decides, never the HTTP status (docs/gateways.md, "Where Meta and §20 differ").

WHATSAPP_THROTTLED = {4, 80007, 130429, 131048, 131056}  # app, account, number, spam, pair
WHATSAPP_TRANSIENT = {1, 2, 131000, 131016}              # unknown, service, "went wrong"
WHATSAPP_OUTSIDE_WINDOW = 131047
WHATSAPP_PERMANENT = {131026, 132000, 132001}  # undeliverable; the template's count, name
# The channel, not the message: token (190, 0), permissions (3, 10, 131005, 200-299), the
# account blocked (368, 131031), payment (131042), the number not registered (133010).
WHATSAPP_DOWN = {0, 3, 10, 190, 368, 131005, 131031, 131042, 133010, *range(200, 300)}
WHATSAPP_DOWN_RETRY = 60.0  # seconds between two looks at a channel that is down
WHATSAPP_PAIR_RETRY = 6.0   # 131056: about one message per six seconds to one customer
WHATSAPP_WINDOW_WORDS = ("outside the customer's 24-hour window: a free-form message needs an "
                         "approved template")
WHATSAPP_STATUSES = {"delivered": "delivered", "read": "delivered", "failed": "undelivered"}


def whatsapp_body(message: Outgoing) -> bytes:
    """The JSON of one message to /{PHONE_NUMBER_ID}/messages: the campaign's template
    (rendered) when it names one, else text; our reference comes back in the statuses."""
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                            "to": message.to.removeprefix("+")}
    template = message.whatsapp_template
    if template is None:
        body |= {"type": "text", "text": {"preview_url": False, "body": message.text}}
    else:
        components = [{"type": "body", "parameters": [
            {"type": "text", "text": text} for text in template.parameters]}]
        body |= {"type": "template", "template": {
            "name": template.name, "language": {"code": template.language},
            **({"components": components} if template.parameters else {})}}
    body["biz_opaque_callback_data"] = message.reference
    return json.dumps(body, ensure_ascii=False).encode()


def whatsapp_outcome(status: int, body: bytes, retry_after: float) -> str:
    """The Cloud API's answer: 2xx {"messages": [{"id"}]} is sent; else error.code decides."""
    data = answer_object(body)
    if 200 <= status < 300:
        first = as_mapping((as_list(data.get("messages")) or [None])[0])
        if isinstance(first.get("id"), str) and first["id"]:
            return first["id"][:200]
        raise TransientSendError(f"whatsapp answered {status} without a message id: "
                                 f"{answer_words(body)}")
    error = as_mapping(data.get("error"))
    if not isinstance(code := error.get("code"), int):
        raise http_outcome("whatsapp", status, answer_words(body), retry_after)
    raise whatsapp_error(code, whatsapp_words(error), status, retry_after)


def whatsapp_words(error: Mapping[str, Any]) -> str:
    """An error's code, message and details, as last_error shows them."""
    details = as_mapping(error.get("error_data")).get("details")
    words = str(error.get("message") or error.get("title") or "")
    return short(f"error {error.get('code')}: {words}" + (
        f" ({details})" if details and str(details) not in words else ""))


def whatsapp_error(code: int, said: str, status: int, retry_after: float) -> SendError:
    """What one of the Cloud API's error codes means (§20)."""
    if code in WHATSAPP_THROTTLED:
        pause = max(retry_after, WHATSAPP_PAIR_RETRY if code == 131056 else 0)
        return ThrottledError(f"whatsapp throttled it ({status}): {said}", pause)
    if code in WHATSAPP_DOWN:
        return GatewayDownError(f"whatsapp refused the channel ({status}): {said}",
                                WHATSAPP_DOWN_RETRY)
    if code in WHATSAPP_TRANSIENT:
        return TransientSendError(f"whatsapp answered {status}: {said}")
    if code == WHATSAPP_OUTSIDE_WINDOW:
        return PermanentSendError(f"{WHATSAPP_WINDOW_WORDS} (whatsapp {said})")
    if code in WHATSAPP_PERMANENT:
        return PermanentSendError(f"whatsapp refused it ({status}): {said}")
    return http_outcome("whatsapp", status, said, retry_after)  # a code not known here


class WhatsAppGateway(Gateway):
    """Meta's WhatsApp Business Cloud API: JSON POSTs to /{version}/{PHONE_NUMBER_ID}/messages
    with the access token as a bearer token; statuses and customers' messages come to one
    webhook, /providers/whatsapp, signed with the app's secret."""

    kind, signs = "whatsapp", True

    async def __call__(self, message: Outgoing) -> str:
        status, body, retry_after = await self._exchange(
            "POST", f"{self.url.base}/{self.url.user}/messages", data=whatsapp_body(message),
            headers={"Authorization": f"Bearer {self.url.secret}",
                     "Content-Type": "application/json"})
        try:
            return whatsapp_outcome(status, body, retry_after)
        except GatewayDownError as exc:
            self.down = str(exc)
            raise

    def verified(self, body: bytes, signature: str) -> bool:
        """Whether X-Hub-Signature-256 is sha256=<hex HMAC-SHA256 of the raw body>."""
        expected = whatsapp_signature(self.url.options["app_secret"], body).encode()
        return hmac.compare_digest(signature.strip().encode("utf-8", "surrogateescape"), expected)

    def receipts(self, fields: Fields) -> list[GatewayReceipt]:
        return [whatsapp_receipt(status) for status in whatsapp_values(fields, "statuses")]

    def inbound(self, fields: Fields) -> list[tuple[str, str]]:
        return [(phone, text) for phone, text, _ in whatsapp_texts(fields)]

    def describe(self, channels: list[str]) -> dict[str, Any]:
        return {**super().describe(channels), "verify_token": self.url.options["verify_token"]}


def whatsapp_signature(app_secret: str, body: bytes) -> str:
    """X-Hub-Signature-256 as Meta computes it over the body it posts."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_values(fields: Fields, kind: str) -> list[Mapping[str, Any]]:
    """Every status (or message) of a webhook post: it may batch entries and changes."""
    fields = as_mapping(fields)
    entries = fields.get("entry")
    if fields.get("object") != "whatsapp_business_account" or not isinstance(entries, list):
        raise ValueError('object must be "whatsapp_business_account", with a list of entry')
    return [item for entry in entries for change in as_list(as_mapping(entry).get("changes"))
            for item in as_list(as_mapping(as_mapping(change).get("value")).get(kind))
            if isinstance(item, Mapping)]


def whatsapp_texts(fields: Fields) -> list[tuple[str, str, str]]:
    """(phone, text, wamid) of each text message a customer sent; other types are not words."""
    return [(gateway_phone(field_text(m, "from")), m["text"]["body"],
             field_text(m, "id", required=False))
            for m in whatsapp_values(fields, "messages")
            if m.get("type") == "text" and isinstance(as_mapping(m.get("text")).get("body"), str)]


def whatsapp_receipt(status: Mapping[str, Any]) -> GatewayReceipt:
    """A status: id (the wamid), status, biz_opaque_callback_data (our reference), errors."""
    meaning = WHATSAPP_STATUSES.get(field_text(status, "status"))
    error = as_mapping((as_list(status.get("errors")) or [None])[0])
    words = short(f"whatsapp {whatsapp_words(error)}" if error else "whatsapp: failed")
    if error.get("code") == WHATSAPP_OUTSIDE_WINDOW:  # it usually comes this way, after a 200
        words = short(f"{WHATSAPP_WINDOW_WORDS} ({words})")
    return GatewayReceipt(field_text(status, "biz_opaque_callback_data", required=False) or None,
                          field_text(status, "id"), meaning,
                          words if meaning == "undelivered" else None)


class InProcessMock(Gateway):
    """The in-process mock as a gateway: the channels --whatsapp-provider-url leaves without
    one when --provider-url is empty."""

    kind = "mock"

    def __init__(self, mock: MockSender):
        self.url, self.callbacks, self.down = GatewayUrl("mock", ""), Callbacks(), None
        self._mock = mock

    async def open(self) -> None:
        return None

    def __call__(self, message: Outgoing) -> Awaitable[str | None]:
        return self._mock(message)

    def describe(self, channels: list[str]) -> dict[str, Any]:
        return {**super().describe(channels), "host": None, "url": None}  # it has no address


# -- SMPP 3.4 -------------------------------------------------------------------
# One bind_transceiver through aiosmpplib (imported only for an smpp:// URL): the library
# encodes the PDUs, picks GSM-7 or UCS-2, splits long texts into UDH parts and re-binds with
# backoff; this adapter adds the window, one awaitable outcome per text, the up/down state,
# and hands the deliver_sm it receives (receipts and customers' messages) to the service.

SMPP_PORT = 2775
SMPP_ENQUIRE_LINK = 30.0   # seconds between enquire_link (§20)
SMPP_READ_LIMIT = 2**16 + 1024  # bytes: aiosmpplib's own stream limit (a message_payload's 64 KB)
SMPP_THROTTLED = {0x58: "ESME_RTHROTTLED", 0x14: "ESME_RMSGQFUL"}
SMPP_UNDELIVERED = {"UNDELIV", "REJECTD", "EXPIRED", "DELETED", "UNKNOWN"}
SMPP_KNOWN_IDS = 100_000  # SMSC ids kept in memory for receipts (about 20 MB); older: the database
SMPP_RECEIPT = re.compile(r"(?:^|\s)id:(?P<id>\S+).*?\sstat:(?P<stat>[A-Za-z]+)"
                          r"(?:.*?\serr:(?P<err>\S+))?", re.DOTALL)


def smpp_outcome(status: int, name: str) -> SendError:
    """What a submit_sm_resp that is not ESME_ROK means (§20): throttled, permanent for every
    ESME_RINV* (invalid destination 0x0B among them), else transient."""
    said = f"{name or 'ESME_?'} (0x{status:08X})"
    if status in SMPP_THROTTLED:
        return ThrottledError(f"smpp throttled it: {said}", DEFAULT_RETRY_AFTER)
    if name.startswith("ESME_RINV"):
        return PermanentSendError(f"smpp refused it: {said}")
    return TransientSendError(f"smpp answered {said}")


def smpp_receipt(text: str, receipted_id: str | None = None) -> GatewayReceipt | None:
    """A delivery receipt's text ('id:IDENT sub:001 dlvrd:001 submit date:... done date:...
    stat:DELIVRD err:000 text:...') as a GatewayReceipt keyed by the SMSC's message id (the
    receipted_message_id option wins when given); None when it says no id or no stat."""
    found = SMPP_RECEIPT.search(text)
    if found is None or not (receipted_id or found["id"]):
        return None
    stat = found["stat"].upper()
    meaning = ("delivered" if stat == "DELIVRD" else
               "undelivered" if stat in SMPP_UNDELIVERED else None)
    error = short(f"smpp: {stat} err:{found['err'] or '?'}") if meaning == "undelivered" else None
    return GatewayReceipt(None, receipted_id or found["id"], meaning, error)


def smpp_library() -> Any:
    """aiosmpplib, imported only for an smpp:// URL; ConfigError saying how to get it."""
    try:
        import aiosmpplib
    except ImportError:
        raise ConfigError("--provider-url smpp:// needs aiosmpplib: "
                          "pip install aiosmpplib==0.7.4") from None
    return aiosmpplib


class SmppGateway(Gateway):
    """SMPP 3.4 to an SMSC (§20): one transceiver bind, up to `window` submit_sm in flight,
    enquire_link every 30 s, re-binding with backoff. A lost bind fails the attempts in flight
    as transient, sends those not yet written back unspent (GatewayDownError), and marks the
    gateway down until it binds again.
    Receipts and customers' messages arrive on the bind and wait in `reports()`."""

    kind = "smpp"

    def __init__(self, url: GatewayUrl, timeout: float, concurrency: int, callbacks: Callbacks,
                 clock: Clock):
        # it calls no URL back, and waits at least a second for the SMSC's every answer
        super().__init__(url, max(1.0, timeout), concurrency, Callbacks(), clock)
        self._lib = smpp_library()
        self._window = int(url.options.get("window", "50"))
        self._slots = asyncio.Semaphore(self._window)
        self._queue: deque = deque()                           # submit_sm not yet written
        self._ready = asyncio.Event()                          # _queue has one
        self._waiting: dict[str, asyncio.Future] = {}          # reference -> its outcome
        self._in_flight: set[str] = set()                      # references holding a slot
        self._known: dict[str, str] = {}  # the SMSC's message id -> our reference, oldest first
        self._receipts: list[GatewayReceipt] = []
        self._inbound: list[tuple[str, str]] = []
        self._arrived = asyncio.Event()
        self._bound = asyncio.Event()
        self._esme: Any = None
        self._runner: asyncio.Task | None = None
        self._unbinding = False                                # our unbind is written
        self._down = "not bound yet"  # no warning: it binds at once

    # -- the library's seams: broker, hook, correlator, retry timer --

    def _make_esme(self) -> Any:
        lib, gateway = self._lib, self
        address = urllib.parse.urlsplit(self.url.base)
        tls = ssl.create_default_context() if address.scheme == "smpps" else None  # system CAs

        class Broker(lib.AbstractBroker):
            async def enqueue(self, message: Any) -> None:  # the library writes its own PDUs
                gateway._queue.appendleft(message)                # directly; this is not used
                gateway._ready.set()

            async def dequeue(self) -> Any:
                return await gateway._next_pdu()

        class Hook(lib.AbstractHook):
            async def sending(self, message: Any, pdu: bytes, client_id: str) -> None:
                if isinstance(message, lib.Unbind):  # the library's sender loop may end now
                    gateway._unbinding = True
                    gateway._ready.set()

            async def received(self, message: Any, pdu: bytes, client_id: str) -> None:
                try:
                    gateway._received(message)
                except Exception:  # a bug of ours ends one PDU, not the library's session
                    log.exception("smpp: a PDU not taken: %s", type(message).__name__)

            async def send_error(self, message: Any, error: Exception, client_id: str) -> None:
                said = gateway.scrubbed(repr(error))
                gateway._settle(message.log_id, PermanentSendError(  # the PDU cannot be made
                    f"smpp: cannot encode it: {said}") if isinstance(error, ValueError) else
                    TransientSendError(f"smpp: not sent: {said}"))

        class Unthrottled(lib.AbstractThrottleHandler):
            """The service slows a throttled channel itself (ThrottledError, the pacer); the
            library's own handler held back every submit_sm for three minutes after a burst of
            ESME_RTHROTTLED, until the attempts waiting for it timed out."""

            async def throttled(self) -> None:
                pass

            async def not_throttled(self) -> None:
                pass

            async def allow_request(self) -> bool:
                return True

            async def throttle_delay(self) -> float:
                return 0.0

        class Backoff(lib.retrytimer.SimpleExponentialBackoff):
            async def wait(self) -> None:  # the library calls it once the bind is gone
                gateway._lost("not bound (lost or refused); binding again with backoff")
                await super().wait()

        class Esme(lib.ESME):
            async def connect(self) -> None:
                await super().connect()
                gateway.down = None
                gateway._bound.set()

            async def _handle_request(self, pdu: bytes, header: Any) -> Any:
                """A deliver_sm the library cannot take (a receipt whose dates have seconds, a
                header cut short) ended its session loop, and the bind: now a receipt or text
                we can read is ours to read (smpp_receipt), and any other is refused alone."""
                try:
                    return await super()._handle_request(pdu, header)
                except Exception as exc:  # one PDU, whatever the library raised
                    if header.smpp_command is not lib.SmppCommand.DELIVER_SM:
                        raise
                    try:
                        return lib.DeliverSm.from_pdu(pdu, header, self.default_encoding,
                                                      self.custom_codecs)
                    except Exception:  # noqa: BLE001
                        log.warning("smpp: a deliver_sm refused, unreadable: %s",
                                    gateway.scrubbed(repr(exc)))
                        await self._send_data(lib.DeliverSmResp(  # refused for good: no resend
                            header.sequence_num,
                            command_status=lib.SmppCommandStatus.ESME_RX_P_APPN))
                        return None

            async def _socket_operation(self, operation: Any) -> Any:
                """smpps://: aiosmpplib 0.7.4 has no TLS option, so the one connection its
                connect() opens is swapped for the same connection with TLS."""
                if tls is not None and getattr(operation, "cr_code", None) is (
                        asyncio.open_connection.__code__):
                    operation.close()
                    operation = asyncio.open_connection(self.smsc_host, self.smsc_port, ssl=tls,
                                                        limit=SMPP_READ_LIMIT)
                return await super()._socket_operation(operation)

        return Esme(
            smsc_host=address.hostname, smsc_port=address.port or SMPP_PORT,
            system_id=self.url.user, password=self.url.secret,
            system_type=self.url.options.get("system_type", ""),
            enquire_link_interval=SMPP_ENQUIRE_LINK, log_level=logging.CRITICAL,
            hook=Hook(), broker=Broker(), retry_timer=Backoff(), throttle_handler=Unthrottled(),
            correlator=smpp_correlator(lib)(self.url.user, max_ttl_response=self._timeout),
            socket_timeout=self._timeout)

    async def _next_pdu(self) -> Any:
        """The next PDU the library writes: a submit_sm only when a window slot is free (one
        per text: the library sends a long text's parts and answers once for all of them),
        and none whose attempt was given up meanwhile."""
        while True:
            while not self._queue:
                if self._unbinding:  # ends the sender loop at once, not after the library's
                    raise ConnectionResetError("unbinding")  # half a second for each of its tasks
                self._ready.clear()
                await self._ready.wait()
            message = self._queue.popleft()
            if not isinstance(message, self._lib.SubmitSm):
                return message
            if message.log_id in self._waiting:
                await self._slots.acquire()
                self._in_flight.add(message.log_id)
                return message

    def _received(self, message: Any) -> None:
        if isinstance(message, self._lib.SubmitSmResp) and message.log_id:
            status = int(message.command_status.value)
            if status == 0:
                self._known[message.message_id] = message.log_id  # for its receipts
                if len(self._known) > SMPP_KNOWN_IDS:
                    del self._known[next(iter(self._known))]
                self._settle(message.log_id, message.message_id)
            else:
                self._settle(message.log_id, smpp_outcome(status, message.command_status.name))
        elif isinstance(message, self._lib.DeliverSm):
            self._delivered(message)

    def _delivered(self, message: Any) -> None:
        """A deliver_sm (the library answers deliver_sm_resp): a receipt or a customer's text."""
        if message.is_receipt():
            tlv = next((str(p.value).rstrip("\0") for p in message.optional_params or ()
                        if p.tag == 0x001E), None)  # receipted_message_id
            receipt = smpp_receipt(message.short_message or "", tlv)
            if receipt is None or receipt.status is None:
                return
            self._receipts.append(receipt._replace(reference=self._known.get(receipt.provider_id)))
        else:
            text = message.short_message or message.message_payload or ""
            self._inbound.append((gateway_phone(message.source.number), text))
        self._arrived.set()

    def _settle(self, reference: str, outcome: str | SendError) -> None:
        if reference in self._in_flight:
            self._in_flight.discard(reference)
            self._slots.release()
        future = self._waiting.pop(reference, None)
        if future is not None and not future.done():
            if isinstance(outcome, SendError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _lost(self, why: str) -> None:
        """The bind is gone: what was in flight fails now, as transient; what was not written
        yet goes back, no attempt used (GatewayDownError), as do the attempts until the bind
        is back."""
        self.down = why
        self._bound.clear()
        self._queue = deque(m for m in self._queue if not isinstance(m, self._lib.SubmitSm))
        for reference in list(self._waiting):
            self._settle(reference, TransientSendError(f"smpp {why}")
                         if reference in self._in_flight else self._down_error())
        self._slots, self._in_flight = asyncio.Semaphore(self._window), set()

    def _down_error(self) -> GatewayDownError:
        return GatewayDownError(f"smpp {self.down}", DEFAULT_RETRY_AFTER)

    # -- the service's side --

    async def open(self) -> None:
        """Bind; ConfigError if the SMSC does not accept the bind within the time-out."""
        self._esme, self._unbinding = self._make_esme(), False
        self._runner = asyncio.create_task(self._esme.start(), name="smpp-bind")
        self._runner.add_done_callback(self._ended)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bound.wait(), self._timeout)
        if self.down:
            await self.close()
            raise ConfigError(f"cannot bind to the SMSC at {self.url.shown}: "
                              f"no bind_transceiver_resp OK within {self._timeout:g} s")

    def _ended(self, runner: asyncio.Task) -> None:
        """The library's session loop died (it retries every error it knows, so a bug of its):
        down for good, the messages waiting unspent, until the service is restarted."""
        if not runner.cancelled() and (exc := runner.exception()) is not None:
            log.error("smpp: the session loop stopped: %s; restart the service",
                      self.scrubbed(repr(exc)), exc_info=exc)
            self._lost(f"the session loop stopped: {self.scrubbed(repr(exc))}")

    async def close(self) -> None:
        if self._runner is not None:
            if self._esme.session_state is not self._lib.SmppSessionState.BOUND_TRX:
                self._unbinding = True  # the bind is lost and no unbind will be written: the
                self._ready.set()       # library's sender loop ends at once, not in 0.5 s
            with contextlib.suppress(Exception):  # unbind, when bound
                if self._bound.is_set() and not self._runner.done():
                    await asyncio.wait_for(self._esme.stop(), self._timeout)
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None
        self._lost("closed")

    async def __call__(self, message: Outgoing) -> str:
        if self.down:
            raise self._down_error()
        lib, source = self._lib, self.url.options["source"]
        source_kind = ((lib.TON.INTERNATIONAL, lib.NPI.ISDN) if source.lstrip("+").isdigit()
                       else (lib.TON.ALPHANUMERIC, lib.NPI.UNKNOWN))  # digits, else a name
        outcome = asyncio.get_running_loop().create_future()
        self._waiting[message.reference] = outcome
        self._queue.append(lib.SubmitSm(
            short_message=message.text, log_id=message.reference,
            source=lib.PhoneNumber(source.lstrip("+"), *source_kind),
            destination=lib.PhoneNumber(message.to.lstrip("+"), lib.TON.INTERNATIONAL,
                                        lib.NPI.ISDN),
            registered_delivery=1, esm_class=0x40, auto_message_payload=False))  # UDH parts
        self._ready.set()
        try:
            return await asyncio.wait_for(outcome, self._timeout)
        except TimeoutError:
            self._settle(message.reference, TransientSendError(""))
            raise TransientSendError(
                f"smpp: no submit_sm_resp within {self._timeout:g} s") from None
        finally:
            self._waiting.pop(message.reference, None)

    async def reports(self) -> tuple[list[GatewayReceipt], list[tuple[str, str]]]:
        """The receipts and customers' messages received since the last call (waits for one)."""
        await self._arrived.wait()
        self._arrived.clear()
        receipts, self._receipts = self._receipts, []
        inbound, self._inbound = self._inbound, []
        return receipts, inbound


def smpp_correlator(lib: Any) -> type:
    """aiosmpplib's SimpleCorrelator without what costs per message: its sweep of every entry
    on each call runs at most once a second, and the SMSC's message ids are kept by the
    gateway (a bounded map, then the database), not as whole submit_sm for three days."""

    class Correlator(lib.correlator.SimpleCorrelator):
        _last_sweep = 0.0

        async def _remove_expired(self) -> None:
            if time.monotonic() - self._last_sweep >= 1.0:
                self._last_sweep = time.monotonic()
                await super()._remove_expired()

        async def put_delivery(self, smsc_message_id: str, submit_sm: Any) -> None:
            pass

        async def get_delivery(self, receipt: Any) -> Any:
            return None

        async def get_segmented(self, smpp_seq_num: int, remove: bool = False) -> Any:
            """A part's entry goes with its answer, and the text's once every part is
            answered: the library leaves both for the receipts' bookkeeping, which this
            correlator does not keep, and its 256 reference numbers come round again."""
            status, code = await super().get_segmented(smpp_seq_num, remove=True)
            if status is not None and code != lib.correlator.STATUS_SENDING:
                reference = status.orig_submit_sm.get_segmentation_data()[0]
                self._segment_status_store.pop(str(reference), None)
            return status, code

    return Correlator


# -- the registry ---------------------------------------------------------------

GATEWAYS: dict[str, type[Gateway]] = {gateway.kind: gateway for gateway in (
    TwilioGateway, AfricasTalkingGateway, InfobipGateway, KannelGateway, WhatsAppGateway,
    SmppGateway)}


def gateway_callbacks(config: Config, kind: str) -> Callbacks:
    """Where a gateway calls back: under --public-url; tokened unless the gateway signs."""
    if not config.public_url:
        return Callbacks()
    base = f"{config.public_url.rstrip('/')}/providers/{kind}"
    if kind == "whatsapp":  # one webhook for statuses and messages (§20)
        return Callbacks(base, base)
    if kind == "twilio":
        return Callbacks(base + "/receipts", base + "/inbound")
    if not config.receipt_secret:
        return Callbacks()
    token = callback_token(config.receipt_secret, kind)
    inbound = f"{base}/inbound/{token}"
    if kind == "kannel":  # the sms-service's get-url, with Kannel's escapes
        inbound += "?from=%p&to=%P&text=%a&charset=%C&coding=%c"
    return Callbacks(f"{base}/receipts/{token}", inbound)


def open_gateway(url: GatewayUrl, config: Config, clock: Clock) -> Gateway:
    """The gateway a parsed --provider-url names."""
    timeout = config.provider_timeout_ms / 1000
    if url.kind == "generic":
        callback = (config.public_url.rstrip("/") + "/providers/receipts"  # none without a
                    if config.public_url and config.receipt_secret else None)  # secret: 404
        gateway = HttpSender(url.base, config.provider_token, timeout, config.concurrency,
                             callback, clock)
    else:
        gateway = GATEWAYS[url.kind](url, timeout, config.concurrency,
                                     gateway_callbacks(config, url.kind), clock)
    if url.kind != "smpp" and not any(gateway.callbacks):
        # said once it opens: a start that fails says one line, its reason
        gateway.unheard = "--receipt-secret" if config.public_url else "--public-url"
    return gateway


class GatewaySender:
    """The sender of a configuration with gateways: each message goes to its channel's."""

    def __init__(self, gateways: Mapping[str, Gateway]):
        self.gateways = dict(gateways)  # channel -> gateway (one may serve several channels)

    @property
    def distinct(self) -> list[Gateway]:
        return list({id(g): g for g in self.gateways.values()}.values())

    async def open(self) -> None:
        for gateway in self.distinct:
            await gateway.open()
        for gateway in self.distinct:  # once all are open: a start that fails says one line
            if gateway.unheard:
                log.warning("%s: no %s: the gateway has no URL to send delivery reports and "
                            "replies to, so none are recorded", gateway.kind, gateway.unheard)

    async def close(self) -> None:
        for gateway in self.distinct:
            await gateway.close()

    async def __call__(self, message: Outgoing) -> str | None:
        gateway = self.gateways[message.channel]
        try:
            return await gateway(message)
        except SendError as exc:  # its words may quote the gateway's answer, which may quote
            exc.args = (gateway.scrubbed(str(exc)),)  # our request and its credentials
            raise

    def by_kind(self, kind: str) -> Gateway | None:
        return next((g for g in self.distinct if g.kind == kind), None)

    def describe(self) -> list[dict[str, Any]]:
        return [gateway.describe([c for c, g in self.gateways.items() if g is gateway])
                for gateway in self.distinct]


def open_sender(config: Config, rng: random.Random, clock: Clock) -> Sender:
    """The provider the configuration names: its gateways for a --provider-url, else the
    mock; --whatsapp-provider-url gives the whatsapp channel its own."""
    mock = MockSender(config.send_latency_ms, config.failure_rate, rng)
    if not config.provider_url and not config.whatsapp_provider_url:
        return mock
    gateway = (open_gateway(parse_gateway_url(config.provider_url), config, clock)
               if config.provider_url else InProcessMock(mock))
    gateways = dict.fromkeys(CHANNELS, gateway)
    if config.whatsapp_provider_url:
        gateways[Channel.WHATSAPP] = open_gateway(
            parse_gateway_url(config.whatsapp_provider_url), config, clock)
    return GatewaySender(gateways)


# ---------------------------------------------------------------------------
# DISPATCH
# Jobs in, outcomes out: claim what can start soon in one transaction, render
# it, send it with at most `concurrency` attempts in flight, and commit the
# outcomes in small groups as they come (the Recorder).
# ---------------------------------------------------------------------------

RELEASE_DELAY = 1.0        # seconds before a message released unattempted is offered again
BOOKKEEPING_TIMEOUT = 5.0  # seconds shutdown allows interrupted batches to record their outcomes
SLICE = 100  # messages a batch renders or starts between two turns of the event loop
GROUP_WINDOW = 0.1  # seconds an outcome waits for others to share its commit
GROUP_MOST = 1000   # outcomes that make a group commit at once (or half the slots, if fewer)
HALT_POLL = 0.5  # seconds between two looks for campaigns another process paused or cancelled

CrashHandler = Callable[[str, BaseException], None]


def spawn(coro: Awaitable[None], name: str, on_crash: CrashHandler) -> asyncio.Task:
    """A named background task; if it dies of anything but cancellation, on_crash hears of it."""
    task = asyncio.ensure_future(coro)
    task.set_name(name)

    def report(done: asyncio.Task) -> None:
        if not done.cancelled() and done.exception() is not None:
            on_crash(name, done.exception())

    task.add_done_callback(report)
    return task


async def sleep_until(clock: Clock, when: float, wake: Signal) -> None:
    """Sleep on the clock (a test's clock moves when the test says) until `when`, or until
    `wake` is set: at once if it was set since its event was last cleared. `wake.idle` is set
    while sleeping."""
    timer = clock.call_at(when, wake.set)
    if not wake.event.is_set():
        wake.idle.set()
    try:
        await wake.event.wait()
    finally:
        timer.cancel()


async def keep_looking(look: Callable[[], Awaitable[float]], wake: Signal, clock: Clock,
                       name: str, nap: float = math.inf) -> None:
    """Call `look` for ever; it answers when to look again (a time already come: at once).
    Until then sleep on the clock, at most `nap` seconds, cut short if `wake` is set during
    the look or the sleep. A fault is waited out with a Backoff (logged as `name`'s)."""
    backoff = Backoff()
    while True:
        wake.event.clear()  # a change from here on means another look
        try:
            when = await look()
            backoff.succeeded()
        except FAULTS as exc:  # a locked or full database, a lost broker
            when = clock.now() + backoff.failed()
            log.warning("%s: %s; looking again in %.0f s", name, exc, backoff.delay)
        if when > clock.now():
            await sleep_until(clock, min(when, clock.now() + nap), wake)
        else:
            await asyncio.sleep(0)  # let what the look started run before the next one


class Slots:
    """At most `size` holders at once, first come first served.

    asyncio.Semaphore does this too, but on 3.11 its acquire() scans its
    waiters every time; here a free slot is taken without an await.
    """

    def __init__(self, size: int):
        self.free = size
        self._waiters: deque[asyncio.Future] = deque()

    def try_take(self) -> bool:
        if self.free and not self._waiters:
            self.free -= 1
            return True
        return False

    async def take(self) -> None:
        if self.try_take():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # give() hands its slot over by completing the waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.give()  # the slot came with the cancellation: pass it on
            raise

    def give(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.free += 1


class ChannelRates:
    """Attempts begun per channel over the last two seconds: how fast a channel was going
    when the provider throttled it (counted per batch, as its attempts begin)."""

    def __init__(self) -> None:
        self._seconds: dict[str, deque[list[int]]] = defaultdict(deque)

    def started(self, attempts: Sequence[Attempt], now: float) -> None:
        for channel, count in Counter(attempt.channel for attempt in attempts).items():
            seconds, second = self._seconds[channel], int(now)
            if seconds and seconds[-1][0] == second:
                seconds[-1][1] += count
            else:
                seconds.append([second, count])
                while seconds[0][0] < second - 2:
                    seconds.popleft()

    def rate(self, channel: str, now: float) -> float:
        return sum(count for second, count in self._seconds[channel] if second >= int(now) - 2) / 2


@dataclass(eq=False, slots=True)
class Flight:
    """A claim being sent: its attempts running as tasks, how many of its messages have no
    outcome yet, and a future that completes once every outcome is committed."""

    token: int
    campaigns: tuple[int, ...]
    unsettled: int
    committed: asyncio.Future
    tasks: set[asyncio.Task] = field(default_factory=set)
    failure: BaseException | None = None  # a group holding some of its outcomes failed to commit


class Recorder:
    """Commits outcomes in small groups as attempts end, never held to the end of a batch.

    A group is committed GROUP_WINDOW seconds after its first outcome, or at once when `most`
    are ready (half the attempt slots: a wave of answers) or nothing claimed is left without an
    outcome (a provider that answers at once: a claim's outcomes go in one commit). With
    `at_batch_end` (the benchmark's comparison) only a claim's last outcome commits. Groups
    commit one after another, in order; `commit` stores one.
    """

    def __init__(self, commit: Callable[[list[Attempt], list[int]], Awaitable[None]],
                 clock: Clock, on_crash: CrashHandler, most: int, at_batch_end: bool = False):
        self._commit = commit
        self._most = max(1, min(GROUP_MOST, most))
        self._clock = clock
        self._at_batch_end = at_batch_end
        self._ready: list[Attempt] = []
        self._flights: set[Flight] = set()      # flights with outcomes in the group
        self._finished: list[Flight] = []       # flights whose last outcome is in the group
        self.unsettled = 0                      # claimed messages without an outcome yet
        self._due = asyncio.Event()
        self.idle = asyncio.Event()             # nothing ready, nothing being committed
        self.idle.set()
        self._timer: Any = None
        self._task = spawn(self._run(), "dispatcher-recorder", on_crash)

    def add(self, flight: Flight, attempts: Sequence[Attempt]) -> None:
        """Outcomes of a flight's attempts (or messages released unattempted), to commit soon."""
        if not attempts:
            return
        self.idle.clear()
        self._ready += attempts
        self._flights.add(flight)
        flight.unsettled -= len(attempts)
        self.unsettled -= len(attempts)
        if not flight.unsettled:
            self._finished.append(flight)
        if self._at_batch_end:
            if not flight.unsettled:
                self._due.set()
        elif len(self._ready) >= self._most or not self.unsettled:
            self._due.set()
        elif self._timer is None:
            self._timer = self._clock.call_at(self._clock.now() + GROUP_WINDOW, self._due.set)

    async def _run(self) -> None:
        while True:
            await self._due.wait()
            self._due.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._ready or self._finished:
                await self._flush()
            if not self._ready:
                self.idle.set()

    async def _flush(self) -> None:
        group, flights, finished = self._ready, self._flights, self._finished
        self._ready, self._flights, self._finished = [], set(), []
        try:
            await self._commit(group, [f.token for f in finished if f.failure is None])
        except Exception as exc:  # noqa: BLE001 - the flights' jobs come back after their lease
            for flight in flights:
                flight.failure = flight.failure or exc
        for flight in finished:
            if flight.committed.done():  # its batch was cancelled
                continue
            if flight.failure is None:
                flight.committed.set_result(None)
            else:
                flight.committed.set_exception(flight.failure)

    async def close(self) -> None:
        """Commit what is ready, then stop."""
        if self._ready or self._finished:
            await self._flush()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _run_at_once(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine that never waits (an attempt at a sender that `answers_at_once`)."""
    try:
        coro.send(None)
    except StopIteration:
        return
    coro.close()
    raise RuntimeError("a sender that answers at once waited")


class Dispatcher:
    """Turns queued jobs into sent (or failed) messages, and paces rate-limited channels.

    The intake takes jobs while the messages in progress stay within a budget (all attempt
    slots busy and a job ready behind them). A job is claimed a part at a time, sized to what
    can start soon (about `concurrency` messages, or what the provider answers in GROUP_WINDOW
    when that is more), and one claim at a time waits for attempt slots: the messages a
    campaign counts as `sending` are those really in flight, one claim waiting, and outcomes
    not yet committed. Each attempt is a task of its own (so the provider's time-out cancels it
    alone) unless the provider answers without waiting; its outcome goes to the Recorder, which
    commits outcomes in small groups. A claim's lease is `claim_timeout` seconds and its
    messages must start within half of it; what has not started by then is released
    unattempted, so a claim never lapses while its owner lives. A message of a campaign paused
    or cancelled after its claim is released too, never attempted.

    Rate-limited campaigns and channels (configured, or throttled by the provider) bypass the
    job queue: the pacer claims their messages straight from the database, as fast as their
    token buckets allow, round-robin by campaign.
    """

    def __init__(self, config: Config, store: Store, queue: JobQueue, campaigns: Campaigns,
                 sender: Sender, policy: RetryPolicy, clock: Clock, on_crash: CrashHandler,
                 metrics: Metrics):
        self._config = config
        self._store = store
        self._queue = queue
        self._campaigns = campaigns
        self._sender = sender
        self._inline = getattr(sender, "answers_at_once", False)  # no task needed per attempt
        self._policy = policy
        self._clock = clock
        self._on_crash = on_crash
        self._metrics = metrics
        self._lease: float = config.claim_timeout
        self._slots = Slots(config.concurrency)             # attempts in flight
        metrics.in_flight.set_function(lambda: config.concurrency - self._slots.free)
        self._budget = message_budget(config)
        self._in_progress = 0                                # messages of jobs taken, not recorded
        self._room = asyncio.Event()                         # set while in_progress < budget
        self._room.set()
        self._claiming = asyncio.Lock()                      # held by the claim waiting for slots
        self._rates = ChannelRates()
        self._latency = metrics.provider_latency
        self._batches: set[asyncio.Task] = set()
        self._flights: set[Flight] = set()                   # claims with attempts to start or end
        self._flying: Counter[int] = Counter()               # campaign -> claims sending it
        self._loops: list[asyncio.Task] = []
        self._recorder: Recorder | None = None
        self._closing = False                                # stop(): start nothing new
        self._aborted = asyncio.get_running_loop().create_future()  # stop() ran out of time

    def start(self) -> None:
        self._recorder = Recorder(self._record, self._clock, self._on_crash,
                                  self._config.concurrency // 2,
                                  at_batch_end=not self._config.group_commits)
        pacer = keep_looking(self._pace, self._campaigns.pace_changed, self._clock, "pacer",
                             PACE_POLL)
        self._loops = [spawn(self._take_jobs(), "dispatcher-intake", self._on_crash),
                       spawn(pacer, "dispatcher-pacer", self._on_crash)]
        if not self._store.db.exclusive:  # other processes may pause what this one sends
            self._loops.append(spawn(self._watch_halts(), "dispatcher-halts", self._on_crash))

    @property
    def busy(self) -> bool:
        """Whether any job is being worked on."""
        return bool(self._batches)

    # -- the job queue ------------------------------------------------------

    async def _take_jobs(self) -> None:
        while True:
            await self._room.wait()
            delivery = await self._queue.get()
            self._start_batch(self._handle(delivery), len(delivery.ids))

    def _start_batch(self, work: Coroutine[Any, Any, None], size: int) -> None:
        self._in_progress += size
        if self._in_progress >= self._budget:
            self._room.clear()
        batch = asyncio.create_task(work, name="dispatcher-batch")
        self._batches.add(batch)

        def done(task: asyncio.Task) -> None:
            self._batches.discard(task)
            self._in_progress -= size
            if self._in_progress < self._budget:
                self._room.set()

        batch.add_done_callback(done)

    async def _handle(self, delivery: Delivery) -> None:
        try:
            try:
                await self.process(delivery.ids)
            except Exception as exc:
                # The job may have left claims behind (say, sent but not recorded): it comes
                # back once they have lapsed, so its messages can be claimed again.
                if isinstance(exc, FAULTS):
                    log.warning("a job of %d messages waits %.0f s: %s", len(delivery.ids),
                                self._lease, exc)
                else:
                    log.exception("a job of %d messages failed; it comes back in %.0f s",
                                  len(delivery.ids), self._lease)
                await self._queue.publish([delivery.ids], self._lease)
            await delivery.ack()
        except Exception as exc:  # noqa: BLE001 - a failed job must never stop the intake
            log.warning("a job stays unacknowledged (%r); the queue will deliver it again", exc)

    async def process(self, ids: Sequence[int]) -> None:
        """Claim, render, send and record one job's messages, a claim at a time."""
        flights, start = [], 0
        try:
            while start < len(ids) and not self._closing:
                async with self._claiming:  # one claim at a time waits for slots
                    part = ids[start:start + self._claim_size()]
                    start += len(part)
                    now, claimed = self._clock.now(), self._campaigns.stamp()
                    token = secrets.randbits(62)
                    claim = await self._store.claims.claim(part, now, token, now + self._lease)
                    await self._campaigns.publish_by_due(claim.deferred)
                    if (flight := await self._send_claimed(claim, token, claimed)) is not None:
                        flights.append(flight)
        finally:
            await self._committed(flights)

    def _claim_size(self) -> int:
        """What can start soon: the slots, or what the provider answers in GROUP_WINDOW (all
        of a job with a provider that answers at once)."""
        if self._inline:
            return self._config.job_size
        now = self._clock.now()
        answered = sum(self._rates.rate(channel, now) for channel in CHANNELS) * GROUP_WINDOW
        return min(self._config.job_size, max(self._config.concurrency, int(answered)))

    @staticmethod
    async def _committed(flights: Sequence[Flight]) -> None:
        """Wait until the flights' outcomes are committed; the first failure, if any."""
        failures = await asyncio.gather(*(f.committed for f in flights), return_exceptions=True)
        for failure in failures:
            if isinstance(failure, BaseException):
                raise failure

    async def _send_claimed(self, claim: Claim, token: int, claimed: int,
                            paced: bool = False) -> Flight | None:
        """Start sending what a claim took (`claimed`: its stamp, taken before it claimed);
        return once each of its messages has started or been released."""
        self._metrics.count_suppressed(claim.suppressed)
        if not claim.rows:
            return None
        now = self._clock.now()
        attempts = await self._prepare(claim, token, paced)
        flight = Flight(token, tuple(claim.campaigns), len(attempts),
                        asyncio.get_running_loop().create_future())
        self._flights.add(flight)
        self._flying.update(flight.campaigns)
        self._recorder.unsettled += len(attempts)
        deadline = now + self._lease / 2  # what has not started by then is released
        timer = self._clock.call_at(deadline, functools.partial(self._expire, flight))
        flight.committed.add_done_callback(lambda _: self._landed(flight, timer))
        await self._start_all(attempts, flight, claimed, deadline)
        return flight

    def _landed(self, flight: Flight, timer: Any) -> None:
        timer.cancel()
        self._flights.discard(flight)
        self._flying.subtract(flight.campaigns)
        self._flying = +self._flying  # campaigns with none in flight drop out

    # -- the pacer ----------------------------------------------------------

    async def _pace(self) -> float:
        """Claim paced channels' messages as their buckets fill; when to look again: at the
        next token, or at a change (a send, a resume, a throttle), or after PACE_POLL."""
        return min([await self._pace_channel(channel) for channel in CHANNELS])

    async def _pace_channel(self, channel: str) -> float:
        """One paced claim on a channel; when to look at it again."""
        now = self._clock.now()
        room = min(self._config.job_size, self._budget - self._in_progress)
        if self._closing or room <= 0:
            return now + PACE_TICK
        token, claimed = secrets.randbits(62), self._campaigns.stamp()
        paced = await self._store.claims.claim_paced(channel, now, token, now + self._lease,
                                                     room, self._config.rate_limits.get(channel))
        if paced.lifted:
            log.info("pacer: %s is back to its full speed; its messages go through the queue",
                     channel)
            with contextlib.suppress(QueueUnavailable):  # recovery publishes them, then
                await self._campaigns.publish_pending()
        if paced.claim.rows:
            self._start_batch(self._send_paced(paced.claim, token, claimed), len(paced.claim.rows))
        return math.inf if paced.next_look is None else paced.next_look

    async def _send_paced(self, claim: Claim, token: int, claimed: int) -> None:
        flight = await self._send_claimed(claim, token, claimed, paced=True)
        await self._committed([flight] if flight else [])

    # -- attempts -----------------------------------------------------------

    async def _prepare(self, claim: Claim, token: int, paced: bool) -> list[Attempt]:
        """Render each claimed message; a template that no longer parses fails its message.
        A slice at a time: requests wait no longer for a batch than for a few messages."""
        templates: dict[int, tuple | TemplateError] = {}
        for campaign_id, (_, text) in claim.campaigns.items():
            try:
                templates[campaign_id] = positional(parse_template(text))
            except TemplateError as exc:
                templates[campaign_id] = exc
        whatsapp = {campaign_id: stored_whatsapp_template(text)
                    for campaign_id, text in claim.whatsapp.items()}
        attempts = []
        for n, message in enumerate(claim.rows):
            if n and not n % SLICE:
                await asyncio.sleep(0)
            channel = claim.campaigns[message.campaign_id][0]
            attempt = Attempt(message.id, message.campaign_id, channel, message.phone, "",
                              message.retry_count, token=token, paced=paced)
            template = templates[message.campaign_id]
            if isinstance(template, TemplateError):
                attempt.result, attempt.error = Result.FAILED, f"invalid template: {template}"
            else:
                attempt.text = render_row(template, message.fields)
                if message.campaign_id in whatsapp:
                    attempt.whatsapp_template = render_whatsapp_template(
                        whatsapp[message.campaign_id], message.fields)
            attempts.append(attempt)
        return attempts

    async def _start_all(self, attempts: list[Attempt], flight: Flight, claimed: int,
                         deadline: float) -> None:
        """Start a claim's attempts in order, each as a slot frees up, until `deadline`;
        a slice at a time (with no provider latency an attempt is over as it starts). What
        ends at once goes to the Recorder together, before any wait for a slot."""
        self._rates.started(attempts, self._clock.now())
        self._metrics.note_step()
        ended: list[Attempt] = []
        for n, attempt in enumerate(attempts):
            if n and not n % SLICE:
                await asyncio.sleep(0)
            if attempt.result is None and not self._slots.try_take():
                self._recorder.add(flight, ended)
                ended = []
                if not await self._slot_before(deadline):
                    attempt.result = Result.RELEASED
            if attempt.result is None and self._start(attempt, flight, claimed):
                continue  # a task of its own: it hands its outcome over as it ends
            ended.append(attempt)
        self._recorder.add(flight, ended)

    def _start(self, attempt: Attempt, flight: Flight, claimed: int) -> bool:
        """Begin an attempt in the slot taken for it; whether it goes on in a task."""
        if self._closing or self._campaigns.stops(attempt.campaign_id, claimed):
            attempt.result = Result.RELEASED
        elif not self._inline:
            task = asyncio.create_task(self._attempt(attempt))
            flight.tasks.add(task)
            task.add_done_callback(functools.partial(self._attempt_ended, flight, attempt))
            return True
        else:
            _run_at_once(self._attempt(attempt))
        self._slots.give()
        return False

    async def _slot_before(self, deadline: float) -> bool:
        """Wait for an attempt slot until `deadline` (or shutdown); whether one was had."""
        took = asyncio.ensure_future(self._slots.take())
        expired = asyncio.get_running_loop().create_future()
        timer = self._clock.call_at(deadline, lambda: expired.done() or expired.set_result(None))
        try:
            await asyncio.wait((took, expired, self._aborted), return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not took.done():
                took.cancel()
                await asyncio.gather(took, return_exceptions=True)
        return took.done() and not took.cancelled() and took.exception() is None

    def _attempt_ended(self, flight: Flight, attempt: Attempt, task: asyncio.Task) -> None:
        flight.tasks.discard(task)
        if attempt.result is None:  # cancelled: at the claim's deadline, or by shutdown
            if not attempt.started or self._closing:
                # Our own shutdown uses up no retry: the message is released, to be attempted
                # again (with the same reference) after the restart.
                attempt.result = Result.RELEASED
            else:
                self._fail_transiently(attempt, "provider timeout")
        self._slots.give()
        self._recorder.add(flight, [attempt])

    def _expire(self, flight: Flight) -> None:
        """Half the claim's lease is over: attempts still running end as time-outs."""
        for task in list(flight.tasks):
            task.cancel()

    async def _attempt(self, attempt: Attempt) -> None:
        attempt.started = True
        began = time.perf_counter()
        try:
            try:
                attempt.provider_id = await self._sender(Outgoing(
                    str(attempt.message_id), attempt.channel, attempt.phone, attempt.text,
                    attempt.whatsapp_template))
            finally:
                self._latency.observe(attempt.channel, time.perf_counter() - began)
            attempt.result = Result.SENT
        except ThrottledError as exc:
            attempt.result, attempt.error = Result.THROTTLED, str(exc)
            attempt.retry_after = exc.retry_after
            attempt.next_attempt_at = self._clock.now() + exc.retry_after
        except TransientSendError as exc:
            self._fail_transiently(attempt, str(exc))
        except PermanentSendError as exc:
            attempt.result, attempt.error = Result.FAILED, str(exc)
            attempt.opted_out = isinstance(exc, OptedOutError)
        except Exception as exc:
            log.exception("the sender raised an unexpected error for message %d",
                          attempt.message_id)
            self._fail_transiently(attempt, f"sender error: {type(exc).__name__}")
        finally:  # a gateway's words, as the database can hold them
            attempt.provider_id = attempt.provider_id and sane(attempt.provider_id)
            attempt.error = attempt.error and sane(attempt.error)

    def _fail_transiently(self, attempt: Attempt, error: str) -> None:
        delay = self._policy.delay(attempt.retry_count + 1)
        attempt.error = error
        if delay is None:
            attempt.result = Result.FAILED
        else:
            attempt.result, attempt.retry_count = Result.RETRY, attempt.retry_count + 1
            attempt.next_attempt_at = self._clock.now() + delay

    async def _record(self, attempts: list[Attempt], finished: list[int]) -> None:
        """Store a group's outcomes; slow down channels the provider throttled; then publish
        the retries and any released messages (the pacer finds paced ones by itself)."""
        now = self._clock.now()
        done = await self._store.outcomes.record(attempts, now, finished)
        self._metrics.count_outcomes(attempts)
        for campaign_id, _ in done:
            await self._campaigns.log_finished(campaign_id)
        await self._slow_down_throttled(attempts, now)
        retries = sorted(((a.message_id, a.next_attempt_at) for a in attempts if not a.paced
                          and a.result in (Result.RETRY, Result.THROTTLED)), key=lambda r: r[1])
        await self._campaigns.publish_by_due(retries)
        # Released messages go back to the queue even when their campaign is halted: a claim
        # skips them while it is, and a resume that came first has published them already.
        released = [a.message_id for a in attempts if a.result is Result.RELEASED and not a.paced]
        if released and not self._closing:
            await self._campaigns.enqueue(released, RELEASE_DELAY)

    async def _slow_down_throttled(self, attempts: list[Attempt], now: float) -> None:
        waits: dict[str, float] = {}
        for attempt in attempts:
            if attempt.result is Result.THROTTLED:
                waits[attempt.channel] = max(waits.get(attempt.channel, 0.0), attempt.retry_after)
        for channel, retry_after in waits.items():
            pace = await self._store.claims.slow_down(channel, now, retry_after,
                                                      self._rates.rate(channel, now),
                                                      self._config.rate_limits.get(channel))
            # said once a halving: at the slowest rate (a gateway down for long) it goes quiet
            said = log.warning if pace.rate_at == now and pace.rate > MIN_RATE else log.debug
            said("provider throttles %s, or is down: %.0f messages/s from now, nothing for "
                 "%.1f s", channel, pace.current_rate(now) or 0, retry_after)
            self._campaigns.pace_changed.set()

    # -- halts from other processes ----------------------------------------

    async def _watch_halts(self) -> None:
        """With several processes on one database, a pause or a cancel that another process
        answered reaches this one's batches in flight within HALT_POLL seconds."""
        while True:
            await asyncio.sleep(HALT_POLL)
            try:
                await self.look_for_halts()
            except Exception as exc:  # noqa: BLE001 - a look that failed is made again
                log.warning("dispatcher: could not look for campaigns paused elsewhere: %s", exc)

    async def look_for_halts(self) -> None:
        """Halt the campaigns in flight that the database says are paused or cancelled."""
        if self._flying:
            since = self._campaigns.stamp()  # before the read: later batches saw it themselves
            for campaign_id in await self._store.campaigns.halted_among(list(self._flying)):
                self._campaigns.halt(campaign_id, since)

    # -- stopping -----------------------------------------------------------

    async def stop(self, timeout: float) -> None:  # noqa: ASYNC109 - grace period, not a deadline
        """Stop taking jobs; let attempts in flight finish within `timeout` s; release the rest."""
        self._closing = True
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        if self._batches:
            _, running = await asyncio.wait(self._batches, timeout=timeout)
            if running:
                log.warning("shutdown: %d batches still sending after %.1f s; interrupting them",
                            len(running), timeout)
                if not self._aborted.done():  # a second stop (serve(), then the cleanup)
                    self._aborted.set_result(None)
                for flight in self._flights:
                    self._expire(flight)
                _, stuck = await asyncio.wait(running, timeout=BOOKKEEPING_TIMEOUT)
                for batch in stuck:
                    batch.cancel()
        if self._recorder is not None:
            await self._recorder.close()

    async def recorded(self) -> None:
        """For tests: wait until the outcomes ready to commit are committed (a group waiting
        for its window waits for the clock)."""
        await self._recorder.idle.wait()

    async def drain(self) -> None:
        """For tests: wait until no job is ready and no batch is running (delayed jobs wait)."""
        if not self._loops:
            raise RuntimeError("the dispatcher is not running")
        while self._queue.ready() or self._batches:
            if self._batches:
                await asyncio.wait(set(self._batches))
            else:
                await asyncio.sleep(0)  # let the intake task take the ready job


# ---------------------------------------------------------------------------
# SCHEDULER
# Background loops on the clock: the scheduler starts campaigns at their
# scheduled_at; the healer publishes again what a fault of the queue left
# without a job; the progress log says how sending campaigns are going.
# ---------------------------------------------------------------------------

SCHEDULER_NAP = 60.0   # seconds: the longest the scheduler sleeps without looking again
HEAL_INTERVAL = 5.0    # seconds between the healer's looks
STRANDED_AFTER = 60.0  # seconds a due message may wait, with no job anywhere, before a sweep


class BackgroundLoop:
    """A loop that runs as one named, supervised task (see spawn), from start() to stop(),
    and sleeps on the clock between its passes; setting `wake` cuts a sleep short."""

    name = "background"

    def __init__(self, clock: Clock, on_crash: CrashHandler, wake: Signal | None = None):
        self._clock = clock
        self._on_crash = on_crash
        self.wake = wake or Signal()
        self._task: asyncio.Task | None = None

    @property
    def idle(self) -> asyncio.Event:
        """For tests: set while the loop sleeps with nothing left to do."""
        return self.wake.idle

    def start(self) -> None:
        self._task = spawn(self._run(), self.name, self._on_crash)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        raise NotImplementedError

    async def _sleep(self, seconds: float) -> None:
        """Sleep `seconds` on the clock (for a loop that looks at fixed intervals)."""
        self.wake.event.clear()
        await sleep_until(self._clock, self._clock.now() + seconds, self.wake)


class Scheduler(BackgroundLoop):
    """Starts scheduled campaigns when they fall due: it sleeps until the earliest (woken early
    when a campaign is created, edited or sent), and one that fell due while the service was
    down starts on its first pass."""

    name = "scheduler"

    def __init__(self, store: Store, campaigns: Campaigns, clock: Clock, on_crash: CrashHandler):
        super().__init__(clock, on_crash, campaigns.schedule_changed)
        self._store = store
        self._campaigns = campaigns

    async def _run(self) -> None:
        await keep_looking(self._look, self.wake, self._clock, "scheduler", SCHEDULER_NAP)

    async def _look(self) -> float:
        """Start the campaigns that are due; when the next one falls due."""
        await self._campaigns.start_due()
        due = await self._store.campaigns.next_due_time()
        return math.inf if due is None else due


class Healer(BackgroundLoop):
    """Keeps pending work moving whatever went wrong: publishes it again after a publish
    failed, a lost broker came back or a sweep finds messages with no job anywhere; hands
    the messages of a worker that died (its claims lapsed) to a live one; and probes a
    database that refused writes until it takes them again."""

    name = "healer"

    def __init__(self, store: Store, queue: JobQueue, campaigns: Campaigns,
                 dispatcher: Dispatcher, clock: Clock, on_crash: CrashHandler):
        super().__init__(clock, on_crash)
        self._store = store
        self._queue = queue
        self._campaigns = campaigns
        self._dispatcher = dispatcher
        self._reconnects_seen = queue.reconnects
        self._next_sweep = clock.now() + STRANDED_AFTER

    async def _run(self) -> None:
        backoff = Backoff()
        wait = HEAL_INTERVAL
        while True:
            await self._sleep(wait)
            try:
                await self.heal()
            except FAULTS as exc:
                wait = max(HEAL_INTERVAL, backoff.failed())
                log.warning("healer: %s; looking again in %.0f s", exc, wait)
            else:
                backoff.succeeded()
                wait = HEAL_INTERVAL

    async def heal(self) -> None:
        """One look: the database first, then the queue and what it may be missing."""
        if self._store.db.write_failure is not None:
            await self._store.db.probe()
        if not self._queue.healthy():
            return
        if self._campaigns.debt or self._queue.reconnects != self._reconnects_seen:
            self._reconnects_seen = self._queue.reconnects
            await self._campaigns.recover()
            return
        await self._campaigns.release_lapsed_claims()
        if self._clock.now() >= self._next_sweep:
            self._next_sweep = self._clock.now() + STRANDED_AFTER
            await self._sweep()
            await self._store.outbox.forget_old_receipts(self._clock.now() - EVENT_LIFETIME)
            await self._store.outbox.forget_old(self._clock.now() - EVENT_RETENTION)

    async def _sweep(self) -> None:
        """With no job waiting and nothing being sent, a message due for a minute is stranded."""
        if self._queue.ready() or self._dispatcher.busy or await self._queue.depth():
            return
        if await self._store.claims.has_overdue_messages(self._clock.now() - STRANDED_AFTER):
            log.warning("healer: due messages have no job anywhere; publishing them again")
            await self._campaigns.recover()


PROGRESS_INTERVAL = 10.0  # seconds between the log's progress lines of a sending campaign


class ProgressLog(BackgroundLoop):
    """Every 10 seconds, a line for each campaign that is sending: sent, failed, pending, rate."""

    name = "progress-log"

    def __init__(self, store: Store, clock: Clock, on_crash: CrashHandler):
        super().__init__(clock, on_crash)
        self._store = store
        self._settled: dict[int, tuple[float, int]] = {}  # campaign -> (when, settled), last line

    async def _run(self) -> None:
        while True:
            await self._sleep(PROGRESS_INTERVAL)
            with contextlib.suppress(*FAULTS):  # a line missed; the next comes in 10 s
                self.report(await self._store.campaigns.active(), self._clock.now())

    def report(self, campaigns: Iterable[Mapping[str, Any]], now: float) -> None:
        settled_before, self._settled = self._settled, {}
        for campaign in campaigns:
            if campaign["status"] != CampaignStatus.SENDING:
                continue
            stats = message_stats(campaign)
            pending = stats["pending"] + stats["sending"]
            settled = stats["total"] - pending
            then, before = settled_before.get(campaign["id"], (now, settled))
            rate = ((settled - before) / (now - then) if now > then  # since the last line, or
                    else campaign_progress(campaign, now)["rate_per_second"])  # first: sampled
            self._settled[campaign["id"]] = (now, settled)
            log.info("campaign %d sending: %d sent, %d failed, %d pending, %.0f messages/s",
                     campaign["id"], stats["sent"], stats["failed"], pending, rate,
                     extra={"event": "campaign_progress", "campaign_id": campaign["id"],
                            "sent": stats["sent"], "failed": stats["failed"],
                            "pending": pending, "rate": round(rate, 1)})


# ---------------------------------------------------------------------------
# WEBHOOKS
# Standard Webhooks 1.0: a request carries webhook-id, webhook-timestamp and
# webhook-signature ("v1,<base64 HMAC-SHA256 of id.timestamp.body>"), keyed by
# a secret written whsec_<base64>. Receipts from the provider are verified
# with it; the events this service sends from its outbox are signed with it.
# ---------------------------------------------------------------------------

SIGNATURE_TOLERANCE = 300.0  # seconds a signed request's timestamp may be off


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def webhook_signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def webhook_headers(secret: str, message_id: str, timestamp: float, body: bytes) -> dict[str, str]:
    """The headers that sign `body` as Standard Webhooks says."""
    stamp = math.floor(timestamp)
    return {"webhook-id": message_id, "webhook-timestamp": str(stamp),
            "webhook-signature": webhook_signature(secret_key(secret), message_id, stamp, body)}


def signature_problem(key: bytes, headers: Mapping[str, str], body: bytes,
                      now: float) -> str | None:
    """Why a signed request is not to be trusted, or None when it is."""
    message_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not (message_id and stamp and signatures):
        return "webhook-id, webhook-timestamp and webhook-signature are required"
    if not (message_id.isascii() and message_id.isprintable()):
        return "webhook-id must be printable ASCII"
    if not re.fullmatch(r"\d{1,12}", stamp):
        return "webhook-timestamp must be whole seconds since 1970"
    if abs(now - int(stamp)) > SIGNATURE_TOLERANCE:
        return f"webhook-timestamp is more than {SIGNATURE_TOLERANCE:.0f} s off"
    expected = webhook_signature(key, message_id, int(stamp), body).encode()
    if not any(hmac.compare_digest(expected, given.encode("utf-8", "surrogateescape"))
               for given in signatures.split()):
        return "no webhook-signature matches"
    return None


WEBHOOK_TIMEOUT = 10.0     # seconds a receiver has to answer
WEBHOOK_LONGEST_WAIT = 3600.0  # the backoff between attempts stops doubling here
WEBHOOK_POLL = 1.0         # seconds between looks at an empty outbox


def webhook_retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: 1, 2, 4, ... an hour."""
    return min(WEBHOOK_LONGEST_WAIT, 2.0 ** (attempts - 1))


class WebhookSender(BackgroundLoop):
    """Delivers the outbox to --webhook-url: oldest event first, each until a 2xx (at least
    once), signed, with the same webhook-id on every attempt; an event still failing 24 hours
    after its first attempt is dead, and the next one goes."""

    name = "webhook-sender"

    def __init__(self, store: Store, url: str, secret: str, clock: Clock, on_crash: CrashHandler):
        super().__init__(clock, on_crash)
        self._store = store
        self._url = url
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None
        self.written = self.wake  # set when events are written (Store.on_events_written)

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT))
        super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        await keep_looking(self.deliver_next, self.wake, self._clock, "webhooks")

    async def deliver_next(self) -> float:
        """Try the oldest pending event if it is due; when to look again (now: at once)."""
        now = self._clock.now()
        if not await self._store.db.hold("webhook-sender"):
            return now + WEBHOOK_POLL  # another process delivers the outbox
        head = await self._store.outbox.next()
        if head is None:
            return now + WEBHOOK_POLL
        event_id, body, attempts, due, first_attempt = head
        if due > now:
            return due
        error = await self._post(f"evt_{event_id}", body.encode())
        if error is None:
            await self._store.outbox.delivered(event_id, self._clock.now())
        elif now - (first_attempt or now) >= EVENT_LIFETIME:
            log.error("webhooks: event %d is dead after %d attempts: %s", event_id, attempts + 1,
                      error)
            await self._store.outbox.failed(event_id, error, now, None)
        else:
            await self._store.outbox.failed(event_id, error, now,
                                            now + webhook_retry_delay(attempts + 1))
        return now

    async def _post(self, event_id: str, body: bytes) -> str | None:
        """Why the receiver did not take the event, or None when it did (a 2xx)."""
        headers = {"Content-Type": "application/json",
                   **webhook_headers(self._secret, event_id, self._clock.now(), body)}
        try:
            async with self._session.post(self._url, data=body, headers=headers) as response:
                answer = await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"{response.status}: {provider_text(answer)}"
        except TimeoutError:
            return f"no answer within {WEBHOOK_TIMEOUT:.0f} s"
        except aiohttp.ClientError as exc:
            return f"unreachable: {exc or type(exc).__name__}"


# ---------------------------------------------------------------------------
# HTTP
# Handlers validate, call one domain function, and shape the JSON. Errors
# are raised (domain errors by the domain, ApiError by this layer) and
# rendered by one middleware, which maps them to status codes from one
# table and turns the router's own 404/405 and anything unexpected into
# the same JSON shape.
# ---------------------------------------------------------------------------

MAX_BODY_BYTES = 8 * 1024 * 1024
IDLE_TIMEOUT = 15.0  # seconds a connection may wait for (the rest of) its request headers
BODY_TIMEOUT = 30.0  # seconds a request may take to send its body
LISTEN_BACKLOG = 64   # connections asyncio accepts in one burst, before any of them is looked at
FD_RESERVE = 4 * LISTEN_BACKLOG + 64  # kept for bursts that outrun eviction, the database, logs

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
STORE = web.AppKey("store", Store)
QUEUE = web.AppKey("queue", JobQueue)
CAMPAIGNS = web.AppKey("campaigns", Campaigns)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
SCHEDULER = web.AppKey("scheduler", Scheduler)
HEALER = web.AppKey("healer", Healer)
WEBHOOKS = web.AppKey("webhooks", WebhookSender | None)
METRICS = web.AppKey("metrics", Metrics)
SENDER = web.AppKey("sender", object)  # the Sender: a GatewaySender for a --provider-url
CRASHED = web.AppKey("crashed", asyncio.Event)   # set when a background task died

DOMAIN_STATUS: dict[type[DomainError], int] = {Invalid: 400, NotFound: 404, Conflict: 409,
                                               Unavailable: 503}

# Every code an answer can carry, its status, and when: the README's error table and
# the OpenAPI document are read from here.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "VALIDATION_ERROR": (400, "a field, query parameter or header is missing, of the wrong "
                              "type, out of range, or unknown"),
    "INVALID_JSON": (400, "the body is not UTF-8 JSON"),
    "INVALID_TEMPLATE": (400, "a template names an unknown field or has a stray brace"),
    "UNKNOWN_CUSTOMERS": (400, "customer_ids names customers that do not exist"),
    "INVALID_CSV": (400, "a CSV import has bad lines: errors lists them (line, field, message)"),
    "MALFORMED_REQUEST": (400, "the HTTP request itself cannot be parsed (a bad header byte)"),
    "UNAUTHORIZED": (401, "the API key is missing or wrong; a provider's signature does not hold"),
    "FORBIDDEN": (403, "a gateway's own signature (X-Twilio-Signature) does not hold"),
    "CAMPAIGN_NOT_FOUND": (404, "no campaign has this id"),
    "CUSTOMER_NOT_FOUND": (404, "no customer has this id"),
    "NOT_FOUND": (404, "no such route"),
    "METHOD_NOT_ALLOWED": (405, "the route exists, the method does not"),
    "REQUEST_TIMEOUT": (408, f"the body took more than {BODY_TIMEOUT:.0f} s to arrive"),
    "CUSTOMER_EXISTS": (409, "a customer with that phone exists (an import lists the lines)"),
    "CAMPAIGN_NOT_SENDABLE": (409, "the campaign is sent, failed or cancelled"),
    "INVALID_STATE": (409, "the campaign's status does not allow the action"),
    "IDEMPOTENCY_KEY_REUSED": (409, "the Idempotency-Key came before with another request"),
    "PAYLOAD_TOO_LARGE": (413, "the body is over 8 MiB"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "the body is not sent as application/json (or text/csv, "
                                    "for an import)"),
    "INTERNAL_ERROR": (500, "a bug: logged with its traceback, never shown"),
    "QUEUE_UNAVAILABLE": (503, "the queue is down: the messages are stored and wait for it"),
    "DATABASE_UNAVAILABLE": (503, "the database refuses writes for now (locked by another "
                                  "program, a full disk): nothing was changed"),
}


def json_response(data: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


def error_response(status: int, code: str, message: str,
                   headers: Mapping[str, str] | None = None,
                   errors: list[dict[str, Any]] | None = None) -> web.Response:
    error = {"code": code, "message": message} | ({"errors": errors} if errors is not None else {})
    return json_response({"error": error}, status, headers)


# -- reading requests ---------------------------------------------------------


class OutOfRange:
    """A JSON number too large to hold (1e400, a 5,000-digit integer): valid JSON, but no
    field accepts it, and its validator says so."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 40 else self.text[:37] + "..."


def _float(text: str) -> float | OutOfRange:
    value = float(text)
    return value if math.isfinite(value) else OutOfRange(text)


def _int(text: str) -> int | OutOfRange:
    return int(text) if len(text) <= 40 else OutOfRange(text)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_body(request: web.Request) -> bytes:
    """The whole body; 408 if it trickles in slower than BODY_TIMEOUT allows, 400 if it
    cannot be read (a deflate or gzip body that does not decompress, broken chunks)."""
    try:
        async with asyncio.timeout(BODY_TIMEOUT):
            return await request.read()
    except TimeoutError:
        raise ApiError(408, "REQUEST_TIMEOUT", f"The body did not arrive within "
                       f"{BODY_TIMEOUT:.0f} s") from None
    except web.RequestPayloadError:
        raise ApiError(400, "MALFORMED_REQUEST", "The body cannot be read: it is not what its "
                       "Content-Encoding or Transfer-Encoding says") from None


async def read_json(request: web.Request) -> Any:
    """The body as parse_json reads it: 415 for another content type, 413 past 8 MiB."""
    if "Content-Type" in request.headers and request.content_type != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"The body must be JSON, sent with "
                       f"'Content-Type: application/json', not {request.content_type!r}")
    return parse_json(await read_body(request))


def parse_json(body: bytes) -> Any:
    """A body as JSON; 400 INVALID_JSON if it is not UTF-8 JSON."""
    if not body.strip():
        raise Invalid("INVALID_JSON", "The request body must be a JSON document")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("INVALID_JSON", "The request body is not valid UTF-8") from None
    try:
        return json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_no_constants)
    except RecursionError:
        raise Invalid("INVALID_JSON", "The JSON document is nested too deeply") from None
    except ValueError as exc:
        raise Invalid("INVALID_JSON", f"Malformed JSON: {exc}") from None


def json_object(value: Any, where: str, allowed: Iterable[str]) -> dict[str, Any]:
    """`value` as a JSON object with no fields beyond `allowed` (a typo must not pass silently)."""
    if not isinstance(value, dict):
        raise invalid(f"{where} must be a JSON object")
    allowed = tuple(allowed)
    unknown = [name for name in value if name not in allowed]
    if unknown:
        raise invalid(f"{where} has unknown field {unknown[0]!r}; "
                      f"allowed fields are {', '.join(allowed)}")
    return value


def text_value(value: Any, where: str, *, max_length: int = MAX_TEXT, min_length: int = 1) -> str:
    """A string of sane Unicode (no NUL, no lone surrogate) within the length limits."""
    if not isinstance(value, str):
        raise invalid(f"{where} must be a string")
    if "\x00" in value:
        raise invalid(f"{where} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(f"{where} must be valid Unicode text (it holds a lone surrogate)") from None
    if not min_length <= len(value) <= max_length:
        raise invalid(f"{where} must be {min_length} to {max_length} characters long, "
                      f"not {len(value)}")
    return value


def optional_text(body: Mapping[str, Any], name: str, where: str = "") -> str | None:
    value = body.get(name)
    return None if value is None else text_value(value, where + name, min_length=0)


def int_value(value: Any, where: str, *, minimum: int = 1, maximum: int = MAX_ID) -> int:
    """An integer (not a boolean, not a float) within bounds."""
    if isinstance(value, OutOfRange):
        raise invalid(f"{where} must be between {minimum} and {maximum}, not {value!r}")
    if type(value) is float and value.is_integer():  # JSON Schema counts 7.0 as an integer
        value = int(value)
    if type(value) is not int:
        raise invalid(f"{where} must be an integer")
    if not minimum <= value <= maximum:
        raise invalid(f"{where} must be between {minimum} and {maximum}")
    return value


def number_value(value: Any, where: str, above: float, at_most: float) -> float:
    """A number (not a boolean) in (above, at_most]."""
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not above < value <= at_most):
        raise invalid(f"{where} must be a number above {above:g} and at most {at_most:g}")
    return float(value)


def choice(value: Any, where: str, options: type[enum.StrEnum]) -> str:
    if value not in list(options):
        raise invalid(f"{where} must be one of {', '.join(options)}")
    return str(value)


def template_value(value: Any, where: str) -> str:
    """A template that parses; 400 INVALID_TEMPLATE naming the bad placeholder otherwise."""
    text = text_value(value, where, max_length=MAX_TEMPLATE)
    try:
        parse_template(text)
    except TemplateError as exc:
        raise Invalid("INVALID_TEMPLATE", f"{where}: {exc}") from None
    return text


def timestamp_value(value: Any, where: str) -> float:
    text = text_value(value, where, max_length=40)
    try:
        return parse_timestamp(text)
    except ValueError:
        raise invalid(f"{where} must be an ISO-8601 timestamp with a timezone, "
                      "like 2030-01-31T09:00:00Z or 2030-01-31T12:00:00+03:00") from None


def path_id(request: web.Request, not_found: Callable[[object], NotFound]) -> int:
    """The {id} of the path; 404 unless it is a positive integer."""
    text = request.match_info["id"]
    if not re.fullmatch(r"[1-9][0-9]{0,18}", text) or int(text) > MAX_ID:
        raise not_found(text)
    return int(text)


def query_params(request: web.Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query string as a dict: unknown, repeated or empty parameters are 400."""
    allowed = tuple(allowed)
    try:
        pairs = urllib.parse.parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True,
                                       errors="strict", max_num_fields=20)
    except UnicodeDecodeError:
        raise invalid("the query string is not valid UTF-8") from None
    except ValueError:
        raise invalid("the query string has too many parameters") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name not in allowed:
            listed = ", ".join(allowed) or "none"
            raise invalid(f"unknown query parameter {name!r}; allowed parameters are {listed}")
        if name in params:
            raise invalid(f"query parameter {name!r} is given more than once")
        if value == "":
            raise invalid(f"query parameter {name!r} is empty; leave it out instead")
        params[name] = text_value(value, f"query parameter {name!r}")
    return params


def _query_int(params: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    if name not in params:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", params[name]) or not 1 <= int(params[name]) <= maximum:
        raise invalid(f"query parameter {name!r} must be an integer from 1 to {maximum}")
    return int(params[name])


PAGING_PARAMS = ("page", "page_size", "cursor")


def page_request(params: Mapping[str, str], kind: str) -> PageRequest:
    """page and page_size (1-100), or a cursor from an earlier answer's next_cursor."""
    size = _query_int(params, "page_size", 20, 100)
    page = _query_int(params, "page", 1, 1_000_000_000)
    if "cursor" not in params:
        return PageRequest(page, size)
    after, page = decode_cursor(params["cursor"], kind)  # the cursor knows its page
    return PageRequest(page, size, after)


def encode_cursor(kind: str, after: int, page: int) -> str:
    raw = json.dumps([kind, after, page], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, kind: str) -> tuple[int, int]:
    """(last id seen, page number) from a cursor; 400 for anything this service did not issue."""
    try:
        padded = text + "=" * (-len(text) % 4)
        found_kind, after, page = json.loads(base64.urlsafe_b64decode(padded))
        valid = found_kind == kind and all(type(n) is int and 1 <= n <= MAX_ID
                                           for n in (after, page))
    except (ValueError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise invalid(f"cursor is not a {kind} cursor issued by this service")
    return after, page


def page_json(page: Page, kind: str,
              shape: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """The list envelope every list endpoint answers with."""
    size = page.request.page_size
    next_cursor = (encode_cursor(kind, page.rows[-1]["id"], page.request.page + 1)
                   if page.has_more else None)
    return {"data": [shape(row) for row in page.rows],
            "pagination": {"page": page.request.page, "page_size": size, "total_count": page.total,
                           "total_pages": math.ceil(page.total / size),
                           "next_cursor": next_cursor}}


# -- shaping answers ----------------------------------------------------------

def customer_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in CUSTOMER_COLUMNS}


def campaign_json(row: Mapping[str, Any], now: float) -> dict[str, Any]:
    return {**{name: row[name] for name in CAMPAIGN_SHOWN},
            "quiet_hours": bool(row["quiet_hours"]),
            "whatsapp_template": whatsapp_template_json(
                stored_whatsapp_template(row["whatsapp_template"])),
            "stats": message_stats(row), "progress": campaign_progress(row, now)}


def message_json(row: Mapping[str, Any], customer: tuple | None = None) -> dict[str, Any]:
    """A message, with its customer's name and phone (null once the customer is erased)."""
    first, last, phone = customer or (None, None, None)
    name = " ".join(part for part in (first, last) if part and part.strip()) or None
    return {**{name: row[name] for name in MESSAGE_COLUMNS},
            "customer_name": name, "customer_phone": phone}


# -- handlers -----------------------------------------------------------------

CAMPAIGN_FIELDS = ("name", "channel", "base_template", "scheduled_at", "rate_limit", "quiet_hours",
                   "whatsapp_template")
READ_ONLY_CAMPAIGN_FIELDS = ("id", "status", "created_at", "updated_at", "started_at",
                             "finished_at", "stats", "progress")


def campaign_fields(body: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The campaign fields a create or PATCH body gives, validated."""
    if isinstance(body, dict) and (read_only := body.keys() & set(READ_ONLY_CAMPAIGN_FIELDS)):
        raise invalid(f"{min(read_only)} is read-only; change a campaign's status with its "
                      "actions (send, pause, resume, cancel, retry-failed)")
    body = json_object(body, "request body", CAMPAIGN_FIELDS)
    fields: dict[str, Any] = {}
    if "name" in body:
        fields["name"] = text_value(body["name"], "name")
        if not fields["name"].strip():
            raise invalid("name must not be blank")
    if "channel" in body:
        fields["channel"] = choice(body["channel"], "channel", Channel)
    if "base_template" in body:
        fields["base_template"] = template_value(body["base_template"], "base_template")
    if "rate_limit" in body:
        fields["rate_limit"] = None if body["rate_limit"] is None else number_value(
            body["rate_limit"], "rate_limit", 0, MAX_RATE)
    if "whatsapp_template" in body:
        fields["whatsapp_template"] = whatsapp_template_value(body["whatsapp_template"])
    if "quiet_hours" in body:
        if not isinstance(body["quiet_hours"], bool):
            raise invalid("quiet_hours must be true or false (false: a transactional campaign, "
                          "sent at any hour)")
        fields["quiet_hours"] = body["quiet_hours"]
    if "scheduled_at" in body:
        fields["scheduled_at"] = None
        if body["scheduled_at"] is not None:
            fields["scheduled_at"] = timestamp_value(body["scheduled_at"], "scheduled_at")
            if fields["scheduled_at"] <= now:
                raise invalid("scheduled_at must be in the future; "
                              "leave it out (or null) for a draft")
    return fields


def whatsapp_template_value(value: Any) -> str | None:
    """A whatsapp_template as stored (JSON text), or None; 400 naming what is wrong."""
    if value is None:
        return None
    try:
        spec = whatsapp_template_spec(value)
    except TemplateError as exc:
        raise Invalid("INVALID_TEMPLATE", f"whatsapp_template.{exc}") from None
    except ValueError as exc:
        raise invalid(f"whatsapp_template {exc}") from None
    return json.dumps(whatsapp_template_json(spec), ensure_ascii=False)


def check_whatsapp_channel(channel: str, whatsapp_template: str | None,
                           fix: str = "leave whatsapp_template out, or make it whatsapp") -> None:
    """400 for a whatsapp_template on another channel, saying how to `fix` it."""
    if whatsapp_template is not None and channel != Channel.WHATSAPP:
        raise invalid("whatsapp_template is for a whatsapp campaign; this one's channel is "
                      f"{channel} ({fix})")


async def create_campaign(request: web.Request) -> web.Response:
    query_params(request, ())
    now = request.app[CLOCK].now()
    fields = campaign_fields(await read_json(request), now)
    for name in ("name", "channel", "base_template"):
        if name not in fields:
            raise invalid(f"{name} is required")
    check_whatsapp_channel(fields["channel"], fields.get("whatsapp_template"))
    campaign = await request.app[CAMPAIGNS].create(fields)
    return json_response(campaign_json(campaign, now), status=201,
                         headers={"Location": f"/campaigns/{campaign['id']}"})


async def list_campaigns(request: web.Request) -> web.Response:
    params = query_params(request, (*PAGING_PARAMS, "channel", "status"))
    filters = {name: choice(params[name], name, options)
               for name, options in (("channel", Channel), ("status", CampaignStatus))
               if name in params}
    page = await request.app[STORE].campaigns.page(filters, page_request(params, "campaigns"))
    now = request.app[CLOCK].now()
    return json_response(page_json(page, "campaigns", lambda row: campaign_json(row, now)))


async def _campaign(request: web.Request) -> dict[str, Any]:
    campaign_id = path_id(request, campaign_not_found)
    campaign = await request.app[STORE].campaigns.get(campaign_id)
    if campaign is None:
        raise campaign_not_found(campaign_id)
    return campaign


async def get_campaign(request: web.Request) -> web.Response:
    query_params(request, ())
    return json_response(campaign_json(await _campaign(request), request.app[CLOCK].now()))


async def edit_campaign(request: web.Request) -> web.Response:
    query_params(request, ())
    campaign_id = path_id(request, campaign_not_found)
    fields = campaign_fields(await read_json(request), request.app[CLOCK].now())
    if not fields:
        raise invalid(f"give at least one of {', '.join(CAMPAIGN_FIELDS)} to change")
    if fields.keys() & {"channel", "whatsapp_template"}:
        current = await _campaign(request)
        if "whatsapp_template" in fields:
            check_whatsapp_channel(fields.get("channel", current["channel"]),
                                   fields["whatsapp_template"])
        else:  # the stored one stands in the way
            check_whatsapp_channel(fields["channel"], current["whatsapp_template"],
                                   "set whatsapp_template to null in the same change")
    campaign = await request.app[CAMPAIGNS].edit(campaign_id, fields)
    return json_response(campaign_json(campaign, request.app[CLOCK].now()))


async def action_id(request: web.Request, not_found: Callable[[object], NotFound]) -> int:
    """The {id} of an action's path; an action takes no query, and an empty body or {}."""
    query_params(request, ())
    target = path_id(request, not_found)
    if (await read_body(request)).strip():
        json_object(await read_json(request), "request body", ())
    return target


async def delete_campaign(request: web.Request) -> web.Response:
    campaign_id = await action_id(request, campaign_not_found)
    await request.app[CAMPAIGNS].delete(campaign_id)
    return web.Response(status=204)


def campaign_action(act: Callable[[Campaigns, int], Awaitable[dict[str, Any]]]) -> Callable:
    """A handler for POST /campaigns/{id}/<action>, answering with the campaign."""

    async def handler(request: web.Request) -> web.Response:
        campaign = await act(request.app[CAMPAIGNS], await action_id(request, campaign_not_found))
        return json_response(campaign_json(campaign, request.app[CLOCK].now()))

    return handler


async def retry_failed(request: web.Request) -> web.Response:
    campaign_id = await action_id(request, campaign_not_found)
    requeued, status = await request.app[CAMPAIGNS].retry_failed(campaign_id)
    return json_response({"campaign_id": campaign_id, "messages_requeued": requeued,
                          "status": status})


async def list_messages(request: web.Request) -> web.Response:
    params = query_params(request, (*PAGING_PARAMS, "status", "delivery_status"))
    status = choice(params["status"], "status", MessageStatus) if "status" in params else None
    if "delivery_status" in params:
        if status not in (None, MessageStatus.SENT):
            raise invalid("delivery_status applies to sent messages; leave status out (or sent)")
        status = choice(params["delivery_status"], "delivery_status", DeliveryStatus)
    campaign = await _campaign(request)
    kind = f"messages-{campaign['id']}"
    store = request.app[STORE]
    page = await store.claims.list_messages(campaign, status, page_request(params, kind))
    labels = await store.customers.labels(
        {row["customer_id"] for row in page.rows if row["customer_id"] is not None})
    return json_response(page_json(page, kind, lambda row: message_json(
        row, labels.get(row["customer_id"]))))


async def list_errors(request: web.Request) -> web.Response:
    params = query_params(request, ("page", "page_size"))
    campaign = await _campaign(request)
    counts = await request.app[STORE].claims.error_counts(campaign["id"])
    request_page = page_request(params, f"errors-{campaign['id']}")
    first = (request_page.page - 1) * request_page.page_size
    rows = [count._asdict() for count in counts[first:first + request_page.page_size]]
    page = Page(rows, len(counts), request_page, False)
    return json_response(page_json(page, "errors", dict))


def parse_audience(body: Any) -> Audience:
    """Exactly one of customer_ids, all_customers, segment."""
    body = json_object(body, "request body", ("customer_ids", "all_customers", "segment"))
    if len(body) != 1:
        raise invalid("give exactly one audience: customer_ids, all_customers or segment")
    if "customer_ids" in body:
        ids = body["customer_ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SEND_IDS:
            raise invalid(f"customer_ids must be a list of 1 to {MAX_SEND_IDS} customer ids")
        return Audience(customer_ids=tuple(dict.fromkeys(int_value(i, "each of customer_ids")
                                                         for i in ids)))
    if "all_customers" in body:
        if body["all_customers"] is not True:
            raise invalid("all_customers must be true")
        return Audience(all_customers=True)
    segment = json_object(body["segment"], "segment", SEGMENT_FIELDS)
    if not segment:
        raise invalid(f"segment needs at least one of {', '.join(SEGMENT_FIELDS)}")
    return Audience(segment=tuple((name, text_value(value, f"segment.{name}"))
                                  for name, value in segment.items()))


async def send_campaign(request: web.Request) -> web.Response:
    query_params(request, ())
    campaign_id = path_id(request, campaign_not_found)
    audience = parse_audience(await read_json(request))
    result = await request.app[CAMPAIGNS].send(campaign_id, audience)
    return json_response(result.as_json())


async def preview(request: web.Request) -> web.Response:
    query_params(request, ())
    campaign = await _campaign(request)
    body = json_object(await read_json(request), "request body",
                       ("customer_id", "override_template"))
    customer_id = int_value(body.get("customer_id"), "customer_id")
    override = body.get("override_template")
    if override is not None:
        override = template_value(override, "override_template")
    return json_response(build_preview(campaign, await _customer(request, customer_id), override))


async def preview_unsaved(request: web.Request) -> web.Response:
    """POST /preview: a template rendered for one customer as a campaign's preview would
    be, with nothing saved (the compose form's live preview)."""
    query_params(request, ())
    body = json_object(await read_json(request), "request body",
                       ("template", "channel", "customer_id", "whatsapp_template"))
    for name in ("template", "channel", "customer_id"):
        if name not in body:
            raise invalid(f"{name} is required")
    unsaved = {"base_template": template_value(body["template"], "template"),
               "channel": choice(body["channel"], "channel", Channel),
               "whatsapp_template": whatsapp_template_value(body.get("whatsapp_template"))}
    check_whatsapp_channel(unsaved["channel"], unsaved["whatsapp_template"])
    customer = await _customer(request, int_value(body["customer_id"], "customer_id"))
    return json_response(build_preview(unsaved, customer, None))


TIMELINE_POINTS = 60  # points a campaign's timeline answers at most (one index lookup each)


def per_second(count: int, seconds: float) -> float:
    """A rate as the timeline shows it: 0 over no time, never below 0."""
    return round(max(0, count) / seconds, 2) if seconds > 0 else 0.0


async def campaign_timeline(request: web.Request) -> web.Response:
    """A campaign's progress over its life: its counters at up to TIMELINE_POINTS moments
    from its start to its end (or now), each with the rates of attempts and of messages
    settled since the point before; read from its progress rows, never from its messages."""
    query_params(request, ())
    campaign = await _campaign(request)
    now = request.app[CLOCK].now()
    points: list[dict[str, Any]] = []
    if campaign["started_at"] is not None:
        start = parse_timestamp(campaign["started_at"])
        end = parse_timestamp(campaign["finished_at"]) if campaign["finished_at"] else now
        end = max(end, start)
        times = [start + (end - start) * n / (TIMELINE_POINTS - 2)
                 for n in range(TIMELINE_POINTS - 1)]
        rows = await request.app[STORE].campaigns.progress_points(campaign["id"], times)
        live = ProgressPoint(end, *(campaign[f"{name}_count"] for name in PROGRESS_COUNTS))
        shown = [row for row in rows if row.at < end] + [live]
        for before, point in zip([shown[0], *shown[:-1]], shown, strict=True):  # 1st: no rate
            span = point.at - before.at
            points.append({**point._asdict(), "at": utc_iso(point.at),
                           "settled_per_second": per_second(point.settled - before.settled, span),
                           "attempts_per_second": per_second(point.attempts - before.attempts,
                                                             span)})
    return json_response({"campaign_id": campaign["id"], "started_at": campaign["started_at"],
                          "finished_at": campaign["finished_at"], "points": points})


READ_ONLY_CUSTOMER_FIELDS = ("id", "opted_out_at", "created_at")


def customer_fields(value: Any, where: str, *, partial: bool = False,
                    default_timezone: str = "UTC") -> dict[str, Any]:
    """A customer's input fields, validated: all of them (absent ones null, the timezone
    the default) for a new customer; with `partial`, only those given (a PATCH)."""
    prefix = f"{where}." if where else ""
    if isinstance(value, dict) and (read_only := value.keys() & set(READ_ONLY_CUSTOMER_FIELDS)):
        opt_hint = "; opt a customer out or in with its actions" * ("opted_out_at" in read_only)
        raise invalid(f"{prefix}{min(read_only)} is read-only{opt_hint}")
    body = json_object(value, where or "request body", CUSTOMER_INPUT_FIELDS)
    fields = {name: body.get(name) for name in CUSTOMER_INPUT_FIELDS
              if name in body or not partial}
    for name, value in fields.items():
        if name == "phone":
            fields[name] = phone_value(value, prefix + name)
        elif name == "timezone":
            fields[name] = (default_timezone if value is None and not partial
                            else timezone_value(value, prefix + name))
        else:
            fields[name] = optional_text(body, name, prefix)
    return fields


def phone_value(value: Any, where: str) -> str:
    phone = text_value(value, where, max_length=16)
    if not PHONE_PATTERN.fullmatch(phone):
        raise invalid(f"{where} must be in E.164 form: '+' and 8 to 15 digits, like +254712345678")
    return phone


def timezone_value(value: Any, where: str) -> str:
    name = text_value(value, where, max_length=64)
    if not is_timezone(name):
        raise invalid(f"{where} must be an IANA timezone name, like Africa/Nairobi or "
                      f"America/New_York, not {name!r}")
    return name


class OnConflict(enum.StrEnum):
    ERROR = "error"    # the import fails, naming the lines
    SKIP = "skip"      # the customer here stays as is
    UPDATE = "update"  # the customer here takes the file's values


async def create_customers(request: web.Request) -> web.Response:
    """One customer, a JSON bulk of them, or a CSV file of them (Content-Type: text/csv)."""
    if request.content_type == "text/csv" and request.headers.get("Content-Type"):
        return await import_customers(request)
    query_params(request, ())
    body = await read_json(request)
    default = request.app[CONFIG].default_timezone
    bulk = isinstance(body, dict) and "customers" in body
    if bulk:
        items = json_object(body, "request body", ("customers",))["customers"]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BULK_CUSTOMERS:
            raise invalid(f"customers must be a list of 1 to {MAX_BULK_CUSTOMERS} customers")
        customers = [customer_fields(item, f"customers[{index}]", default_timezone=default)
                     for index, item in enumerate(items)]
        repeated = [phone for phone, count in Counter(c["phone"] for c in customers).items()
                    if count > 1]
        if repeated:
            raise invalid(f"phone {repeated[0]} appears more than once in customers")
    else:
        customers = [customer_fields(body, "", default_timezone=default)]
    created = await request.app[STORE].customers.create(customers, request.app[CLOCK].now())
    if bulk:
        return json_response({"customers": [customer_json(row) for row in created]}, status=201)
    return json_response(customer_json(created[0]), status=201,
                         headers={"Location": f"/customers/{created[0]['id']}"})


async def import_customers(request: web.Request) -> web.Response:
    """POST /customers with a CSV file: all or nothing, every bad line named."""
    params = query_params(request, ("on_conflict",))
    on_conflict = choice(params.get("on_conflict", OnConflict.ERROR), "on_conflict", OnConflict)
    body = await read_body(request)  # a large file takes a second to check: off the event loop
    columns, lines = await asyncio.to_thread(parse_customer_csv, body,
                                             request.app[CONFIG].default_timezone)
    counts = await request.app[STORE].customers.import_rows(lines, columns, on_conflict,
                                                            request.app[CLOCK].now())
    return json_response(counts, status=201)


def parse_customer_csv(body: bytes, default_timezone: str
                       ) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """A CSV file of customers: its columns, and (line number, fields) per row. A header
    row of customer fields (phone required; any order; an unknown one is refused by
    name); UTF-8, a BOM allowed; quoted fields may hold commas and line breaks. Any
    bad row fails the whole file: 400 INVALID_CSV, listing the first problems."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("INVALID_CSV", f"The file is not UTF-8 (byte {exc.start})") from None
    if "\x00" in text:
        raise Invalid("INVALID_CSV", "The file holds NUL characters; is it a CSV file?")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise Invalid("INVALID_CSV", f"Line 1: {exc}") from None
    if not any(header):
        raise Invalid("INVALID_CSV", "The file is empty; its first line names the columns, "
                      f"like {','.join(CUSTOMER_INPUT_FIELDS)}")
    unknown = [name for name in header if name not in CUSTOMER_INPUT_FIELDS]
    if unknown:
        raise Invalid("INVALID_CSV", f"Unknown column {unknown[0]!r}; columns are "
                      f"{', '.join(CUSTOMER_INPUT_FIELDS)}")
    if len(set(header)) < len(header) or "phone" not in header:
        raise Invalid("INVALID_CSV", "The header must name each column once, phone among them")
    errors: list[dict[str, Any]] = []
    lines: list[tuple[int, dict[str, Any]]] = []
    first_line_of: dict[str, int] = {}
    line = reader.line_num + 1
    try:
        for row in reader:
            if len(lines) >= MAX_CSV_ROWS:
                raise Invalid("INVALID_CSV", f"The file has more than {MAX_CSV_ROWS:,} rows; "
                              "split it")
            if row and any(cell.strip() for cell in row):
                _customer_row(header, row, line, default_timezone, errors, lines, first_line_of)
            line = reader.line_num + 1
    except csv.Error as exc:
        errors.append({"line": line, "field": None, "message": str(exc)})
    if errors:
        raise Invalid("INVALID_CSV", f"{len(errors)} problem{'s' * (len(errors) > 1)} "
                      f"(the first at line {errors[0]['line']}); nothing was imported",
                      errors[:MAX_LISTED_ERRORS])
    if not lines:
        raise Invalid("INVALID_CSV", "The file has a header but no customers")
    return header, lines


def _customer_row(header: list[str], row: list[str], line: int, default_timezone: str,
                  errors: list[dict[str, Any]], lines: list[tuple[int, dict[str, Any]]],
                  first_line_of: dict[str, int]) -> None:
    """Check one CSV row; it joins `lines`, or its problems join `errors`."""
    if len(row) != len(header):
        errors.append({"line": line, "field": None,
                       "message": f"{len(row)} values for {len(header)} columns"})
        return
    fields: dict[str, Any] = {"timezone": default_timezone}
    for name, cell in zip(header, row, strict=True):
        cell = cell.strip()
        try:
            if name == "phone":
                fields[name] = phone_value(cell, name)
            elif name == "timezone":
                fields[name] = timezone_value(cell, name) if cell else default_timezone
            else:
                fields[name] = text_value(cell, name) if cell else None
        except Invalid as exc:
            errors.append({"line": line, "field": name, "message": exc.message})
    if "phone" in fields:
        if (first := first_line_of.setdefault(fields["phone"], line)) != line:
            errors.append({"line": line, "field": "phone",
                           "message": f"phone {fields['phone']} is on line {first} too"})
        lines.append((line, {name: fields.get(name) for name in CUSTOMER_INPUT_FIELDS}))


async def edit_customer(request: web.Request) -> web.Response:
    query_params(request, ())
    customer_id = path_id(request, customer_not_found)
    changes = customer_fields(await read_json(request), "", partial=True)
    if not changes:
        raise invalid(f"Give at least one field to change: {', '.join(CUSTOMER_INPUT_FIELDS)}")
    updated = await request.app[STORE].customers.update(customer_id, changes)
    return json_response(customer_json(updated))


async def delete_customer(request: web.Request) -> web.Response:
    customer_id = await action_id(request, customer_not_found)
    await request.app[STORE].customers.erase(customer_id, request.app[CLOCK].now())
    return web.Response(status=204)


def opt_action(opted_out: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    """POST /customers/{id}/opt-out or /opt-in: the customer, as it now is."""

    async def handler(request: web.Request) -> web.Response:
        customer = await request.app[STORE].customers.set_opted_out(
            await action_id(request, customer_not_found), opted_out, request.app[CLOCK].now())
        return json_response(customer_json(customer))

    return handler


async def receive_inbound(request: web.Request) -> web.Response:
    """A message a customer sent us, from the provider, signed like its receipts: STOP and
    its kin opt them out, START and its kin back in; anything else changes nothing."""
    body = await signed_body(request, "Inbound messages")
    message = json_object(parse_json(body), "request body", ("from", "text", "timestamp"))
    phone = phone_value(message.get("from"), "from")
    action = keyword_action(text_value(message.get("text"), "text", max_length=1600, min_length=0))
    if action != "none" and await is_replay(request):
        log.warning("inbound: a replay of webhook-id %r was not acted on",
                    request.headers["webhook-id"][:100])
        action = "none"
    elif action != "none" and not await request.app[STORE].customers.opt_by_phone(
            phone, action == "opted_out", request.app[CLOCK].now()):
        action = "none"  # no customer has that number
    return json_response({"action": action})


async def list_customers(request: web.Request) -> web.Response:
    params = query_params(request, (*PAGING_PARAMS, *SEGMENT_FIELDS))
    filters = {name: params[name] for name in SEGMENT_FIELDS if name in params}
    page = await request.app[STORE].customers.page(filters, page_request(params, "customers"))
    return json_response(page_json(page, "customers", customer_json))


async def _customer(request: web.Request, customer_id: int) -> dict[str, Any]:
    customer = await request.app[STORE].customers.get(customer_id)
    if customer is None:
        raise customer_not_found(customer_id)
    return customer


async def get_customer(request: web.Request) -> web.Response:
    query_params(request, ())
    customer = await _customer(request, path_id(request, customer_not_found))
    return json_response(customer_json(customer))


async def queue_depth(app: web.Application) -> int | None:
    """The jobs waiting in the queue; None when the broker is away (/health says why)."""
    with contextlib.suppress(Exception):
        return await app[QUEUE].depth()
    return None


async def health(request: web.Request) -> web.Response:
    query_params(request, ())
    app = request.app
    db_ok = await app[STORE].ping()
    queue_ok = app[QUEUE].healthy() and not app[CAMPAIGNS].debt  # not while work waits to go
    depth = await queue_depth(app) if queue_ok else None
    queue_ok = depth is not None
    provider_down = next((f"{g['kind']}: {g['reason']}" for g in provider_list(app)
                          if g["state"] == "down"), None)  # why a gateway is down
    ok = db_ok and queue_ok and provider_down is None
    report = {"status": "ok" if ok else "down", "db": "ok" if db_ok else "down",
              "queue": "ok" if queue_ok else "down", "queue_depth": depth}
    if isinstance(app[SENDER], GatewaySender):  # the gateways of a --provider-url
        report |= {"provider": "down" if provider_down else "ok", "provider_reason": provider_down}
    return json_response(report, status=200 if ok else 503)


async def serve_metrics(request: web.Request) -> web.Response:
    """The Prometheus exposition: counters as they stand, gauges read now."""
    query_params(request, ())
    app = request.app
    depth = await queue_depth(app)  # a broker away: the gauge says NaN
    body = app[METRICS].exposition(*await app[STORE].outcomes.gauges(), depth)
    return web.Response(body=body, headers={"Content-Type": prom.CONTENT_TYPE_LATEST})


async def overview(request: web.Request) -> web.Response:
    """GET /overview: the operator's landing page in one answer. Today is the UTC day; the
    attempts series and the provider figures are this process's own (each process of a
    deployment answers for itself), the rest is the database's."""
    query_params(request, ())
    app, now = request.app, request.app[CLOCK].now()
    since = now - now % 86400
    today = await app[STORE].campaigns.today_counts(since)
    campaigns, outbox = await app[STORE].outcomes.gauges()
    depth = await queue_depth(app)  # a broker away: null here
    recent = app[METRICS].recent()
    return json_response({
        "generated_at": utc_iso(now),
        "today": {"since": utc_iso(since), "timezone": "UTC",
                  "channels": [{"channel": channel, **today[channel]} for channel in CHANNELS]},
        **recent, "queue_depth": depth, "attempts_in_flight": app[METRICS].in_flight_now(),
        "messages_pending": await app[STORE].claims.pending_count(),
        "webhook_outbox_depth": outbox,
        "campaigns": {status: campaigns.get(status, 0) for status in CampaignStatus},
        "gateways": [{"channel": channel, **{name: gateway[name] for name in
                                             ("kind", "host", "state")}}
                     for gateway in provider_list(app) for channel in gateway["channels"]],
        "settings": {"quiet_hours": app[CONFIG].quiet_hours.strip() or None,
                     "max_per_customer_per_day": app[CONFIG].max_per_customer_per_day or None,
                     "max_retries": app[CONFIG].max_retries}})


RECEIPT_FIELDS = ("reference", "status", "error", "timestamp")


def parse_receipt(value: Any, where: str, now: float) -> Receipt:
    body = json_object(value, where or "request body", RECEIPT_FIELDS)
    prefix = f"{where}." if where else ""
    reference = text_value(body.get("reference"), prefix + "reference", max_length=100)
    status = choice(body.get("status"), prefix + "status", DeliveryStatus)
    error = optional_text(body, "error", prefix)
    at = utc_iso(timestamp_value(body["timestamp"], prefix + "timestamp")
                 if body.get("timestamp") is not None else now)
    return Receipt(reference, status, at, error[:ERROR_TEXT_LIMIT] if error else None)


async def signed_body(request: web.Request, what: str) -> bytes:
    """The body of a request from the provider, signed with --receipt-secret (Standard
    Webhooks): 404 when that is not set, 401 when the signature does not hold."""
    query_params(request, ())
    secret = request.app[CONFIG].receipt_secret
    if not secret:
        raise ApiError(404, "NOT_FOUND",
                       f"{what} are off; start the service with --receipt-secret")
    if request.headers.get("Content-Type") and request.content_type != "application/json":
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"{what} are JSON (application/json)")
    body = await read_body(request)
    if problem := signature_problem(secret_key(secret), request.headers, body,
                                    request.app[CLOCK].now()):
        raise ApiError(401, "UNAUTHORIZED", f"The signature does not hold: {problem}")
    return body


async def is_replay(request: web.Request) -> bool:
    """Whether a signed request's webhook-id was seen within the signature's window: a
    captured request sent again (a START that would undo a later STOP) is not acted on."""
    window = 2 * SIGNATURE_TOLERANCE  # a timestamp may be that far either side of now
    return not await request.app[STORE].outbox.first_sighting(
        request.headers["webhook-id"], request.app[CLOCK].now(), window)


async def receive_receipts(request: web.Request) -> web.Response:
    """Delivery receipts from the provider."""
    body, now = await signed_body(request, "Receipts"), request.app[CLOCK].now()
    data = parse_json(body)
    if isinstance(data, dict) and "receipts" in data:
        items = json_object(data, "request body", ("receipts",))["receipts"]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_RECEIPTS:
            raise invalid(f"receipts must be a list of 1 to {MAX_RECEIPTS} receipts")
        receipts = [parse_receipt(item, f"receipts[{n}]", now) for n, item in enumerate(items)]
    else:
        receipts = [parse_receipt(data, "", now)]
    return json_response(await request.app[STORE].outcomes.apply_receipts(receipts, now))


# -- gateways' callbacks (§20) ---------------------------------------------------


def callback_gateway(request: web.Request) -> Gateway:
    """The gateway a callback's path names, once its token (or its signature's path) holds:
    404 for a gateway not configured or a wrong token, as for any path that is not ours."""
    sender, kind = request.app[SENDER], request.match_info["kind"]
    gateway = sender.by_kind(kind) if isinstance(sender, GatewaySender) else None
    token = request.match_info.get("token")
    secret = request.app[CONFIG].receipt_secret
    if (gateway is None or gateway.kind in ("generic", "whatsapp")
            or gateway.signs != (token is None)
            or (token is not None and not (secret and hmac.compare_digest(
                token.encode(), callback_token(secret, kind).encode())))):
        raise ApiError(404, "NOT_FOUND", HTTP_ERROR_MESSAGES[404])
    return gateway


async def callback_fields(request: web.Request) -> Fields:
    """A callback's fields: the query of a GET (bytes read as latin-1: Kannel's text may be
    UTF-16), a JSON body, or a form."""
    if request.method == "GET":
        return dict(urllib.parse.parse_qsl(request.rel_url.raw_query_string,
                                           keep_blank_values=True, encoding="latin-1"))
    body = await read_body(request)
    if request.content_type == "application/json":
        return parse_json(body)
    form = await posted_form(request)
    return {**form, **{name: value for name, value in request.query.items() if name not in form}}


async def posted_form(request: web.Request) -> Mapping[str, str]:
    """A callback's form; ValueError when the body is no form or not in its charset."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise ValueError("the body must be a form (application/x-www-form-urlencoded) or JSON")
    try:
        return await request.post()
    except (LookupError, UnicodeDecodeError):  # a charset Python does not know, or other bytes
        raise ValueError("the form is not text in the charset it names (UTF-8 if none)") from None


async def verified_fields(request: web.Request, gateway: Gateway) -> Fields:
    """The callback's fields; for a gateway that signs, 403 unless its signature holds."""
    fields = await callback_fields(request)
    if gateway.signs:
        form = await posted_form(request)
        given, token = request.headers.get("X-Twilio-Signature", ""), gateway.url.secret
        given = given.encode("utf-8", "surrogateescape")  # bytes not UTF-8 came as surrogates
        # Twilio signs the URL it called: under --public-url when there is one.
        public = request.app[CONFIG].public_url
        called = public.rstrip("/") + request.rel_url.raw_path_qs if public else str(request.url)
        if not any(hmac.compare_digest(given, twilio_signature(token, url, form).encode())
                   for url in twilio_urls(called)):
            raise ApiError(403, "FORBIDDEN", "X-Twilio-Signature does not hold")
    return fields


async def gateway_receipts(request: web.Request) -> web.Response:
    """Delivery reports in a gateway's own format (Kannel's by GET)."""
    gateway = callback_gateway(request)
    try:
        found = gateway.receipts(await verified_fields(request, gateway))
    except ValueError as exc:
        raise invalid(f"not a {gateway.kind} delivery report: {exc}") from None
    return json_response(await apply_gateway_receipts(request.app[STORE], found,
                                                      request.app[CLOCK].now()))


async def gateway_inbound(request: web.Request) -> web.Response:
    """Messages from customers in a gateway's own format: §14's keywords."""
    gateway = callback_gateway(request)
    try:
        messages = gateway.inbound(await verified_fields(request, gateway))
    except ValueError as exc:
        raise invalid(f"not a {gateway.kind} inbound message: {exc}") from None
    action = "none"
    for phone, text in messages:
        said = keyword_action(text)
        if said != "none" and await request.app[STORE].customers.opt_by_phone(
                phone, said == "opted_out", request.app[CLOCK].now()):
            action = said
    return json_response({"action": action})


def provider_list(app: web.Application) -> list[dict[str, Any]]:
    sender = app[SENDER]
    if isinstance(sender, GatewaySender):
        return sender.describe()
    return [{"channels": list(CHANNELS), "kind": "mock", "host": None, "url": None,
             "state": "up", "reason": None, "callbacks": Callbacks()._asdict()}]


async def list_providers(request: web.Request) -> web.Response:
    """Each channel's gateway: its kind, host, state, and the URLs to paste into its console."""
    query_params(request, ())
    return json_response({"data": provider_list(request.app)})


def whatsapp_gateway(request: web.Request) -> WhatsAppGateway:
    """The whatsapp channel's Cloud API gateway; 404 when it has none."""
    sender = request.app[SENDER]
    gateway = sender.by_kind("whatsapp") if isinstance(sender, GatewaySender) else None
    if not isinstance(gateway, WhatsAppGateway):
        raise ApiError(404, "NOT_FOUND", HTTP_ERROR_MESSAGES[404])
    return gateway


async def whatsapp_verification(request: web.Request) -> web.Response:
    """Meta's check of the webhook: hub.challenge echoed when hub.verify_token is the URL's."""
    gateway = whatsapp_gateway(request)
    given = request.query.get("hub.verify_token", "")
    if request.query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            given.encode(), gateway.url.options["verify_token"].encode()):
        raise ApiError(403, "FORBIDDEN", "hub.mode must be subscribe, with the verify token "
                       "of --whatsapp-provider-url")
    return web.Response(text=request.query.get("hub.challenge", "")[:1000],
                        content_type="text/plain")


async def whatsapp_webhook(request: web.Request) -> web.Response:
    """Statuses (receipts) and customers' messages (§14 keywords) from the Cloud API, signed
    with X-Hub-Signature-256 (401 otherwise). A status replayed changes nothing: receipts
    never move backwards."""
    gateway = whatsapp_gateway(request)
    body = await read_body(request)
    if not gateway.verified(body, request.headers.get("X-Hub-Signature-256", "")):
        raise ApiError(401, "UNAUTHORIZED", "X-Hub-Signature-256 does not hold for this body")
    try:
        fields = parse_json(body)
        found, messages = gateway.receipts(fields), whatsapp_texts(fields)
    except ValueError as exc:
        raise invalid(f"not a whatsapp webhook: {exc}") from None
    store, now = request.app[STORE], request.app[CLOCK].now()
    taken = await apply_gateway_receipts(store, found, now)
    action = "none"
    for phone, text, wamid in messages:  # a message Meta posts again is not acted on again
        said = keyword_action(text)
        first = not wamid or await store.outbox.first_sighting(
            f"whatsapp:{sane(wamid)}", now, 2 * SIGNATURE_TOLERANCE)
        if said != "none" and first and await store.customers.opt_by_phone(
                phone, said == "opted_out", now):
            action = said
    return json_response({**taken, "action": action})


GATEWAY_ROUTES = (
    web.get("/providers/whatsapp", whatsapp_verification),
    web.post("/providers/whatsapp", whatsapp_webhook),
    web.post("/providers/{kind}/receipts", gateway_receipts),
    web.get("/providers/{kind}/receipts/{token}", gateway_receipts),
    web.post("/providers/{kind}/receipts/{token}", gateway_receipts),
    web.post("/providers/{kind}/inbound", gateway_inbound),
    web.get("/providers/{kind}/inbound/{token}", gateway_inbound),
    web.post("/providers/{kind}/inbound/{token}", gateway_inbound),
)


def event_json(row: Mapping[str, Any]) -> dict[str, Any]:
    pending = row["status"] == "pending"
    return {**{name: row[name] for name in EVENT_COLUMNS
               if name not in ("body", "next_attempt_at")},
            "webhook_id": f"evt_{row['id']}",
            "next_attempt_at": utc_iso(row["next_attempt_at"]) if pending else None,
            "body": json.loads(row["body"])}


class EventStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


async def list_deliveries(request: web.Request) -> web.Response:
    params = query_params(request, (*PAGING_PARAMS, "status"))
    status = choice(params["status"], "status", EventStatus) if "status" in params else None
    page = await request.app[STORE].outbox.page(status, page_request(params, "deliveries"))
    return json_response(page_json(page, "deliveries", event_json))


ROUTES = (
    web.post("/campaigns", create_campaign),
    web.get("/campaigns", list_campaigns),
    web.get("/campaigns/{id}", get_campaign),
    web.patch("/campaigns/{id}", edit_campaign),
    web.delete("/campaigns/{id}", delete_campaign),
    web.get("/campaigns/{id}/messages", list_messages),
    web.get("/campaigns/{id}/errors", list_errors),
    web.post("/campaigns/{id}/send", send_campaign),
    web.post("/campaigns/{id}/pause", campaign_action(Campaigns.pause)),
    web.post("/campaigns/{id}/resume", campaign_action(Campaigns.resume)),
    web.post("/campaigns/{id}/cancel", campaign_action(Campaigns.cancel)),
    web.post("/campaigns/{id}/retry-failed", retry_failed),
    web.post("/campaigns/{id}/personalized-preview", preview),
    web.get("/campaigns/{id}/timeline", campaign_timeline),
    web.post("/preview", preview_unsaved),
    web.post("/customers", create_customers),
    web.get("/customers", list_customers),
    web.get("/customers/{id}", get_customer),
    web.patch("/customers/{id}", edit_customer),
    web.delete("/customers/{id}", delete_customer),
    web.post("/customers/{id}/opt-out", opt_action(True)),
    web.post("/customers/{id}/opt-in", opt_action(False)),
    web.post("/providers/inbound", receive_inbound),
    web.post("/providers/receipts", receive_receipts),
    web.get("/providers", list_providers),
    *GATEWAY_ROUTES,
    web.get("/webhooks/deliveries", list_deliveries),
    web.get("/health", health),
    web.get("/overview", overview),
)

# -- middleware ---------------------------------------------------------------

HTTP_ERROR_CODES = {400: "VALIDATION_ERROR", 401: "UNAUTHORIZED", 404: "NOT_FOUND",
                    405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}
HTTP_ERROR_MESSAGES = {404: "No such endpoint; see /openapi.json",
                       413: "The request body exceeds 8 MiB"}
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def without_tokens(text: str) -> str:
    """`text` (a path, a request line) with each callback's secret token shown as ***."""
    return CALLBACK_TOKEN.sub(r"\1***", text)


@web.middleware
async def error_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Every answer carries an X-Request-Id (the caller's, or a new one), and every error is
    {"error": {"code", "message"}}; nothing unexpected leaks a traceback."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if REQUEST_ID_PATTERN.fullmatch(given) else secrets.token_hex(8)
    try:
        response = await handler(request)
    except ConnectionResetError:
        # The client went away mid-request (say, mid-body): nobody reads an answer. The access
        # log's line, with nginx's 499 "client closed request", is all that is said of it.
        response = web.Response(status=499)
    except DomainError as exc:
        status = next(DOMAIN_STATUS[kind] for kind in type(exc).__mro__ if kind in DOMAIN_STATUS)
        response = error_response(status, exc.code, exc.message, errors=exc.errors)
    except ApiError as exc:
        response = error_response(exc.status, exc.code, exc.message, exc.headers)
    except web.HTTPException as exc:
        message = HTTP_ERROR_MESSAGES.get(exc.status) or (
            f"Method {request.method} is not allowed here" if exc.status == 405 else exc.reason)
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        response = error_response(exc.status, HTTP_ERROR_CODES.get(exc.status, "HTTP_ERROR"),
                                  message, headers)
    except Exception:
        log.exception("unexpected error answering %s %s (request %s)", request.method,
                      without_tokens(request.path), request_id)
        response = error_response(500, "INTERNAL_ERROR", "Something went wrong on our side; "
                                  f"it is logged as request {request_id}")
    response.headers["X-Request-Id"] = request_id
    if request.content.exception() is not None:  # its body cannot be read, nor anything after
        response.force_close()                   # it on this connection: the client comes anew
    return response


def auth_middleware(api_key: str) -> Callable:
    """Every endpoint wants `Authorization: Bearer <key>`, compared in constant time, but /health,
    the dashboard's page and its files (/static/...; the page asks for the key) and the
    provider's endpoints (/providers/..., authenticated by their signatures)."""
    expected = hashlib.sha256(f"Bearer {api_key}".encode()).digest()

    @web.middleware
    async def check(request: web.Request, handler: Callable) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode("utf-8", "surrogateescape")
        open_path = (request.path in ("/", "/health")
                     or request.path.startswith(("/providers/", "/static/")))
        if not open_path and not hmac.compare_digest(hashlib.sha256(given).digest(), expected):
            raise ApiError(401, "UNAUTHORIZED",
                           "Missing or wrong API key; send 'Authorization: Bearer <key>'",
                           {"WWW-Authenticate": 'Bearer realm="smsleopard"'})
        return await handler(request)

    return check


CORS_METHODS = "GET, POST, PATCH, DELETE"
CORS_REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
CORS_EXPOSED_HEADERS = "Location, Retry-After, X-Request-Id"


def cors_middleware(origins: frozenset[str]) -> Callable:
    """--cors-origins: pages from these origins may call the API; their browser's preflight
    OPTIONS is answered 204 (before the API key is asked for: browsers send none with it)."""

    @web.middleware
    async def cors(request: web.Request, handler: Callable) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        if not origin or ("*" not in origins and origin not in origins):
            return await handler(request)
        allowed = {"Access-Control-Allow-Origin": "*" if "*" in origins else origin,
                   "Vary": "Origin"}
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return web.Response(status=204, headers={
                **allowed, "Access-Control-Allow-Methods": CORS_METHODS,
                "Access-Control-Allow-Headers": CORS_REQUEST_HEADERS,
                "Access-Control-Max-Age": "600"})
        response = await handler(request)
        response.headers.update({**allowed, "Access-Control-Expose-Headers": CORS_EXPOSED_HEADERS})
        return response

    return cors


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def metrics_middleware(metrics: Metrics) -> Callable:
    """Time every answer, by route (its template: /campaigns/{id}), method and status."""

    @web.middleware
    async def timed(request: web.Request, handler: Callable) -> web.StreamResponse:
        started, status = time.perf_counter(), 500
        try:
            response = await handler(request)
            status = response.status
            return response
        finally:
            resource = request.match_info.route.resource
            metrics.http_duration.labels(
                resource.canonical if resource is not None else "unmatched",
                request.method if request.method in KNOWN_METHODS else "other",
                str(status)).observe(time.perf_counter() - started)

    return timed


async def request_fingerprint(request: web.Request) -> str:
    """What makes two requests the same: method, path and body (JSON compared as data)."""
    body = await read_body(request)
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        canonical = body.hex()
    return hashlib.sha256(_dumps([request.method, request.path, canonical]).encode()).hexdigest()


class KeyedLocks:
    """One asyncio.Lock per key, kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        self._users[key] += 1
        try:
            async with self._locks.setdefault(key, asyncio.Lock()):
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


def idempotency_middleware() -> Callable:
    """A POST, PATCH or DELETE with an Idempotency-Key answers its first answer again. Only
    successful answers are kept, so a request that failed validation can be corrected and sent
    again with its key; the same key with another request is 409 IDEMPOTENCY_KEY_REUSED.
    Requests with one key are served one at a time."""
    locks = KeyedLocks()

    @web.middleware
    async def replay(request: web.Request, handler: Callable) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        routed = request.match_info.http_exception is None  # not a 404 or 405 of the router
        if (key is None or request.method not in ("POST", "PATCH", "DELETE") or not routed
                or request.path.startswith("/providers/")):
            return await handler(request)
        if not IDEMPOTENCY_KEY_PATTERN.fullmatch(key):
            raise invalid("Idempotency-Key must be 1 to 255 printable ASCII characters")
        fingerprint = await request_fingerprint(request)
        store = request.app[STORE]
        async with locks.hold(key):
            if (answer := await store.answers.recall(key, fingerprint)) is not None:
                headers = {"Location": answer.location} if answer.location else None
                return web.Response(status=answer.status, text=answer.body or None,
                                    headers=headers,
                                    content_type="application/json" if answer.body else None)
            response = await handler(request)
            if 200 <= response.status < 300:
                body = response.text if getattr(response, "body", None) else ""
                kept = StoredAnswer(response.status, body, response.headers.get("Location"))
                await store.answers.keep(key, fingerprint, kept, request.app[CLOCK].now())
            return response

    return replay


# -- connections --------------------------------------------------------------

class JsonErrorRequestHandler(web_protocol.RequestHandler):
    """aiohttp's connection handler, answering a request it cannot parse (a bad header byte,
    a broken request line) in the JSON error shape with one log line, not plain text and a
    traceback; and closing the oldest idle connection when connections would exhaust the
    process's file descriptors, so /health still gets in."""

    def handle_error(self, request: web.BaseRequest, status: int = 500,
                     exc: BaseException | None = None, message: str | None = None) -> web.Response:
        reason = (message or (str(exc) if exc else "") or "unreadable request")
        reason = without_tokens(reason.splitlines()[0])[:200]
        log.warning("malformed request from %s: %s", request.remote, reason)
        if request.writer.output_size > 0:
            raise ConnectionError("the answer had begun; the connection is dropped")
        code = ("MALFORMED_REQUEST" if status == 400 else
                HTTP_ERROR_CODES.get(status, "INTERNAL_ERROR"))
        response = error_response(status, code, f"The HTTP request is malformed: {reason}")
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """A body that cannot be read (its Content-Encoding, its chunks), met when aiohttp
        reads what an answer left unread: one line, not a traceback; the connection closes."""
        if isinstance(exc := kwargs.get("exc_info"), web.RequestPayloadError):
            reason = str(exc).splitlines()[-1].strip()
            peer = self.peername[0] if isinstance(self.peername, tuple) else self.peername
            log.warning("malformed request body from %s: %s", peer, reason)
        else:
            super().log_exception(*args, **kwargs)

    open_now: ClassVar[dict["JsonErrorRequestHandler", None]] = {}  # in the order they came
    answering = 0  # requests of this connection inside the application (busy_middleware)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.open_now[self] = None
        if len(self.open_now) > connection_limit():
            oldest = next((c for c in self.open_now if c is not self and not c.answering), None)
            if oldest is not None:
                del self.open_now[oldest]  # closing: connection_lost comes later
                oldest.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.open_now.pop(self, None)
        super().connection_lost(exc)


@web.middleware
async def busy_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Marks a connection busy while the application answers it: one still waiting for (the
    rest of) its request is idle, the first to close when file descriptors run short."""
    connection = request.protocol
    if not isinstance(connection, JsonErrorRequestHandler):
        return await handler(request)
    connection.answering += 1
    try:
        return await handler(request)
    finally:
        connection.answering -= 1


class OncePerInterval(logging.Filter):
    """Lets a recurring log line through once per interval, without its traceback: asyncio
    logs every accept() that fails for want of descriptors, which can fill a disk."""

    def __init__(self, prefix: str, interval: float = 60.0):
        super().__init__()
        self._prefix = prefix
        self._interval = interval
        self._last = -math.inf

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith(self._prefix):
            return True
        if time.monotonic() - self._last < self._interval:
            return False
        self._last = time.monotonic()
        record.exc_info = record.exc_text = None
        record.msg, record.args = f"{record.getMessage()} (said at most once a minute)", ()
        return True


@functools.cache
def connection_limit() -> int:
    """How many client connections fit in this process's file descriptors."""
    import resource  # Unix only, like the rest of the deployment story

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, (soft if soft != resource.RLIM_INFINITY else 65536) - FD_RESERVE)


class ConnectionMaker:
    """What the listening socket makes each connection with: aiohttp's own Server (which
    counts and closes connections), with our JsonErrorRequestHandler as the connection."""

    def __init__(self, server: web.Server, settings: dict[str, Any]):
        self.server = server
        self.settings = settings

    def __call__(self) -> JsonErrorRequestHandler:
        return JsonErrorRequestHandler(self.server, loop=asyncio.get_running_loop(),
                                       **self.settings)

    def __getattr__(self, name: str) -> Any:  # the rest is the Server's: connections, shutdown
        return getattr(self.server, name)


class AccessLogger(web.AbstractAccessLogger):
    """The access log: a line a request, with the secret token of a gateway's callback path
    shown as ***, and its query too (Kannel's carries a customer's number and text, Meta's
    check the verify token). (It formats the line itself: aiohttp's own logger cannot be
    shown another path once a request's body has been read.)"""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        shown = request.raw_path  # as sent: a decoded %0A would forge a line
        if request.path.startswith("/providers/") and request.query_string:
            shown = request.raw_path.partition("?")[0] + "?***"
        self.logger.info('%s "%s %s HTTP/%d.%d" %d %d %.6fs "%s" request=%s',
                         request.remote or "-", request.method, without_tokens(shown),
                         *request.version, response.status, response.body_length, time,
                         request.headers.get("User-Agent", "-"),
                         response.headers.get("X-Request-Id", "-"))


class Runner(web.AppRunner):
    """An AppRunner whose connections are JsonErrorRequestHandlers with an idle timeout."""

    RUNNER_SETTINGS = ("handle_signals", "shutdown_timeout", "handler_cancellation")

    def __init__(self, app: web.Application, **settings: Any):
        settings = {"keepalive_timeout": IDLE_TIMEOUT, "access_log_class": AccessLogger,
                    **settings}
        super().__init__(app, **settings)
        self.connection_settings = {name: value for name, value in settings.items()
                                    if name not in self.RUNNER_SETTINGS}

    @property
    def server(self) -> Any:
        server = super().server
        return server and ConnectionMaker(server, self.connection_settings)


# ---------------------------------------------------------------------------
# OPENAPI
# The API described for clients and fuzzers (GET /openapi.json); a test
# checks every route is here and real answers validate against it.
# ---------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def _object(properties: dict[str, Any], required: Iterable[str] = ()) -> dict[str, Any]:
    """An object of these properties and no others."""
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


def _all_required(properties: dict[str, Any]) -> dict[str, Any]:
    """An object of these properties, every one of them required."""
    return _object(properties, properties)


def _array(items: dict[str, Any], **limits: int) -> dict[str, Any]:
    return {"type": "array", "items": items, **limits}


def _list_of(item: str) -> dict[str, Any]:
    return _all_required({"data": _array(_ref(item)), "pagination": _ref("Pagination")})


STAMP = {"type": "string", "format": "date-time"}
COUNT = {"type": "integer", "minimum": 0}
IDENT = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
STRING = {"type": "string"}
NO_NUL = "^[^\\u0000]*$"  # text_value() refuses NUL characters


def _text(minimum: int, maximum: int, pattern: str = NO_NUL) -> dict[str, Any]:
    return {"type": "string", "minLength": minimum, "maxLength": maximum, "pattern": pattern}


def _whatsapp_template_schema() -> dict[str, Any]:
    """A whatsapp campaign's approved template (§20): each parameter a template of §4."""
    return {**_object({
        "name": {"type": "string", "pattern": f"^{WHATSAPP_TEMPLATE_NAME.pattern}$"},
        "language": {"type": "string", "pattern": f"^{WHATSAPP_LANGUAGE.pattern}$"},
        "parameters": _array(_text(1, WHATSAPP_MAX_PARAMETER), maxItems=WHATSAPP_MAX_PARAMETERS)},
        ("name", "language")),
        "description": "sent as Meta's template message; without it, the text goes as a "
                       "free-form message (only inside the customer's 24-hour window)"}


def _customer_fields() -> dict[str, Any]:
    """A customer's fields as the API shows them: the phone, and the others text or null."""
    text = _nullable(_text(0, MAX_TEXT))
    return {"phone": {"type": "string", "pattern": f"^{PHONE_PATTERN.pattern}$"},
            **{name: text for name in CUSTOMER_FIELDS if name != "phone"}}


def _customer_schemas() -> dict[str, Any]:
    fields = _customer_fields()
    new = {**fields, "timezone": {"type": "string", "minLength": 1, "maxLength": 64,
                                  "description": "An IANA timezone name, like Africa/Nairobi"}}
    return {
        "NewCustomer": _object(new, ("phone",)),
        "CustomerChanges": {**_object(new), "minProperties": 1},
        "NewCustomers": _all_required({"customers": _array(
            _ref("NewCustomer"), minItems=1, maxItems=MAX_BULK_CUSTOMERS)}),
        "Customer": _all_required({"id": IDENT, **fields, "timezone": STRING,
                                   "opted_out_at": _nullable(STAMP), "created_at": STAMP}),
        "ImportResult": _all_required({"created": COUNT, "updated": COUNT, "skipped": COUNT}),
        "Inbound": _object({"from": fields["phone"], "text": _text(0, 1600),
                            "timestamp": _nullable(STAMP)}, ("from", "text")),
        "InboundAction": _all_required({"action": {"enum": ["opted_out", "opted_in", "none"]}}),
        "Customers": _all_required({"customers": _array(_ref("Customer"))}),
        "CreatedCustomers": {"oneOf": [_ref("Customer"), _ref("Customers")]},
        "CustomerList": _list_of("Customer"),
    }


def _campaign_schemas() -> dict[str, Any]:
    name = _text(1, MAX_TEXT, "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$")  # not blank either
    whatsapp_template = {"oneOf": [{"type": "null"}, _whatsapp_template_schema()]}
    fields = {"name": name, "channel": {"enum": list(Channel)},
              "base_template": _text(1, MAX_TEMPLATE), "scheduled_at": _nullable(STAMP),
              "quiet_hours": {"type": "boolean"},
              "rate_limit": {"type": ["number", "null"], "exclusiveMinimum": 0,
                             "maximum": MAX_RATE},
              "whatsapp_template": whatsapp_template}
    progress = _all_required({"percent": {"type": "number", "minimum": 0, "maximum": 100},
                              "rate_per_second": {"type": "number", "minimum": 0},
                              "eta_seconds": {"type": ["integer", "null"], "minimum": 0}})
    return {
        "NewCampaign": _object(fields, ("name", "channel", "base_template")),
        "CampaignChanges": {**_object(fields), "minProperties": 1},
        "Campaign": _all_required({
            "id": IDENT, "name": STRING, "channel": {"enum": list(Channel)},
            "status": {"enum": list(CampaignStatus)}, "base_template": STRING,
            "scheduled_at": _nullable(STAMP), "rate_limit": {"type": ["number", "null"]},
            "quiet_hours": {"type": "boolean"}, "created_at": STAMP, "updated_at": STAMP,
            "started_at": _nullable(STAMP), "finished_at": _nullable(STAMP),
            "whatsapp_template": whatsapp_template,
            "stats": _all_required(dict.fromkeys(STAT_NAMES, COUNT)), "progress": progress}),
        "CampaignList": _list_of("Campaign"),
        "Retried": _all_required({"campaign_id": IDENT, "messages_requeued": COUNT,
                                  "status": {"enum": list(CampaignStatus)}}),
        "ErrorCount": _all_required({"last_error": STRING,
                                     "status": {"enum": list(MessageStatus)}, "count": COUNT}),
        "ErrorCountList": _list_of("ErrorCount"),
        "NoBody": {"oneOf": [_object({})]},
    }


def _message_schemas() -> dict[str, Any]:
    segment = {**_object({name: _text(1, MAX_TEXT) for name in SEGMENT_FIELDS}),
               "minProperties": 1}
    sms = _all_required({"encoding": {"enum": ["GSM-7", "UCS-2"]}, "characters": COUNT,
                         "segments": IDENT})
    template = _all_required({"name": STRING, "language": STRING, "parameters": _array(STRING)})
    return {
        "Message": _all_required({
            "id": IDENT, "campaign_id": IDENT, "customer_id": _nullable(IDENT),
            "status": {"enum": list(MessageStatus)}, "rendered_content": _nullable(STRING),
            "last_error": _nullable(STRING), "retry_count": COUNT,
            "provider_message_id": _nullable(STRING),
            "delivery_status": {"enum": [*DeliveryStatus, None]},
            "delivered_at": _nullable(STAMP), "created_at": STAMP, "updated_at": STAMP,
            "customer_name": _nullable(STRING), "customer_phone": _nullable(STRING)}),
        "MessageList": _list_of("Message"),
        "SendRequest": {"oneOf": [
            _all_required({"customer_ids": _array(IDENT, minItems=1, maxItems=MAX_SEND_IDS)}),
            _all_required({"all_customers": {"const": True}}),
            _all_required({"segment": segment})]},
        "SendResult": _all_required({"campaign_id": IDENT, "messages_queued": COUNT,
                                     "duplicates_skipped": COUNT, "suppressed": COUNT,
                                     "status": {"enum": list(CampaignStatus)}}),
        "PreviewRequest": _object({"customer_id": IDENT,
                                   "override_template": _nullable(_text(1, MAX_TEMPLATE))},
                                  ("customer_id",)),
        "Preview": _all_required({
            "rendered_message": STRING, "used_template": STRING,
            "customer": _object({"id": IDENT, **_customer_fields()}, ("id", *CUSTOMER_FIELDS)),
            "missing_fields": _array({"enum": list(CUSTOMER_FIELDS)}),
            "sms": {"oneOf": [{"type": "null"}, sms]},
            "channel_limit_problem": _nullable(STRING),
            "whatsapp_template": {"oneOf": [{"type": "null"}, template]}}),
        "UnsavedPreviewRequest": _object({
            "template": _text(1, MAX_TEMPLATE), "channel": {"enum": list(Channel)},
            "customer_id": IDENT, "whatsapp_template": _nullable(_whatsapp_template_schema())},
            ("template", "channel", "customer_id")),
    }


def _webhook_schemas() -> dict[str, Any]:
    receipts = _array(_ref("Receipt"), minItems=1, maxItems=MAX_RECEIPTS)
    body = _all_required({"type": STRING, "timestamp": STAMP, "data": {"type": "object"}})
    return {
        "Receipt": _object({"reference": _text(1, 100), "status": {"enum": list(DeliveryStatus)},
                            "error": _nullable(_text(0, MAX_TEXT)),
                            "timestamp": _nullable(STAMP)}, ("reference", "status")),
        "Receipts": {"oneOf": [_ref("Receipt"), _all_required({"receipts": receipts})]},
        "ReceiptsTaken": _all_required({"accepted": COUNT, "unknown": _array(STRING)}),
        "Delivery": _all_required({
            "id": IDENT, "webhook_id": STRING, "type": STRING,
            "status": {"enum": ["pending", "delivered", "dead"]}, "attempts": COUNT,
            "last_error": _nullable(STRING), "next_attempt_at": _nullable(STAMP),
            "created_at": STAMP, "delivered_at": _nullable(STAMP), "body": body}),
        "DeliveryList": _list_of("Delivery"),
    }


def _overview_schemas() -> dict[str, Any]:
    point = _all_required({"at": STAMP, **dict.fromkeys(PROGRESS_COUNTS, COUNT),
                           "settled_per_second": {"type": "number", "minimum": 0},
                           "attempts_per_second": {"type": "number", "minimum": 0}})
    counts = _all_required({"channel": {"enum": list(Channel)}, "sent": COUNT,
                            "delivered": COUNT, "failed": COUNT})
    millis = {"type": ["number", "null"], "minimum": 0}
    provider = _all_required({
        "window_seconds": {"type": "number"}, "attempts": COUNT, "errors": COUNT,
        "throttled": COUNT, "error_rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "median_ms": millis, "p95_ms": millis})
    gateway = _all_required({"channel": {"enum": list(Channel)}, "kind": STRING,
                             "host": _nullable(STRING),
                             "state": {"enum": ["up", "degraded", "down"]}})
    rate = _all_required({"at": STAMP, "per_second": {"type": "number", "minimum": 0}})
    settings = _all_required({"quiet_hours": _nullable(STRING),
                              "max_per_customer_per_day": {"type": ["integer", "null"]},
                              "max_retries": COUNT})
    return {
        "Timeline": _all_required({"campaign_id": IDENT, "started_at": _nullable(STAMP),
                                   "finished_at": _nullable(STAMP), "points": _array(point)}),
        "Overview": _all_required({
            "generated_at": STAMP,
            "today": _all_required({"since": STAMP, "timezone": {"const": "UTC"},
                                    "channels": _array(counts)}),
            "step_seconds": {"type": "number"}, "attempts_per_second": _array(rate),
            "provider": provider, "queue_depth": {"type": ["integer", "null"], "minimum": 0},
            "attempts_in_flight": COUNT, "messages_pending": COUNT, "webhook_outbox_depth": COUNT,
            "campaigns": _all_required(dict.fromkeys(CampaignStatus, COUNT)),
            "gateways": _array(gateway), "settings": settings}),
    }


def _schemas() -> dict[str, Any]:
    problem = _all_required({"line": {"type": ["integer", "null"], "minimum": 1},
                             "field": _nullable(STRING), "message": STRING})
    error = _object({"code": {"enum": list(ERROR_CODES)}, "message": STRING,
                     "errors": _array(problem)}, ("code", "message"))
    up = {"enum": ["ok", "down"]}
    callbacks = _all_required({"receipts": _nullable(STRING), "inbound": _nullable(STRING)})
    provider = _object({
        "channels": _array({"enum": list(Channel)}), "kind": STRING, "host": _nullable(STRING),
        "url": _nullable(STRING), "state": {"enum": ["up", "down"]}, "reason": _nullable(STRING),
        "callbacks": callbacks,
        "verify_token": {"type": "string", "description": "WhatsApp: paste into Meta's "
                         "console with the callback URL"}},
        ("channels", "kind", "host", "url", "state", "reason", "callbacks"))
    return {
        "Error": _all_required({"error": error}),
        "Pagination": _all_required({
            "page": IDENT, "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
            "total_count": COUNT, "total_pages": COUNT, "next_cursor": _nullable(STRING)}),
        **_customer_schemas(),
        **_campaign_schemas(),
        **_message_schemas(),
        **_webhook_schemas(),
        **_overview_schemas(),
        "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths"]},
        "Health": _object({"status": up, "db": up, "queue": up,
                           "queue_depth": {"type": ["integer", "null"]}, "provider": up,
                           "provider_reason": _nullable(STRING)},
                          ("status", "db", "queue", "queue_depth")),
        "ProviderList": _all_required({"data": _array(provider)}),
        "GatewayCallback": {"type": "object", "description": "the gateway's own format: a form "
                            "(Twilio, Africa's Talking), JSON (Infobip, WhatsApp) or a query "
                            "(Kannel)"},
        "WhatsAppTaken": _all_required({
            "accepted": COUNT, "unknown": _array(STRING),
            "action": {"enum": ["opted_out", "opted_in", "none"]}}),
    }


def _content(schema: str | dict[str, Any]) -> dict[str, Any]:
    """What a body holds: the JSON schema of that name, or {media type: schema}."""
    media = {"application/json": _ref(schema)} if isinstance(schema, str) else schema
    return {"content": {media_type: {"schema": each} for media_type, each in media.items()}}


def _param(name: str, where: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema}


ERROR_REASONS = {400: "Invalid request", 401: "Missing or wrong API key",
                 403: "A gateway's signature does not hold", 404: "Not found",
                 405: "Method not allowed", 409: "Conflict", 413: "Body over 8 MiB",
                 415: "Body not JSON", 500: "Internal error", 503: "Queue unavailable"}
IDEMPOTENCY_KEY = _param("Idempotency-Key", "header",
                         {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"})


def _operation(summary: str, answer: str | dict[str, Any] | None, *errors: int,
               status: int = 200, body: str | dict[str, Any] | None = None,
               params: Iterable[dict[str, Any]] = (), changes: bool = False,
               public: bool = False) -> dict[str, Any]:
    """One operation: its answer (as _content takes it) with `status`, and the errors it may
    answer besides those any request may (a body adds 413 and 415). One that `changes`
    something takes an Idempotency-Key and may answer 409; a `public` one needs no API key."""
    codes = {*errors, 400, 401, 405, 500}
    if body:
        codes |= {413, 415}
    if changes:
        codes.add(409)
        params = [*params, IDEMPOTENCY_KEY]
    responses = {str(status): {"description": "Success", **(_content(answer) if answer else {})}}
    for code in sorted(codes):
        responses[str(code)] = {"description": ERROR_REASONS[code], **_content("Error")}
    operation: dict[str, Any] = {"summary": summary, "responses": responses,
                                 "parameters": list(params)}
    if body:
        operation["requestBody"] = {"required": body != "NoBody", **_content(body)}
    if public:
        operation["security"] = []
    return operation


BY_ID = [_param("id", "path", IDENT)]
PAGING = [_param("page", "query", {"type": "integer", "minimum": 1, "maximum": 1_000_000_000}),
          _param("page_size", "query", {"type": "integer", "minimum": 1, "maximum": 100}),
          _param("cursor", "query", {"type": "string", "minLength": 1})]


def _action(summary: str, answer: str = "Campaign") -> dict[str, Any]:
    """POST /{things}/{id}/{action}: no body, and 404 or 409 when it cannot be done."""
    return {"post": _operation(summary, answer, 404, body="NoBody", params=BY_ID, changes=True)}


def _campaign_paths() -> dict[str, Any]:
    return {
        "/campaigns": {
            "post": _operation("Create a campaign", "Campaign", status=201, body="NewCampaign",
                               changes=True),
            "get": _operation("List campaigns, newest first", "CampaignList", params=[
                *PAGING, _param("channel", "query", {"enum": list(Channel)}),
                _param("status", "query", {"enum": list(CampaignStatus)})])},
        "/campaigns/{id}": {
            "get": _operation("A campaign with its stats and progress", "Campaign", 404,
                              params=BY_ID),
            "patch": _operation(
                "Change a draft or scheduled campaign (name and template also while paused)",
                "Campaign", 404, body="CampaignChanges", params=BY_ID, changes=True),
            "delete": _operation("Delete a draft that has no messages", None, 404, status=204,
                                 params=BY_ID, changes=True)},
        "/campaigns/{id}/messages": {"get": _operation(
            "A campaign's messages", "MessageList", 404, params=[
                *BY_ID, *PAGING, _param("status", "query", {"enum": list(MessageStatus)}),
                _param("delivery_status", "query", {"enum": list(DeliveryStatus)})])},
        "/campaigns/{id}/errors": {"get": _operation(
            "What went wrong: failed (and retrying) messages by error, most frequent first",
            "ErrorCountList", 404, params=[*BY_ID, *PAGING[:2]])},
        "/campaigns/{id}/send": {"post": _operation(
            "Queue messages for an audience", "SendResult", 404, 503, body="SendRequest",
            params=BY_ID, changes=True)},
        "/campaigns/{id}/pause": _action("Stop starting attempts; in-flight ones finish"),
        "/campaigns/{id}/resume": _action("Continue a paused campaign"),
        "/campaigns/{id}/cancel": _action("Cancel for good: pending messages become cancelled"),
        "/campaigns/{id}/retry-failed": _action("Send every failed message again", "Retried"),
        "/campaigns/{id}/personalized-preview": {"post": _operation(
            "Render the campaign for one customer", "Preview", 404, body="PreviewRequest",
            params=BY_ID)},
        "/campaigns/{id}/timeline": {"get": _operation(
            "A campaign's progress over its life: counters, attempts and settled messages per "
            f"second at up to {TIMELINE_POINTS} moments", "Timeline", 404, params=BY_ID)},
        "/preview": {"post": _operation(
            "Render an unsaved template for one customer, as a campaign's preview does",
            "Preview", 404, body="UnsavedPreviewRequest")},
        "/overview": {"get": _operation(
            "Today's counts per channel (UTC), attempts per second over the last hour, queue, "
            "provider latency and errors, webhook outbox, gateways", "Overview")},
    }


def _customer_paths() -> dict[str, Any]:
    return {
        "/customers": {
            "post": _operation(
                "Create a customer, up to 10,000 as JSON, or up to 100,000 from a CSV file "
                "(text/csv: a header row of field names, phone required; all or nothing)",
                "CreatedCustomers", status=201, changes=True,
                params=[_param("on_conflict", "query", {"enum": list(OnConflict)})],
                body={"application/json": {"oneOf": [_ref("NewCustomer"), _ref("NewCustomers")]},
                      "text/csv": STRING}),
            "get": _operation("List customers, oldest first", "CustomerList", params=[
                *PAGING,
                *(_param(name, "query", _text(1, MAX_TEXT)) for name in SEGMENT_FIELDS)])},
        "/customers/{id}": {
            "get": _operation("A customer", "Customer", 404, params=BY_ID),
            "patch": _operation("Change a customer's fields", "Customer", 404,
                                body="CustomerChanges", params=BY_ID, changes=True),
            "delete": _operation(
                "Erase a customer: the row and the text of their messages; pending ones are "
                "cancelled", None, 404, status=204, params=BY_ID, changes=True)},
        "/customers/{id}/opt-out": _action("Never send to this customer again (until opt-in)",
                                           "Customer"),
        "/customers/{id}/opt-in": _action("Subscribe an opted-out customer again", "Customer"),
    }


def _provider_paths() -> dict[str, Any]:
    """The provider's callbacks and the gateways' (§20): Twilio's signed, the others' with a
    token in the path."""
    kind = _param("kind", "path", {"enum": [k for k in GATEWAYS if k != "whatsapp"]})
    token = _param("token", "path", STRING)
    hub = [_param(f"hub.{name}", "query", STRING)
           for name in ("mode", "verify_token", "challenge")]

    def callback(summary: str, answer: str, *params: dict[str, Any],
                 errors: tuple[int, ...] = (404,), get: bool = False) -> dict[str, Any]:
        return _operation(summary, answer, *errors, body=None if get else "GatewayCallback",
                          params=[kind, *params], public=True)

    receipts = "Delivery reports in the gateway's own format"
    inbound = "Messages from customers in the gateway's own format: §14's keywords"
    return {
        "/providers/inbound": {"post": _operation(
            "A message from a customer, signed like receipts: STOP and its kin opt out, "
            "START and its kin opt in", "InboundAction", 404, body="Inbound", public=True)},
        "/providers/receipts": {"post": _operation(
            "Delivery receipts from the provider, signed (Standard Webhooks) with "
            "--receipt-secret", "ReceiptsTaken", 404, body="Receipts", public=True)},
        "/providers": {"get": _operation(
            "Each channel's gateway: kind, host, state, and the callback URLs to paste into its "
            "console (never a password, key or secret)", "ProviderList")},
        "/providers/whatsapp": {
            "get": _operation("Meta's check of the webhook: hub.challenge as text when "
                              "hub.verify_token is the URL's (else 403)",
                              {"text/plain": STRING}, 403, 404, params=hub, public=True),
            "post": _operation(
                "The WhatsApp Cloud API's webhook: statuses (receipts) and customers' messages "
                "(§14's keywords), signed with X-Hub-Signature-256 (else 401)",
                "WhatsAppTaken", 404, body="GatewayCallback", public=True)},
        "/providers/{kind}/receipts": {"post": callback(
            f"{receipts}, signed (Twilio)", "ReceiptsTaken", errors=(403, 404))},
        "/providers/{kind}/receipts/{token}": {
            "get": callback(f"{receipts} (Kannel)", "ReceiptsTaken", token, get=True),
            "post": callback(receipts, "ReceiptsTaken", token)},
        "/providers/{kind}/inbound": {"post": callback(
            f"{inbound}, signed (Twilio)", "InboundAction", errors=(403, 404))},
        "/providers/{kind}/inbound/{token}": {
            "get": callback(f"{inbound} (Kannel)", "InboundAction", token, get=True),
            "post": callback(inbound, "InboundAction", token)},
    }


def _paths() -> dict[str, Any]:
    health = _operation("Database and queue status", "Health", public=True)
    health["responses"]["503"] = {"description": "Something is down", **_content("Health")}
    return {
        **_campaign_paths(),
        **_customer_paths(),
        **_provider_paths(),
        "/webhooks/deliveries": {"get": _operation(
            "The webhook outbox: events and how their delivery went, newest first",
            "DeliveryList", params=[
                *PAGING, _param("status", "query", {"enum": ["pending", "delivered", "dead"]})])},
        "/health": {"get": health},
        "/metrics": {"get": _operation("Prometheus metrics, in the text exposition format",
                                       {"text/plain": STRING})},
        "/": {"get": _operation("The dashboard: one HTML page; it asks for the API key",
                                {"text/html": STRING}, public=True)},
        "/static/{name}": {"get": _operation(
            "The dashboard's script (app.js) and style sheet (app.css)",
            {"text/css": STRING, "text/javascript": STRING}, 404,
            params=[_param("name", "path", {"enum": ["app.css", "app.js"]})], public=True)},
        "/openapi.json": {"get": _operation("This document", "OpenApiDocument")},
    }


@functools.cache
def openapi_document(api_key_required: bool = False) -> dict[str, Any]:
    """The OpenAPI 3.1 description of every endpoint."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "SMSLeopard", "version": __version__,
                 "description": "Campaign dispatch for SMS and WhatsApp."},
        "components": {"schemas": _schemas()},
        "paths": _paths(),
    }
    if api_key_required:
        bearer = {"type": "http", "scheme": "bearer"}
        document["components"]["securitySchemes"] = {"bearer": bearer}
        document["security"] = [{"bearer": []}]
    return document


async def serve_openapi(request: web.Request) -> web.Response:
    query_params(request, ())
    return json_response(openapi_document(bool(request.app[CONFIG].api_key)))


# ---------------------------------------------------------------------------
# DASHBOARD
# The operator's page at GET /: static/index.html with its static/app.js and
# static/app.css, files beside this one served as they are (no build step),
# nothing fetched from any other host. It speaks only the public API, as any
# client would.
# ---------------------------------------------------------------------------

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript"}  # what GET /static/{name} serves
DASHBOARD_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                 "img-src data:; connect-src 'self'; form-action 'none'; base-uri 'none'; "
                 "frame-ancestors 'none'")


async def serve_dashboard(request: web.Request) -> web.StreamResponse:
    query_params(request, ())
    return static_file("index.html", "text/html")


async def serve_static(request: web.Request) -> web.StreamResponse:
    """GET /static/{name}: a file in static/ itself (no folder below it, no dotfile) of a type
    the page uses; anything else is 404."""
    query_params(request, ())
    name = request.match_info["name"]
    content_type = STATIC_TYPES.get(Path(name).suffix)
    if content_type is None or name.startswith(".") or Path(name).name != name:
        raise web.HTTPNotFound
    return static_file(name, content_type)


def static_file(name: str, content_type: str) -> web.FileResponse:
    """A file of static/, with the page's security headers; a browser asks again each time
    (no-cache) and is answered 304 when the file has not changed."""
    path = STATIC_DIR / name
    if not path.is_file():
        if STATIC_DIR.is_dir():
            raise web.HTTPNotFound
        raise ApiError(404, "NOT_FOUND", "The dashboard's files are not here: copy static/ "
                       "beside smsleopard.py")
    return web.FileResponse(path, headers={
        "Content-Type": f"{content_type}; charset=utf-8", "Content-Security-Policy": DASHBOARD_CSP,
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------------------
# APP
# The application factory, with one cleanup context per resource: each opens
# its resource before `yield` and closes it after, in reverse order.
# ---------------------------------------------------------------------------


def create_app(config: Config, *, clock: Clock | None = None, sender: Sender | None = None,
               rng: random.Random | None = None, queue: JobQueue | None = None) -> web.Application:
    """The aiohttp application; tests pass a fake clock, scripted sender, seeded rng, a queue."""
    clock = clock or Clock()
    rng = rng or random.Random()
    metrics = Metrics(clock)
    middlewares = [busy_middleware, metrics_middleware(metrics),
                   *([cors_middleware(config.cors)] if config.cors else []),
                   error_middleware,
                   *([auth_middleware(config.api_key)] if config.api_key else []),
                   idempotency_middleware()]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    app[CONFIG] = config
    app[METRICS] = metrics
    app[CLOCK] = clock
    app[CRASHED] = asyncio.Event()
    if config.role == "worker":  # it answers its probes and its provider; the API runs elsewhere
        app.router.add_get("/health", health)
        app.router.add_post("/providers/receipts", receive_receipts)
        app.router.add_post("/providers/inbound", receive_inbound)
        app.router.add_routes(GATEWAY_ROUTES)
    else:
        app.router.add_routes(ROUTES)
        app.router.add_get("/openapi.json", serve_openapi)
        app.router.add_get("/", serve_dashboard)
        app.router.add_get("/static/{name}", serve_static)
    app.router.add_get("/metrics", serve_metrics)
    policy = RetryPolicy(config.max_retries, config.retry_base_ms / 1000, rng=rng)
    sender = sender or open_sender(config, rng, clock)
    app.cleanup_ctx.extend([  # what can fail first, before any file is made: broker, provider
        functools.partial(_queue_context, queue=queue),
        functools.partial(_sender_context, sender=sender),
        _store_context,
        _gateway_reports_context,
        functools.partial(_dispatch_context, sender=sender, policy=policy),
        _scheduler_context,
        _webhook_context,
    ])
    return app


def _crash_handler(app: web.Application) -> CrashHandler:
    def crashed(name: str, exc: BaseException) -> None:
        log.critical("background task %s died: %r", name, exc, exc_info=exc)
        app[CRASHED].set()

    return crashed


async def _store_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    new = config.db != ":memory:" and not await asyncio.to_thread(os.path.exists, config.db)
    try:
        store = await open_store(config)
    except BaseException:
        if new:  # a failed start leaves no database behind
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    os.remove(config.db + suffix)
        raise
    store.outbox.events = config.events
    store.claims.consent = config.consent
    app[STORE] = store
    yield
    await store.close()


async def open_store(config: Config) -> Store:
    """The database, migrated, with the sample data if it is new and seeding is on."""
    store = await Store.open(config.db, config.busy_timeout_ms)
    try:
        if config.seed and is_postgres(config.db):
            log.info("the sample data is for SQLite: a PostgreSQL database starts empty")
        elif config.seed and await store.seed_if_empty(
                await asyncio.to_thread(Path(config.seed_path).read_text, encoding="utf-8")):
            log.info("loaded the sample data of %s", config.seed_path)
    except OSError as exc:
        await store.close()
        raise ConfigError(f"cannot read the sample data: {exc}") from None
    except BaseException:
        await store.close()
        raise
    return store


async def _queue_context(app: web.Application, queue: JobQueue | None) -> AsyncIterator[None]:
    config = app[CONFIG]
    queue = queue or open_queue(config, app[CLOCK], prefetch(config) if config.dispatches else 0)
    await queue.open()
    app[QUEUE] = queue
    yield
    await queue.close()


async def _sender_context(app: web.Application, sender: Sender) -> AsyncIterator[None]:
    gateways = isinstance(sender, (Gateway, GatewaySender))
    app[SENDER] = sender
    if gateways:
        await sender.open()
    yield
    if gateways:
        await sender.close()


async def _gateway_reports_context(app: web.Application) -> AsyncIterator[None]:
    """Receipts and customers' messages that arrive on a gateway's own connection (an SMPP
    bind), not at a callback URL: applied as the callbacks' are."""
    sender = app[SENDER]
    gateways = sender.distinct if isinstance(sender, GatewaySender) else []
    tasks = [spawn(take_gateway_reports(g, app[STORE], app[CLOCK]), f"{g.kind}-reports",
                   _crash_handler(app)) for g in gateways if hasattr(g, "reports")]
    tasks += [spawn(watch_gateway(g), f"{g.kind}-probe", _crash_handler(app))
              for g in gateways if not hasattr(g, "reports")]  # SMPP binds again by itself
    yield
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


GATEWAY_PROBE = 5.0  # seconds between probes of a gateway down for want of connection or answer


async def watch_gateway(gateway: Gateway) -> None:
    while True:
        await asyncio.sleep(GATEWAY_PROBE)
        await gateway.probe()


async def take_gateway_reports(gateway: Any, store: Store, clock: Clock) -> None:
    """Apply what a gateway pushes, batch by batch: receipts and customers' texts (§14)."""
    while True:
        found, inbound = await gateway.reports()
        try:
            now = clock.now()
            await apply_gateway_receipts(store, found, now)
            for phone, text in inbound:
                if (said := keyword_action(text)) != "none":
                    await store.customers.opt_by_phone(phone, said == "opted_out", now)
        except FAULTS as exc:
            log.warning("%s: %d receipts and %d messages not recorded: %s", gateway.kind,
                        len(found), len(inbound), exc)
        except Exception:  # a bug of ours loses this batch, not the service
            log.exception("%s: %d receipts and %d messages not recorded", gateway.kind,
                          len(found), len(inbound))


async def _dispatch_context(app: web.Application, sender: Sender,
                            policy: RetryPolicy) -> AsyncIterator[None]:
    config = app[CONFIG]
    campaigns = Campaigns(app[STORE], app[QUEUE], app[CLOCK], config.job_size, app[METRICS])
    app[CAMPAIGNS] = campaigns
    dispatcher = Dispatcher(config, app[STORE], app[QUEUE], campaigns, sender, policy, app[CLOCK],
                            _crash_handler(app), app[METRICS])
    app[DISPATCHER] = dispatcher
    await app[STORE].claims.configure_pace(config.rate_limits, app[CLOCK].now())
    if (is_postgres(config.db) and not config.queue_url
            and not await app[STORE].db.hold("in-process-queue")):
        raise ConfigError("another process already uses this PostgreSQL database with a queue of "
                          "its own; several processes share the work through a queue: --queue-url")
    publishing: list[asyncio.Task] = []  # the backlog found at start, published in the background
    if config.dispatches:
        try:
            await campaigns.recover(
                starting=True, ready=dispatcher.start,
                rest=lambda work: publishing.append(spawn(work, "recovery", _crash_handler(app))))
        except DatabaseUnavailable as exc:  # damaged pages, say: say so in one line, exit 2
            await dispatcher.stop(0)
            raise ConfigError(f"cannot use database {shown_database(config.db)!r}: "
                              f"{exc.reason}") from None
    yield
    for task in publishing:
        task.cancel()
    await asyncio.gather(*publishing, return_exceptions=True)
    await campaigns.close_backlog()
    await dispatcher.stop(config.shutdown_timeout)
    with contextlib.suppress(*FAULTS):
        pending = await app[STORE].claims.pending_count()
        log.info("stopped: %d messages stay pending for the next start" if config.db != ":memory:"
                 else "stopped: %d messages pending go with the in-memory database", pending,
                 extra={"event": "stopped", "pending": pending})


async def _webhook_context(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    sender = None
    if config.webhook_url and config.dispatches:
        sender = WebhookSender(app[STORE], config.webhook_url, config.webhook_secret, app[CLOCK],
                               _crash_handler(app))
        app[STORE].outbox.on_events_written = sender.written.set
        sender.start()
    app[WEBHOOKS] = sender
    yield
    if sender is not None:
        await sender.stop()


async def _scheduler_context(app: web.Application) -> AsyncIterator[None]:
    crashed = _crash_handler(app)
    scheduler = Scheduler(app[STORE], app[CAMPAIGNS], app[CLOCK], crashed)
    healer = Healer(app[STORE], app[QUEUE], app[CAMPAIGNS], app[DISPATCHER], app[CLOCK], crashed)
    progress = ProgressLog(app[STORE], app[CLOCK], crashed)
    app[SCHEDULER] = scheduler
    app[HEALER] = healer
    if app[CONFIG].schedules:
        scheduler.start()
    if app[CONFIG].run_workers:  # an api process heals its own failed publishes
        healer.start()
    if app[CONFIG].dispatches:
        progress.start()
    yield
    await progress.stop()
    await healer.stop()
    await scheduler.stop()


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening socket, so a taken port stops the start before anything else runs."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


async def serve(config: Config) -> int:
    """Serve until SIGINT or SIGTERM (exit 0) or until a background task dies (exit 1)."""
    sock = listen_socket(config.host, config.port)
    if not config.public_url:  # a provider on this machine reaches us where we listen
        config = dataclasses.replace(config, public_url=listening_url(sock))
    app = create_app(config)
    access_log = logging.getLogger("smsleopard.access") if config.access_log else None
    runner = Runner(app, access_log=access_log, shutdown_timeout=5.0)
    try:
        await runner.setup()
        started = {"database": shown_database(config.db), "schema_version": SCHEMA_VERSION,
                   "queue": describe_queue(config), "provider": describe_provider(config)}
        log.info("started: database %s (schema version %d), queue %s, provider %s",
                 *started.values(), extra={"event": "started", **started})
        await web.SockSite(runner, sock, backlog=LISTEN_BACKLOG).start()
        sock.listen(1024)  # the kernel may hold more waiting connections than one burst takes
        log.info("listening on %s", listening_url(sock))
        tune_collector()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await asyncio.wait([asyncio.ensure_future(stop.wait()),
                            asyncio.ensure_future(app[CRASHED].wait())],
                           return_when=asyncio.FIRST_COMPLETED)
        log.info("shutting down")
        # Attempts in flight end while the service still listens: the gateways' reports get in.
        await app[DISPATCHER].stop(config.shutdown_timeout)
    finally:
        await runner.cleanup()
        sock.close()
    return 1 if app[CRASHED].is_set() else 0


YOUNG_OBJECTS = 50_000  # new objects between two young collections (Python's default: 700)


def tune_collector() -> None:
    """What starting made lives as long as the process: out of the collector's sight, a full
    collection while a campaign dispatches walks only what came after (it had held the
    event loop for 30 ms). Young collections wait for YOUNG_OBJECTS: with a thousand
    requests at the provider most of what each walked was still alive, and the collector
    took a fifth of the time (8,700 collections in 20 s; 20 now, 10% more messages)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])


def describe_queue(config: Config) -> str:
    if not config.queue_url:
        return "in-process"
    kind = "PostgreSQL" if is_postgres(config.queue_url) else "RabbitMQ"
    return f"{kind} {redacted(config.queue_url)} ({config.queue_name})"


def describe_provider(config: Config) -> str:
    """The gateways as the start's log line shows them: no password, key or token."""
    shown = (parse_gateway_url(config.provider_url).shown if config.provider_url
             else "the mock, in-process")
    if config.whatsapp_provider_url:
        shown += f" (whatsapp: {parse_gateway_url(config.whatsapp_provider_url).shown})"
    return shown


class JsonLogFormatter(logging.Formatter):
    """--log-format json: one object a line, with time, level, logger, message and the
    fields the line was given (extra=...), like event and campaign_id."""

    PLAIN = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": utc_iso(record.created), "level": record.levelname.lower(),
                 "logger": record.name, "message": record.getMessage(),
                 **{name: value for name, value in vars(record).items() if name not in self.PLAIN}}
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(config: Config) -> None:
    """Lines to stderr, as text or JSON; the broker client and the accept() errors quietened."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter() if config.log_format == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=config.log_level.upper(), handlers=[handler])
    if config.log_level != "debug":  # the broker client's own lines repeat ours, at length
        for name in ("aio_pika", "aiormq"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("asyncio").addFilter(OncePerInterval("socket.accept() out of system"))
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # its debug lines show phones, names


def listening_url(sock: socket.socket) -> str:
    """http://host:port of a listening socket (a wildcard address becomes this machine's)."""
    host, port = sock.getsockname()[:2]
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def load_tool(name: str) -> types.ModuleType:
    """tools/<name>.py of the folder this file is in, whatever the working directory, imported
    only when its subcommand is asked for. The tool imports this module as `smsleopard`: the
    same module, also where this file runs as a script (as __main__)."""
    sys.modules.setdefault("smsleopard", sys.modules[__name__])
    folder = str(Path(__file__).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(f"tools.{name}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("tools", f"tools.{name}"):
            raise
        raise ConfigError(f"no tools/{name}.py beside {__file__}: the benchmark and the mock "
                          "provider come with the repository's tools/") from None


def main(argv: Sequence[str] | None = None) -> int:
    """`python smsleopard.py [settings]` serves; `python smsleopard.py bench` measures;
    `python smsleopard.py mock-provider` plays the provider (both in tools/)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["bench"]:
            return load_tool("bench").bench_main(argv[1:])
        if argv[:1] == ["mock-provider"]:
            return load_tool("mock_provider").mock_provider_main(argv[1:])
        config = load_config(argv, os.environ)
        configure_logging(config)
        return asyncio.run(serve(config))
    except ConfigError as exc:
        print(f"smsleopard: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
