"""Collections in Chinese: the app's own catalogue (albums/locale) is complete and compiled, and its
pages, the share page and the strings added to the history follow a Chinese browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

from tests.world import collection_of, finished_prediction, share_link_of

PO = Path(__file__).resolve().parents[2] / "albums" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-Hans"}


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_the_collections_catalogue_is_wholly_translated_and_not_fuzzy():
    assert "#, fuzzy" not in PO.read_text(encoding="utf-8")
    result = subprocess.run(
        [shutil.which("msgfmt"), "--check", "--statistics", "-o", os.devnull, str(PO)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\s*", result.stderr), result.stderr
    assert PO.with_suffix(".mo").stat().st_size > 0


@pytest.mark.django_db
def test_the_collection_pages_follow_a_chinese_browser(member_client, member):
    prediction = finished_prediction(member, outputs=1)
    collection = collection_of(member, prediction)
    assert "新建收藏集" in member_client.get(reverse("collections:list"), **CHINESE).content.decode()
    detail = member_client.get(collection.get_absolute_url(), **CHINESE).content.decode()
    assert "创建分享链接" in detail and "下载收藏集（.zip）" in detail
    grid = member_client.get(reverse("predictions:list"), {"view": "grid"}, **CHINESE).content.decode()
    assert "将所选添加到收藏集" in grid and f"选择生成任务 {prediction.pk} 的第 1 张图片" in grid
    assert "收藏集" in member_client.get(prediction.get_absolute_url(), **CHINESE).content.decode()


@pytest.mark.django_db
def test_the_share_page_follows_a_chinese_browser(client, member):
    collection = collection_of(member, finished_prediction(member, outputs=1))
    assert "分享的图片，只读" in client.get(share_link_of(collection), **CHINESE).content.decode()
