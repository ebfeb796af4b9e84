"""`manage.py media_to_s3`: the stored files on local disk move into the bucket (a real S3 API server,
moto's) under the same names, checked by SHA-256; a second run finishes an interrupted one; the
local files go only with --delete-local; a name the bucket holds with other content is left alone."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from predictions.models import Prediction
from tests.world import finished_prediction, stored_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_files(member, settings, tmp_path) -> dict[str, bytes]:
    """A prediction's two outputs with their thumbnails, and an upload, on local disk (a MEDIA_ROOT
    of this test's own): name -> bytes. `member`'s prediction is the first one."""
    settings.MEDIA_ROOT = tmp_path / "media"
    prediction = finished_prediction(member, outputs=2)
    image, _data = stored_image(member, prediction)
    names = [name for o in prediction.outputs.all() for name in (o.file.name, o.thumbnail.name)] + [image.file.name]
    return {name: (settings.MEDIA_ROOT / name).read_bytes() for name in names}


def move(*args: str) -> str:
    out = io.StringIO()
    call_command("media_to_s3", *args, stdout=out)
    return out.getvalue()


def test_every_local_file_is_copied_into_the_bucket_under_its_name_and_kept_on_disk(
    local_files, s3_session, settings, member_client, member
):
    s3_session.empty()
    s3_session.use(settings)

    printed = move()

    assert s3_session.names() == sorted(local_files)
    assert all(s3_session.read(name) == data for name, data in local_files.items())
    assert all((Path(settings.MEDIA_ROOT) / name).exists() for name in local_files)
    assert "[1/5]" in printed and "[5/5]" in printed
    assert "Done: 5 copied; 0 local files removed." in printed
    prediction = Prediction.objects.get(owner=member)
    response = member_client.get(reverse("predictions:output", args=[prediction.pk, 0]))
    assert b"".join(response.streaming_content) == local_files[prediction.outputs.get(index=0).file.name]


def test_a_second_run_finishes_an_interrupted_one_and_delete_local_removes_only_verified_copies(
    local_files, s3_session, settings
):
    s3_session.empty()
    first, *_rest = sorted(local_files)
    s3_session.put(first, local_files[first])  # the run that stopped after one file
    s3_session.use(settings)

    printed = move("--delete-local")

    assert f"{first} ({len(local_files[first]):,} bytes): already in the bucket, local file removed" in printed
    assert "Done: 1 already in the bucket, 4 copied; 5 local files removed." in printed
    assert s3_session.names() == sorted(local_files)
    assert not any((Path(settings.MEDIA_ROOT) / name).exists() for name in local_files)
    assert "Done: nothing to move; 0 local files removed." in move()


def test_a_name_the_bucket_holds_with_other_content_is_reported_and_both_copies_are_kept(
    local_files, s3_session, settings
):
    s3_session.empty()
    clash = sorted(local_files)[0]
    s3_session.put(clash, b"another file")
    s3_session.use(settings)

    with pytest.raises(CommandError, match="1 files were not moved"):
        move("--delete-local")

    assert s3_session.read(clash) == b"another file"
    assert (Path(settings.MEDIA_ROOT) / clash).read_bytes() == local_files[clash]
    assert s3_session.names() == sorted(local_files)


def test_the_command_refuses_to_run_while_files_are_stored_on_local_disk():
    with pytest.raises(CommandError, match="DEERWEB_S3_BUCKET"):
        move()
