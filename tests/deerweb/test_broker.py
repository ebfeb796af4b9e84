"""The embedded configuration's filesystem broker: a worker never reads a message that is still
being written (kombu's own transport lets it read one empty, and the worker then stops)."""

from queue import Empty

import pytest
from kombu import Connection

from tests.world import load_settings


@pytest.fixture
def channel(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "processed_folder": str(tmp_path)}
    with Connection(
        "filesystem://localhost//", transport="deerweb.broker:Transport", transport_options=options
    ) as conn:
        yield conn.default_channel


def test_a_message_being_written_is_not_read(channel, tmp_path):
    (tmp_path / "in" / "1_abc.celery.msg.part").write_bytes(b'{"body": "half')
    with pytest.raises(Empty):
        channel._get("celery")


def test_a_message_written_is_read_whole_and_leaves_nothing_behind(channel, tmp_path):
    channel._put("celery", {"body": "whole"})
    assert [path.name.endswith(".celery.msg") for path in (tmp_path / "in").iterdir()] == [True]
    assert channel._get("celery") == {"body": "whole"}
    assert list((tmp_path / "in").iterdir()) == []


def test_the_filesystem_broker_uses_deerwebs_transport():
    result = load_settings("import deerweb.settings as s; print(s.CELERY_BROKER_TRANSPORT)", DJANGO_SECRET_KEY="k" * 50)
    assert result.stdout.strip() == "deerweb.broker:Transport"
