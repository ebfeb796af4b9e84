"""deerweb/settings.py: a bad value stops start-up with a message naming the variable; the
environment decides what DeerWeb does (DeerAPI or the simulator, the address a login counts against)."""

import json

import pytest

from tests.world import load_settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://nope"),
        ("CELERY_BROKER_URL", "kafka://x"),
        ("DEERAPI_BASE_URL", "ftp://api.deerapi.com"),
        ("DEERWEB_PREDICTION_TIMEOUT", "soon"),
        ("DEERWEB_DEERAPI_WEBHOOKS", "sometimes"),
        ("DEERWEB_DEERAPI_WEBHOOKS", "on"),  # without DEERWEB_PUBLIC_URL: DeerAPI could not reach it
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(name, value):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings()
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_without_a_key_deerweb_talks_to_the_simulator_and_debug_stays_off():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["http://127.0.0.1:8765", "True", "False"]


def test_with_a_key_deerweb_talks_to_deerapi():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, DEERAPI_KEY="sk-live-123")
    assert result.stdout.split() == ["https://api.deerapi.com", "False", "False"]


def test_the_default_broker_is_the_filesystem_one_named_so_kombu_does_not_warn_and_polled_often():
    result = load_settings(
        "import deerweb.settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS['polling_interval'])",
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert result.stdout.split() == ["filesystem://localhost//", "0.2"]


RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.mark.parametrize(
    ("database", "notifier"),
    [("postgres://postgres@127.0.0.1:5432/deerweb", "postgresql"), ("sqlite:////tmp/deerweb.sqlite3", "local")],
)
def test_with_rabbitmq_waiting_requests_are_woken_through_postgresql_or_on_sqlite_through_local_sockets(
    database, notifier
):
    result = load_settings(
        "import deerweb.settings as s; print(s.NOTIFIER)",
        DJANGO_SECRET_KEY="k" * 50,
        CELERY_BROKER_URL=RABBITMQ,
        DATABASE_URL=database,
    )
    assert result.stdout.strip() == notifier, result.stderr


def test_the_redis_notifier_with_rabbitmq_stops_start_up_naming_the_variable():
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, CELERY_BROKER_URL=RABBITMQ, DEERWEB_NOTIFIER="redis")
    assert result.returncode != 0
    assert "DEERWEB_NOTIFIER: redis needs a Redis broker" in result.stderr


def test_importing_the_settings_creates_no_folder():
    result = load_settings(
        "import pathlib\n"
        "def refuse(*args, **kwargs): raise SystemExit('settings made a folder')\n"
        "pathlib.Path.mkdir = refuse\n"
        "import deerweb.settings",
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert result.returncode == 0, result.stderr


def test_deerweb_makes_the_filesystem_brokers_folders_when_it_starts(settings, tmp_path):
    from ops.apps import broker_folders_ensure

    settings.CELERY_BROKER_URL = "filesystem://localhost//"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "in"),
        "data_folder_out": str(tmp_path / "in"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }

    broker_folders_ensure()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["control", "in", "processed"]


LOGIN_ADDRESS = """
import django
django.setup()
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR={forwarded!r})
print(get_client_ip_address(request))
"""


@pytest.mark.parametrize(
    ("proxies", "forwarded", "address"),
    [
        ("0", "192.0.2.1", "10.0.0.2"),
        ("1", "198.51.100.7", "198.51.100.7"),
        ("1", "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        ("2", "192.0.2.1, 198.51.100.7, 10.0.0.1", "198.51.100.7"),
        # Not through the proxies: no client address (axes counts all such failures together).
        ("1", "", "None"),
        ("2", "198.51.100.7", "None"),
    ],
)
def test_login_failures_count_against_the_address_the_outermost_proxy_saw(proxies, forwarded, address):
    result = load_settings(
        LOGIN_ADDRESS.format(forwarded=forwarded),
        DJANGO_SETTINGS_MODULE="deerweb.settings",
        DJANGO_SECRET_KEY="k" * 50,
        DEERWEB_PROXY_COUNT=proxies,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == address


SHOW_STORAGE = "import json, deerweb.settings as s; print(json.dumps(s.STORAGES['default']))"


def test_stored_files_stay_on_local_disk_without_a_bucket():
    result = load_settings(SHOW_STORAGE, DJANGO_SECRET_KEY="k" * 50)
    assert json.loads(result.stdout) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_stores_files_privately_under_the_prefix_never_overwriting_one():
    result = load_settings(
        SHOW_STORAGE,
        DJANGO_SECRET_KEY="k" * 50,
        DEERWEB_S3_BUCKET="team-images",
        DEERWEB_S3_ENDPOINT_URL="http://minio:9000",
        DEERWEB_S3_PREFIX="/deerweb/media/",
    )
    assert result.returncode == 0, result.stderr
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "deerweb.storage.S3Storage"
    assert storage["OPTIONS"] == {
        "bucket_name": "team-images",
        "endpoint_url": "http://minio:9000",
        "addressing_style": "path",
        "location": "deerweb/media",
        "default_acl": None,
        "querystring_auth": True,
        "querystring_expire": 300,
        "file_overwrite": False,
    }


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEERWEB_S3_BUCKET": "Not A Bucket"}, "DEERWEB_S3_BUCKET"),
        ({"DEERWEB_S3_BUCKET": "images", "DEERWEB_S3_ENDPOINT_URL": "minio:9000"}, "DEERWEB_S3_ENDPOINT_URL"),
        ({"DEERWEB_S3_BUCKET": "images", "DEERWEB_S3_PREFIX": "media/../etc"}, "DEERWEB_S3_PREFIX"),
        ({"DEERWEB_S3_ENDPOINT_URL": "http://minio:9000"}, "DEERWEB_S3_BUCKET"),
        ({"DEERWEB_S3_BUCKET": "images", "DEERWEB_FILE_ACCEL_PREFIX": "/protected/"}, "DEERWEB_FILE_ACCEL_PREFIX"),
    ],
    ids=["bad-bucket", "endpoint-not-a-url", "prefix-climbs-out", "endpoint-without-bucket", "nginx-and-bucket"],
)
def test_a_bad_object_storage_setting_stops_start_up_naming_it(env, named):
    result = load_settings(DJANGO_SECRET_KEY="k" * 50, **env)
    assert result.returncode != 0
    assert named in result.stderr
