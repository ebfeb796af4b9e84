"""docker-compose.yml, read as Compose reads it (YAML, anchors and merge keys): the topology that
`docker compose up --scale worker=3` runs. There is no Docker daemon here; the same topology runs
as processes in tests/predictions/test_pipeline_several_hosts.py."""

import pytest
import yaml

from tests.world import ROOT

DEERWEB_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_worker_service_scales_with_no_container_name_port_or_host_name_of_its_own(compose):
    worker = compose["services"]["worker"]
    assert not {"container_name", "ports", "hostname"} & worker.keys()
    assert worker.get("deploy", {}).get("replicas", 1) == 1, "the count is `--scale`'s"


def test_beat_is_one_service_of_its_own_and_no_worker_embeds_it(compose):
    services = compose["services"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "deerweb", "beat"]
    assert "deploy" not in services["beat"]
    command = services["worker"]["command"]
    assert command[:4] == ["celery", "-A", "deerweb", "worker"]
    assert not {"--beat", "-B"} & set(command)


def test_with_the_s3_profile_every_deerweb_service_gets_the_bucket_and_waits_for_it(compose):
    services = compose["services"]
    assert services["minio"]["profiles"] == services["minio-init"]["profiles"] == ["s3"]
    for name in DEERWEB_SERVICES:
        env = services[name]["environment"]
        assert {
            "DEERWEB_S3_BUCKET",
            "DEERWEB_S3_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        } <= env.keys()
        assert env["DATABASE_URL"].startswith("postgres://") and env["CELERY_BROKER_URL"]
    for name in ("web", "worker"):
        waits = services[name]["depends_on"]["minio-init"]
        assert waits == {"condition": "service_completed_successfully", "required": False}
