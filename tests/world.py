"""The shared test world's plain parts, imported by the test modules (its fixtures are in conftest.py):
the models tests name, predictions and files in every state, waiting, and the worker process."""

from __future__ import annotations

import asyncio
import concurrent.futures
import email
import email.message
import functools
import hashlib
import io
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from billing.models import LedgerEntry, LedgerKind
from deerweb.settings import object_storage
from predictions import pipeline, services, storing, uploads
from predictions.models import InputImage, Prediction, PredictionOutput, Prompt, Status, User
from webhooks import services as webhooks

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("DEERWEB_REQUIRE_SERVICES") == "1"
PASSWORD = "correct-horse-battery-staple"  # every user of the world logs in with it

# --- Models ----------------------------------------------------------------------------------

SCHNELL = "black-forest-labs/flux-schnell"  # $0.003 per image, up to 4 images (a list of URLs)
PRO = "black-forest-labs/flux-1.1-pro"  # $0.04, one image (one URL)
FLUX_DEV = "black-forest-labs/flux-dev"
FLUX2 = "black-forest-labs/flux-2-pro"
KONTEXT = "black-forest-labs/flux-kontext-pro"  # edits one input image
IDEOGRAM = "ideogram-ai/ideogram-v3-turbo"
SDXL = "stability-ai/sdxl"
RECRAFT_SVG = "recraft-ai/recraft-v3-svg"  # SVG outputs

PROMPT = "a red deer in the snow"  # the prompt of a prediction made without one
FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"  # on every stored file DeerWeb serves
# The header's menus as each role gets them, in order: menu -> its links (label, path); the
# account menu's links apart.
MEMBER_MENUS = {
    "Create": [("New prediction", "/predictions/new/"), ("Compare", "/predictions/compare/")],
    "Library": [
        ("History", "/predictions/"),
        ("Prompts", "/prompts/"),
        ("Gallery", "/gallery/"),
        ("Collections", "/collections/"),
    ],
    "Team": [("Usage", "/usage/")],
}
REVIEWER_MENUS = {**MEMBER_MENUS, "Team": [("Review", "/review/"), ("Usage", "/usage/")]}
ADMIN_MENUS = {
    **MEMBER_MENUS,
    "Team": [
        ("Review", "/review/"),
        ("Usage", "/usage/"),
        ("Team usage", "/usage/team/"),
        ("Audit", "/audit/"),
        ("Team members", "/team/"),
        ("Admin", "/admin/"),
    ],
}
ACCOUNT_LINKS = [
    ("Password", "/accounts/password/"),
    ("API tokens", "/accounts/tokens/"),
    ("Webhooks", "/webhooks/"),
    ("Notifications", "/notifications/"),
]
FROZEN_NOW = datetime(2025, 6, 20, 12, tzinfo=UTC)  # the `frozen_clock` fixture's now


def unavailable(reason: str) -> None:
    """Skip a test that needs a missing service; in CI, fail it instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


# --- Images ----------------------------------------------------------------------------------


def png(size: tuple[int, int] = (8, 8), color: str = "red", *, noise: bool = False) -> bytes:
    """A PNG of one colour, or of random pixels (which do not compress) with `noise`."""
    pixels = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, color)
    return _encoded(pixels, "PNG")


def jpeg(size: tuple[int, int] = (16, 9), color: str = "blue") -> bytes:
    return _encoded(Image.new("RGB", size, color), "JPEG")


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


# --- Predictions -----------------------------------------------------------------------------


def submit(owner: User, model_id: str = SCHNELL, **input: Any) -> Prediction:
    """A prediction as the form makes it (services.prediction_create: checked against the owner's
    limits, reserved, queued, and sent to the worker once the transaction commits). The prompt is
    PROMPT unless `input` has one."""
    return services.prediction_create(owner=owner, model_id=model_id, input={"prompt": PROMPT, **input})


def submitted(owner: User, model_id: str = SCHNELL, **input: Any) -> Prediction:
    """submit(), then sent to DeerAPI in this process (no worker), re-read."""
    prediction = submit(owner, model_id, **input)
    pipeline.prediction_submit(prediction.pk)
    prediction.refresh_from_db()
    return prediction


class Broker:
    """Stands in for Celery's send_task: records the messages instead of sending them (no worker runs)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list, dict]] = []

    def send_task(self, name: str, args: list, kwargs: dict | None = None, **options) -> None:
        self.messages.append((name, args, kwargs or {}))

    def sent(self, task: str) -> list[list]:
        """The arguments of every `predictions.tasks.<task>` message."""
        return [args for name, args, _kwargs in self.messages if name == f"predictions.tasks.{task}"]


