"""File-system helpers shared by every layer: outputs written atomically and never over a file the command did
not write. Import from the module that holds a name (no re-exports here):

- :mod:`.atomic`: :func:`atomic_path` (a temporary name renamed into place) and the writers on it
  (``write_bytes_atomic``, ``write_text_atomic``, ``write_json_atomic``, ``save_figure``; ``jsonable``).
- :mod:`.output_sets`: :func:`committed_together`, outputs written as one set.
- :mod:`.publish`: the final rename of an output, never over a file that appeared or changed since its check.
- :mod:`.rename`: :func:`rename_noreplace` (``renameat2``, a hard link, or a look then ``os.replace``).
- :mod:`.check_notes`: what each output's check found, for its publish (the process's one ``_SEEN`` table and
  its lock); :func:`output_checks`, the scope of one command's notes.
- :mod:`.writable`: can an output be written (``check_output_file``, ``check_writable``, ``refuse_special_file``).
- :mod:`.no_clobber`: an output that is an input, inside the release, or a file the command did not write
  (``refuse_overwriting``, ``same_file``, ``refuse_inside_release``, ``refuse_foreign_output``, ``unmarked_file``).
- :mod:`.sniffers`: recognisers of a command's own files (``sniffed_text``, ``json_file_value``,
  ``json_object_with``, ``json_objects_with``).
- :mod:`.locks`: ``folder_lock``, ``output_lock`` (``flock`` on a ``.anim400k.lock`` file).
- :mod:`.temp_files`: temporary names (``TEMP_MARK``, ``temp_stem``, ``temp_prefix``), telling them from a user's
  files (``is_our_temp``, ``is_temp_of``) and sweeping stale ones (``remove_temps``, ``remove_stale_temps``).
- :mod:`.write_errors`: a failed write told in one line naming the output (a full disk as ENOSPC).
- :mod:`.disk`: ``disk_looks_full``, ``fsync_file``, ``fsync_folder``, ``mount_points``, ``is_mount_point``.
- :mod:`.paths`: ``under`` (a path that stays under its root), ``mkdtemp_like_mkdir``.
"""
