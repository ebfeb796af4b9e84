"""The suite's own settings: each test process (pytest-xdist's gw0, gw1, …) has its own Redis
database or RabbitMQ queue, broker folders, media folder and SQLite test database, and the worker
processes a test process starts share them with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.world import ROOT

SHOW = (
    "import json, os; from django.conf import settings as s; "
    "print(json.dumps({'broker': s.CELERY_BROKER_URL, 'queue': getattr(s, 'CELERY_TASK_DEFAULT_QUEUE', None), "
    "'media': str(s.MEDIA_ROOT), "
    "'folders': s.CELERY_BROKER_TRANSPORT_OPTIONS.get('data_folder_in'), "
    "'test_db': s.DATABASES['default'].get('TEST', {}).get('NAME'), 'environ': dict(os.environ)}))"
)


def settings_seen(environ: dict[str, str], **overrides: str | None) -> dict[str, str]:
    """tests.settings as a process with this environment sees them."""
    env = {**environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **overrides}
    env = {name: value for name, value in env.items() if value is not None}
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(result.stdout)


def base_environment(**config: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("PYTEST_", "DEERWEB_TEST"))}
    return {**env, **config}


def test_each_test_process_has_its_own_redis_database_and_media_even_when_started_from_the_main_one():
    env = base_environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/deerweb", CELERY_BROKER_URL="redis://127.0.0.1:6379/8"
    )
    main = settings_seen(env)
    # xdist's processes inherit the main process's environment, as it is after its settings ran.
    inherited = main["environ"]
    gw0 = settings_seen(inherited, PYTEST_XDIST_WORKER="gw0")
    gw1 = settings_seen(inherited, PYTEST_XDIST_WORKER="gw1")

    assert (main["broker"], gw0["broker"], gw1["broker"]) == (
        "redis://127.0.0.1:6379/8",
        "redis://127.0.0.1:6379/8",
        "redis://127.0.0.1:6379/9",
    )
    assert gw0["media"].endswith("test-media-gw0") and gw1["media"].endswith("test-media-gw1")


def test_a_worker_process_sees_the_broker_of_the_test_process_that_started_it_or_the_one_it_is_given():
    env = base_environment(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/deerweb", CELERY_BROKER_URL="redis://127.0.0.1:6379/8"
    )
    gw1 = settings_seen(env, PYTEST_XDIST_WORKER="gw1")
    started_by_gw1 = gw1["environ"]  # the worker fixture passes on the test process's environment

    assert settings_seen(started_by_gw1, CELERY_BROKER_URL=gw1["broker"])["broker"] == "redis://127.0.0.1:6379/9"
    given = "redis://127.0.0.1:6390/0"
    assert settings_seen(started_by_gw1, CELERY_BROKER_URL=given)["broker"] == given


def test_on_rabbitmq_each_test_process_has_its_own_queue_which_the_worker_it_starts_on_the_test_database_shares():
    rabbitmq = "amqp://guest:guest@127.0.0.1:5672//"
    env = base_environment(DATABASE_URL="postgres://postgres@127.0.0.1:5432/deerweb_ci", CELERY_BROKER_URL=rabbitmq)
    main = settings_seen(env)
    gw0 = settings_seen(main["environ"], PYTEST_XDIST_WORKER="gw0")
    gw1 = settings_seen(main["environ"], PYTEST_XDIST_WORKER="gw1")
    # The worker fixture gives its worker the test database's URL, and the test process's environment.
    worker_of_gw1 = settings_seen(gw1["environ"], DATABASE_URL="postgres://postgres@127.0.0.1:5432/test_deerweb_ci_gw1")

    assert (main["queue"], gw0["queue"], gw1["queue"], worker_of_gw1["queue"]) == (
        "deerweb-test.deerweb_ci.main",
        "deerweb-test.deerweb_ci.gw0",
        "deerweb-test.deerweb_ci.gw1",
        "deerweb-test.deerweb_ci.gw1",
    )
    assert worker_of_gw1["broker"] == rabbitmq


def test_on_sqlite_each_test_process_has_its_own_broker_folders_and_a_test_database_file(tmp_path):
    env = base_environment(
        DATABASE_URL=f"sqlite:///{tmp_path}/deerweb.sqlite3",
        CELERY_BROKER_URL="filesystem://",
        DEERWEB_TEST_DIR=str(tmp_path),
    )
    gw0 = settings_seen(env, PYTEST_XDIST_WORKER="gw0")
    gw1 = settings_seen(env, PYTEST_XDIST_WORKER="gw1")

    assert gw0["folders"] == f"{tmp_path}/test-broker-gw0/in"
    assert gw1["folders"] == f"{tmp_path}/test-broker-gw1/in"
    assert gw0["media"] == f"{tmp_path}/test-media-gw0"
    # pytest-django appends _gw0, _gw1 to this name; a file, so a worker process can open it too.
    assert gw0["test_db"] == f"{tmp_path}/test_deerweb.sqlite3"


def test_a_run_in_several_processes_leaves_no_media_or_broker_folder_behind(tmp_path):
    """Each process's folders go at the end of the run: the xdist processes', which stored files, and
    the main one's, whose broker folders were made when it read the settings."""
    folders = tmp_path / "test-dir"
    env = base_environment(
        DATABASE_URL=f"sqlite:///{tmp_path}/deerweb.sqlite3",
        CELERY_BROKER_URL="filesystem://",
        DEERWEB_TEST_DIR=str(folders),
    )
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "-k", "handed_to_nginx"]
    result = subprocess.run(
        [*run, "tests/predictions/test_file_accel.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 passed" in result.stdout, "the tests ran, storing outputs and input images in their media folders"
    assert sorted(path.name for path in folders.iterdir()) == []
