import numpy as np, traceback
from anim400k.diarize import get_diarizer
cases = [
 dict(split_other_same_actor=None), dict(small_pitch_gap_override=None), dict(both_views_pitch_override=None),
 dict(straddle_cluster_seconds=None), dict(bad_cluster_dissolve=False),
 dict(split_other_same_actor=1.5), dict(small_pitch_gap_override=-2), dict(both_views_pitch_override=float('nan')),
 dict(small_pitch_gap_override=float('nan')), dict(split_other_same_actor=float('nan')),
 dict(straddle_cluster_seconds=0), dict(straddle_cluster_seconds=-1), dict(straddle_cluster_seconds=float('nan')),
 dict(straddle_cluster_seconds=float('inf')),
 dict(split_other_same_actor="0.9"), dict(small_pitch_gap_override="high"), dict(both_views_pitch_override=[0.9]),
 dict(straddle_cluster_seconds="0.8"), dict(bad_cluster_dissolve="no"), dict(bad_cluster_dissolve=None), dict(bad_cluster_dissolve=0),
 dict(small_pitch_gap_override=True), dict(split_other_same_actor=1), dict(split_other_same_acter=0.9),
 dict(num_speakers=0), dict(num_speakers=2.5),
]
for kw in cases:
    try:
        d = get_diarizer("embedded", **kw)
        print("OK   ", kw)
    except Exception as e:
        print("ERR  ", kw, "->", type(e).__name__, str(e).splitlines()[0][:200], "| lines:", len(str(e).splitlines()))
