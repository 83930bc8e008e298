"""Global offset and linear drift between the JP and EN media of one episode.

The JP and EN mixes of a dubbed episode share their music-and-effects (M&E) stem, so
the map ``t_en = offset + t_jp * (1 + drift)`` (:class:`anim400k.model.TimeMap`) can be
found by cross-correlating the two mixes. Pure: arrays in, a :class:`SyncResult` out.

Algorithm (details and measurements in ``docs/sync.md``), long media (JP > 45 s):

1. **Features.** Both tracks become log-mel band energies at ~20 frames/s
   (32 bands), high-passed in time (minus a 1.5 s moving average) and standardised per band.
   The different dialogue of the two languages only adds noise; the shared M&E stem
   gives the correlation peak.
2. **Coarse, drift-aware search.** Windows of up to 20 s are taken across the JP
   track. Each is time-warped by every candidate speed factor ``1 + d`` on a grid
   (``d`` in ``[-max_drift, max_drift]``, step 0.25 %) and located in the EN features by
   FFT normalised cross-correlation (summed over bands) within the admissible lag range.
   The candidate whose window peaks are highest overall wins; its per-window matches
   ``(t_jp, t_en)`` are fitted by an exhaustive RANSAC line (then least squares on the
   inliers).
   When the windows disagree and the result is unreliable, a phase-based coarse stage
   (:func:`.coarse_gcc.gcc_coarse`: GCC-PHAT votes of 12 s JP excerpts at 2 kHz, likely speed
   factors first) proposes another line; loud dialogue dominates band energies but not phases.
3. **Sample-precision refinement** (:func:`fine_passes`). Around each inlier, a raw-audio
   JP segment (8 s) is resampled by the current speed factor and located in the EN audio by
   GCC-PHAT (parabolic sub-sample peak): at 4 kHz within ±0.5 s, then ±0.05 s, then a
   16 kHz polish within ±2 ms; robust line fits over the matches give offset and drift.
4. **Confidence** in [0, 1]: the product of the inlier fraction score, the fine agreement
   and a peak-quality score (peak-to-sidelobe ratio of the coarse correlations). Unrelated
   tracks (no shared stem) give scattered matches with weak peaks and hence low confidence;
   :func:`estimate_sync` then falls back to the identity map with a warning.
5. **Edits.** Rejected windows that agree among themselves on another offset (at least 3 and
   25 % of the windows) mean a scene was cut from or added to EN: no line maps the whole
   episode. When the change is located and each side's fine passes pass on its own piece, the
   map is piecewise (:mod:`.pieces`: one line per side, a confidence of its own); otherwise the
   confidence stays below :data:`MIN_CONFIDENCE`. ``SyncResult.edit`` and the reason give both
   offsets and where the change lies.

6. **Pitch-corrected speed changes** (:mod:`.stretch`). When the coarse line says a speed change of at
   least 1 % and the fine stage failed (every window agreeing) or its matches scatter by a millisecond
   (resampled audio matches to ~0.05 ms), EN may have been re-timed with pitch correction (a PAL
   speed-up by atempo, a phase vocoder): short *unresampled* JP segments located around the line give a
   robust line, mapped within ~10 ms and marked as not sample-precise (``TimeMap.precision_ms``), so the
   dual-track separation falls back to one track while alignment and cutting use the map.

Both paths end with :func:`.checks.same_audio_fraction`: an EN track that repeats the JP audio
itself (a copy, a mislabelled stream) gets confidence 0 and ``same_audio=True``.

Short media (JP <= 45 s) have too few windows for step 2 and too little material for
band-energy features; instead (:func:`estimate._analyze_short`; also tried for JP <= 120 s when the
long path's confidence is low, and kept if more confident):

1. **GCC-PHAT vote** (:func:`gcc_vote`) at 2 kHz: for each speed factor on the grid, 3 s
   JP segments are located in the whole EN track by phase correlation and vote for the
   offset; the best speed factor is refined 8 times finer.
2. **Fine passes** as in step 3, with the slope kept within ±0.05 % of the vote's.
3. **Confidence** from the *coherence index* of the two tracks aligned by the estimate
   (:func:`coherence_index`: per-bin magnitude of the mean unit cross-spectrum phasor, squared,
   times the number of frames; ~1 for independent tracks, > 40 for dubs sharing a stem) in excess
   of the best *rival* alignment's (:func:`rival_coherence`: stationary or periodic shared content
   is coherent at every lag, so it is no evidence for one), kept below :data:`MIN_CONFIDENCE`
   (x 0.4) when the fine passes disagree.

Modules: :mod:`.params` (constants), :mod:`.result` (:class:`SyncResult`, confidence scores),
:mod:`.checks` (same audio twice),
:mod:`.features` (band features, coarse search), :mod:`.coarse_gcc` (phase-based coarse stage),
:mod:`.vote` (short-media vote, coherence index),
:mod:`.rival` (best rival alignment's coherence),
:mod:`.gcc` (GCC-PHAT, sub-sample peak), :mod:`.line` (RANSAC line), :mod:`.refine` (fine passes),
:mod:`.stretch` (a map that is not sample-precise, for EN re-timed with pitch correction),
:mod:`.estimate` (:func:`analyze_sync`, :func:`estimate_sync`), :mod:`.media` (:func:`sync_media`).
"""
