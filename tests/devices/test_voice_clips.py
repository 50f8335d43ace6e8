"""The hall display's offline voice clips: complete, small, and reproducible by the script."""

from __future__ import annotations

import json
import shutil
import string
import subprocess
import sys
import wave

import pytest

from tests.support.settings import ROOT

VOICE = ROOT / "displays" / "static" / "voice"


def test_every_clip_the_page_joins_is_shipped_small_and_mono_16k() -> None:
    names = ["chime", "qing", "hao", "dao", "chuangkou", "shi"]
    names += [f"d{n}" for n in range(10)] + [f"l{c}" for c in string.ascii_uppercase]
    total = 0
    for name in names:
        path = VOICE / f"{name}.wav"
        with wave.open(str(path)) as clip:
            assert clip.getnchannels() == 1 and clip.getframerate() == 16000, name
            assert 0.1 < clip.getnframes() / 16000 < 2.5, name
        total += path.stat().st_size
    assert total < 1024 * 1024  # well under 2 MB
    manifest = json.loads((VOICE / "manifest.json").read_text(encoding="utf-8"))
    assert (
        manifest["qing"] == "请" and manifest["chuangkou"] == "窗口办理" and manifest["d0"] == "零"
    )
    assert set(manifest) == set(names)


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")), reason="espeak-ng/sox missing"
)
def test_generator_reproduces_the_shipped_clips() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "displays" / "voice" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