def rows_due(owner: User, *due_in: float, status: str = Status.PROCESSING) -> list[int]:
    """Predictions of `owner` in `status` (at DeerAPI, by default), one per value of `due_in`: due
    for their next step that many seconds from now (negative: late). Their ids, in that order."""
    now = timezone.now()
    prompt = Prompt.objects.create(owner=owner, text="a deer")
    rows = Prediction.objects.bulk_create(
        Prediction(
            owner=owner,
            prompt=prompt,
            model_id=SCHNELL,
            input={"prompt": "a deer"},
            status=status,
            deerapi_id=f"remote-{i}",
            next_poll_at=now + timedelta(seconds=seconds),
        )
        for i, seconds in enumerate(due_in)
    )
    return [row.pk for row in rows]


def updated(prediction: Prediction, **fields: Any) -> Prediction:
    """`prediction` with `fields` written straight to its row (past the status machine), re-read."""
    Prediction.objects.filter(pk=prediction.pk).update(**fields)
    prediction.refresh_from_db()
    return prediction


def make_prediction(owner: User, **fields: Any) -> Prediction:
    """A submitted flux-schnell prediction of PROMPT, then with `fields` (a status, say) on its row."""
    prediction = submit(owner)
    return updated(prediction, **fields) if fields else prediction


def ended(prediction: Prediction, **fields: Any) -> Prediction:
    """`prediction` succeeded (or in the `status` given), with `fields` on its row."""
    return updated(prediction, **{"status": Status.SUCCEEDED, **fields})


def add_output(
    prediction: Prediction,
    index: int = 0,
    *,
    size: tuple[int, int] = (8, 8),
    color: str = "red",
    image_format: str = "PNG",
    noise: bool = False,
) -> PredictionOutput:
    """A stored output of `size` (a PNG, or the `image_format` given: JPEG, WEBP), of one colour or
    of random pixels with `noise`, with its SHA-256 and the WEBP thumbnail the pipeline would make of it."""
    pixels = os.urandom(size[0] * size[1] * 3) if noise else None
    image = Image.frombytes("RGB", size, pixels) if pixels else Image.new("RGB", size, color)
    data = _encoded(image, image_format)
    image.thumbnail(storing.THUMBNAIL_SIZE)
    ext = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[image_format]
    output = PredictionOutput(
        prediction=prediction,
        index=index,
        source_url=f"https://files.example/{prediction.pk}-{index}.{ext}",
        content_type=Image.MIME[image_format],
        size=len(data),
        width=size[0],
        height=size[1],
        checksum=hashlib.sha256(data).hexdigest(),
    )
    name = f"out-{prediction.pk}-{index}"
    output.file.save(f"{name}.{ext}", ContentFile(data), save=False)
    output.thumbnail.save(f"{name}.webp", ContentFile(_encoded(image, "WEBP")), save=False)
    output.save()
    return output


def finished_prediction(
    owner: User,
    *,
    prompt: str = PROMPT,
    model_id: str = SCHNELL,
    outputs: int = 1,
    size: tuple[int, int] = (16, 16),
    created_at: datetime | None = None,
    **fields: Any,
) -> Prediction:
    """A prediction made straight in the database (no pipeline, no quota): succeeded unless `status`
    says otherwise, created and completed at `created_at` (now), with `outputs` stored images of `size`."""
    now = created_at or timezone.now()
    fields = {"status": Status.SUCCEEDED, "completed_at": now, **fields}
    prediction = Prediction.objects.create(
        owner=owner,
        prompt=Prompt.objects.create(owner=owner, text=prompt, created_at=now),
        model_id=model_id,
        input={"prompt": prompt, "seed": 7},
        created_at=now,
        **fields,
    )
    for index in range(outputs):
        add_output(prediction, index, size=size)
    return prediction


# --- Input images ----------------------------------------------------------------------------


def stored_image(owner: User, prediction: Prediction | None = None, *, used: bool = True) -> tuple[InputImage, bytes]:
    """An upload of `owner`'s (a JPEG) and its bytes; used by `prediction` (a new queued Kontext one of
    `owner`'s by default), or by none when not `used`."""
    data = jpeg()
    image = uploads.input_image_store(owner, uploads.image_check(ContentFile(data, name="deer.jpg")))
    if used:
        uploads.input_images_link(prediction or submit(owner, KONTEXT, prompt="make it blue"), [image])
    return image, data


