"""Workers on several hosts: three worker processes, each with a disk of its own, sharing only
PostgreSQL, the broker and the bucket (moto's S3 server), as `docker compose up --scale worker=3`
runs them. Each is SIGKILLed in turn while the simulator holds its request mid-create, mid-poll
and mid-download; the leases and the sweep let the others (and the restarted ones) finish the work.

PostgreSQL only: hosts cannot share an SQLite file or the filesystem broker's folders."""

import pytest

from predictions.models import Prediction, Status
from tests.world import Worker, submit, wait_for, wait_until, workers_start

pytestmark = [pytest.mark.services, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

# Longer than the workers' DeerAPI read timeout (3 s): the worker is killed before it could give up.
HOLD = 10.0


def kill_the_holder(simulator, hosts: list[Worker], route: str) -> Worker:
    """Wait for a live worker's request to `route` held by the simulator; SIGKILL that worker."""
    holders: list[Worker] = []

    def held() -> bool:
        clients = [request.client for request in simulator.held if request.route == route]
        holders[:] = [host for host in hosts if any(host.holds(client) for client in clients)]
        return bool(holders)

    wait_until(held, timeout=20, what=f"a worker's {route} request held")
    [holder] = holders
    holder.kill()
    return holder


def test_workers_on_three_hosts_killed_mid_create_mid_poll_and_mid_download_end_every_prediction_once(
    s3_hosts, s3, simulator, member
):
    alive = list(s3_hosts)

    simulator.inject("create", delay=HOLD)
    mid_create = submit(member, prompt="a deer, its worker killed mid-create", num_outputs=2)
    alive.remove(kill_the_holder(simulator, alive, "create"))

    simulator.inject("get", delay=HOLD)
    mid_poll = submit(member, prompt="a deer, its worker killed mid-poll", num_outputs=2)
    alive.remove(kill_the_holder(simulator, alive, "get"))

    simulator.inject("file", delay=HOLD)
    mid_download = submit(member, prompt="a deer, its worker killed mid-download", num_outputs=2)
    assert kill_the_holder(simulator, alive, "file") is alive[0], "the last worker standing"
    assert [p.status for p in Prediction.objects.order_by("pk")] == [Status.SUBMITTING, Status.STARTING, Status.STORING]

    workers_start(s3_hosts)  # each host's supervisor starts its worker again

    mid_create = wait_for(mid_create, Status.UNKNOWN, timeout=60)
    assert "the worker stopped while sending it" in mid_create.error
    for prediction in (mid_poll, mid_download):
        prediction = wait_for(prediction, Status.SUCCEEDED, timeout=60)
        assert prediction.outputs.count() == 2
    outputs = [o for p in Prediction.objects.filter(pk__in=[mid_poll.pk, mid_download.pk]) for o in p.outputs.all()]
    assert s3.names() == sorted(name for o in outputs for name in (o.file.name, o.thumbnail.name))
    for prediction in (mid_create, mid_poll, mid_download):
        created = [p for p in simulator.predictions.values() if p.prompt == prediction.input["prompt"]]
        assert len(created) == 1, f"one create at DeerAPI for {prediction.input['prompt']!r}"
    assert simulator.stats.create_requests == 3
    for host in s3_hosts:
        disk = host.log_path.parent / "media"
        assert not disk.exists() or not any(path.is_file() for path in disk.rglob("*"))
