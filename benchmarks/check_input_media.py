"""Build an Anim-400K release from many variants of one synthetic episode's input media and compare clips.

    PYTHONPATH=src python benchmarks/check_input_media.py WORK [VARIANT ...] [--tag T]
    PYTHONPATH=src python benchmarks/check_input_media.py WORK --dub VARIANT ...   # anim400k dub (espeak) of each

Makes a 40 s synthetic episode (``anim400k.synth.make_episode(WORK/b40, duration=40, seed=1)``; TTS cached),
then each variant's media from it with imageio-ffmpeg's ``ffmpeg`` binary (MKV track orders, language tags and
titles, MP4/M4A, WebM/Opus, FLAC/WAV/MP3, 44.1/22.05 kHz, stereo, 5.1, MPEG-TS start times, track delays, a
short track, VFR, 23.976 fps with a PAL-speed EN track, video without audio, audio only, subtitle files and
streams, legacy encodings, bitmap subtitles, corrupt files; and as real releases have them: Hi10P H.264 and HEVC
Main 10, anamorphic interlaced DVD video, a fansub MKV with ASS signs and dialogue tracks, fonts and chapters,
E-AC-3/AC-3/Opus/TrueHD 5.1, FLAC 24-bit, a JP track with 2 s of lead silence beside a 44.1 kHz EN one, video
not the first stream), builds each with ``anim400k build --asr-en vad --asr-ja vad`` (the video variants also
``--frames-fps 1``, checked by :func:`video_check`) into ``WORK/out_T/VARIANT`` and compares its clips with the
plain MKV's (count, largest time difference, the subtitle text of each clip). Appends one JSON line per variant
to ``WORK/results_T.jsonl`` and prints a line each. docs/media.md "Inputs checked" has the results. ~15-20 s a
variant on 2 cores.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg
import yaml

FF = imageio_ffmpeg.get_ffmpeg_exe()
REPO = Path(__file__).resolve().parent.parent
ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else "input-media").resolve()
B = ROOT / "b40"
V = ROOT / "var"
PY = sys.executable


def ff(*args: str) -> None:
    subprocess.run([FF, "-y", "-loglevel", "error", *args], check=True)


def p(name: str) -> str:
    return str(V / name)


NOTAG = ["-metadata:s:a:0", "language=und", "-metadata:s:a:1", "language=und"]


def mkv_tags(name, jl, el, jt="Japanese", et="English", order=(0, 1), extra=()):
    out = p(name)
    maps = ["-map", "0:v"] + sum((["-map", f"0:a:{i}"] for i in order), []) + ["-map", "0:s"]
    md = []
    for k, i in enumerate(order):
        lang, title = (jl, jt) if i == 0 else (el, et)
        md += [f"-metadata:s:a:{k}", f"language={lang}", f"-metadata:s:a:{k}", f"title={title}"]
    ff("-i", str(B / "episode.mkv"), *maps, "-c", "copy", *md, *extra, out)
    return out


def ep_media(path, **kw):
    return {"media": path, "subtitles": str(B / "episode.en.srt"), **kw}


def ep_pair(jp, en, **kw):
    d = {"jp_media": jp, "en_media": en, "subtitles": str(B / "episode.en.srt")}
    d.update(kw)
    return d


JPM = str(B / "episode.jp.mkv")


def v_plain():
    return ep_media(str(B / "episode.mkv"))


def v_en_first():
    return ep_media(mkv_tags("en_first.mkv", "jpn", "eng", order=(1, 0)))


def v_notags():
    return ep_media(mkv_tags("notags.mkv", "und", "und", "", ""))


def v_tag(code_j, code_e):
    def f():
        return ep_media(mkv_tags(f"tag_{code_j}.mkv", code_j, code_e, "", ""))
    return f


def v_titles(tj, te, name):
    def f():
        return ep_media(mkv_tags(name, "und", "und", tj, te))
    return f


def v_commentary3(lang3, title3, tagged=True):
    def f():
        out = p(f"comm_{lang3}_{tagged}.mkv")
        jl, el = ("jpn", "eng") if tagged else ("und", "und")
        ff("-i", str(B / "episode.mkv"), "-map", "0:v", "-map", "0:a:0", "-map", "0:a:1", "-map", "0:a:0",
           "-map", "0:s", "-c", "copy",
           "-metadata:s:a:0", f"language={jl}", "-metadata:s:a:1", f"language={el}",
           "-metadata:s:a:2", f"language={lang3}", "-metadata:s:a:2", f"title={title3}", out)
        return ep_media(out)
    return f


def v_mp4_m4a():
    jp, en = p("jp.mp4"), p("en.m4a")
    ff("-i", JPM, "-map", "0:v", "-map", "0:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k", jp)
    ff("-i", str(B / "episode.en.mka"), "-c:a", "aac", "-b:a", "128k", en)
    return ep_pair(jp, en)


def v_webm():
    jp, en = p("jp.webm"), p("en.webm")
    ff("-i", JPM, "-map", "0:v", "-map", "0:a", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k",
       "-c:a", "libopus", jp)
    ff("-i", str(B / "episode.en.mka"), "-c:a", "libopus", en)
    return ep_pair(jp, en)


def v_en_fmt(ext, *codec):
    def f():
        en = p(f"en_{ext}_{'_'.join(codec).replace(':', '').replace('-', '')}.{ext}")
        ff("-i", str(B / "episode.en.mka"), *codec, en)
        return ep_pair(JPM, en)
    return f


#: six mono inputs joined as 5.1 in this channel order (join's default maps a mono input, whose channel is FC,
#: to FC first: the first input would land in the centre)
JOIN_51 = "join=inputs=6:channel_layout=5.1(side):map=0.0-FL|1.0-FR|2.0-FC|3.0-LFE|4.0-SL|5.0-SR"


def _surround(tag: str, graph: str) -> tuple:
    """JP and EN tracks as 5.1 FLACs made by the filter ``graph`` (inputs: [0:a] speech, [1:a] backing; it ends in
    the six channels in :data:`JOIN_51`'s order), the JP one muxed with the plain video as ``jp_TAG.mkv``."""
    outs = {}
    for lang, speech, back in (("jp", "jp_speech.wav", "backing.wav"), ("en", "en_speech.wav", "en_backing.wav")):
        out = p(f"{lang}_{tag}.flac")
        ff("-i", str(B / speech), "-i", str(B / back), "-filter_complex", f"{graph}{JOIN_51}[a]", "-map", "[a]",
           "-c:a", "flac", "-sample_fmt", "s32", out)
        outs[lang] = out
    jp = p(f"jp_{tag}.mkv")
    ff("-i", JPM, "-i", outs["jp"], "-map", "0:v", "-map", "1:a", "-c", "copy", "-metadata:s:a:0", "language=jpn",
       jp)
    return ep_pair(jp, outs["en"])


def v_surround():
    """JP and EN as 5.1 with the dialogue in the centre only and the backing at full level in the four others
    (a stereo downmix of it has the music 7.7 dB over the dialogue: not the plain mix, whose clips differ)."""
    return _surround("51", "[1:a]asplit=4[fl][fr][sl][sr];[0:a]anull[fc];[1:a]volume=0,asplit=1[lfe];"
                           "[fl][fr][fc][lfe][sl][sr]")


def v_ts():
    jp, en = p("jp.ts"), p("en.ts")
    ff("-i", JPM, "-map", "0:v", "-map", "0:a", "-c:v", "copy", "-c:a", "aac", "-output_ts_offset", "1.4", jp)
    ff("-i", str(B / "episode.en.mka"), "-c:a", "aac", "-output_ts_offset", "2.8", en)
    return ep_pair(jp, en)


def v_delay(both: float, en_only: float = 0.0, name="delay.mkv"):
    def f():
        out = p(name)
        src = str(B / "episode.mkv")
        ff("-i", src, "-itsoffset", str(both), "-i", src, "-itsoffset", str(both + en_only), "-i", src,
           "-map", "0:v", "-map", "1:a:0", "-map", "2:a:1", "-map", "0:s", "-c", "copy", out)
        return ep_media(out)
    return f


def v_en_short():
    en = p("en_short.flac")
    ff("-i", str(B / "episode.en.mka"), "-t", "30", en)
    return ep_pair(JPM, en)


def v_vfr():
    jp = p("jp_vfr.mkv")
    ff("-i", JPM, "-map", "0", "-c:a", "copy", "-c:s", "copy", "-c:v", "libx264", "-preset", "ultrafast",
       "-vf", "select='not(between(t,5,10)*mod(n,2))+not(between(t,20,25)*mod(n,3))-1'", "-fps_mode", "vfr", jp)
    return ep_pair(jp, str(B / "episode.en.mka"))


def v_pal():
    jp, en = p("jp_23976.mkv"), p("en_pal.mka")
    ff("-i", JPM, "-map", "0", "-c:a", "copy", "-c:s", "copy", "-c:v", "libx264", "-preset", "ultrafast",
       "-r", "24000/1001", jp)
    ff("-i", str(B / "episode.en.mka"), "-af", f"asetrate={48000 * 25 * 1001 / 24000:.3f},aresample=48000",
       "-c:a", "flac", en)
    return ep_pair(jp, en)


def v_video_noaudio():
    jp = p("jp_noaudio.mkv")
    ff("-i", JPM, "-map", "0:v", "-c", "copy", jp)
    return ep_pair(jp, str(B / "episode.en.mka"))


def v_audio_only():
    jp = p("jp_only.flac")
    ff("-i", JPM, "-map", "0:a", "-c", "copy", jp)
    return ep_pair(jp, str(B / "episode.en.mka"))


def v_subfile(ext, enc=None, text=None):
    def f():
        srt = (B / "episode.en.srt").read_text()
        if text:
            srt = srt.replace("Everyone, gather up!", text)
        src = V / f"subs_{enc or 'utf8'}.srt"
        src.write_bytes(srt.encode("utf-8"))
        out = V / f"subs_{enc or 'utf8'}.{ext}"
        if ext != "srt":
            ff("-sub_charenc", "UTF-8", "-i", str(src), str(out))
        if enc:
            data = (out.read_text(encoding="utf-8"))
            out.write_bytes(data.encode(enc) if enc != "utf-16" else data.encode("utf-16"))
        return {"media": str(B / "episode.mkv"), "subtitles": str(out)}
    return f


def v_sub_streams():
    """ASS tagged jpn first, SRT tagged eng second, inside the MKV; subtitle_stream: eng."""
    out = p("two_subs.mkv")
    ass = V / "jp.ass"
    ff("-i", str(B / "episode.en.srt"), str(ass))
    ff("-i", str(B / "episode.mkv"), "-i", str(ass), "-map", "0:v", "-map", "0:a", "-map", "1:s", "-map", "0:s",
       "-c", "copy", "-metadata:s:s:0", "language=jpn", "-metadata:s:s:0", "title=Japanese",
       "-metadata:s:s:1", "language=eng", out)
    return {"media": out, "subtitle_stream": "eng"}


def v_sub_stream_ass_en():
    """SRT tagged jpn first, ASS tagged eng second."""
    out = p("two_subs_ass_en.mkv")
    ass = V / "en.ass"
    ff("-i", str(B / "episode.en.srt"), str(ass))
    ff("-i", str(B / "episode.mkv"), "-i", str(ass), "-map", "0:v", "-map", "0:a", "-map", "0:s", "-map", "1:s",
       "-c", "copy", "-metadata:s:s:0", "language=jpn", "-metadata:s:s:1", "language=eng", out)
    return {"media": out, "subtitle_stream": "eng"}


def v_corrupt(kind):
    def f():
        out = V / f"bad_{kind}.mkv"
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()
        if kind == "truncated":
            data = (B / "episode.mkv").read_bytes()
            out.write_bytes(data[: len(data) // 2])
        elif kind == "empty":
            out.write_bytes(b"")
        elif kind == "text":
            out.write_text("this is not a video\n")
        elif kind == "dir":
            out.mkdir()
        return ep_media(str(out))
    return f


VARIANTS = {
    "plain": v_plain,
    "mkv_en_first": v_en_first,
    "mkv_no_tags": v_notags,
    "mkv_tag_ja_en": v_tag("ja", "en"),
    "mkv_tag_jp_en": v_tag("jp", "en"),
    "mkv_tag_Japanese_English": v_tag("Japanese", "English"),
    "mkv_titles_Japanese_English": v_titles("Japanese", "English", "titles_en.mkv"),
    "mkv_titles_kanji": v_titles("日本語", "英語", "titles_kanji.mkv"),
    "mkv_3rd_commentary_eng": v_commentary3("eng", "Commentary"),
    "mkv_3rd_und": v_commentary3("und", ""),
    "mkv_titles_3rd_commentary_und": v_commentary3("und", "Commentary", tagged=False),
    "mp4_m4a": v_mp4_m4a,
    "webm_opus": v_webm,
    "en_flac": v_en_fmt("flac"),
    "en_wav_s16": v_en_fmt("wav", "-c:a", "pcm_s16le"),
    "en_wav_s24": v_en_fmt("wav", "-c:a", "pcm_s24le"),
    "en_wav_f32": v_en_fmt("wav", "-c:a", "pcm_f32le"),
    "en_mp3": v_en_fmt("mp3", "-c:a", "libmp3lame", "-b:a", "128k"),
    "en_44k_stereo": v_en_fmt("flac", "-ar", "44100", "-ac", "2"),
    "en_22k": v_en_fmt("flac", "-ar", "22050"),
    "surround_51": v_surround,
    "ts_start_1.4_2.8": v_ts,
    "mkv_audio_delay_0.5": v_delay(0.5, 0.0, "delay.mkv"),
    "mkv_en_delay_0.5": v_delay(0.0, 0.5, "en_delay.mkv"),
    "mkv_audio_early_0.5": v_delay(-0.5, 0.0, "early.mkv"),
    "en_shorter_30s": v_en_short,
    "vfr_video": v_vfr,
    "pal_23.976_vs_25": v_pal,
    "video_no_audio": v_video_noaudio,
    "audio_only": v_audio_only,
    "subs_ass": v_subfile("ass"),
    "subs_vtt": v_subfile("vtt"),
    "subs_cp1252": v_subfile("srt", "cp1252", "Café déjà vu, naïve!"),
    "subs_shift_jis": v_subfile("srt", "shift_jis", "みんな集まって！"),
    "subs_utf16_bom": v_subfile("srt", "utf-16", "Café déjà vu!"),
    "sub_streams_ass_jpn_srt_eng": v_sub_streams,
    "sub_streams_srt_jpn_ass_eng": v_sub_stream_ass_en,
    "corrupt_truncated": v_corrupt("truncated"),
    "corrupt_empty": v_corrupt("empty"),
    "corrupt_text": v_corrupt("text"),
    "corrupt_dir": v_corrupt("dir"),
}


def v_surround_bs775():
    """5.1 whose BS.775 stereo downmix is the plain mix: backing in FL/FR, the dialogue at +3 dB in FC only."""
    return _surround("51_bs775", "[1:a]asplit=2[fl][fr];[0:a]volume=1.41421356[fc];[1:a]volume=0,asplit=3[lfe][sl][sr];"
                                 "[fl][fr][fc][lfe][sl][sr]")


def v_bitmap(as_file: bool):
    def f():
        m = str(V / "bitmap_only.mkv")
        if as_file:
            return {"jp_media": JPM, "en_media": str(B / "episode.en.mka"), "subtitles": m}
        return {"jp_media": m, "jp_stream": 0, "en_media": str(B / "episode.en.mka"), "subtitle_stream": "eng"}
    return f


VARIANTS.update({"surround_51_bs775": v_surround_bs775, "bitmap_stream_only": v_bitmap(False),
                 "bitmap_mkv_as_subtitles": v_bitmap(True)})



# ---- release media (BD/DVD rips, fansubs, streaming rips) ----

def _revideo(name: str, *vargs: str, build_args: tuple = ("--frames-fps", "1")) -> dict:
    """``episode.mkv`` with its video re-encoded by ``vargs`` (audio and subtitles copied); the build gets
    ``build_args`` (frames at 1 fps by default, for :func:`video_check`)."""
    out = p(name)
    ff("-i", str(B / "episode.mkv"), "-map", "0", "-c", "copy", *vargs, out)
    return {**ep_media(out), "_build_args": list(build_args)}


def v_hi10p():
    """H.264 High 10 (yuv420p10le), as BD fansub encodes."""
    return _revideo("hi10p.mkv", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                    "-profile:v", "high10")


def v_hevc10():
    """HEVC Main 10 (libx265)."""
    return _revideo("hevc10.mkv", "-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
                    "-x265-params", "log-level=error")


def v_dvd(sar: str, height: int | None, interlaced: bool = True):
    """720x480 DVD video with SAR ``sar``, interlaced top field first at 29.97 fps (fields from 59.94p pictures
    of the source, so moving parts comb), H.264 with interlaced coding (``interlaced=False``: the same at
    29.97p, progressive, the baseline of :func:`combing`); ``--video-height height``."""
    def f():
        tag = sar.replace(":", "_") + ("" if interlaced else "_p")
        if interlaced:
            vf = "scale=720:480,fps=60000/1001,tinterlace=mode=interleave_top,setfield=tff,"
            coding = ["-flags", "+ildct+ilme", "-x264-params", "tff=1", "-field_order", "tt"]
        else:
            vf, coding = "scale=720:480,fps=30000/1001,", []
        args = ["--frames-fps", "1"] + (["--video-height", str(height)] if height else [])
        return _revideo(f"dvd_{tag}.mkv", "-vf", vf + f"setsar={sar.replace(':', '/')}", "-c:v", "libx264",
                        "-preset", "ultrafast", *coding, build_args=tuple(args))
    return f


FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")

ASS_HEAD = """[Script Info]
ScriptType: v4.00+
PlayResX: 1920
PlayResY: 1080
WrapStyle: 0
ScaledBorderAndShadow: yes

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, \
Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, \
MarginV, Encoding
Style: Default,DejaVu Sans,72,&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,3.5,1.5,2,120,120,60,1
Style: Flashback,DejaVu Sans,72,&H00E0E0E0,&H000000FF,&H00402020,&H80000000,0,-1,0,0,100,100,0,0,1,3.5,1.5,2,60,60,60,1
Style: Sign,DejaVu Serif,54,&H00202020,&H000000FF,&H00FFFFFF,&H00000000,-1,0,0,0,100,100,0,0,1,2,0,8,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
"""


def _ass_time(t: str) -> str:
    h, m, rest = t.split(":")
    s, ms = rest.split(",")
    return f"{int(h)}:{m}:{s}.{ms[:2]}"


def _fansub_ass() -> tuple[Path, Path]:
    """A Full Dialogue ASS (the episode's SRT with styles, ``\\an8``/``\\pos``/``\\i``/``\\blur``/``\\fad`` tags,
    an actor name, a comment line and a ``\\N`` break) and a Signs & Songs ASS (signs placed with ``\\pos``)."""
    blocks = [b.strip().splitlines() for b in (B / "episode.en.srt").read_text().strip().split("\n\n")]
    lines = []
    for k, b in enumerate(blocks):
        start, end = (_ass_time(x.strip()) for x in b[1].split("-->"))
        text = r"\N".join(b[2:])
        style, name = ("Flashback", "Teacher") if k % 5 == 3 else ("Default", "")
        tags = [r"{\fad(120,120)}", r"{\an8}", r"{\pos(960,1000)\blur0.6}", ""][k % 4]
        words = text.split(" ")
        if len(words) > 1 and k % 3 == 0:
            words[0] = r"{\i1}" + words[0] + r"{\i0}"
        lines.append(f"Dialogue: 0,{start},{end},{style},{name},0,0,0,,{tags}{' '.join(words)}")
        if k == 2:
            lines.append(f"Comment: 0,{start},{end},Default,,0,0,0,,TL note: check this line")
    full = V / "fansub_full.ass"
    full.write_text(ASS_HEAD + "\n".join(lines) + "\n", encoding="utf-8")
    signs = V / "fansub_signs.ass"
    signs.write_text(ASS_HEAD + "\n".join([
        r"Dialogue: 0,0:00:00.50,0:00:05.00,Sign,,0,0,0,,{\pos(960,80)\fs40\c&H3030C0&}Class 2-B",
        r"Dialogue: 0,0:00:14.00,0:00:18.00,Sign,,0,0,0,,{\an7\pos(100,200)\frz-8}Festival Committee",
        r"Dialogue: 1,0:00:22.00,0:00:26.00,Sign,,0,0,0,,{\an5\pos(960,540)\t(0,500,\fscx120)}~ Opening theme ~",
    ]) + "\n", encoding="utf-8")
    return full, signs


def v_fansub():
    """A fansub MKV: ASS ``Signs & Songs`` (eng, default + forced) first, ``Full Dialogue`` (eng) second, two TTF
    attachments and three chapters; ``subtitle_stream: eng`` (the build picks the dialogue stream)."""
    full, signs = _fansub_ass()
    meta = V / "chapters.txt"
    meta.write_text(";FFMETADATA1\ntitle=Fansub test\n" + "".join(
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={a}\nEND={b}\ntitle={t}\n"
        for a, b, t in ((0, 5000, "Prologue"), (5000, 30000, "Part A"), (30000, 40000, "Part B"))))
    out = p("fansub.mkv")
    att = sum((["-attach", f] for f in FONTS), [])
    ff("-i", str(B / "episode.mkv"), "-i", str(signs), "-i", str(full), "-i", str(meta), *att,
       "-map", "0:v", "-map", "0:a", "-map", "1", "-map", "2", "-map_metadata", "3", "-map_chapters", "3",
       "-c", "copy", "-metadata:s:s:0", "language=eng", "-metadata:s:s:0", "title=Signs & Songs",
       "-disposition:s:0", "default+forced", "-metadata:s:s:1", "language=eng",
       "-metadata:s:s:1", "title=Full Dialogue", "-disposition:s:1", "0",
       *sum(([f"-metadata:s:t:{i}", "mimetype=application/x-truetype-font"] for i in range(len(FONTS))), []),
       out)
    return {"media": out, "subtitle_stream": "eng"}


def v_fansub_unnamed():
    """The fansub MKV with no ``subtitle_stream`` (nor ``subtitles``): the build warns that it holds English
    subtitles it does not read."""
    ep = v_fansub()
    ep.pop("subtitle_stream")
    return ep


def _coded(tag: str, codec: list[str], ext: str = "mkv") -> dict:
    """The BS.775-faithful 5.1 tracks of :func:`v_surround_bs775` coded with ``codec``: JP muxed with the video
    as ``jp_TAG.mkv``, EN as ``en_TAG.EXT``; compared also with ``surround_51_bs775`` (run it first)."""
    ep = v_surround_bs775()
    jp, en = p(f"jp_{tag}.mkv"), p(f"en_{tag}.{ext}")
    ff("-i", JPM, "-i", ep["jp_media"], "-map", "0:v", "-map", "1:a", "-c:v", "copy", *codec,
       "-metadata:s:a:0", "language=jpn", jp)
    ff("-i", ep["en_media"], *codec, en)
    return {**ep_pair(jp, en), "_ref": "surround_51_bs775"}


def v_eac3():
    return _coded("eac3", ["-c:a", "eac3", "-b:a", "640k"], "mka")


def v_ac3():
    return _coded("ac3", ["-c:a", "ac3", "-b:a", "448k"], "ac3")


def v_ac3_mka():
    return _coded("ac3mka", ["-c:a", "ac3", "-b:a", "448k"], "mka")


def v_opus51():
    return _coded("opus51", ["-c:a", "libopus", "-b:a", "256k", "-af", "channelmap=channel_layout=5.1"], "mka")


def v_truehd():
    return _coded("truehd", ["-strict", "-2", "-c:a", "truehd"], "mka")


def v_flac24():
    """Both stereo tracks as FLAC 24-bit in one MKV (BD remux)."""
    out = p("flac24.mkv")
    ff("-i", str(B / "episode.mkv"), "-map", "0", "-c:v", "copy", "-c:s", "copy", "-c:a", "flac",
       "-sample_fmt", "s32", "-bits_per_raw_sample", "24", "-ac", "2", out)
    return ep_media(out)


def v_lead_silence():
    """One MKV: the JP track starts with 2 s of digital silence, the video and subtitle stream 2 s later too (the
    episode's content starts at 2 s), the EN track as it was (2 s ahead of the JP one) at 44.1 kHz."""
    out = p("lead_silence_44k.mkv")
    src = str(B / "episode.mkv")
    ff("-i", src, "-itsoffset", "2", "-i", src, "-filter_complex",
       "[0:a:0]adelay=2000:all=1[j];[0:a:1]aresample=44100[e]",
       "-map", "1:v", "-map", "[j]", "-map", "[e]", "-map", "1:s", "-c:v", "copy", "-c:s", "copy",
       "-c:a", "flac", "-metadata:s:a:0", "language=jpn", "-metadata:s:a:1", "language=eng", out)
    return {"media": out, "subtitle_stream": "eng"}


def v_video_not_first():
    """MKV whose streams are JP audio, EN audio, subtitles, then the video."""
    out = p("video_last.mkv")
    ff("-i", str(B / "episode.mkv"), "-map", "0:a", "-map", "0:s", "-map", "0:v", "-c", "copy", out)
    return ep_media(out)


VARIANTS.update({
    "hi10p_h264": v_hi10p, "hevc_main10": v_hevc10,
    "dvd_sar_32_27_interlaced_h240": v_dvd("32:27", 240), "dvd_sar_8_9_interlaced": v_dvd("8:9", None),
    "dvd_sar_32_27_progressive_h240": v_dvd("32:27", 240, interlaced=False),
    "fansub_ass_signs_fonts_chapters": v_fansub, "fansub_no_subtitles_named": v_fansub_unnamed,
    "eac3_51": v_eac3, "ac3_51": v_ac3, "ac3_51_en_mka": v_ac3_mka, "opus_51_mkv": v_opus51, "truehd_51": v_truehd,
    "flac24_stereo_mkv": v_flac24, "jp_lead_silence_2s_en_44k": v_lead_silence, "video_not_first": v_video_not_first,
})


def _mean_rgb(image) -> list[float]:
    import numpy as np

    return [round(float(x), 1) for x in np.asarray(image.convert("RGB"), dtype=np.float64).mean(axis=(0, 1))]


def _source_image(src: str, t: float):
    """The plain source's picture on screen at ``t`` s as a PIL image (square pixels as it has them)."""
    import av

    with av.open(src) as c:
        s = c.streams.video[0]
        last = None
        for fr in c.decode(s):
            if fr.time is not None and fr.time > t + 1e-6:
                break
            last = fr
        return last.to_image()


def combing(image) -> float:
    """Mean |line - mean of its two neighbours| of the luma (0-255): ~1-2 for a progressive picture of this
    episode, several times more where interlaced fields show motion in two places."""
    import numpy as np

    y = np.asarray(image.convert("L"), dtype=np.float64)
    return round(float(np.abs(y[1:-1] - (y[:-2] + y[2:]) / 2).mean()), 2)


def video_check(out: Path) -> dict | None:
    """The first video clip's codec, profile, pixel format, size, SAR/DAR and interlacing, and the mean RGB of
    its middle frame and of frame 5 of the frames stage against the plain source's pictures at those times, and
    the mean :func:`combing` of the clip's frames and of all the frame JPEGs."""
    import av
    from PIL import Image

    clips = sorted((out / "anim400k_video_clips").rglob("*.mp4")) if out.exists() else []
    ann = clips_of(out)
    if not clips or not ann:
        return None
    first = {c["jp_clip"]: secs(c["jp_start_time"]) for c in ann}
    clip = clips[0]
    start = first.get(f"{clip.parent.name}/{clip.stem}", 0.0)
    with av.open(str(clip)) as c:
        s = c.streams.video[0]
        cc = s.codec_context
        frames = list(c.decode(s))
    mid = frames[len(frames) // 2]
    sar = s.sample_aspect_ratio or cc.sample_aspect_ratio
    res = {"codec": cc.name, "profile": cc.profile, "pix_fmt": cc.pix_fmt, "size": [cc.width, cc.height],
           "sar": str(sar) if sar else None, "field_order": getattr(cc, "field_order", None),
           "interlaced_frames": sum(bool(f.interlaced_frame) for f in frames)}
    src = str(B / "episode.mkv")
    res["clip_mid_rgb"] = _mean_rgb(mid.to_image())
    res["clip_combing"] = round(sum(combing(f.to_image()) for f in frames) / len(frames), 2)
    res["source_rgb_at_clip_mid"] = _mean_rgb(_source_image(src, start + float(mid.time)))
    jpgs = {}
    fj = out / "work/s/1/frames.json"
    if fj.is_file():
        rows = json.loads(fj.read_text())["frames"]
        row = rows[min(5, len(rows) - 1)]
        img = Image.open(out / row["path"])
        res["frame_size"] = list(img.size)
        res["frame_rgb"] = _mean_rgb(img)
        res["frames_combing"] = round(sum(combing(Image.open(out / r["path"])) for r in rows) / len(rows), 2)
        res["source_rgb_at_frame"] = _mean_rgb(_source_image(src, row["time"]))
        jpgs = {"frame_time": row["time"]}
    res.update(jpgs)
    return res


def media_summary(path: str | Path) -> dict:
    """Streams (type, codec, language, title, channels), attachments (file names) and chapters of a file."""
    import av

    with av.open(str(path)) as c:
        streams = [{"type": st.type, "codec": st.codec_context.name if st.type != "attachment" else None,
                    "language": st.metadata.get("language"), "title": st.metadata.get("title"),
                    **({"channels": st.codec_context.channels} if st.type == "audio" else {})}
                   for st in c.streams if st.type != "attachment"]
        attachments = [st.name for st in c.streams if st.type == "attachment"]
        chapters = [(round(float(ch["start"] * ch["time_base"]), 3), ch["metadata"].get("title"))
                    for ch in c.chapters()]
    return {"streams": streams, "attachments": attachments, "chapters": chapters}


def dub(name: str, tag: str) -> dict:
    """``anim400k dub`` (espeak) of the variant's JP media into ``WORK/out_T/dub_VARIANT.mkv``: exit status, the
    last stderr lines, and the input's and output's streams, attachments and chapters."""
    ep = VARIANTS[name]()
    ep.pop("_build_args", None)
    ep.pop("_ref", None)
    src = ep.get("media") or ep["jp_media"]
    out = ROOT / f"out_{tag}" / f"dub_{name}.mkv"
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    args = ["--subtitles", ep["subtitles"]] if ep.get("subtitles") else []
    t = time.time()
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    r = subprocess.run([PY, "-m", "anim400k", "dub", src, "--out", str(out), "--tts", "espeak", *args],
                       capture_output=True, text=True, env=env)
    res = {"name": f"dub:{name}", "rc": r.returncode, "secs": round(time.time() - t, 1),
           "stderr_tail": [ln for ln in r.stderr.splitlines() if ln.strip()][-6:], "input": media_summary(src)}
    if out.is_file():
        res["output"] = media_summary(out)
    return res


def clips_of(out: Path):
    ann = out / "anim400k_annotations.json"
    if not ann.is_file():
        return None
    d = json.loads(ann.read_text())
    res = []
    for show in d.values():
        for ep in show["episodes"].values():
            for c in ep["clips"]:
                res.append(c)
    return res


def secs(t: str) -> float:
    h, m, s = t.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def compare(base, clips):
    if base is None or clips is None:
        return None
    keys = ("jp_start_time", "jp_end_time", "en_start_time", "en_end_time")
    n = min(len(base), len(clips))
    diffs = {k: [secs(c[k]) - secs(b[k]) for b, c in zip(base, clips, strict=False)] for k in keys}
    subs_same = all([s["text"] for s in b.get("en_subtitles", [])] == [s["text"] for s in c.get("en_subtitles", [])]
                    for b, c in zip(base, clips, strict=False))
    return {"n_base": len(base), "n": len(clips), "compared": n,
            "max_abs": {k: round(max(map(abs, v)), 3) if v else None for k, v in diffs.items()},
            "mean": {k: round(sum(v) / len(v), 3) if v else None for k, v in diffs.items()},
            "subs_text_same": subs_same}


def run(name: str, tag: str) -> dict:
    ep = VARIANTS[name]()
    build_args = ep.pop("_build_args", [])
    ref = ep.pop("_ref", None)
    man = V / f"{name}.yaml"
    man.write_text(yaml.safe_dump({"shows": [{"key": "s", "episodes": [{"episode": "1", **ep}]}]},
                                  allow_unicode=True))
    out = ROOT / f"out_{tag}" / name
    if out.exists():
        shutil.rmtree(out)
    t = time.time()
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    r = subprocess.run([PY, "-m", "anim400k", "build", str(man), "--out", str(out), "--asr-en", "vad", "--asr-ja",
                        "vad", *build_args], capture_output=True, text=True, env=env)
    res = {"name": name, "rc": r.returncode, "secs": round(time.time() - t, 1),
           "stderr_tail": [ln for ln in r.stderr.splitlines() if ln.strip()][-4:]}
    rep = out / "build_report.json"
    if rep.is_file():
        rj = json.loads(rep.read_text())
        res["warnings"] = rj.get("warnings")
        res["failures"] = rj.get("failures") or rj.get("failed")
    sync = out / "work/s/1/sync.json"
    if sync.is_file():
        sj = json.loads(sync.read_text())
        res["sync"] = {k: sj.get(k) for k in ("offset", "drift", "confidence", "applied")}
    res["parts"] = [str(x) for x in out.rglob("*.part*")] if out.exists() else []
    base = clips_of(ROOT / f"out_{tag}" / "plain")
    clips = clips_of(out)
    res["has_release"] = clips is not None
    res["video_clips"] = len(list((out / "anim400k_video_clips").rglob("*.mp4"))) if out.exists() else 0
    res["cmp"] = compare(base, clips)
    if ref:  # also against the variant of the same content (the 5.1 FLACs for the coded 5.1 tracks)
        res["ref"] = ref
        res["cmp_ref"] = compare(clips_of(ROOT / f"out_{tag}" / ref), clips)
    if build_args:
        res["video"] = video_check(out)
    return res


def main(argv: list[str]) -> None:
    """Run the variants named in ``argv`` (all by default) after the plain MKV they are compared with."""
    tag = "run"
    if "--tag" in argv:
        k = argv.index("--tag")
        tag, argv = argv[k + 1], argv[:k] + argv[k + 2:]
    unknown = [a for a in argv if a != "--dub" and a not in VARIANTS]
    if unknown:  # before the 40 s episode and the plain build are made (a typo was a KeyError after both)
        sys.exit(f"check_input_media.py: unknown variant(s) {', '.join(unknown)}; the variants: "
                 f"{', '.join(VARIANTS)}")
    V.mkdir(parents=True, exist_ok=True)
    if not (B / "episode.mkv").is_file():
        from anim400k.synth import make_episode

        make_episode(B, duration=40, seed=1, separate_files=True)
    names = argv or list(VARIANTS)
    if "plain" not in names and not (ROOT / f"out_{tag}" / "plain").exists():
        names = ["plain", *names]
    if "--dub" in argv:
        for n in [a for a in argv if a != "--dub"]:
            res = dub(n, tag)
            with open(ROOT / f"results_{tag}.jsonl", "a") as fh:
                fh.write(json.dumps(res, ensure_ascii=False) + "\n")
            print(json.dumps(res, ensure_ascii=False), flush=True)
        return
    for n in names:
        try:
            res = run(n, tag)
        except (subprocess.CalledProcessError, OSError, ValueError) as exc:
            res = {"name": n, "harness_error": repr(exc)}
        with open(ROOT / f"results_{tag}.jsonl", "a") as fh:
            fh.write(json.dumps(res, ensure_ascii=False) + "\n")
        cmp = res.get("cmp") or {}
        worst = max((v for v in (cmp.get("max_abs") or {}).values() if v is not None), default=None)
        tail = (res.get("stderr_tail") or [""])[-1] if res.get("rc") else ""
        print(f"{n:32} exit {res.get('rc')}  clips {cmp.get('n')}/{cmp.get('n_base')}  max diff {worst} s  "
              f"subtitles same {cmp.get('subs_text_same')}  {tail[:300]}", flush=True)


if __name__ == "__main__":
    main(sys.argv[2:])