def made_with_upload(client: Client, owner: User) -> Prediction:
    """A Kontext prediction `owner` made through the form with an uploaded image."""
    client.force_login(owner)
    response = client.post(
        reverse("predictions:new"),
        {
            "model": KONTEXT,
            "prompt": "make it blue",
            "aspect_ratio": "1:1",
            "output_format": "png",
            "safety_tolerance": "2",
            "input_image": SimpleUploadedFile("deer.jpg", jpeg(), "image/jpeg"),
        },
    )
    assert response.status_code == 302, response.content.decode()
    return Prediction.objects.filter(owner=owner).latest("pk")


# --- Money -----------------------------------------------------------------------------------


def ledger(prediction: Prediction) -> list[tuple[str, Decimal]]:
    """The prediction's ledger entries, oldest first, as (kind, amount)."""
    return list(prediction.ledger.order_by("pk").values_list("kind", "amount"))


def ledger_entry(
    user: User, amount: str, day: int = 10, kind: str = LedgerKind.RESERVE, model_id: str = SCHNELL, **fields: Any
) -> LedgerEntry:
    """A ledger entry of `user`'s at 10:00 on `day` of FROZEN_NOW's month."""
    return LedgerEntry.objects.create(
        user=user,
        kind=kind,
        amount=Decimal(amount),
        model_id=model_id,
        created_at=FROZEN_NOW.replace(day=day, hour=10),
        **fields,
    )


# --- Webhooks --------------------------------------------------------------------------------


def submit_with_webhook(
    owner: User, url: str, events: tuple[str, ...] = webhooks.WEBHOOK_EVENTS, *, resolver=None, **input: Any
) -> Prediction:
    """A prediction with a webhook, made in one transaction as the API makes one (through a
    token: only the API takes a webhook)."""
    with transaction.atomic():
        prediction = services.prediction_create(
            owner=owner, model_id=SCHNELL, input={"prompt": PROMPT, **input}, via_token="laptop script"
        )
        webhooks.webhook_subscribe(prediction, url, events, resolver=resolver)
    return prediction


class StubResolver:
    """A resolver for webhooks' URL checks that answers from `answers` (host -> addresses) and
    fails like DNS for any other host; it records the hosts it was asked about."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class WebhookReceiver:
    """An HTTP(S) server on 127.0.0.1 that keeps every request it gets and answers each with the
    next status of `answer()` (200 once none is left)."""

    def __init__(self, *, tls: tuple[Path, Path] | None = None) -> None:
        self.received: list[ReceivedWebhook] = []
        self.server_names: list[str | None] = []  # what each TLS handshake asked for (SNI)
        self.statuses: list[tuple[int, str | None]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append(
                        ReceivedWebhook(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    status, retry_after = receiver.statuses.pop(0) if receiver.statuses else (200, None)
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)

            def remember_sni(sock: ssl.SSLObject, server_name: str | None, ctx: ssl.SSLContext) -> None:
                self.server_names.append(server_name)

            context.sni_callback = remember_sni  # type: ignore[assignment]
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def answer(self, *statuses: int, retry_after: str | None = None) -> None:
        """Answer the next requests with `statuses`, in order."""
        with self.lock:
            self.statuses.extend((status, retry_after) for status in statuses)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[ReceivedWebhook]:
        wait_until(lambda: len(self.received) >= count, timeout, what=f"{count} webhooks received")
        return list(self.received)

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()


# --- Email ----------------------------------------------------------------------------------


def mail_sent(folder: str | Path | None = None) -> list[email.message.Message]:
    """The emails a worker process wrote with the file backend (tests/settings.py gives each test
    process a folder: settings.EMAIL_FILE_PATH), oldest first."""
    folder = Path(folder or settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    messages = []
    for path in sorted(folder.iterdir(), key=lambda item: (item.stat().st_mtime_ns, item.name)):
        # Django's file backend: each message, then a line of 79 dashes.
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.lstrip(b"\n")))
    return messages


def mail_clear(folder: str | Path | None = None) -> None:
    folder = Path(folder or settings.EMAIL_FILE_PATH)
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink(missing_ok=True)


def self_signed_certificate(hostname: str, folder: Path) -> tuple[Path, Path]:
    """A certificate for `hostname` signed by its own key (a CA bundle of its own): its and the key's paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{hostname}.pem", folder / f"{hostname}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


# --- Waiting ---------------------------------------------------------------------------------

# Where a prediction stops moving by itself: models.TERMINAL, and UNKNOWN (an admin resolves it).
TERMINAL = {Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.UNKNOWN}


