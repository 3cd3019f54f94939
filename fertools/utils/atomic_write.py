"""Writing files atomically, so an interrupted tool never leaves a truncated file that a resumed run would take
for finished: a study step's ``done.json`` (its resume mark), a prediction dump, translated images, cache files,
a thread budget. (Checkpoints have their own writer with ``fsync``: :func:`fertools.engine.checkpoint.atomic_save`.)
"""
import json
import os
import os.path as osp
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ['atomic_path', 'write_json_atomic']


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path`` (same folder, created if missing; same extension, so writers that
    choose the format by it still work); write to it in the ``with`` body. On success it is ``os.replace``\\ d
    onto ``path``: readers see the old file or the complete new one, never a part. On an error ``path`` is left
    as it was and the temporary file is removed."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    root, ext = osp.splitext(path)
    tmp = f'{root}.tmp-{os.getpid()}{ext}'
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def write_json_atomic(path: str, obj: Any, **dump_kwargs) -> None:
    """``json.dump(obj, **dump_kwargs)`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp, open(tmp, 'w') as f:
        json.dump(obj, f, **dump_kwargs)
