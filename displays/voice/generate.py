"""Generate the offline voice clips of the hall display (叫号语音片段).

Run from the repository root::

    python displays/voice/generate.py            # writes displays/static/voice/*.wav
    python displays/voice/generate.py --check    # regenerates into a temp dir, compares

The page joins the clips in order: chime, "请", the ticket (letters and digits one by one),
"号", "到", the window number, "号", "窗口办理". Letters are read the way Chinese halls read
them (English letter names, as espeak-ng's ``cmn`` voice does for Latin letters); ticket
digits are read one by one (零零一); window numbers up to 99 are read as numbers (十二号).

Needs espeak-ng and sox. Chinese words are given to espeak-ng as tone-numbered pinyin with
the ``cmn-latn-pinyin`` voice: the Debian ``cmn`` dictionary lacks common characters (请, 号,
零 …) and would spell them out in English. Letters use the ``cmn`` voice, which reads Latin
letters with the names Chinese halls use (A "ei", W "da-bu-liu"). The output is mono 16-bit 16 kHz WAV, silence
trimmed, so it is small (well under 1 MB in total) and byte-for-byte reproducible with the
same espeak-ng and sox versions (WAV, unlike Ogg, carries no random stream serial).
"""

from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import string
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "static" / "voice"
LETTER_VOICE = "cmn"
WORD_VOICE = "cmn-latn-pinyin"
SPEED = "150"  # words per minute: slow and clear for a hall
RATE = "16000"

DIGITS = [
    ("零", "ling2"), ("一", "yi1"), ("二", "er4"), ("三", "san1"), ("四", "si4"),
    ("五", "wu3"), ("六", "liu4"), ("七", "qi1"), ("八", "ba1"), ("九", "jiu3"),
]  # fmt: skip
#: clip name → (what it says, voice, text given to espeak-ng)
WORDS: dict[str, tuple[str, str, str]] = {
    "qing": ("请", WORD_VOICE, "qing3"),
    "hao": ("号", WORD_VOICE, "hao4"),
    "dao": ("到", WORD_VOICE, "dao4"),
    "chuangkou": ("窗口办理", WORD_VOICE, "chuang1 kou3 ban4 li3"),
    "shi": ("十", WORD_VOICE, "shi2"),
    **{f"d{n}": (DIGITS[n][0], WORD_VOICE, DIGITS[n][1]) for n in range(10)},
    **{f"l{c}": (c, LETTER_VOICE, c) for c in string.ascii_uppercase},
}


def _run(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def speak(voice: str, text: str, target: Path, work: Path) -> None:
    raw = work / "raw.wav"
    _run("espeak-ng", "-v", voice, "-s", SPEED, "-w", str(raw), text)
    # mono, 16 kHz, 16 bit; trim leading/trailing silence; normalise loudness
    _run(
        "sox", "-R", "-D", str(raw), "-r", RATE, "-c", "1", "-b", "16", str(target),
        "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
        "norm", "-1",
    )  # fmt: skip


def chime(target: Path, work: Path) -> None:
    """A two-tone ding-dong (叮咚) before each announcement."""
    ding, dong = work / "ding.wav", work / "dong.wav"
    for path, freq in ((ding, "784"), (dong, "622")):
        _run(
            "sox", "-R", "-D", "-n", "-r", RATE, "-c", "1", "-b", "16", str(path),
            "synth", "0.45", "sine", freq, "fade", "q", "0.01", "0.45", "0.35", "vol", "0.5",
        )  # fmt: skip
    _run("sox", "-R", "-D", str(ding), str(dong), str(target))


def generate(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        chime(out / "chime.wav", work)
        manifest["chime"] = "叮咚"
        for name, (meaning, voice, text) in WORDS.items():
            speak(voice, text, out / f"{name}.wav", work)
            manifest[name] = meaning
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    )
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="compare a fresh run with --out")
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            print(f"缺少 {tool} (missing {tool}): apt-get install espeak-ng sox", file=sys.stderr)
            return 2
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            manifest = generate(Path(tmp))
            names = ["manifest.json", *(f"{n}.wav" for n in manifest)]
            _, mismatch, errors = filecmp.cmpfiles(Path(tmp), args.out, names, shallow=False)
        if mismatch or errors:
            print("不一致 (differs):", " ".join(mismatch + errors), file=sys.stderr)
            return 1
        print("语音片段一致 (clips are up to date)")
        return 0
    manifest = generate(args.out)
    total = sum(p.stat().st_size for p in args.out.glob("*.wav"))
    print(f"{len(manifest)} clips, {total / 1024:.0f} KiB → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