def wait_for(prediction: Prediction, statuses: set[str] | str, timeout: float = 30.0) -> Prediction:
    """Wait until the prediction reaches one of `statuses`; fail with its story if not."""
    wanted = {statuses} if isinstance(statuses, str) else set(statuses)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        prediction.refresh_from_db()
        if prediction.status in wanted:
            return prediction
        time.sleep(0.1)
    raise AssertionError(
        f"prediction {prediction.pk} is {prediction.status!r}, not {wanted} after {timeout}s "
        f"(error={prediction.error!r})"
    )


def wait_until(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> None:
    """Wait until `condition()` is true; fail naming `what` if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met after {timeout}s")


# --- Processes -------------------------------------------------------------------------------


def database_url() -> str:
    """The test database's URL, for another process (a worker, a notifier)."""
    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def redis_server(port: int) -> subprocess.Popen:
    """A Redis of the test's own on `port` (empty, nothing saved), answering."""
    if not Path("/usr/bin/redis-server").exists():
        unavailable("redis-server is not installed")
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: port_answers(port), timeout=10, what="redis answering")
    return process


# --- Object storage --------------------------------------------------------------------------

# The test bucket, and the credentials DeerWeb and the tests give the S3 server (boto3's variables).
S3_BUCKET = "deerweb-test"
S3_PREFIX = "team/media"  # DEERWEB_S3_PREFIX: every object's key starts with it
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "deerweb-test-key",
    "AWS_SECRET_ACCESS_KEY": "deerweb-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def s3_server(port: int) -> subprocess.Popen:
    """moto's standalone S3 API server on 127.0.0.1:`port` (everything in its memory), answering."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: port_answers(port) or process.poll() is not None, timeout=30, what="the S3 server answering")
    if process.poll() is not None:
        raise RuntimeError(f"the S3 server on port {port} exited with {process.returncode}")
    return process


@dataclass
class Bucket:
    """The test bucket on an S3 API server, as DeerWeb names it (DEERWEB_S3_*), and read straight
    through boto3, past DeerWeb."""

    endpoint_url: str
    name: str = S3_BUCKET
    prefix: str = S3_PREFIX

    @property
    def env(self) -> dict[str, str]:
        """What a DeerWeb process (a worker) needs in its environment to store files here."""
        return {
            "DEERWEB_S3_BUCKET": self.name,
            "DEERWEB_S3_ENDPOINT_URL": self.endpoint_url,
            "DEERWEB_S3_PREFIX": self.prefix,
            **S3_CREDENTIALS,
        }

    @functools.cached_property
    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        )

    def create(self) -> None:
        self.client.create_bucket(Bucket=self.name)

    def use(self, test_settings: Any) -> None:
        """Store this process's files here from now on (`test_settings`: pytest-django's `settings`
        fixture), as deerweb/settings.py does with DEERWEB_S3_BUCKET set."""
        storage = object_storage(self.name, endpoint_url=self.endpoint_url, prefix=self.prefix)
        test_settings.STORAGES = {**test_settings.STORAGES, "default": storage}

    def names(self) -> list[str]:
        """The stored files' names (their keys without the prefix), sorted."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        assert all(key.startswith(self.prefix + "/") for key in keys), keys
        return sorted(key.removeprefix(self.prefix + "/") for key in keys)

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=f"{self.prefix}/{name}")["Body"].read()

    def put(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=f"{self.prefix}/{name}", Body=data)

    def empty(self) -> None:
        for name in self.names():
            self.client.delete_object(Bucket=self.name, Key=f"{self.prefix}/{name}")


def notify_from_another_process(*prediction_ids: int, **env: str) -> None:
    """`ops.notifier.notify` for each id, in a new Python with this test's settings (its notifier,
    database and broker) plus `env`."""
    code = (
        "import sys, django; django.setup()\nfrom ops.notifier import notify\nfor pk in sys.argv[1:]: notify(int(pk))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DEERWEB_NOTIFIER": settings.NOTIFIER,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, prediction_ids)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]


class LoopThread:
    """An asyncio event loop in a thread of its own, as a web process has one: the test's thread
    starts coroutines on it and collects their results."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-event-loop", daemon=True)
        self.thread.start()

    def start(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future:
        """Run `coroutine` on the loop; return once it has taken its first step (a waiter has
        registered), with a future of its result."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(10)
        return future

    def run(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        """Cancel what still runs on the loop (the notifier's subscription closes), then stop it."""
        if self.loop.is_closed():
            return

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all(), timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


SHOW_SETTINGS = "import deerweb.settings as s; print(s.DEERAPI_BASE_URL, s.SANDBOX, s.DEBUG)"


@dataclass
class AsgiAnswer:
    status: int
    headers: dict[bytes, bytes]
    bodies: list[bytes]

    @property
    def body(self) -> bytes:
        return b"".join(self.bodies)


async def asgi_request(path: str, *, method: str = "GET", headers: dict[str, str] | None = None) -> AsgiAnswer:
    """One request through a new deerweb.asgi application (as uvicorn runs it), on the running
    loop: the answer's status, headers and body messages as sent."""
    from asgiref.testing import ApplicationCommunicator

    from deerweb.asgi import application_make

    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"localhost")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "client": ("127.0.0.1", 40000),
        "server": ("localhost", 80),
    }
    communicator = ApplicationCommunicator(application_make(), scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(90)
    bodies = []
    while True:
        message = await communicator.receive_output(90)
        bodies.append(message.get("body", b""))
        if not message.get("more_body"):
            return AsgiAnswer(start["status"], {name.lower(): value for name, value in start["headers"]}, bodies)


def load_settings(code: str = SHOW_SETTINGS, **env: str) -> subprocess.CompletedProcess:
    """Run `code` (which loads DeerWeb's settings) in a new Python, in this process's environment without
    DeerWeb's own variables (as on a machine where none is set) plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEERAPI_", "DEERWEB_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class Worker:
    """A `celery -A deerweb worker` process (with embedded beat) on the test database; `name`
    its node name's first part (each worker sharing a broker needs its own)."""

    def __init__(self, env: dict[str, str], log_path: Path, name: str = "") -> None:
        self.env = env
        self.log_path = log_path
        self.name = name or f"test-{os.getpid()}"
        self.process: subprocess.Popen | None = None
        self.restarts = 0

    def start(self, timeout: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists():  # the previous run's log stays beside it, for a failure's story
            self.restarts += 1
            self.log_path.rename(self.log_path.with_name(f"{self.log_path.stem}.{self.restarts}.log"))
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "deerweb",
                "worker",
                "--beat",
                "--loglevel",
                "INFO",
                "--pool",
                "threads",
                "--concurrency",
                "4",
                "--without-gossip",
                "--without-mingle",
                "--schedule",
                str(self.log_path.with_suffix(".beat")),
                "-n",
                f"{self.name}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{self.log_path.read_text()[-3000:]}")
            if " ready." in self.log_path.read_text():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker process group, as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # a warm shutdown: the worker stops its pool
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def holds(self, client: tuple[str, int]) -> bool:
        """Whether one of this worker's processes (its pool's included) has the loopback TCP
        connection from `client` (address, port) open: a request it waits on. Linux's /proc."""
        sockets = {
            f"socket:[{fields[9]}]"
            for fields in (line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:])
            if int(fields[1].rpartition(":")[2], 16) == client[1]
        }
        for pid in self._pids():
            try:
                if any(os.readlink(fd) in sockets for fd in Path(f"/proc/{pid}/fd").iterdir()):
                    return True
            except OSError:  # the process ended meanwhile
                continue
        return False

    def _pids(self) -> list[int]:
        """The processes of the worker's process group (it starts a session of its own)."""
        if self.process is None or self.process.poll() is not None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                group = int(stat.read_text().rpartition(")")[2].split()[2])
            except (OSError, IndexError, ValueError):
                continue
            if group == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def workers_start(workers: list[Worker]) -> None:
    """Start the workers side by side, as hosts would, and wait until each is ready."""
    with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
        list(pool.map(Worker.start, workers))


def workers_stop(workers: list[Worker]) -> None:
    """Stop the workers side by side (each shutdown waits for its pool)."""
    with concurrent.futures.ThreadPoolExecutor(len(workers)) as pool:
        list(pool.map(Worker.stop, workers))


# --- Collections -----------------------------------------------------------------------------


def collection_of(owner: User, *predictions: Prediction, name: str = "Favourites", visibility: str = "private"):
    """A collection of `owner`'s holding every stored output of `predictions`."""
    from albums import services as albums

    collection = albums.collection_create(owner=owner, name=name, visibility=visibility)
    albums.collection_items_add(collection, [o for p in predictions for o in p.outputs.order_by("index")])
    return collection


def share_link_of(collection, *, days: int = 7, show_prompt: bool = False) -> str:
    """A share link of `collection`, made by its owner: its path (/s/<token>/)."""
    from albums import services as albums

    _link, token = albums.share_link_create(collection, by=collection.owner, days=days, show_prompt=show_prompt)
    return reverse("share:page", args=[token])
